"""Every write about following people: colours and follow-ups, risk areas and arrivals, lists, rounds."""

import datetime
import hashlib
import re
import secrets
from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fangkong.accounts.models import Role, User
from fangkong.core import audit
from fangkong.core.bulk import insert_rows
from fangkong.core.errors import Conflict, DomainError, NotAllowed
from fangkong.core.idnumbers import compact, normalize_phone, normalize_text, parse_resident_id
from fangkong.core.roles import is_staff_member
from fangkong.core.scope import community_ids_in_scope, ensure_in_scope
from fangkong.people import ledger
from fangkong.people.models import IdType, Person
from fangkong.people.permissions import may_edit_registry, may_reveal_full_values
from fangkong.people.services import (
    PERSON_FIELDS,
    apply_person_data,
    check_household,
    clean_person_data,
    follow_care,
    person_create,
)
from fangkong.places.models import Community, Grid, Household, Street
from fangkong.screening import lists, queries
from fangkong.screening.colors import REVISIT_DAYS, ColorFacts, risk_color
from fangkong.screening.divisions import Division, covers, division, enclosing_codes
from fangkong.screening.models import (
    Anomaly,
    Answer,
    Arrival,
    ArrivalSource,
    Color,
    ColorChange,
    ContactOutcome,
    FollowUp,
    FollowUpContact,
    HouseholdVisit,
    MatchKind,
    RiskArea,
    RiskLevel,
    ScreeningRound,
    TravelMode,
    VerificationBatch,
    VerificationItem,
    VisitMethod,
)

# Follow-ups and the four colours

_FACT_FIELDS = ("reached", "cooperating", "verified", "exposed", "under_observation", "left_community")


def _require_staff(actor) -> None:
    if not is_staff_member(actor):
        raise NotAllowed(_("只有工作人员可以处理跟踪对象"))


def _facts_of(follow_up: FollowUp) -> ColorFacts:
    return ColorFacts(**{name: getattr(follow_up, name) for name in _FACT_FIELDS})


def _observed_now(person: Person) -> bool:
    from fangkong.health.models import Observation

    return Observation.objects.active().filter(person=person).exists()


def _exposed_by_arrival(person: Person) -> bool:
    return Arrival.objects.filter(person=person, exposed=True).exists()


def _apply_color(*, actor, follow_up: FollowUp, reason: str) -> None:
    """Store the colour the facts (or the override) give, and log a change when it changes."""
    follow_up.computed_color = risk_color(_facts_of(follow_up))
    new_color = follow_up.override_color or follow_up.computed_color
    previous = follow_up.risk_color
    follow_up.risk_color = new_color
    if previous != new_color:
        if follow_up.pk is None:
            follow_up.save()
        ColorChange.objects.create(follow_up=follow_up, community_id=follow_up.community_id, from_color=previous or "",
                                   to_color=new_color, reason=reason[:200], overridden=bool(follow_up.override_color),
                                   changed_by=actor if actor is not None and actor.pk else None)
        if new_color == Color.RED:
            follow_up.next_visit_on = timezone.localdate()


def _next_visit(color: str) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=REVISIT_DAYS[Color(color)])


@transaction.atomic
def follow_up_open(*, actor, person: Person, reason: str) -> FollowUp:
    """Start following a person (or refresh the facts of an existing follow-up) and colour them."""
    follow_up = FollowUp.objects.select_for_update().filter(person=person).first()
    created = follow_up is None
    if created:
        follow_up = FollowUp(person=person, community_id=person.community_id, reason=reason[:200],
                             next_visit_on=timezone.localdate())
    elif follow_up.closed_at is not None:
        follow_up.closed_at = None
        follow_up.reason = reason[:200]
        follow_up.next_visit_on = timezone.localdate()
    follow_up.exposed = _exposed_by_arrival(person)
    follow_up.under_observation = _observed_now(person)
    _apply_color(actor=actor, follow_up=follow_up, reason=reason)
    follow_up.save()
    if created:
        audit.record(actor=actor, action=audit.Action.CREATE, obj=follow_up, fields=["risk_color", "reason"])
    return follow_up


@transaction.atomic
def follow_up_refresh(*, actor, person: Person, reason: str) -> FollowUp | None:
    """Recompute a followed person's derived facts (exposure, observation) and colour.

    Called by every service that changes one of those facts: an arrival recorded, a risk area
    changed, an observation started or ended. A person not followed is left alone.
    """
    follow_up = FollowUp.objects.select_for_update().filter(person=person).first()
    if follow_up is None:
        return None
    follow_up.exposed = _exposed_by_arrival(person)
    follow_up.under_observation = _observed_now(person)
    _apply_color(actor=actor, follow_up=follow_up, reason=reason)
    follow_up.save()
    return follow_up


@transaction.atomic
def follow_up_set_facts(*, actor, person: Person, reason: str, **facts: bool) -> FollowUp:
    """Set facts established elsewhere (a verification answer, a screening visit), opening a follow-up if needed."""
    unknown = set(facts) - {"reached", "cooperating", "verified", "left_community"}
    if unknown:
        raise ValueError(f"not settable facts: {sorted(unknown)}")
    follow_up = follow_up_open(actor=actor, person=person, reason=reason)
    for name, value in facts.items():
        setattr(follow_up, name, bool(value))
    if facts.get("reached"):
        follow_up.last_contact_at = timezone.now()
    _apply_color(actor=actor, follow_up=follow_up, reason=reason)
    follow_up.next_visit_on = _next_visit(follow_up.risk_color)
    follow_up.save()
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=follow_up, fields=sorted(facts))
    return follow_up


@transaction.atomic
def follow_up_record_contact(*, actor, follow_up: FollowUp, outcome: str, cooperating: bool | None = None,
                             verified: bool | None = None, left_community: bool | None = None,
                             note: str = "") -> FollowUp:
    """Record a call or visit and what it established; the colour and the next revisit follow."""
    _require_staff(actor)
    ensure_in_scope(actor, follow_up)
    if outcome not in ContactOutcome.values:
        raise DomainError(_("联系结果无效"), code="bad_outcome", fields={"outcome": _("联系结果无效")})
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    reached = outcome != ContactOutcome.UNREACHABLE
    FollowUpContact.objects.create(follow_up=follow_up, community_id=follow_up.community_id, outcome=outcome,
                                   note=note[:300], made_by=actor)
    follow_up.reached = follow_up.reached or reached
    changes = {"cooperating": cooperating, "verified": verified, "left_community": left_community}
    for name, value in changes.items():
        if value is not None:
            setattr(follow_up, name, value)
    if reached:
        follow_up.last_contact_at = timezone.now()
    reason = ContactOutcome(outcome).label + (f":{note}" if note else "")
    _apply_color(actor=actor, follow_up=follow_up, reason=str(reason))
    follow_up.next_visit_on = _next_visit(follow_up.risk_color)
    follow_up.save()
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=follow_up,
                 fields=["contact", *sorted(name for name, value in changes.items() if value is not None)])
    return follow_up


@transaction.atomic
def follow_up_override(*, actor, follow_up: FollowUp, color: str, reason: str) -> FollowUp:
    """Set the colour by hand; the facts keep their computed colour beside it. Empty colour lifts the override."""
    _require_staff(actor)
    ensure_in_scope(actor, follow_up)
    if color and color not in Color.values:
        raise DomainError(_("颜色无效"), code="bad_color", fields={"color": _("颜色无效")})
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写调整原因"), code="reason_required", fields={"reason": _("请填写调整原因")})
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    follow_up.override_color = color
    follow_up.override_reason = reason[:200] if color else ""
    follow_up.override_by = actor if color else None
    _apply_color(actor=actor, follow_up=follow_up, reason=_("人工调整:%(reason)s") % {"reason": reason})
    follow_up.save()
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=follow_up, fields=["override_color", "override_reason"])
    return follow_up


@transaction.atomic
def follow_up_assign(*, actor, follow_up: FollowUp, responsible) -> FollowUp:
    """Name the staff member responsible for this person (the yellow colour's 专人)."""
    _require_staff(actor)
    ensure_in_scope(actor, follow_up)
    if responsible is not None:
        if not is_staff_member(responsible) or not Person.objects.in_scope(responsible).filter(pk=follow_up.person_id).exists():
            raise DomainError(_("责任人必须是负责该人员所在地的工作人员"), code="bad_responsible",
                              fields={"responsible": _("责任人必须是负责该人员所在地的工作人员")})
    follow_up.responsible = responsible
    follow_up.save(update_fields=["responsible", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=follow_up, fields=["responsible"])
    return follow_up


@transaction.atomic
def follow_up_close(*, actor, follow_up: FollowUp, reason: str) -> FollowUp:
    """Stop following a person (observation over, left for good); the history stays."""
    _require_staff(actor)
    ensure_in_scope(actor, follow_up)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写结束原因"), code="reason_required", fields={"reason": _("请填写结束原因")})
    follow_up.closed_at = timezone.now()
    follow_up.reason = reason[:200]
    follow_up.save(update_fields=["closed_at", "reason", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=follow_up, fields=["closed_at"])
    return follow_up


# Risk areas and arrivals

_LEVEL_WORDS = {"高": RiskLevel.HIGH, "高风险": RiskLevel.HIGH, "中": RiskLevel.MEDIUM, "中风险": RiskLevel.MEDIUM,
                "低": RiskLevel.LOW, "低风险": RiskLevel.LOW, **{level: level for level in RiskLevel.values}}
_RISK_AREA_HEADERS = {"地区代码": "division_code", "行政区划代码": "division_code", "区划代码": "division_code",
                      "风险等级": "level", "等级": "level", "起始日期": "valid_from", "开始日期": "valid_from",
                      "截止日期": "valid_to", "结束日期": "valid_to", "解除日期": "valid_to", "备注": "note"}
_DAY = re.compile(r"^(\d{4})\D?(\d{1,2})\D?(\d{1,2})\D?$")


def _require_risk_area_writer(actor, street) -> None:
    """Risk areas are declared for the whole street: only its street staff and the administrator keep them."""
    if not (actor.is_superuser or (actor.role == Role.STREET_ADMIN and actor.scope_street_id == street.pk)):
        raise NotAllowed(_("只有街道工作人员可以维护风险地区"))


def _division_of(code, field: str) -> Division:
    code = compact(code or "")
    found = division(code)
    if found is None:
        message = _("行政区划代码 %(code)s 不存在") % {"code": code or "—"}
        raise DomainError(message, code="unknown_division", fields={field: message})
    return found


def _risk_window(valid_from, valid_to) -> None:
    if valid_from is None:
        raise DomainError(_("请填写起始日期"), fields={"valid_from": _("必填")})
    if valid_to is not None and valid_to < valid_from:
        message = _("截止日期不能早于起始日期")
        raise DomainError(message, code="bad_window", fields={"valid_to": message})


def _fill_risk_area(area: RiskArea, *, division_code, level, valid_from, valid_to, note) -> None:
    found = _division_of(division_code, "division_code")
    if level not in RiskLevel.values:
        raise DomainError(_("风险等级只能是高、中、低"), fields={"level": _("风险等级不正确")})
    _risk_window(valid_from, valid_to)
    area.division_code, area.division_name = found.code, found.full_name
    area.level, area.valid_from, area.valid_to = level, valid_from, valid_to
    area.note = normalize_text(note)[:200]


def _covers_on(area: RiskArea, origin_code: str, day: datetime.date) -> bool:
    return (covers(area.division_code, origin_code) and area.valid_from <= day
            and (area.valid_to is None or day <= area.valid_to))


def arrival_is_exposed(street, origin_code: str, day: datetime.date) -> bool:
    """Whether an arrival from origin_code on day came from one of the street's risk areas during its window."""
    return (RiskArea.objects.filter(street=street, division_code__in=enclosing_codes(origin_code), valid_from__lte=day)
            .filter(Q(valid_to=None) | Q(valid_to__gte=day)).exists())


def _origins_under(codes) -> Q:
    """Arrivals whose origin lies inside any of the division codes."""
    condition = Q(pk__in=[])
    for code in codes:
        prefix = code[:2] if code.endswith("0000") else code[:4] if code.endswith("00") else code
        condition |= Q(origin_code__startswith=prefix)
    return condition


def _recompute_exposure(*, actor, street, codes, reason: str) -> int:
    """Re-decide `exposed` for the street's arrivals from inside the codes; recolour the people whose exposure moved."""
    areas = list(RiskArea.objects.filter(street=street))
    arrivals = list(Arrival.objects.filter(community__street=street).filter(_origins_under(set(codes)))
                    .select_related("person"))
    changed = []
    for arrival in arrivals:
        exposed = any(_covers_on(area, arrival.origin_code, arrival.arrived_on) for area in areas)
        if exposed != arrival.exposed:
            arrival.exposed = exposed
            changed.append(arrival)
    Arrival.objects.bulk_update(changed, ["exposed"])
    for person in {arrival.person_id: arrival.person for arrival in changed}.values():
        follow_up_refresh(actor=actor, person=person, reason=reason)
    return len(changed)


@transaction.atomic
def risk_area_create(*, actor, street, division_code, level, valid_from, valid_to=None, note="") -> RiskArea:
    _require_risk_area_writer(actor, street)
    area = RiskArea(street=street, created_by=actor)
    _fill_risk_area(area, division_code=division_code, level=level, valid_from=valid_from, valid_to=valid_to,
                    note=note)
    area.save()
    audit.record(actor=actor, action=audit.Action.CREATE, obj=area,
                 fields=["division_code", "level", "valid_from", "valid_to"])
    _recompute_exposure(actor=actor, street=street, codes=[area.division_code],
                        reason=_("新增风险地区:%(a)s") % {"a": area.division_name})
    return area


@transaction.atomic
def risk_area_update(*, actor, risk_area: RiskArea, division_code, level, valid_from, valid_to=None,
                     note="") -> RiskArea:
    """Correct a risk area; arrivals from its old and its new division are re-decided."""
    _require_risk_area_writer(actor, risk_area.street)
    area = RiskArea.objects.select_for_update().get(pk=risk_area.pk)
    before = {name: getattr(area, name) for name in ("division_code", "level", "valid_from", "valid_to", "note")}
    _fill_risk_area(area, division_code=division_code, level=level, valid_from=valid_from, valid_to=valid_to,
                    note=note)
    changed = [name for name, value in before.items() if getattr(area, name) != value]
    if changed:
        area.save()
        audit.record(actor=actor, action=audit.Action.UPDATE, obj=area, fields=changed)
        _recompute_exposure(actor=actor, street=area.street, codes={before["division_code"], area.division_code},
                            reason=_("风险地区变更:%(a)s") % {"a": area.division_name})
    return area


@transaction.atomic
def risk_area_end(*, actor, risk_area: RiskArea, valid_to: datetime.date) -> RiskArea:
    """Lift a risk area from a day on; arrivals after that day no longer count as exposed."""
    _require_risk_area_writer(actor, risk_area.street)
    area = RiskArea.objects.select_for_update().get(pk=risk_area.pk)
    if valid_to is None:
        raise DomainError(_("请填写截止日期"), fields={"valid_to": _("必填")})
    _risk_window(area.valid_from, valid_to)
    area.valid_to = valid_to
    area.save(update_fields=["valid_to", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=area, fields=["valid_to"])
    _recompute_exposure(actor=actor, street=area.street, codes=[area.division_code],
                        reason=_("风险地区解除:%(a)s") % {"a": area.division_name})
    return area


def _risk_area_header(grid: list[list]) -> tuple[int, dict[str, int]]:
    for index, cells in enumerate(grid[:ledger.HEADER_SEARCH_ROWS]):
        columns = {}
        for position, value in enumerate(cells):
            code = _RISK_AREA_HEADERS.get(compact(ledger.cell_text(value)))
            if code and code not in columns:
                columns[code] = position
        if "division_code" in columns:
            missing = [label for code, label in (("level", "风险等级"), ("valid_from", "起始日期")) if code not in columns]
            if missing:
                raise DomainError(_("缺少必需的列“%(c)s”") % {"c": "、".join(missing)}, code="missing_column",
                                  fields={"file": "、".join(missing)})
            return index, columns
    raise DomainError(_("找不到表头:须有“地区代码”或“行政区划代码”列"), code="no_header", fields={"file": _("找不到表头")})


def _import_day(text: str) -> datetime.date | None:
    match = _DAY.match(text)
    if not match:
        raise ValueError(text)
    return datetime.date(*map(int, match.groups()))


def _risk_area_row(cells: list, columns: dict[str, int]) -> tuple[dict, list[tuple[str, str]]]:
    """The values of one row, and its problems as (column, reason)."""
    texts = {code: ledger.cell_text(cells[position]) if position < len(cells) else ""
             for code, position in columns.items()}
    values, problems = {"note": texts.get("note", "")}, []
    found = division(compact(texts["division_code"]))
    if found is None:
        problems.append(("行政区划代码", _("行政区划代码 %(code)s 不存在") % {"code": texts["division_code"] or "—"}))
    values["division_code"] = found.code if found else ""
    values["level"] = _LEVEL_WORDS.get(compact(texts["level"]).lower(), "")
    if not values["level"]:
        problems.append(("风险等级", _("应为 高、中 或 低")))
    for code, label in (("valid_from", "起始日期"), ("valid_to", "截止日期")):
        text = compact(texts.get(code, ""))
        try:
            values[code] = _import_day(text) if text else None
        except ValueError:
            problems.append((label, _("日期格式应为 2022-04-01")))
            values[code] = None
    if values["valid_from"] is None and not any(label == "起始日期" for label, _reason in problems):
        problems.append(("起始日期", _("必填")))
    if values["valid_from"] and values["valid_to"] and values["valid_to"] < values["valid_from"]:
        problems.append(("截止日期", _("截止日期不能早于起始日期")))
    return values, problems


@transaction.atomic
def risk_areas_import(*, actor, street, file) -> list[RiskArea]:
    """Import a list of risk areas (.xlsx/.csv). All or nothing: any bad row rejects the file, naming every problem."""
    _require_risk_area_writer(actor, street)
    grid = ledger.read_grid(getattr(file, "name", "") or "", file.read())[0]
    header, columns = _risk_area_header(grid)
    rows, problems = [], []
    for index in range(header + 1, len(grid)):
        if not any(ledger.cell_text(value) for value in grid[index]):
            continue
        values, row_problems = _risk_area_row(grid[index], columns)
        problems += [_("第 %(n)d 行:%(c)s:%(r)s") % {"n": index + 1, "c": column, "r": reason}
                     for column, reason in row_problems]
        rows.append(values)
    if not rows and not problems:
        raise DomainError(_("表中没有数据行"), code="empty", fields={"file": _("没有数据行")})
    if problems:
        message = _("风险地区表有 %(n)d 处错误,未导入任何数据:%(p)s") % {"n": len(problems), "p": ";".join(problems)}
        raise DomainError(message, code="import_invalid", fields={"file": "\n".join(problems)})
    areas = [risk_area_create(actor=actor, street=street, **values) for values in rows]
    audit.record(actor=actor, action=audit.Action.IMPORT, object_type="riskarea",
                 object_repr=_("导入风险地区 %(n)d 条") % {"n": len(areas)}, fields=["division_code", "level"])
    return areas


def _require_arrival_recorder(actor) -> None:
    if not may_edit_registry(actor):
        raise NotAllowed(_("您的角色不能登记返乡人员"))


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
    found = _division_of(origin_code, "origin_code")
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
    _require_arrival_recorder(actor)
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
    _require_arrival_recorder(actor)
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


# Verification lists

LIST_MANAGER_ROLES = frozenset({Role.STREET_ADMIN, Role.COMMUNITY_STAFF})

# Answers that establish facts about the matched person; 查无此人 establishes nothing.
_ANSWER_FACTS = {
    Answer.PRESENT_VERIFIED: {"reached": True, "verified": True, "left_community": False},
    Answer.LEFT: {"reached": True, "verified": True, "left_community": True},
    Answer.CONTROLLED: {"reached": True, "verified": True},
    Answer.NOT_FOUND: None,
}


def may_manage_lists(user) -> bool:
    """Imports, reassigns and matches lists: community staff, the street, the administrator."""
    return user.is_authenticated and (user.is_superuser or user.role in LIST_MANAGER_ROLES)


def may_work_lists(user) -> bool:
    """Opens, answers and exports lists: the roles that may see full ID numbers (the list carries them)."""
    return user.is_authenticated and may_reveal_full_values(user)


def _require_list_manager(actor) -> None:
    if not may_manage_lists(actor):
        raise NotAllowed(_("只有社区工作人员或街道专班可以导入和分派核查名单"))


def _require_list_worker(actor) -> None:
    if not may_work_lists(actor):
        raise NotAllowed(_("您的角色不能处理核查名单"))


def _list_chunk() -> int:
    """Values per IN (...): PostgreSQL takes many; SQLite's variable limit is lower."""
    return 10_000 if connection.vendor == "postgresql" else 900


def _chunks(values: list):
    size = _list_chunk()
    for start in range(0, len(values), size):
        yield values[start:start + size]


@dataclass
class _ListRow:
    line: int
    cells: list
    name: str
    id_number: str
    phone: str
    phone_text: str
    birth_date: datetime.date | None
    origin: str
    reason: str


@dataclass(frozen=True)
class ListMatch:
    """Who a row is, how that was found, and where the row goes (community, grid)."""

    kind: str
    person_id: int | None = None
    community_id: int | None = None
    grid_id: int | None = None


def _list_scope(actor, community) -> tuple[Street, Community | None, list[int]]:
    """The street a batch belongs to, its community (None: the whole street) and the communities it matches in."""
    _require_list_manager(actor)
    if community is None and not actor.is_superuser and actor.role == Role.COMMUNITY_STAFF:
        own = community_ids_in_scope(actor) or frozenset()
        if len(own) != 1:
            raise DomainError(_("请选择名单所属社区"), code="community_required", fields={"community": _("必填")})
        community = Community.objects.get(pk=next(iter(own)))
    if community is not None:
        ensure_in_scope(actor, community)
        whole = community_ids_in_scope(actor)
        if whole is not None and community.pk not in whole:
            raise NotAllowed(_("导入核查名单需要负责整个社区的账号"))
        return community.street, community, [community.pk]
    street = actor.scope_street if not actor.is_superuser else None
    if street is None:
        streets = list(Street.objects.all()[:2])
        if len(streets) != 1:
            raise DomainError(_("请选择名单所属社区"), code="community_required", fields={"community": _("必填")})
        street = streets[0]
    return street, None, list(Community.objects.filter(street=street).values_list("pk", flat=True))


def _list_deadline(received_at: datetime.datetime, deadline, hours) -> datetime.datetime:
    if deadline is None and hours is None:
        raise DomainError(_("请填写反馈时限"), code="deadline_required", fields={"hours": _("必填")})
    if deadline is None:
        if not 1 <= int(hours) <= 720:
            raise DomainError(_("反馈时限应为 1 到 720 小时"), code="bad_hours", fields={"hours": _("应为 1 到 720")})
        return received_at + datetime.timedelta(hours=int(hours))
    if timezone.is_naive(deadline):
        deadline = timezone.make_aware(deadline)
    if deadline <= received_at:
        raise DomainError(_("反馈时限必须晚于现在"), code="deadline_past", fields={"deadline": _("必须晚于现在")})
    return deadline


def _refuse_duplicate_list(street: Street, digest: str) -> None:
    earlier = VerificationBatch.objects.filter(street=street, content_hash=digest).first()
    if earlier is not None:
        when = timezone.localtime(earlier.created_at).strftime("%Y-%m-%d %H:%M")
        message = _("该名单已于 %(time)s 导入过(“%(title)s”),不能重复导入") % {"time": when, "title": earlier.title}
        raise Conflict(message, code="duplicate_list", fields={"file": message})


def _list_row(sheet: lists.ListSheet, line: int, cells: list) -> tuple[_ListRow | None, str]:
    """One row's values for matching, or the problem that rejects it."""
    id_number, birth_date = compact(sheet.value(cells, "id_number")).upper(), None
    if id_number:
        try:
            parsed = parse_resident_id(id_number)
        except ValidationError as err:
            return None, _("第 %(line)d 行:身份证号:%(message)s") % {"line": line, "message": err.messages[0]}
        id_number, birth_date = parsed.number, parsed.birth_date
    elif sheet.has("birth_date") and sheet.value(cells, "birth_date"):
        birth_date = lists.parse_date(compact(sheet.value(cells, "birth_date")))
        if birth_date is None:
            return None, _("第 %(line)d 行:出生日期:格式不正确,应如 1980-01-31") % {"line": line}
    name = normalize_text(sheet.value(cells, "name"))[:50]
    phone_text = compact(sheet.value(cells, "phone"))
    if not (id_number or phone_text or name):
        return None, _("第 %(line)d 行:没有身份证号、手机号或姓名,无法核查") % {"line": line}
    try:
        phone = normalize_phone(phone_text) if phone_text else ""
    except ValidationError:
        phone = ""
    return _ListRow(line=line, cells=cells, name=name, id_number=id_number, phone=phone,
                    phone_text=(phone or phone_text)[:20], birth_date=birth_date,
                    origin=normalize_text(sheet.value(cells, "origin"))[:100],
                    reason=normalize_text(sheet.value(cells, "reason"))[:200]), ""


def _list_rows(sheet: lists.ListSheet) -> list[_ListRow]:
    """Every row checked first; one bad row rejects the file, naming every bad row and its line."""
    if not sheet.has("id_number"):
        raise DomainError(_("名单缺少身份证号列"), code="missing_column", fields={"file": _("名单缺少身份证号列")})
    rows, problems = [], []
    for line, cells in sheet.rows:
        row, problem = _list_row(sheet, line, cells)
        if problem:
            problems.append(problem)
        else:
            rows.append(row)
    if problems:
        shown = ";".join(problems[:20]) + (_(" 等") if len(problems) > 20 else "")
        message = _("名单有 %(n)d 行有误,未导入任何数据:%(problems)s") % {"n": len(problems), "problems": shown}
        raise DomainError(message, code="list_invalid", fields={"file": message})
    return rows


def _candidates_by(persons, field: str, values: set) -> dict:
    """Persons whose `field` is one of `values`, grouped by that value: one query per chunk of values."""
    found: dict = defaultdict(list)
    for chunk in _chunks(sorted(values)):
        for pk, value, community_id, grid_id in (persons.filter(**{f"{field}__in": chunk})
                                                  .values_list("pk", field, "community_id", "household__grid_id")):
            found[value].append((pk, community_id, grid_id))
    return found


def _name_birth_candidates(persons, wanted: set) -> dict:
    found: dict = defaultdict(list)
    names = {name for name, _birth in wanted}
    for chunk in _chunks(sorted(names)):
        rows = persons.filter(name__in=chunk).values_list("pk", "name", "birth_date", "community_id", "household__grid_id")
        for pk, name, birth_date, community_id, grid_id in rows:
            if (name, birth_date) in wanted:
                found[(name, birth_date)].append((pk, community_id, grid_id))
    return found


def match_list_rows(community_ids: list[int], rows) -> list[ListMatch]:
    """Match rows (with .id_number, .phone, .name, .birth_date) against the persons of these communities.

    Set-based: one query per kind of key and chunk of values, never one per row. ID exact first;
    else the phone when exactly one person has it; else name and birth date when exactly one
    person has both. Several candidates and no single one → ambiguous. Persons of other
    communities are never candidates, so a list does not reveal who lives elsewhere.
    """
    persons = Person.objects.filter(community_id__in=community_ids)
    by_id = {number: found[0] for number, found in _candidates_by(
        persons.filter(id_type=IdType.RESIDENT_ID), "id_number", {row.id_number for row in rows if row.id_number}).items()}
    rest = [row for row in rows if row.id_number not in by_id]
    by_phone = _candidates_by(persons, "phone", {row.phone for row in rest if row.phone})
    rest = [row for row in rest if len(by_phone.get(row.phone, ())) != 1]
    by_name_birth = _name_birth_candidates(persons, {(row.name, row.birth_date) for row in rest
                                                     if row.name and row.birth_date})
    return [_resolve_match(row, by_id, by_phone, by_name_birth) for row in rows]


def _resolve_match(row, by_id: dict, by_phone: dict, by_name_birth: dict) -> ListMatch:
    if row.id_number in by_id:
        return ListMatch(MatchKind.ID_NUMBER, *by_id[row.id_number])
    ambiguous = False
    for kind, found in ((MatchKind.PHONE, by_phone.get(row.phone, ()) if row.phone else ()),
                        (MatchKind.NAME_BIRTH, by_name_birth.get((row.name, row.birth_date), ()))):
        if len(found) == 1:
            return ListMatch(kind, *found[0])
        ambiguous = ambiguous or len(found) > 1
    return ListMatch(MatchKind.AMBIGUOUS if ambiguous else MatchKind.NONE)


_ITEM_COLUMNS = ("batch_id", "line", "cells", "name", "id_number", "phone", "origin", "reason", "person_id",
                 "match_kind", "community_id", "grid_id", "answer", "answer_note", "answered_by_id", "answered_at")


def _insert_items(batch: VerificationBatch, rows: list[_ListRow], matches: list[ListMatch]) -> None:
    """Matched rows go to their person's community and grid; the others to the batch's queue."""
    insert_rows(VerificationItem, _ITEM_COLUMNS, [
        (batch.pk, row.line, row.cells, row.name, row.id_number, row.phone_text, row.origin, row.reason, match.person_id,
         match.kind, match.community_id if match.person_id else batch.community_id, match.grid_id, "", "", None, None)
        for row, match in zip(rows, matches)])


def verification_batch_import(*, actor, file_name: str, data: bytes, title: str, deadline: datetime.datetime | None = None,
                              hours: int | None = None, issued_by: str = "", community: Community | None = None
                              ) -> VerificationBatch:
    """Import a list sent down from above and match it against the registry: all rows or none.

    A community worker's list is matched within their community and its unmatched rows wait in
    that community's queue; a street's list is matched across the street's communities and its
    unmatched rows wait in the street's queue (community empty). The same file twice is refused.
    """
    street, community, community_ids = _list_scope(actor, community)
    title = normalize_text(title)[:200]
    if not title:
        raise DomainError(_("请填写名单名称"), code="title_required", fields={"title": _("必填")})
    received_at = timezone.now()
    deadline = _list_deadline(received_at, deadline, hours)
    digest = hashlib.sha256(data).hexdigest()
    _refuse_duplicate_list(street, digest)
    sheet = lists.read_list(file_name, data)
    rows = _list_rows(sheet)
    matches = match_list_rows(community_ids, rows)
    try:
        with transaction.atomic():
            batch = VerificationBatch.objects.create(
                street=street, community=community, title=title, issued_by=normalize_text(issued_by)[:100],
                file_name=file_name[:255], content_hash=digest, columns=sheet.columns, received_at=received_at,
                deadline=deadline, row_count=len(rows), created_by=actor if actor.pk else None)
            _insert_items(batch, rows, matches)
            matched = sum(1 for match in matches if match.person_id)
            audit.record(actor=actor, action=audit.Action.IMPORT, obj=batch, fields=sorted(sheet.positions),
                         object_repr=_("核查名单“%(t)s”:%(n)d 行,匹配 %(m)d 行") % {"t": title, "n": len(rows), "m": matched})
    except IntegrityError:
        _refuse_duplicate_list(street, digest)
        raise
    return batch


def _batch_community_ids(batch: VerificationBatch) -> list[int]:
    if batch.community_id:
        return [batch.community_id]
    return list(Community.objects.filter(street_id=batch.street_id).values_list("pk", flat=True))


def _item_repr(item: VerificationItem) -> str:
    return _("%(t)s 第 %(line)d 行 %(name)s") % {"t": item.batch.title, "line": item.line, "name": item.name}


@transaction.atomic
def verification_item_answer(*, actor, item: VerificationItem, answer: str, note: str = "") -> VerificationItem:
    """Answer one row (again: the last answer, its author and time count); the matched person's facts follow."""
    _require_list_worker(actor)
    ensure_in_scope(actor, item)
    if answer not in Answer.values:
        message = _("核查结果无效,应为:%(choices)s") % {"choices": "、".join(str(label) for label in Answer.labels)}
        raise DomainError(message, code="bad_answer", fields={"answer": _("取值不正确")})
    note = normalize_text(note)
    if len(note) > 300:
        raise DomainError(_("情况说明不能超过 300 字"), code="note_too_long", fields={"note": _("不能超过 300 字")})
    item = VerificationItem.objects.select_for_update(of=("self",)).select_related("batch", "person").get(pk=item.pk)
    item.answer, item.answer_note, item.answered_by, item.answered_at = answer, note, actor, timezone.now()
    item.save(update_fields=["answer", "answer_note", "answered_by", "answered_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=item, object_repr=_item_repr(item),
                 fields=["answer", "answer_note"], community_id=item.community_id)
    facts = _ANSWER_FACTS[Answer(answer)]
    if facts and item.person is not None:
        reason = _("核查名单“%(t)s”:%(a)s") % {"t": item.batch.title, "a": Answer(answer).label}
        follow_up_set_facts(actor=actor, person=item.person, reason=reason, **facts)
    return item


@transaction.atomic
def verification_item_reassign(*, actor, item: VerificationItem, grid: Grid) -> VerificationItem:
    """Send a row to a grid (from the queue, or from the wrong grid): within the row's community, or the batch's."""
    _require_list_manager(actor)
    ensure_in_scope(actor, item)
    ensure_in_scope(actor, grid)
    allowed = [item.community_id] if item.community_id else _batch_community_ids(item.batch)
    if grid.community_id not in allowed:
        raise DomainError(_("只能分派到该名单行所属社区的网格"), code="bad_grid", fields={"grid": _("不在名单范围内")})
    item.grid, item.community_id = grid, grid.community_id
    item.save(update_fields=["grid", "community"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=item, object_repr=_item_repr(item), fields=["grid"],
                 community_id=item.community_id)
    return item


@transaction.atomic
def verification_item_match(*, actor, item: VerificationItem, person: Person) -> VerificationItem:
    """Tie a row to a person by hand (after an ambiguous or failed match); the row follows them to their grid."""
    _require_list_manager(actor)
    ensure_in_scope(actor, item)
    ensure_in_scope(actor, person)
    if person.community_id not in _batch_community_ids(item.batch):
        raise DomainError(_("该人员不在这份名单的核查范围内"), code="bad_person", fields={"person": _("不在名单范围内")})
    item.person, item.community_id, item.match_kind = person, person.community_id, MatchKind.MANUAL
    item.grid_id = person.household.grid_id if person.household_id else None
    item.save(update_fields=["person", "community", "grid", "match_kind"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=item, object_repr=_item_repr(item),
                 fields=["person", "grid"], community_id=item.community_id)
    return item


def _export_row(item: VerificationItem, width: int) -> list[str]:
    answered_at = timezone.localtime(item.answered_at).strftime("%Y-%m-%d %H:%M") if item.answered_at else ""
    return [*item.cells[:width], *[""] * (width - len(item.cells)),
            str(Answer(item.answer).label) if item.answer else "", item.answer_note,
            str(item.answered_by) if item.answered_by else "", answered_at, str(item.get_match_kind_display()),
            item.grid.name if item.grid else ""]


def verification_batch_export(*, actor, batch: VerificationBatch, fmt: str = "xlsx") -> bytes:
    """The list in the layout it came in, each row followed by its answer.

    ID numbers and phones go out as received, not masked: the list came from above with full
    values and goes back to its sender, who ties each answer to a person by them. So only the
    roles that may see full values export it, each sees only the rows of their scope, and every
    export is written to the audit log.
    """
    _require_list_worker(actor)
    if not queries.batches_for(actor).filter(pk=batch.pk).exists():
        raise Http404
    if fmt not in {"xlsx", "csv"}:
        raise DomainError(_("导出格式只能是 xlsx 或 csv"), code="format", fields={"fmt": _("格式不支持")})
    items = (VerificationItem.objects.in_scope(actor).filter(batch=batch)
             .select_related("answered_by", "grid").order_by("line"))
    width = len(batch.columns)
    with translation.override(None):
        rows = [_export_row(item, width) for item in items.iterator(chunk_size=2000)]
        header = [*batch.columns, *lists.ANSWER_COLUMNS]
    content = lists.write_list(header, rows, file_format=fmt)
    audit.record(actor=actor, action=audit.Action.EXPORT, obj=batch, fields=["answer", "cells"],
                 object_repr=_("核查名单“%(t)s”:导出 %(n)d 行") % {"t": batch.title, "n": len(rows)},
                 community_id=batch.community_id)
    return content



# Screening rounds

ROUND_MANAGER_ROLES = frozenset({Role.STREET_ADMIN, Role.COMMUNITY_STAFF})
VISIT_REPEAT_SECONDS = 60
NEW_PERSON_FIELDS = ("name", "id_type", "id_number", "phone", "sex", "relationship", "residency", "notes")
FOLLOWED_ANOMALIES = frozenset({Anomaly.UNREGISTERED_ARRIVAL, Anomaly.RISK_AREA_ARRIVAL})
FOUND_BY_SCREENING = "入户排查发现"


def _require_round_manager(actor, community) -> None:
    """Starting or closing a round is for whoever runs the whole community: its staff, the street, the administrator."""
    if not (actor.is_superuser or actor.role in ROUND_MANAGER_ROLES):
        raise NotAllowed(_("只有社区工作人员或街道可以发起和结束排查轮次"))
    ensure_in_scope(actor, community)
    communities = community_ids_in_scope(actor)
    if communities is not None and community.pk not in communities:
        raise NotAllowed(_("只有负责整个社区的工作人员可以发起和结束排查轮次"))


@transaction.atomic
def screening_round_start(*, actor, community: Community, name: str = "", grids=()) -> ScreeningRound:
    """Start round N of a community, for all its households or those of the grids given."""
    _require_round_manager(actor, community)
    grids = list(grids)
    if any(grid.community_id != community.pk for grid in grids):
        message = _("所选网格不属于该社区")
        raise DomainError(message, code="bad_grid", fields={"grids": message})
    Community.objects.select_for_update().filter(pk=community.pk).first()
    number = (ScreeningRound.objects.filter(community=community).aggregate(n=Max("number"))["n"] or 0) + 1
    name = normalize_text(name)[:100] or _("第%(n)d轮排查") % {"n": number}
    round = ScreeningRound.objects.create(community=community, name=name, number=number, started_at=timezone.now(),
                                          started_by=actor if actor.pk else None)
    round.grids.set(grids)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=round, fields=["name", "number", "grids"])
    return round


@transaction.atomic
def screening_round_close(*, actor, round: ScreeningRound) -> ScreeningRound:
    _require_round_manager(actor, round.community)
    round = ScreeningRound.objects.select_for_update().get(pk=round.pk)
    if round.closed_at is not None:
        raise Conflict(_("该排查轮次已经结束"), code="round_closed")
    round.closed_at = timezone.now()
    round.save(update_fields=["closed_at", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=round, fields=["closed_at"])
    return round


def _household_in_round(round: ScreeningRound, household: Household) -> bool:
    if household.community_id != round.community_id:
        return False
    grid_ids = set(round.grids.values_list("id", flat=True))
    return not grid_ids or household.grid_id in grid_ids


def _clean_visit(*, method, people_present, anomalies, note) -> tuple[list[str], str]:
    """Check the visit's own values; return the anomalies (deduplicated, in list order) and the note."""
    if method not in VisitMethod.values:
        message = _("排查方式无效,应为入户、电话或未联系上")
        raise DomainError(message, code="bad_method", fields={"method": message})
    if people_present is not None and not (isinstance(people_present, int) and 0 <= people_present <= 99):
        message = _("在户人数应为0到99之间的整数")
        raise DomainError(message, code="bad_people_present", fields={"people_present": message})
    unknown = [str(code) for code in anomalies if code not in Anomaly.values]
    if unknown:
        message = _("未知的异常情况:%(codes)s") % {"codes": "、".join(unknown)}
        raise DomainError(message, code="bad_anomaly", fields={"anomalies": message})
    return [code for code in Anomaly.values if code in anomalies], normalize_text(note)[:300]


def _person_values(entry: dict) -> dict:
    return {field: entry[field] for field in NEW_PERSON_FIELDS if entry.get(field) not in (None, "")}


def _row_error(index: int, err: DomainError) -> DomainError:
    message = _("新发现人员第%(n)d行:%(message)s") % {"n": index, "message": err.message}
    return DomainError(message, code=err.code, fields={"new_persons": message})


def _clean_new_persons(new_persons) -> list[dict]:
    """Validate every new person before anything is written, so a bad row names itself and stores nothing."""
    values = [_person_values(entry) for entry in new_persons]
    for index, entry in enumerate(values, start=1):
        try:
            clean_person_data(**{"name": "", "id_number": "", **entry})
        except DomainError as err:
            raise _row_error(index, err) from None
    return values


def _add_new_persons(*, actor, household: Household, values: list[dict], followed: bool) -> list[Person]:
    persons = []
    for index, entry in enumerate(values, start=1):
        try:
            person = person_create(actor=actor, community=household.community, household=household, **entry)
        except DomainError as err:
            raise _row_error(index, err) from None
        if followed:
            follow_up_open(actor=actor, person=person, reason=FOUND_BY_SCREENING)
        persons.append(person)
    return persons


def _repeated_visit(*, actor, round, household, method, when) -> HouseholdVisit | None:
    """The same visit sent again (a double tap, a retry) within a minute by the same person."""
    window = datetime.timedelta(seconds=VISIT_REPEAT_SECONDS)
    return (HouseholdVisit.objects.filter(round=round, household=household, method=method, visited_by=actor,
                                          visited_at__gte=when - window, visited_at__lte=when + window)
            .order_by("-visited_at", "-id").first())


@transaction.atomic
def household_visit_record(*, actor, round: ScreeningRound, household: Household, method: str,
                           people_present: int | None = None, anomalies=(), note: str = "", new_persons=(),
                           visited_at: datetime.datetime | None = None) -> HouseholdVisit:
    """Record one attempt to reach a household; people found who are not registered are added to it.

    The latest attempt gives the household's status in the round; a not-reached household is
    visited again in the next pass, so the pass number counts the earlier not-reached attempts.
    """
    if not is_staff_member(actor):
        raise NotAllowed(_("只有工作人员可以登记入户排查"))
    ensure_in_scope(actor, round)
    ensure_in_scope(actor, household)
    if not _household_in_round(round, household):
        raise Http404
    anomalies, note = _clean_visit(method=method, people_present=people_present, anomalies=list(anomalies), note=note)
    now = timezone.now()
    when = visited_at or now
    if when > now + datetime.timedelta(minutes=5):
        message = _("排查时间不能晚于现在")
        raise DomainError(message, code="future_visit", fields={"visited_at": message})
    values = _clean_new_persons(new_persons)
    Household.objects.select_for_update().filter(pk=household.pk).first()
    round = ScreeningRound.objects.get(pk=round.pk)
    if round.closed_at is not None:
        raise Conflict(_("该排查轮次已经结束,不能再登记"), code="round_closed")
    repeated = _repeated_visit(actor=actor, round=round, household=household, method=method, when=when)
    if repeated is not None:
        return repeated
    earlier_misses = HouseholdVisit.objects.filter(round=round, household=household,
                                                   method=VisitMethod.NOT_REACHED).count()
    visit = HouseholdVisit.objects.create(
        round=round, household=household, community_id=household.community_id, grid_id=household.grid_id,
        method=method, pass_number=earlier_misses + 1, people_present=people_present, anomalies=anomalies,
        note=note, visited_by=actor if actor.pk else None, visited_at=when)
    _add_new_persons(actor=actor, household=household, values=values,
                     followed=bool(FOLLOWED_ANOMALIES.intersection(anomalies)))
    audit.record(actor=actor, action=audit.Action.CREATE, obj=visit, object_repr=f"{round.name} {household}",
                 fields=["method", "people_present", "anomalies", "note", *(["new_persons"] if values else [])])
    return visit
