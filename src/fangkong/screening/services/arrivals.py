"""Arrivals: staff register who arrived (with their companions), residents report themselves from the poster.

Each arrival is checked against the street's risk areas, and each person who arrived is followed.
"""

import secrets

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import Role, User
from fangkong.core import audit
from fangkong.core.errors import DomainError
from fangkong.core.idnumbers import compact, normalize_text
from fangkong.core.scope import ensure_in_scope
from fangkong.people.models import Person
from fangkong.people.services import PERSON_FIELDS, apply_person_data, check_household, clean_person_data, follow_care
from fangkong.screening.divisions import known_division
from fangkong.screening.models import Arrival, ArrivalSource, TravelMode
from fangkong.screening.permissions import require_arrival_recorder
from fangkong.screening.services.follow_ups import follow_up_open
from fangkong.screening.services.risk_areas import arrival_is_exposed


def _arrival_place(actor, community, household) -> None:
    """A staff entry stays inside the actor's scope: the household must be in scope and in the community (else 404)."""
    if household is not None:
        ensure_in_scope(actor, household)
        if household.community_id != community.pk:
            raise Http404
    check_household(actor, community, household)


def _find_or_create_person(*, actor, community, household, values: dict, field_prefix: str = "") -> Person:
    """The registered person with this ID document, or a new one in the community (and household).

    Someone registered in another community is not moved: the community that holds them decides.
    """
    try:
        data = clean_person_data(**values)
    except DomainError as err:
        raise _prefixed(err, field_prefix) from None
    person = Person.objects.filter(id_type=data.id_type, id_number=data.id_number).first()
    if person is not None:
        if person.community_id != community.pk:
            message = _("该证件号码已在其他社区登记,请联系街道核实")
            raise _prefixed(DomainError(message, code="other_community", fields={"id_number": message}), field_prefix)
        if household is not None and person.household_id is None:
            person.household = household
            person.save(update_fields=["household", "updated_at"])
            audit.record(actor=actor, action=audit.Action.UPDATE, obj=person, fields=["household"])
            follow_care(actor=actor, tags=person.tag_codes(), households=[household])
        return person
    person = Person(community=community, household=household)
    apply_person_data(person, data)
    person.save()
    audit.record(actor=actor, action=audit.Action.CREATE, obj=person, fields=[*PERSON_FIELDS])
    return person


def _prefixed(err: DomainError, prefix: str) -> DomainError:
    """A companion's error names the row: fields 'companions.0.id_number', message '同行人 1:…'."""
    if not prefix:
        return err
    number = int(prefix.split(".")[1]) + 1
    return DomainError(_("同行人 %(n)d:%(m)s") % {"n": number, "m": err.message}, code=err.code,
                       fields={f"{prefix}{field}": message for field, message in err.fields.items()})


def _arrival_trip(*, origin_code, arrived_on, travel_mode, travel_number, plate) -> dict:
    found = known_division(origin_code, field="origin_code")
    if arrived_on is None:
        raise DomainError(_("请填写抵达日期"), fields={"arrived_on": _("必填")})
    if arrived_on > timezone.localdate():
        message = _("抵达日期不能晚于今天")
        raise DomainError(message, code="future_date", fields={"arrived_on": message})
    if travel_mode not in TravelMode.values:
        raise DomainError(_("交通方式不正确"), fields={"travel_mode": _("交通方式不正确")})
    return {"origin_code": found.code, "origin_name": found.full_name, "arrived_on": arrived_on,
            "travel_mode": travel_mode, "travel_number": compact(travel_number).upper()[:30],
            "plate": compact(plate).upper()[:20]}


def _save_arrival(*, actor, community, person, household, trip: dict, source: str, companion_of, stamps: dict,
                  note: str) -> tuple[Arrival, bool]:
    """The arrival of person on that trip; the one already stored when the same report comes twice."""
    existing = Arrival.objects.filter(person=person, origin_code=trip["origin_code"],
                                      arrived_on=trip["arrived_on"]).first()
    if existing is not None:
        return existing, False
    exposed = arrival_is_exposed(community.street_id, trip["origin_code"], trip["arrived_on"])
    arrival = Arrival.objects.create(community=community, person=person, household=household or person.household,
                                     source=source, companion_of=companion_of, exposed=exposed,
                                     reported_by=actor if actor is not None and actor.pk else None,
                                     note=normalize_text(note)[:200], **trip, **stamps)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=arrival,
                 fields=["person", "origin_code", "arrived_on", "travel_mode", *stamps])
    return arrival, True


def _record_arrivals(*, actor, community, person, household, companions, trip: dict, source: str, stamps: dict,
                     note: str) -> Arrival:
    lead, _created = _save_arrival(actor=actor, community=community, person=person, household=household, trip=trip,
                                   source=source, companion_of=None, stamps=stamps, note=note)
    followed = [person]
    for index, values in enumerate(companions):
        values = dict(values)
        companion = _find_or_create_person(actor=actor, community=community, household=household, values=values,
                                           field_prefix=f"companions.{index}.")
        _save_arrival(actor=actor, community=community, person=companion, household=household, trip=trip,
                      source=source, companion_of=lead, stamps=stamps, note="")
        followed.append(companion)
    reason = _("外地返回:%(o)s") % {"o": trip["origin_name"]}
    for someone in followed:
        follow_up_open(actor=actor, person=someone, reason=reason)
    return lead


def _stamps(notice_acknowledged: bool, commitment_signed: bool) -> dict:
    now = timezone.now()
    stamps = {}
    if notice_acknowledged:
        stamps["notice_acknowledged_at"] = now
    if commitment_signed:
        stamps["commitment_signed_at"] = now
    return stamps


_COMPANION_KEYS = {"name", "id_type", "id_number", "phone", "relationship", "sex", "birth_date"}


def _companion_values(companions) -> list[dict]:
    """Companions as person dicts, keeping only what a person record holds."""
    return [{key: value for key, value in dict(c).items() if key in _COMPANION_KEYS} for c in companions]


@transaction.atomic
def arrival_record(*, actor, community, origin_code, arrived_on, travel_mode, person_data: dict | None = None,
                   person: Person | None = None, travel_number="", plate="", household=None, companions=(),
                   notice_acknowledged=False, commitment_signed=False, source=ArrivalSource.STAFF,
                   note="") -> Arrival:
    """Register someone arriving (and the companions who came with them) and start following each of them.

    The person is given, or found by their ID document, or registered. The same person, origin and
    day sent twice is stored once: the arrival already stored is returned.
    """
    require_arrival_recorder(actor)
    ensure_in_scope(actor, community)
    _arrival_place(actor, community, household)
    if source not in ArrivalSource.values:
        raise DomainError(_("登记来源不正确"), fields={"source": _("登记来源不正确")})
    trip = _arrival_trip(origin_code=origin_code, arrived_on=arrived_on, travel_mode=travel_mode,
                         travel_number=travel_number, plate=plate)
    if person is not None:
        ensure_in_scope(actor, person)
    elif person_data is not None:
        person = _find_or_create_person(actor=actor, community=community, household=household, values=dict(person_data))
    else:
        raise DomainError(_("请填写返乡人员"), fields={"name": _("必填")})
    return _record_arrivals(actor=actor, community=community, person=person, household=household,
                            companions=_companion_values(companions), trip=trip, source=source,
                            stamps=_stamps(notice_acknowledged, commitment_signed), note=note)


@transaction.atomic
def arrival_self_report(*, phone: str, community, household, person_data: dict, origin_code, arrived_on,
                        travel_mode, travel_number="", plate="", companions=(), notice_acknowledged=False,
                        commitment_signed=False) -> tuple[Arrival, User]:
    """A resident's own report from the community poster, after their phone passed a one-time code.

    Both the notice and the commitment must be signed. The resident account of that phone is
    created when there is none, linked to the person, so the same phone reports health checks later.
    """
    missing = {name: _("请阅读并勾选") for name, signed in (("notice_acknowledged", notice_acknowledged),
                                                         ("commitment_signed", commitment_signed)) if not signed}
    if missing:
        raise DomainError(_("请阅读并签署告知书和承诺书"), code="unsigned", fields=missing)
    if household is None or household.community_id != community.pk:
        raise DomainError(_("请填写在本社区的住址"), fields={"household": _("必填")})
    trip = _arrival_trip(origin_code=origin_code, arrived_on=arrived_on, travel_mode=travel_mode,
                         travel_number=travel_number, plate=plate)
    account = User.objects.filter(phone=phone, role=Role.RESIDENT, is_active=True).first()
    values = {**dict(person_data), "phone": phone}
    person = _find_or_create_person(actor=account, community=community, household=household, values=values)
    _ensure_claimable(person, phone=phone, household=household)
    if account is None:
        account = _resident_account(phone=phone, person=person)
    elif account.person_id is None:
        account.person = person
        account.save(update_fields=["person"])
    arrival = _record_arrivals(actor=account, community=community, person=person, household=household,
                               companions=_companion_values(companions), trip=trip,
                               source=ArrivalSource.SELF_REPORT, stamps=_stamps(True, True), note="")
    return arrival, account


def _ensure_claimable(person: Person, *, phone: str, household) -> None:
    """A phone may report as a registered person only when the registry ties that person to it.

    Without this, anyone who knows a neighbour's ID number could sign in as them and see their
    household. With no phone on file, the household must be the registered one.
    """
    if person.phone == phone or (not person.phone and person.household_id == household.pk):
        return
    message = _("该证件号码已登记,但登记的手机号与本机号码不一致,请联系社区工作人员核实")
    raise DomainError(message, code="phone_mismatch", fields={"id_number": message})


def _resident_account(*, phone: str, person: Person) -> User:
    """The resident account a self-report creates: signed in by one-time code, so no usable password."""
    account = User(username=f"resident-{phone}-{secrets.token_hex(3)}", role=Role.RESIDENT, phone=phone,
                   display_name=person.name, person=person)
    account.set_unusable_password()
    account.save()
    audit.record(actor=None, action=audit.Action.CREATE, obj=account, fields=["username", "role", "phone"],
                 community_id=person.community_id)
    return account


@transaction.atomic
def arrival_acknowledge(*, actor, arrival: Arrival, notice: bool = True, commitment: bool = True) -> Arrival:
    """Stamp a notice or commitment signed after the arrival was registered (a visit with the paper form)."""
    require_arrival_recorder(actor)
    ensure_in_scope(actor, arrival)
    arrival = Arrival.objects.select_for_update().get(pk=arrival.pk)
    now, stamped = timezone.now(), []
    if notice and arrival.notice_acknowledged_at is None:
        arrival.notice_acknowledged_at = now
        stamped.append("notice_acknowledged_at")
    if commitment and arrival.commitment_signed_at is None:
        arrival.commitment_signed_at = now
        stamped.append("commitment_signed_at")
    if stamped:
        arrival.save(update_fields=[*stamped, "updated_at"])
        audit.record(actor=actor, action=audit.Action.UPDATE, obj=arrival, fields=stamped)
    return arrival
