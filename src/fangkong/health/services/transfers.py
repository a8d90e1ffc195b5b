"""Transfers to hospital, makeshift hospital or central quarantine, and the destinations they go to.

A transfer is planned, picked up, then arrives (or is cancelled while planned); each step moves
the passengers' open cases and writes a line on their timelines.
"""

import datetime

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit
from fangkong.core.clock import not_later_than_now
from fangkong.core.errors import Conflict, DomainError, NotAllowed, require_choice
from fangkong.core.idnumbers import normalize_text
from fangkong.core.scope import ensure_in_scope
from fangkong.health.models import (
    Case,
    CaseEvent,
    Destination,
    Observation,
    ObservationKind,
    Transfer,
    TransferPassenger,
)
from fangkong.health.permissions import require_case_editor, require_destination_manager
from fangkong.health.services.cases import case_event_add, case_status_set
from fangkong.health.services.observations import observation_transfer, required_reason
from fangkong.people.models import Person
from fangkong.places.models import Street

OPEN_TRANSFER_STATUSES = (Transfer.Status.PLANNED, Transfer.Status.PICKED_UP)
ARRIVAL_CASE_STATUS = {Destination.Kind.HOSPITAL: Case.Status.IN_HOSPITAL,
                       Destination.Kind.MAKESHIFT_HOSPITAL: Case.Status.IN_CENTRAL_QUARANTINE,
                       Destination.Kind.CENTRAL_QUARANTINE: Case.Status.IN_CENTRAL_QUARANTINE}
HOME_OBSERVATION_KINDS = (ObservationKind.HOME_QUARANTINE, ObservationKind.HOME_MONITORING)
MAX_CAPACITY = 100_000


def _clean_destination(*, name: str, kind: str, address: str, phone: str, capacity) -> dict:
    name = normalize_text(name)[:100]
    if not name:
        message = _("请填写名称")
        raise DomainError(message, fields={"name": message})
    require_choice(kind, Destination.Kind, field="kind", label=_("目的地类型"))
    if capacity is not None and not 0 <= int(capacity) <= MAX_CAPACITY:
        message = _("床位/房间数应在 0–%(n)s 之间") % {"n": MAX_CAPACITY}
        raise DomainError(message, fields={"capacity": message})
    return {"name": name, "kind": kind, "address": normalize_text(address)[:200], "phone": normalize_text(phone)[:20],
            "capacity": None if capacity is None else int(capacity)}


def _check_destination_name(street: Street, name: str, *, exclude_pk=None) -> None:
    if Destination.objects.filter(street=street, name=name).exclude(pk=exclude_pk).exists():
        message = _("本街道已有名为“%(name)s”的目的地") % {"name": name}
        raise Conflict(message, code="duplicate_name", fields={"name": message})


@transaction.atomic
def destination_create(*, actor, street: Street, name: str, kind: str, address: str = "", phone: str = "",
                       capacity: int | None = None) -> Destination:
    """Register a designated hospital, makeshift hospital or central quarantine site of the street."""
    require_destination_manager(actor, street)
    values = _clean_destination(name=name, kind=kind, address=address, phone=phone, capacity=capacity)
    _check_destination_name(street, values["name"])
    destination = Destination.objects.create(street=street, **values)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=destination, fields=list(values), community_id=None)
    return destination


@transaction.atomic
def destination_update(*, actor, destination: Destination, name: str, kind: str, address: str = "", phone: str = "",
                       capacity: int | None = None, active: bool = True) -> Destination:
    """Change a destination; its kind stays while transfers are still on their way there."""
    ensure_in_scope(actor, destination)
    destination = Destination.objects.select_for_update().select_related("street").get(pk=destination.pk)
    require_destination_manager(actor, destination.street)
    values = {**_clean_destination(name=name, kind=kind, address=address, phone=phone, capacity=capacity),
              "active": bool(active)}
    _check_destination_name(destination.street, values["name"], exclude_pk=destination.pk)
    if values["kind"] != destination.kind and destination.transfers.filter(status__in=OPEN_TRANSFER_STATUSES).exists():
        message = _("仍有转运前往该地点,不能更改类型")
        raise Conflict(message, code="transfers_open", fields={"kind": message})
    changed = [field for field, value in values.items() if getattr(destination, field) != value]
    if changed:
        for field in changed:
            setattr(destination, field, values[field])
        destination.save(update_fields=[*changed, "updated_at"])
        audit.record(actor=actor, action=audit.Action.UPDATE, obj=destination, fields=changed, community_id=None)
    return destination


def _moment_label(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%m-%d %H:%M")


def transfer_label(transfer: Transfer) -> str:
    """'转运 #12(待转运,06-01 14:00)': how a transfer is named in messages and timelines."""
    return _("转运 #%(id)s(%(status)s,%(start)s)") % {
        "id": transfer.pk, "status": transfer.get_status_display(), "start": _moment_label(transfer.window_start)}


def _check_window(window_start: datetime.datetime, window_end: datetime.datetime) -> None:
    if window_start is None or window_end is None:
        message = _("请填写计划接人时间")
        raise DomainError(message, fields={"window_start" if window_start is None else "window_end": message})
    if window_end < window_start:
        message = _("计划接人时间止不能早于起")
        raise DomainError(message, fields={"window_end": message})


def _check_destination(actor, destination: Destination | None, kind: str, street_id: int) -> None:
    require_choice(kind, Destination.Kind, field="destination_kind", label=_("去向类型"))
    if destination is None:
        return
    ensure_in_scope(actor, destination)
    if destination.kind != kind or destination.street_id != street_id:
        message = _("%(name)s 不是本街道的%(kind)s") % {"name": destination.name, "kind": Destination.Kind(kind).label}
        raise DomainError(message, fields={"destination": message})
    if not destination.active:
        message = _("%(name)s 已停用") % {"name": destination.name}
        raise DomainError(message, fields={"destination": message})


def _distinct_people(people) -> list[Person]:
    seen, distinct = set(), []
    for person in people or ():
        if person.pk not in seen:
            seen.add(person.pk)
            distinct.append(person)
    return distinct


def _check_people(actor, people: list[Person], contacts) -> dict:
    """Everyone in scope (else 404); the contacts by person, each naming one of the people."""
    if not people:
        message = _("请选择转运人员")
        raise DomainError(message, fields={"people": message})
    ids = [person.pk for person in people]
    if Person.objects.in_scope(actor).filter(pk__in=ids).count() != len(ids):
        raise Http404
    by_person = {}
    for contact in contacts or ():
        ensure_in_scope(actor, contact)
        if contact.person_id not in ids:
            message = _("密接 %(name)s 不在转运人员中") % {"name": contact.person}
            raise DomainError(message, fields={"contacts": message})
        by_person[contact.person_id] = contact
    return by_person


def _refuse_busy(people: list[Person]) -> None:
    """Lock the people, then refuse anyone already on a planned or picked-up transfer."""
    ids = [person.pk for person in people]
    list(Person.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    busy = (TransferPassenger.objects.filter(person_id__in=ids, transfer__status__in=OPEN_TRANSFER_STATUSES)
            .select_related("person", "transfer").order_by("transfer_id").first())
    if busy is not None:
        message = _("%(name)s 已在%(transfer)s中") % {
            "name": busy.person.name, "transfer": transfer_label(busy.transfer)}
        raise Conflict(message, code="already_on_transfer", fields={"people": message})


def _open_cases(person_ids) -> dict:
    cases = Case.objects.filter(person_id__in=person_ids, status__in=Case.OPEN_STATUSES)
    return {case.person_id: case for case in cases}


def _destination_text(transfer: Transfer) -> str:
    return transfer.destination.name if transfer.destination_id else transfer.get_destination_kind_display()


def _note_on_cases(*, actor, transfer: Transfer, note: str) -> None:
    """One TRANSFER line on the timeline of each passenger's open case (and the transfer's own case)."""
    cases = {passenger.case_id: passenger.case for passenger in transfer.passengers.select_related("case")
             if passenger.case_id and passenger.case.is_open}
    if transfer.case_id and transfer.case_id not in cases:
        cases[transfer.case_id] = transfer.case
    for case in cases.values():
        case_event_add(actor=actor, case=case, kind=CaseEvent.Kind.TRANSFER, note=f"{transfer_label(transfer)}:{note}")


@transaction.atomic
def transfer_schedule(*, actor, destination_kind, people, window_start, window_end, case=None, contacts=(),
                      destination=None, vehicle="", crew="", note="") -> Transfer:
    """Plan moving people from their households to a hospital, makeshift hospital or central quarantine site.

    The transfer belongs to the case's community, else to the first person's. Each passenger carries
    the case that put them there (the given case for its person, else the person's own open case)
    and their contact row.
    """
    require_case_editor(actor)
    people = _distinct_people(people)
    contact_of = _check_people(actor, people, contacts)
    if case is not None:
        ensure_in_scope(actor, case)
    _check_window(window_start, window_end)
    community = case.community if case is not None else people[0].community
    _check_destination(actor, destination, destination_kind, community.street_id)
    _refuse_busy(people)
    transfer = Transfer.objects.create(
        community=community, destination_kind=destination_kind, destination=destination, case=case,
        vehicle=normalize_text(vehicle)[:50], crew=normalize_text(crew)[:100], window_start=window_start,
        window_end=window_end, note=normalize_text(note)[:300], created_by=actor if actor.pk else None)
    cases = _open_cases([person.pk for person in people])
    if case is not None:
        cases[case.person_id] = case
    TransferPassenger.objects.bulk_create([
        TransferPassenger(transfer=transfer, community_id=person.community_id, person=person,
                          household_id=person.household_id, case=cases.get(person.pk),
                          contact=contact_of.get(person.pk))
        for person in people])
    audit.record(actor=actor, action=audit.Action.CREATE, obj=transfer, object_repr=transfer_label(transfer),
                 fields=["destination_kind", "destination", "window_start", "window_end", "passengers"])
    _note_on_cases(actor=actor, transfer=transfer, note=_("已安排转运至%(to)s,%(n)s 人") % {
        "to": _destination_text(transfer), "n": len(people)})
    return transfer


def _locked_transfer(actor, transfer: Transfer) -> Transfer:
    """The transfer, locked; the actor must record transfers and cover every passenger."""
    require_case_editor(actor)
    ensure_in_scope(actor, transfer)
    locked = Transfer.objects.select_for_update().get(pk=transfer.pk)
    passengers = TransferPassenger.objects.filter(transfer=locked)
    if passengers.exclude(pk__in=TransferPassenger.objects.in_scope(actor).values("pk")).exists():
        raise NotAllowed(_("该转运中有不在您管辖范围内的人员,请由社区或街道工作人员操作"))
    return Transfer.objects.select_related("destination", "case", "community").get(pk=locked.pk)


def _refuse_unless(transfer: Transfer, status: str) -> None:
    """A transfer not in `status` (a double submission, a stale page) changes nothing."""
    if transfer.status == status:
        return
    messages = {Transfer.Status.PLANNED: _("该转运尚未接走"),
                Transfer.Status.PICKED_UP: _("该转运已于 %(t)s 接走,请勿重复提交"),
                Transfer.Status.ARRIVED: _("该转运已于 %(t)s 送达,请勿重复提交"),
                Transfer.Status.CANCELLED: _("该转运已取消")}
    moment = transfer.arrived_at if transfer.status == Transfer.Status.ARRIVED else transfer.picked_up_at
    message = messages[Transfer.Status(transfer.status)]
    if moment is not None:
        message = message % {"t": _moment_label(moment)}
    raise Conflict(message, code=f"transfer_{transfer.status}", fields={"status": message})


@transaction.atomic
def transfer_update(*, actor, transfer: Transfer, destination=None, vehicle=None, crew=None, window_start=None,
                    window_end=None, note=None) -> Transfer:
    """Change a planned transfer; a value left None stays as it is."""
    transfer = _locked_transfer(actor, transfer)
    _refuse_unless(transfer, Transfer.Status.PLANNED)
    values = {"vehicle": None if vehicle is None else normalize_text(vehicle)[:50],
              "crew": None if crew is None else normalize_text(crew)[:100],
              "note": None if note is None else normalize_text(note)[:300],
              "window_start": window_start, "window_end": window_end, "destination": destination}
    values = {field: value for field, value in values.items() if value is not None}
    _check_window(values.get("window_start", transfer.window_start), values.get("window_end", transfer.window_end))
    if destination is not None:
        _check_destination(actor, destination, transfer.destination_kind, transfer.community.street_id)
    changed = [field for field, value in values.items() if getattr(transfer, field) != value]
    if not changed:
        return transfer
    for field in changed:
        setattr(transfer, field, values[field])
    transfer.save(update_fields=[*changed, "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=transfer, object_repr=transfer_label(transfer),
                 fields=changed)
    return transfer


def _passenger_cases(transfer: Transfer) -> list[Case]:
    return list(Case.objects.filter(person__transfers__transfer=transfer, status__in=Case.OPEN_STATUSES)
                .select_related("person").order_by("pk"))


@transaction.atomic
def transfer_pick_up(*, actor, transfer: Transfer, at: datetime.datetime | None = None) -> Transfer:
    """The crew has the passengers on board: their open cases read 转运中 (a case already in care keeps its status)."""
    transfer = _locked_transfer(actor, transfer)
    _refuse_unless(transfer, Transfer.Status.PLANNED)
    transfer.picked_up_at = not_later_than_now(at, field="picked_up_at", label=_("接走时间"))
    transfer.status = Transfer.Status.PICKED_UP
    transfer.save(update_fields=["status", "picked_up_at", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=transfer, object_repr=transfer_label(transfer),
                 fields=["status", "picked_up_at"])
    location = _("转运途中,前往%(to)s") % {"to": _destination_text(transfer)}
    for case in _passenger_cases(transfer):
        if case.status in (Case.Status.FOUND, Case.Status.TRANSFERRED):
            case_status_set(actor=actor, case=case, status=Case.Status.TRANSFERRED, location=location)
    _note_on_cases(actor=actor, transfer=transfer, note=_("已接走"))
    return transfer


@transaction.atomic
def transfer_arrive(*, actor, transfer: Transfer, at: datetime.datetime | None = None) -> Transfer:
    """The passengers are at the destination: cases in hospital or central quarantine there, home observations moved."""
    transfer = _locked_transfer(actor, transfer)
    _refuse_unless(transfer, Transfer.Status.PICKED_UP)
    if transfer.destination is None:
        message = _("请先指定目的地")
        raise DomainError(message, code="destination_missing", fields={"destination": message})
    at = not_later_than_now(at, field="arrived_at", label=_("送达时间"))
    if at < transfer.picked_up_at:
        message = _("送达时间早于接走时间(%(t)s)") % {"t": _moment_label(transfer.picked_up_at)}
        raise DomainError(message, code="arrival_before_pick_up", fields={"arrived_at": message})
    transfer.arrived_at = at
    transfer.status = Transfer.Status.ARRIVED
    transfer.save(update_fields=["status", "arrived_at", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=transfer, object_repr=transfer_label(transfer),
                 fields=["status", "arrived_at"])
    destination = transfer.destination
    for case in _passenger_cases(transfer):
        case_status_set(actor=actor, case=case, status=ARRIVAL_CASE_STATUS[Destination.Kind(destination.kind)],
                        location=destination.name)
    if destination.kind == Destination.Kind.CENTRAL_QUARANTINE:
        _move_home_observations(actor=actor, transfer=transfer, site=destination.name)
    _note_on_cases(actor=actor, transfer=transfer, note=_("已送达 %(to)s") % {"to": destination.name})
    return transfer


def _move_home_observations(*, actor, transfer: Transfer, site: str) -> None:
    observations = (Observation.objects.active().filter(person__transfers__transfer=transfer,
                                                        kind__in=HOME_OBSERVATION_KINDS).order_by("pk"))
    for observation in observations:
        observation_transfer(actor=actor, observation=observation, site=site)


@transaction.atomic
def transfer_cancel(*, actor, transfer: Transfer, reason: str) -> Transfer:
    """Call off a planned transfer; the passengers may then be put on another one."""
    transfer = _locked_transfer(actor, transfer)
    reason = required_reason(reason)
    if transfer.status == Transfer.Status.PICKED_UP:
        message = _("已接走的转运不能取消,请登记送达")
        raise Conflict(message, code="transfer_picked_up", fields={"status": message})
    _refuse_unless(transfer, Transfer.Status.PLANNED)
    transfer.status = Transfer.Status.CANCELLED
    transfer.note = f"{transfer.note} {_('取消原因')}:{reason}".strip()[:300]
    transfer.save(update_fields=["status", "note", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=transfer, object_repr=transfer_label(transfer),
                 fields=["status", "note"])
    _note_on_cases(actor=actor, transfer=transfer, note=_("已取消:%(r)s") % {"r": reason})
    return transfer
