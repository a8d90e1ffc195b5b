"""Close and secondary contacts of a case: each added contact is put under the observation its street's policy gives."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit
from fangkong.core.clock import not_later_than_now
from fangkong.core.errors import Conflict, DomainError, require_choice
from fangkong.core.idnumbers import normalize_text
from fangkong.core.scope import ensure_in_scope
from fangkong.health.models import Case, CaseEvent, Contact, ContactKind, Observation, ObservationReason
from fangkong.health.permissions import require_case_editor
from fangkong.health.queries import contact_observation_kind, observation_days
from fangkong.health.services.cases import case_event_add
from fangkong.health.services.observations import (
    observation_end_early,
    observation_extend,
    observation_start,
    required_reason,
)
from fangkong.people.models import Person
from fangkong.people.services import clean_person_data, person_register

_CONTACT_REASON = {ContactKind.CLOSE: ObservationReason.CLOSE_CONTACT,
                   ContactKind.SECONDARY: ObservationReason.SECONDARY_CONTACT}


def _check_contact_words(kind: str, source: str) -> None:
    require_choice(kind, ContactKind, field="kind", label=_("接触类型"))
    require_choice(source, Contact.Source, field="source", label=_("接触来源"))


def _check_exposure(case: Case, last_exposure_at) -> datetime.datetime:
    if last_exposure_at is None:
        message = _("请填写末次接触时间")
        raise DomainError(message, fields={"last_exposure_at": message})
    last_exposure_at = not_later_than_now(last_exposure_at, field="last_exposure_at", label=_("末次接触时间"))
    if case.closed_at is not None and last_exposure_at > case.closed_at:
        closed = f"{timezone.localtime(case.closed_at):%Y-%m-%d %H:%M}"
        message = _("末次接触时间不能晚于病例结案时间 %(t)s") % {"t": closed}
        raise DomainError(message, fields={"last_exposure_at": message})
    return last_exposure_at


def _check_via(case: Case, kind: str, via: Contact | None) -> Contact | None:
    """A secondary contact names an active close contact of the same case; a close contact names none."""
    if kind == ContactKind.CLOSE:
        return None
    if via is None or via.case_id != case.pk or via.kind != ContactKind.CLOSE or via.status != Contact.Status.ACTIVE:
        message = _("次密接须关联本病例的一名密接")
        raise DomainError(message, fields={"via": message})
    return via


def _contact_person(*, actor, case: Case, person: Person | None, person_data: dict | None) -> Person:
    """The person given, or the one registered under the document number, or a new registration.

    A number registered in a community the actor does not see is refused without telling whose it is.
    """
    if person is not None:
        ensure_in_scope(actor, person)
        return person
    if not person_data:
        message = _("请选择人员或填写姓名和证件号码")
        raise DomainError(message, fields={"person": message})
    values = dict(person_data)
    household = values.pop("household", None)
    data = clean_person_data(**values)
    found = Person.objects.filter(id_type=data.id_type, id_number=data.id_number).first()
    if found is not None:
        if not Person.objects.in_scope(actor).filter(pk=found.pk).exists():
            message = _("该证件号码已在您管辖范围以外登记,请联系所在社区添加该密接")
            raise DomainError(message, code="outside_scope", fields={"id_number": message})
        return found
    return person_register(actor=actor, community=case.community, household=household, data=data)


def _contact_observation(*, actor, contact: Contact, case: Case) -> Observation:
    """Start the observation the policy gives, or link the running one and extend it to the new end."""
    street = contact.person.community.street
    kind = contact_observation_kind(street, contact.kind)
    starts_on = timezone.localdate(contact.last_exposure_at)
    ends_on = starts_on + datetime.timedelta(days=observation_days(street, kind, starts_on))
    reason_note = _("病例 %(name)s 的%(kind)s") % {"name": case.person.name, "kind": contact.get_kind_display()}
    running = Observation.objects.active().filter(person=contact.person).first()
    if running is None:
        return observation_start(actor=actor, person=contact.person, kind=kind, reason=_CONTACT_REASON[contact.kind],
                                 starts_on=starts_on, planned_end_on=ends_on, reason_note=reason_note)
    if running.planned_end_on < ends_on:
        return observation_extend(actor=actor, observation=running, until=ends_on, reason=reason_note)
    return running


def _contact_line(contact: Contact) -> str:
    line = f"{contact.get_kind_display()} {contact.person.name}"
    if contact.via_id:
        line += _("(经由 %(name)s)") % {"name": contact.via.person.name}
    return line


@transaction.atomic
def contact_add(*, actor, case: Case, kind: str, source: str, last_exposure_at: datetime.datetime,
                person: Person | None = None, person_data: dict | None = None, via: Contact | None = None,
                note: str = "") -> Contact:
    """Link a person to a case as a close or secondary contact and put them under observation.

    The same person twice on one case is the same Contact (a secondary one becomes close when
    added as close; a removed one comes back).
    """
    require_case_editor(actor)
    ensure_in_scope(actor, case)
    case = Case.objects.select_for_update().select_related("person").get(pk=case.pk)
    _check_contact_words(kind, source)
    last_exposure_at = _check_exposure(case, last_exposure_at)
    via = _check_via(case, kind, via)
    person = _contact_person(actor=actor, case=case, person=person, person_data=person_data)
    if person.pk == case.person_id:
        message = _("密接不能是病例本人")
        raise DomainError(message, code="contact_is_case", fields={"person": message})
    existing = Contact.objects.select_for_update().filter(case=case, person=person).first()
    if existing is not None:
        return _contact_again(actor=actor, case=case, contact=existing, kind=kind, via=via,
                              last_exposure_at=last_exposure_at)
    contact = Contact.objects.create(community_id=person.community_id, case=case, person=person, kind=kind,
                                     source=source, last_exposure_at=last_exposure_at, via=via,
                                     note=normalize_text(note)[:200], added_by=actor)
    contact.observation = _contact_observation(actor=actor, contact=contact, case=case)
    contact.save(update_fields=["observation", "updated_at"])
    audit.record(actor=actor, action=audit.Action.CREATE, obj=contact, object_repr=_contact_line(contact),
                 fields=["case", "person", "kind", "source", "last_exposure_at", "via"])
    case_event_add(actor=actor, case=case, kind=CaseEvent.Kind.CONTACT, note=_contact_line(contact), contact=contact)
    return contact


def _contact_again(*, actor, case: Case, contact: Contact, kind: str, via, last_exposure_at) -> Contact:
    """A person added again: upgrade a secondary contact to close, bring back a removed one, keep the
    latest exposure."""
    fields = []
    if contact.status == Contact.Status.REMOVED:
        contact.status = Contact.Status.ACTIVE
        fields.append("status")
    if kind == ContactKind.CLOSE and contact.kind == ContactKind.SECONDARY:
        contact.kind, contact.via = ContactKind.CLOSE, None
        fields += ["kind", "via"]
    if last_exposure_at > contact.last_exposure_at:
        contact.last_exposure_at = last_exposure_at
        fields.append("last_exposure_at")
    if not fields:
        return contact
    contact.observation = _contact_observation(actor=actor, contact=contact, case=case)
    contact.save(update_fields=[*fields, "observation", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=contact, object_repr=_contact_line(contact),
                 fields=fields)
    case_event_add(actor=actor, case=case, kind=CaseEvent.Kind.CONTACT,
                   note=_("更新 %(line)s") % {"line": _contact_line(contact)}, contact=contact)
    return contact


def _started_by(contact: Contact, observation: Observation | None) -> bool:
    """The observation began with this contact (not one already running that the contact was linked to)."""
    return (observation is not None and observation.status == Observation.Status.ACTIVE
            and observation.reason in _CONTACT_REASON.values() and observation.created_at >= contact.created_at
            and not observation.contacts.filter(status=Contact.Status.ACTIVE).exclude(pk=contact.pk).exists())


@transaction.atomic
def contact_remove(*, actor, contact: Contact, reason: str) -> Contact:
    """Rule a contact out: it stays on the case as removed, and the observation it started ends early."""
    require_case_editor(actor)
    ensure_in_scope(actor, contact)
    reason = required_reason(reason)
    contact = (Contact.objects.select_for_update(of=("self",)).select_related("person", "case", "observation")
               .get(pk=contact.pk))
    if contact.status == Contact.Status.REMOVED:
        raise Conflict(_("该密接已排除"), code="already_removed")
    contact.status = Contact.Status.REMOVED
    contact.save(update_fields=["status", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=contact, object_repr=_contact_line(contact),
                 fields=["status"])
    if _started_by(contact, contact.observation):
        observation_end_early(actor=actor, observation=contact.observation,
                              reason=_("排除密接:%(reason)s") % {"reason": reason})
    case_event_add(actor=actor, case=contact.case, kind=CaseEvent.Kind.CONTACT,
                   note=_("排除 %(line)s:%(reason)s") % {"line": _contact_line(contact), "reason": reason},
                   contact=contact)
    return contact
