"""Recording a positive, and doing at once what follows from it: contacts, zones, transfers."""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit
from fangkong.core.clock import not_later_than_now
from fangkong.core.errors import Conflict, DomainError, require_choice
from fangkong.core.idnumbers import normalize_text
from fangkong.core.scope import ensure_in_scope
from fangkong.health.models import Case, CaseEvent, Contact, ContactKind, Destination, Observation, ObservationKind
from fangkong.health.permissions import require_case_editor
from fangkong.health.services.cases import case_event_add
from fangkong.health.services.contacts import contact_add
from fangkong.health.services.transfers import transfer_schedule
from fangkong.people.models import Person
from fangkong.zones import services as zone_services
from fangkong.zones.models import Level
from fangkong.zones.places import place_fields


def _check_confirmed_at(confirmed_at) -> datetime.datetime:
    if confirmed_at is None:
        message = _("请填写确诊时间")
        raise DomainError(message, fields={"confirmed_at": message})
    return not_later_than_now(confirmed_at, field="confirmed_at", label=_("确诊时间"))


def _check_case_words(source: str, severity: str) -> None:
    require_choice(source, Case.Source, field="source", label=_("病例来源"))
    require_choice(severity, Case.Severity, field="severity", label=_("临床分型"))


def _already_a_case(person: Person) -> Conflict:
    existing = Case.objects.filter(person=person, status__in=Case.OPEN_STATUSES).first()
    number = existing.pk if existing is not None else "-"
    message = _("%(name)s 已有未结案的病例(编号 %(id)s)") % {"name": person.name, "id": number}
    return Conflict(message, code="case_exists", fields={"person": message})


def _create_case(*, actor, person: Person, **values) -> Case:
    """The case row; a second open case of the person is refused, also when two arrive at once."""
    Person.objects.select_for_update().filter(pk=person.pk).first()
    if Case.objects.filter(person=person, status__in=Case.OPEN_STATUSES).exists():
        raise _already_a_case(person)
    try:
        with transaction.atomic():
            return Case.objects.create(community_id=person.community_id, person=person,
                                       household_id=person.household_id, opened_by=actor, **values)
    except IntegrityError:
        raise _already_a_case(person) from None


def case_open(*, actor, person: Person, source: str, confirmed_at: datetime.datetime,
              severity: str = Case.Severity.ASYMPTOMATIC, location: str = "", source_ref: str = "",
              note: str = "") -> Case:
    """Record a positive and do at once what follows from it, each step a line on the timeline.

    Household members become close contacts (with their observations), the zones around the
    household learn of the positive, the unit is proposed as sealed and the building as controlled,
    and transfers are planned for the case and for the contacts bound for central quarantine.
    """
    require_case_editor(actor)
    ensure_in_scope(actor, person)
    _check_case_words(source, severity)
    confirmed_at = _check_confirmed_at(confirmed_at)
    with transaction.atomic():
        return _open_case(actor=actor, person=person, source=source, confirmed_at=confirmed_at,
                          severity=severity, location=normalize_text(location)[:100],
                          source_ref=normalize_text(source_ref)[:100], note=normalize_text(note)[:300])


def _open_case(*, actor, person: Person, **values) -> Case:
    case = _create_case(actor=actor, person=person, **values)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=case,
                 fields=["source", "confirmed_at", "severity", "location", "source_ref", "note"])
    case_event_add(actor=actor, case=case, kind=CaseEvent.Kind.OPENED,
                   note=_("登记阳性:%(source)s,%(severity)s") % {"source": case.get_source_display(),
                                                                 "severity": case.get_severity_display()})
    contacts = _household_contacts(actor=actor, case=case)
    _propose_zones(actor=actor, case=case)
    _schedule_case_transfer(actor=actor, case=case)
    _schedule_contacts_transfer(actor=actor, case=case, contacts=contacts)
    return case


def _household_contacts(*, actor, case: Case) -> list[Contact]:
    """Every other member of the case's household, except someone who is a case themself."""
    if case.household_id is None:
        return []
    members = (Person.objects.filter(household_id=case.household_id).exclude(pk=case.person_id)
               .exclude(cases__status__in=Case.OPEN_STATUSES).order_by("id"))
    return [contact_add(actor=actor, case=case, kind=ContactKind.CLOSE, source=Contact.Source.HOUSEHOLD,
                        last_exposure_at=case.confirmed_at, person=member) for member in members]


def _step(*, actor, case: Case, kind: str, call, refused: str, done=None):
    """Run one follow-on step in its own savepoint; a refusal becomes a timeline line instead of undoing the case.

    `done` writes the success line; steps whose service writes its own line (transfers) leave it out.
    """
    try:
        with transaction.atomic():
            result = call()
    except DomainError as err:
        case_event_add(actor=actor, case=case, kind=kind, note=f"{refused}:{err.message}")
        return None
    if done is not None:
        case_event_add(actor=actor, case=case, kind=kind, note=done(result))
    return result


def _propose_zones(*, actor, case: Case) -> None:
    zone_services.zone_note_positive(actor=actor, case=case)
    household = case.household
    if household is None:
        return
    for level, place in ((Level.SEALED, household.unit), (Level.CONTROLLED, household.building)):
        if place is None:
            continue
        label = f"{Level(level).label} {place}"
        _step(actor=actor, case=case, kind=CaseEvent.Kind.ZONE,
              call=lambda level=level, place=place: zone_services.zone_propose(
                  actor=actor, level=level, place=place, case=case, reason=_("阳性病例 %(name)s") % {
                      "name": case.person.name}),
              done=lambda zone, label=label, place=place: _zone_line(zone, place, label),
              refused=_("未能提出%(zone)s") % {"zone": label})


def _zone_line(zone, place, label: str) -> str:
    """"提出封控区 3号楼2单元", or the live zone around the place that took the case instead."""
    if zone.place_key == place_fields(place)["place_key"]:
        return _("提出%(zone)s") % {"zone": label}
    return _("%(zone)s 已在%(existing)s内") % {"zone": label, "existing": zone}


TRANSFER_WINDOW = datetime.timedelta(hours=6)
_HOSPITAL_SEVERITIES = (Case.Severity.MODERATE, Case.Severity.SEVERE, Case.Severity.CRITICAL)


def case_destination_kind(severity: str) -> str:
    """Asymptomatic and mild cases go to a makeshift hospital, moderate and worse to a designated hospital."""
    return Destination.Kind.HOSPITAL if severity in _HOSPITAL_SEVERITIES else Destination.Kind.MAKESHIFT_HOSPITAL


def _schedule_case_transfer(*, actor, case: Case) -> None:
    kind = case_destination_kind(case.severity)
    now = timezone.now()
    label = Destination.Kind(kind).label
    _step(actor=actor, case=case, kind=CaseEvent.Kind.TRANSFER,
          call=lambda: transfer_schedule(actor=actor, destination_kind=kind, people=[case.person], case=case,
                                         window_start=now, window_end=now + TRANSFER_WINDOW),
          refused=_("未能安排转运至%(where)s") % {"where": label})


def _schedule_contacts_transfer(*, actor, case: Case, contacts: list[Contact]) -> None:
    """One transfer for the batch of contacts whose observation is central quarantine."""
    batch = [contact for contact in contacts if contact.status == Contact.Status.ACTIVE
             and contact.observation is not None and contact.observation.kind == ObservationKind.CENTRAL_QUARANTINE
             and contact.observation.status == Observation.Status.ACTIVE]
    if not batch:
        return
    now = timezone.now()
    label = Destination.Kind.CENTRAL_QUARANTINE.label
    _step(actor=actor, case=case, kind=CaseEvent.Kind.TRANSFER,
          call=lambda: transfer_schedule(actor=actor, destination_kind=Destination.Kind.CENTRAL_QUARANTINE,
                                         people=[contact.person for contact in batch], case=case, contacts=batch,
                                         window_start=now, window_end=now + TRANSFER_WINDOW),
          refused=_("未能安排密接转运至%(where)s") % {"where": label})
