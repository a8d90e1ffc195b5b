"""Every write about checkpoints, passes and passages.

A passage is decided by `rules.decide` on the facts `facts.Gathered` reads, whoever registers it: a
guard's scanner online (`passage_register`), a scanner syncing what it registered offline
(`passages_sync`), a resident scanning a gate's poster (`passage_self_register`) or a visitor filling in
the poster's form (`passage_visitor_self_register`). Every passage carries a client-generated id, so a
retry or a replayed batch stores nothing twice. Passages are not audited one by one (their volume), as
samples are not; checkpoints, passes, revocations, printed cards and tracing are.
"""

import dataclasses
import datetime
import re
import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.access import codes, facts, rules
from fangkong.access.models import Checkpoint, Direction, Pass, Passage, Result
from fangkong.access.rules import Decision, decide
from fangkong.accounts.models import Role
from fangkong.accounts.scope import community_in_scope_sql, staff_scope_params
from fangkong.core import audit, rawsql
from fangkong.core.bulk import insert_rows
from fangkong.core.client_ids import clean_client_id
from fangkong.core.clock import CLOCK_SKEW, not_later_than_now, parse_moment
from fangkong.core.errors import Conflict, DomainError, NotAllowed, require_choice
from fangkong.core.idnumbers import compact, normalize_phone, normalize_text, parse_resident_id
from fangkong.core.roles import is_staff_member
from fangkong.core.scope import ensure_in_scope
from fangkong.health import services as health_services
from fangkong.health.models import Contact, ContactKind
from fangkong.people.codes import personal_code_reader
from fangkong.people.models import IdType, Person
from fangkong.people.permissions import may_edit_registry
from fangkong.places.models import Household
from fangkong.places.permissions import may_edit_places
from fangkong.zones import services as zone_services
from fangkong.zones.models import MedicalException, Movement, Zone
from fangkong.zones.queries import movement_of_person

# ---------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------

TEST_HOURS_RANGE = (1, 168)


def may_manage_checkpoints(actor) -> bool:
    """Checkpoints are set up by community staff and the street's task force."""
    return may_edit_places(actor)


def _require_checkpoint_manager(actor) -> None:
    if not may_manage_checkpoints(actor):
        raise NotAllowed(_("只有社区工作人员可以设立和修改卡口"))


def _field_error(field: str, message: str) -> DomainError:
    return DomainError(message, fields={field: message})


def _clean_checkpoint(*, community, name, compound, direction, opens_at, closes_at, post, test_within_hours) -> dict:
    name = normalize_text(name or "")[:100]
    if not name:
        raise _field_error("name", _("请填写卡口名称"))
    require_choice(direction, Checkpoint.Directions, field="direction", label=_("通行方向"))
    if compound is not None and compound.community_id != community.pk:
        raise _field_error("compound_id", _("小区不在该社区内"))
    if post is not None and post.community_id != community.pk:
        raise _field_error("post_id", _("值守岗位不在该社区内"))
    if (opens_at is None) != (closes_at is None):
        raise _field_error("closes_at", _("开放时间和关闭时间须同时填写,或都不填(全天开放)"))
    if opens_at is not None and opens_at == closes_at:
        raise _field_error("closes_at", _("关闭时间不能与开放时间相同"))
    if test_within_hours is not None:
        low, high = TEST_HOURS_RANGE
        if (isinstance(test_within_hours, bool) or not isinstance(test_within_hours, int)
                or not low <= test_within_hours <= high):
            raise _field_error("test_within_hours",
                               _("核酸时限应为 %(low)s–%(high)s 小时") % {"low": low, "high": high})
    return {"name": name, "compound": compound, "direction": direction, "opens_at": opens_at, "closes_at": closes_at,
            "post": post, "test_within_hours": test_within_hours}


def _name_taken(community, name: str, exclude=None) -> None:
    taken = Checkpoint.objects.filter(community=community, name=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise Conflict(_("本社区已有名为“%(name)s”的卡口") % {"name": name}, code="duplicate",
                       fields={"name": _("名称已被使用")})


_CHECKPOINT_FIELDS = ["name", "compound", "direction", "opens_at", "closes_at", "post", "pass_required",
                      "visitors_admitted", "test_within_hours"]


@transaction.atomic
def checkpoint_create(*, actor, community, name: str, compound=None, direction: str = Checkpoint.Directions.BOTH,
                      opens_at=None, closes_at=None, post=None, pass_required: bool = False,
                      visitors_admitted: bool = True, test_within_hours: int | None = None) -> Checkpoint:
    """Set up a gate of a compound (or of the community) with its direction, hours, guard post and rules."""
    _require_checkpoint_manager(actor)
    ensure_in_scope(actor, community)
    cleaned = _clean_checkpoint(community=community, name=name, compound=compound, direction=direction,
                                opens_at=opens_at, closes_at=closes_at, post=post, test_within_hours=test_within_hours)
    _name_taken(community, cleaned["name"])
    checkpoint = Checkpoint.objects.create(community=community, pass_required=bool(pass_required),
                                           visitors_admitted=bool(visitors_admitted),
                                           created_by=actor if actor.pk else None, **cleaned)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=checkpoint, fields=_CHECKPOINT_FIELDS)
    return checkpoint


@transaction.atomic
def checkpoint_update(*, actor, checkpoint: Checkpoint, name: str, compound=None,
                      direction: str = Checkpoint.Directions.BOTH, opens_at=None, closes_at=None, post=None,
                      pass_required: bool = False, visitors_admitted: bool = True,
                      test_within_hours: int | None = None, active: bool = True) -> Checkpoint:
    """Change a gate's rules; scanners pick them up with their next rules snapshot."""
    _require_checkpoint_manager(actor)
    ensure_in_scope(actor, checkpoint)
    locked = Checkpoint.objects.select_for_update().get(pk=checkpoint.pk)
    cleaned = _clean_checkpoint(community=locked.community, name=name, compound=compound, direction=direction,
                                opens_at=opens_at, closes_at=closes_at, post=post, test_within_hours=test_within_hours)
    _name_taken(locked.community, cleaned["name"], exclude=locked)
    values = {**cleaned, "pass_required": bool(pass_required), "visitors_admitted": bool(visitors_admitted),
              "active": bool(active)}
    changed = [field for field, value in values.items() if getattr(locked, field) != value]
    for field, value in values.items():
        setattr(locked, field, value)
    locked.save()
    if changed:
        audit.record(actor=actor, action=audit.Action.UPDATE, obj=locked, fields=changed)
    return locked


def checkpoint_poster_print(*, actor, checkpoint: Checkpoint) -> None:
    """Log that a gate's self-scan poster was printed."""
    if not is_staff_member(actor):
        raise NotAllowed(_("只有工作人员可以打印卡口二维码"))
    ensure_in_scope(actor, checkpoint)
    audit.record(actor=actor, action=audit.Action.EXPORT, obj=checkpoint, object_repr=f"{checkpoint} 二维码海报",
                 fields=["poster"])


# ---------------------------------------------------------------------------
# Passes
# ---------------------------------------------------------------------------

QUOTA_EXITS_RANGE = (1, 50)
QUOTA_DAYS_RANGE = (1, 60)
PASS_LONGEST = datetime.timedelta(days=366)


def may_issue_passes(actor) -> bool:
    """Community staff, grid leaders and members issue and revoke passes for the households in their scope."""
    return may_edit_registry(actor)


def _require_pass_issuer(actor) -> None:
    if not may_issue_passes(actor):
        raise NotAllowed(_("只有社区工作人员和网格员可以发放和注销出入证"))


def _within(value, bounds: tuple[int, int], field: str, label: str) -> int:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _field_error(field, _("%(label)s应为 %(low)s–%(high)s 的整数") % {
            "label": label, "low": low, "high": high})
    return value


def _clean_quota(quota_exits, quota_days) -> tuple[int | None, int | None]:
    if quota_exits in (None, "") and quota_days in (None, ""):
        return None, None
    if quota_exits in (None, "") or quota_days in (None, ""):
        raise _field_error("quota_days", _("外出限额须同时填写次数和天数(如每 3 天 1 次),或都不填"))
    return (_within(quota_exits, QUOTA_EXITS_RANGE, "quota_exits", _("每期可外出次数")),
            _within(quota_days, QUOTA_DAYS_RANGE, "quota_days", _("每期天数")))


def _clean_validity(valid_from, valid_until) -> tuple[datetime.datetime, datetime.datetime]:
    valid_from = parse_moment(valid_from, field="valid_from", label=_("生效时间")) or timezone.now()
    valid_until = parse_moment(valid_until, field="valid_until", label=_("失效时间"))
    if valid_until is None:
        raise _field_error("valid_until", _("请填写失效时间"))
    if valid_until <= valid_from:
        raise _field_error("valid_until", _("失效时间应晚于生效时间"))
    if valid_until - valid_from > PASS_LONGEST:
        raise _field_error("valid_until", _("出入证有效期最长一年"))
    return valid_from, valid_until


def _pass_holder(actor, person, household) -> tuple:
    if person is None and household is None:
        raise _field_error("person_id", _("请选择持证人或户"))
    if person is not None and household is not None and person.household_id != household.pk:
        raise _field_error("person_id", _("持证人不是该户成员"))
    for holder in (person, household):
        if holder is not None:
            ensure_in_scope(actor, holder)
    return person, household or (person.household if person is not None else None)


@transaction.atomic
def pass_issue(*, actor, kind: str, person=None, household=None, valid_from=None, valid_until=None,
               quota_exits: int | None = None, quota_days: int | None = None, note: str = "") -> Pass:
    """Issue a pass (出入证) to one person, or to a household whose members share it and its quota."""
    _require_pass_issuer(actor)
    require_choice(kind, Pass.Kind, field="kind", label=_("出入证类型"))
    person, household = _pass_holder(actor, person, household)
    valid_from, valid_until = _clean_validity(valid_from, valid_until)
    quota_exits, quota_days = _clean_quota(quota_exits, quota_days)
    community_id = person.community_id if person is not None else household.community_id
    issued = Pass.objects.create(community_id=community_id, person=person, household=household, kind=kind,
                                 valid_from=valid_from, valid_until=valid_until, quota_exits=quota_exits,
                                 quota_days=quota_days, note=normalize_text(note or "")[:200],
                                 issued_by=actor if actor.pk else None)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=issued,
                 fields=["kind", "person", "household", "valid_from", "valid_until", "quota_exits", "quota_days"])
    return issued


@transaction.atomic
def pass_revoke(*, actor, pass_: Pass, reason: str) -> Pass:
    """Revoke a pass with a reason: from now on it is refused at every gate, online and in the next snapshots."""
    _require_pass_issuer(actor)
    ensure_in_scope(actor, pass_)
    reason = normalize_text(reason or "")[:200]
    if not reason:
        raise _field_error("reason", _("请填写注销原因"))
    locked = Pass.objects.select_for_update().get(pk=pass_.pk)
    if locked.revoked_at is not None:
        raise Conflict(_("该出入证已于 %(when)s 注销") % {"when": _moment(locked.revoked_at)}, code="revoked")
    locked.revoked_at, locked.revoked_by, locked.revoke_reason = timezone.now(), actor if actor.pk else None, reason
    locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=locked, fields=["revoked_at", "revoke_reason"])
    return locked


def pass_cards_print(*, actor, passes: list[Pass]) -> None:
    """Log the printing of pass cards: a card lets whoever holds it pass as its holder."""
    if not is_staff_member(actor):
        raise NotAllowed(_("只有工作人员可以打印出入证"))
    for printed in passes:
        ensure_in_scope(actor, printed)
        audit.record(actor=actor, action=audit.Action.EXPORT, obj=printed, object_repr=f"{printed} 卡片",
                     fields=["pass_code"])


# ---------------------------------------------------------------------------
# Passages: one scan
# ---------------------------------------------------------------------------

BATCH_LIMIT = 10_000
TEMPERATURE_RANGE = (Decimal("34.0"), Decimal("43.0"))
_PLATE = re.compile(r"^[\u4e00-\u9fff][A-Z][A-Z0-9]{4,6}[\u4e00-\u9fff]?$")


def _moment(value: datetime.datetime) -> str:
    return timezone.localtime(value).strftime("%m-%d %H:%M")


def may_guard(actor) -> bool:
    """Any staff member may stand at a gate in their scope (volunteers, police, grid members, medics, staff)."""
    return is_staff_member(actor)


def _require_guard(actor) -> None:
    if not may_guard(actor):
        raise NotAllowed(_("只有工作人员可以在卡口登记通行"))


_DIRECTIONS = frozenset(Direction.values)
_RESULTS = frozenset(Result.values)
_TIME_LABEL = gettext_lazy("通行时间")


def _clean_direction(direction) -> str:
    if direction in _DIRECTIONS:
        return direction
    return require_choice(direction, Direction, field="direction", label=_("方向"))


def _clean_temperature(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        temperature = Decimal(str(value).strip()).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise _field_error("temperature", _("体温应为数字,如 36.5")) from None
    low, high = TEMPERATURE_RANGE
    if not low <= temperature <= high:
        raise _field_error("temperature", _("体温应在 %(low)s–%(high)s ℃ 之间") % {"low": low, "high": high})
    return temperature


def _clean_plate(value) -> str:
    plate = compact(value or "").upper().replace("·", "").replace("-", "")
    if plate and not _PLATE.match(plate):
        raise _field_error("plate", _("车牌号格式不正确,如 蒙A12345"))
    return plate


def _clean_visitor_id_number(value) -> str:
    """A visitor's document number; an 18-character one must be a valid resident ID (tracing registers them by it)."""
    number = compact(value or "").upper()
    if len(number) == 18:
        try:
            return parse_resident_id(number).number
        except ValidationError as err:
            raise _field_error("visitor_id_number", " ".join(err.messages)) from None
    if len(number) > 30:
        raise _field_error("visitor_id_number", _("证件号码过长"))
    return number


def _clean_visitor(visitor: dict | None) -> facts.Visitor | None:
    if not visitor:
        return None
    name = normalize_text(visitor.get("name") or "")[:50]
    if not name:
        raise _field_error("visitor_name", _("请填写访客姓名"))
    try:
        phone = normalize_phone(visitor.get("phone") or "")
    except ValidationError:
        raise _field_error("visitor_phone", _("请填写访客的 11 位手机号")) from None
    id_number = _clean_visitor_id_number(visitor.get("id_number"))
    reason = normalize_text(visitor.get("reason") or "")[:100]
    return facts.Visitor(name=name, phone=phone, id_number=id_number, reason=reason)


@dataclass
class Registered:
    """A passage with the decision behind it; `replayed` when its client_id was stored already."""

    passage: Passage
    decision: Decision
    person_name: str = ""
    replayed: bool = False

    @property
    def message(self) -> str:
        return self.decision.message(self.passage.direction)


def _stored(actor, client_id: uuid.UUID) -> Registered | None:
    """The passage stored under this client_id, for the same caller's retry; 404 if it is outside their scope."""
    stored = Passage.objects.filter(client_id=client_id).select_related("person").first()
    if stored is None:
        return None
    if actor is not None and actor.is_authenticated:
        ensure_in_scope(actor, stored)
    decision = Decision(stored.result, stored.reason, pass_id=stored.used_pass_id)
    return Registered(passage=stored, decision=decision, person_name=stored.person.name if stored.person else "",
                      replayed=True)


def _passage_values(scan: facts.Scan, decision: Decision, *, actor, client_id, received_at, offline=False,
                    self_scan=False, plate="", result=None, conflict_note="") -> dict:
    """The new passage's columns by attribute name."""
    visitor = scan.visitor or _NO_VISITOR
    return {
        "community_id": scan.checkpoint.community_id, "checkpoint_id": scan.checkpoint.pk,
        "person_id": scan.person_id, "household_id": scan.household_id, "used_pass_id": decision.pass_id,
        "visitor_name": visitor.name, "visitor_phone": visitor.phone, "visitor_id_number": visitor.id_number,
        "visitor_reason": visitor.reason, "plate": plate, "direction": scan.direction, "occurred_at": scan.at,
        "temperature": scan.temperature, "result": result or decision.result, "reason": decision.reason,
        "guard_id": actor.pk if actor is not None and actor.is_authenticated else None, "self_scan": self_scan,
        "offline": offline, "conflict": bool(conflict_note), "conflict_note": conflict_note[:200],
        "client_id": client_id, "created_at": received_at}


_NO_VISITOR = facts.Visitor(name="")


def _decide_and_store(actor, scan: facts.Scan, client_id: uuid.UUID, *, plate: str, self_scan: bool) -> Registered:
    """Decide one resolved scan and store it. When an exit may count against a pass, the pass rows are locked
    first, in a transaction, so of two gates spending a household's last exit at once one waits and then sees
    the other's exit; any other scan is one insert, its own transaction."""
    with transaction.atomic() if scan.needs_pass else nullcontext():
        gathered = facts.Gathered([scan], lock=scan.needs_pass)
        decision = decide(gathered.facts(scan))
        passage = Passage(**_passage_values(scan, decision, actor=actor, client_id=client_id,
                                            received_at=timezone.now(), plate=plate, self_scan=self_scan))
        try:
            with transaction.atomic():
                passage.save(force_insert=True)
        except IntegrityError:
            twin = _stored(actor, client_id)
            if twin is None:
                raise
            return twin
    return Registered(passage=passage, decision=decision, person_name=scan.person_name)


def _allow_medical_need(actor, scan: facts.Scan, need: str, note: str) -> None:
    """A guard records a medical need going out of a zone on the spot (zones logs it with who allowed it),
    so the exit that follows is allowed: a medical need is never refused."""
    if not need or scan.person_id is None or scan.direction != Direction.OUT:
        return
    require_choice(need, MedicalException.Need, field="medical_need", label=_("就医需求"))
    person = Person.objects.get(pk=scan.person_id)
    status = movement_of_person(person)
    if status.zone is None or status.exception is not None:
        return
    zone_services.medical_exception_allow(actor=actor, zone=status.zone, person=person, need=need, note=note)


def _scan(checkpoint, direction, at, temperature, code, visitor, read_personal) -> facts.Scan:
    if visitor is not None:
        return facts.Scan(checkpoint=checkpoint, direction=direction, at=at, temperature=temperature, visitor=visitor)
    scanned = codes.read_scanned(codes.require_scanned_text(code), read_personal)
    return facts.Scan(checkpoint=checkpoint, direction=direction, at=at, temperature=temperature, scanned=scanned)


def passage_register(*, actor, checkpoint: Checkpoint, client_id, direction: str, code: str = "",
                     visitor: dict | None = None, plate: str = "", temperature=None, occurred_at=None,
                     medical_need: str = "", medical_note: str = "") -> Registered:
    """A guard's scan at a gate, online: decided, stored and answered at once.

    `checkpoint` comes from a scoped lookup. The code is a personal code, a pass card's code or a typed ID
    number; a visitor without one gives `visitor` (name, phone, id_number, reason) instead. A bad code is
    not an error: the passage is stored as refused with its reason. The same client_id again returns the
    stored passage and stores nothing. `medical_need` (a MedicalException need) lets someone of a sealed or
    controlled zone out for care, logged through the zones' medical exception.
    """
    _require_guard(actor)
    client_id = clean_client_id(client_id)
    stored = _stored(actor, client_id)
    if stored is not None:
        return stored
    direction = _clean_direction(direction)
    at = not_later_than_now(parse_moment(occurred_at, field="occurred_at", label=_TIME_LABEL),
                            field="occurred_at", label=_TIME_LABEL)
    scan = _scan(checkpoint, direction, at, _clean_temperature(temperature), code, _clean_visitor(visitor),
                 personal_code_reader())
    plate = _clean_plate(plate)
    facts.resolve([scan])
    if medical_need:
        _allow_medical_need(actor, scan, medical_need, normalize_text(medical_note or "")[:300])
    return _decide_and_store(actor, scan, client_id, plate=plate, self_scan=False)


@cache
def _scan_at_once_sql(by: str) -> str:
    """Store an everyday scan, decided already in Python on assumed facts, only while those facts hold: the
    gate's row at the version decided on and in the actor's scope (its whole community), the person the code
    names (by "id" or by ID number) of that community, and, for an exit, no sealed or controlled zone around
    their home. One statement, so one round trip and its own transaction.

    It answers the stored passage's id (NULL when a fact did not hold or the client_id is stored already), the
    person's household and name, whether the gate was still at that version, and for an exit held by a zone the
    zone's level, whether a medical exception is logged for the day and a medical pass valid then (its id and
    validity), so that the caller decides that exit without asking again; no row when the code names nobody of a
    community in scope.
    """
    c = {n: rawsql.column(Checkpoint, n) for n in ("id", "community", "updated_at")}
    p = {n: rawsql.column(Person, n) for n in ("id", "community", "household", "name", "id_type", "id_number")}
    h = {n: rawsql.column(Household, n) for n in ("id", "compound", "building", "unit")}
    z = {n: rawsql.column(Zone, n) for n in ("compound", "building", "unit", "household", "level", "status")}
    m = {n: rawsql.column(MedicalException, n) for n in ("person", "valid_on")}
    s = {n: rawsql.column(Pass, n) for n in ("id", "person", "kind", "revoked_at", "valid_from", "valid_until")}
    named = (f"p.{p['id']} = %(person)s" if by == "id"
             else f"p.{p['id_type']} = %(id_type)s AND p.{p['id_number']} = %(person)s")
    held_by = (f"(SELECT z.{z['level']} FROM {rawsql.table(Zone)} z"
               f" JOIN {rawsql.table(Household)} h ON h.{h['id']} = p.{p['household']}"
               f" WHERE %(going_out)s AND z.{z['status']} = %(active)s AND z.{z['level']} = ANY(%(strict)s)"
               f" AND z.{z['compound']} = h.{h['compound']}"
               + "".join(f" AND (z.{z[level]} IS NULL OR z.{z[level]} = h.{h[own]})"
                         for level, own in (("building", "building"), ("unit", "unit"), ("household", "id")))
               + f" ORDER BY z.{z['level']} = %(sealed)s DESC LIMIT 1)")
    exception = (f"EXISTS (SELECT 1 FROM {rawsql.table(MedicalException)} m WHERE m.{m['person']} = facts.person_id"
                 f" AND m.{m['valid_on']} = %(day)s)")
    medical_pass = (f"(SELECT s.{s['id']} AS id, s.{s['valid_from']} AS valid_from, s.{s['valid_until']} AS valid_until"
                    f" FROM {rawsql.table(Pass)} s WHERE s.{s['person']} = facts.person_id"
                    f" AND s.{s['kind']} = %(medical)s"
                    f" AND s.{s['revoked_at']} IS NULL AND s.{s['valid_from']} <= %(occurred_at)s"
                    f" AND s.{s['valid_until']} > %(occurred_at)s ORDER BY s.{s['id']} LIMIT 1)")
    by_attname = {field.attname: field.column for field in Passage._meta.concrete_fields}
    columns = ", ".join(connection.ops.quote_name(by_attname[name]) for name in _PASSAGE_COLUMNS)
    from_facts = {"person_id": "facts.person_id", "household_id": "facts.household_id"}
    values = ", ".join(from_facts.get(name, f"%({name})s") for name in _PASSAGE_COLUMNS)
    passage_id = rawsql.column(Passage, "id")
    return (f"WITH facts AS (SELECT p.{p['id']} AS person_id, p.{p['household']} AS household_id,"
            f" p.{p['name']} AS name, c.{c['updated_at']} = %(gate_version)s AS current, {held_by} AS held_by"
            f" FROM {rawsql.table(Checkpoint)} c JOIN {rawsql.table(Person)} p ON {named}"
            f" AND p.{p['community']} = c.{c['community']}"
            f" WHERE c.{c['id']} = %(checkpoint_id)s AND {community_in_scope_sql('c.' + c['community'])}),"
            f" stored AS (INSERT INTO {rawsql.table(Passage)} ({columns}) SELECT {values} FROM facts"
            f" WHERE facts.current AND facts.held_by IS NULL"
            f" ON CONFLICT ({rawsql.column(Passage, 'client_id')}) DO NOTHING RETURNING {passage_id})"
            f" SELECT (SELECT {passage_id} FROM stored), facts.person_id, facts.household_id, facts.name,"
            f" facts.current, facts.held_by, CASE WHEN facts.held_by IS NOT NULL THEN {exception} END,"
            f" medical.id, medical.valid_from, medical.valid_until"
            f" FROM facts LEFT JOIN LATERAL {medical_pass} medical ON facts.held_by IS NOT NULL")


@cache
def _insert_one_sql() -> str:
    by_attname = {field.attname: field.column for field in Passage._meta.concrete_fields}
    columns = ", ".join(connection.ops.quote_name(by_attname[name]) for name in _PASSAGE_COLUMNS)
    values = ", ".join(f"%({name})s" for name in _PASSAGE_COLUMNS)
    return (f"INSERT INTO {rawsql.table(Passage)} ({columns}) VALUES ({values})"
            f" ON CONFLICT ({rawsql.column(Passage, 'client_id')}) DO NOTHING RETURNING {rawsql.column(Passage, 'id')}")


def _cleaned_at_once(client_id, direction, occurred_at, temperature, plate, code) -> tuple | None:
    try:
        at = not_later_than_now(parse_moment(occurred_at, field="occurred_at", label=_TIME_LABEL),
                                field="occurred_at", label=_TIME_LABEL)
        return (clean_client_id(client_id), _clean_direction(direction), at, _clean_temperature(temperature),
                _clean_plate(plate), codes.require_scanned_text(code))
    except DomainError:
        return None


_STRICT = [Movement.SEALED.value, Movement.CONTROLLED.value]


def _held_exit(everyday: rules.ScanFacts, row: tuple) -> Decision:
    """The decision on an exit a zone holds, from the zone's level and the medical facts the statement read."""
    _pk, _person, _household, _name, _current, level, exception, pass_id, valid_from, valid_until = row
    passes = (rules.PassFacts(pk=pass_id, kind=Pass.Kind.MEDICAL, valid_from=valid_from, valid_until=valid_until),
              ) if pass_id else ()
    return decide(dataclasses.replace(everyday, movement=level, medical_exception=bool(exception), passes=passes))


def passage_register_at_once(*, actor, checkpoint_id: int, client_id, direction: str, code: str = "",
                             plate: str = "", temperature=None, occurred_at=None) -> Registered | None:
    """The everyday scan at a gate, a resident's personal code or typed ID number, in one statement on PostgreSQL.

    A gate scans a code every few seconds in a rush, and the ORM's lookups cost more than the work. The gate's
    rules are remembered per process (`facts.remembered_gate`); `rules.decide` decides on them and on the facts
    an everyday scan assumes (the person is of the gate's community and, going out, lives in no sealed or
    controlled zone); `_scan_at_once_sql` checks those facts and stores the passage in the same round trip. An
    exit a zone holds is decided again on the facts that statement read (a medical exception, a medical pass)
    and stored by a second statement.

    This returns None, having stored nothing, whenever the scan is not everyday (a pass card, a bad or foreign
    code, an exit a pass or a test decides), the gate changed, the actor's scope does not hold the gate's whole
    community, the input is bad, the client_id is stored already, or the database is SQLite: the caller then
    takes `passage_register`, which decides by the same rules and explains.
    """
    cleaned = _cleaned_at_once(client_id, direction, occurred_at, temperature, plate, code)
    if connection.vendor != "postgresql" or cleaned is None or not may_guard(actor):
        return None
    client_id, direction, at, temperature, plate, text = cleaned
    scanned = codes.read_scanned(text, personal_code_reader())
    gate = facts.remembered_gate(checkpoint_id)
    if scanned.kind not in ("person", "id_number") or scanned.problem or gate is None:
        return None
    gate_rules, community_id, version = gate
    going_out = direction == Direction.OUT
    if scanned.community_id not in (None, community_id) or (going_out and (gate_rules.pass_required
                                                                           or gate_rules.test_within_hours)):
        return None
    everyday = rules.ScanFacts(gate=gate_rules, direction=direction, at=at, temperature=temperature)
    decision = decide(everyday)
    scan = facts.Scan(checkpoint=facts.GateRef(pk=checkpoint_id, community_id=community_id), direction=direction,
                      at=at, temperature=temperature, scanned=scanned)
    values = _passage_values(scan, decision, actor=actor, client_id=client_id, received_at=timezone.now(), plate=plate)
    by, person = ("id_number", scanned.id_number) if scanned.kind == "id_number" else ("id", scanned.person_id)
    params = {**values, "person": person, "id_type": IdType.RESIDENT_ID, "gate_version": version,
              "going_out": going_out, "active": Zone.Status.ACTIVE, "strict": _STRICT, "sealed": Movement.SEALED,
              "day": timezone.localdate(at), "medical": Pass.Kind.MEDICAL, **staff_scope_params(actor)}
    row = rawsql.fetch_one_alone(_scan_at_once_sql(by), params)
    if row is None or not row[4]:
        if row is not None:
            facts.forget_gate(checkpoint_id)
        return None
    values.update(person_id=row[1], household_id=row[2])
    if row[5] is not None:
        decision = _held_exit(everyday, row)
        values.update(result=decision.result, reason=decision.reason, used_pass_id=decision.pass_id)
        stored = rawsql.fetch_one_alone(_insert_one_sql(), values)
        row = (stored[0] if stored else None, *row[1:])
    if row[0] is None:
        return None
    return Registered(passage=Passage(pk=row[0], **values), decision=decision, person_name=row[3])


# ---------------------------------------------------------------------------
# Passages: self-scan at a poster
# ---------------------------------------------------------------------------


def passage_self_register(*, actor, checkpoint: Checkpoint, person, client_id, direction: str,
                          temperature=None, plate: str = "") -> Registered:
    """A resident scanning a gate's poster registers themself or a member of their household."""
    if actor.role != Role.RESIDENT or person.household_id is None or actor.person is None \
            or actor.person.household_id != person.household_id:
        raise NotAllowed(_("只能为本户成员登记"))
    client_id = clean_client_id(client_id)
    stored = _stored(actor, client_id)
    if stored is not None:
        return stored
    direction = _clean_direction(direction)
    scanned = codes.Scanned(kind="person", person_id=person.pk, community_id=person.community_id)
    scan = facts.Scan(checkpoint=checkpoint, direction=direction, at=timezone.now(),
                      temperature=_clean_temperature(temperature), scanned=scanned)
    facts.resolve([scan])
    return _decide_and_store(actor, scan, client_id, plate=_clean_plate(plate), self_scan=True)


def passage_visitor_self_register(*, actor, checkpoint: Checkpoint, visitor: dict, client_id, direction: str,
                                  temperature=None, plate: str = "") -> Registered:
    """A visitor without a code fills in the form behind a gate's poster (no sign-in; the view limits the rate)."""
    client_id = clean_client_id(client_id)
    stored = _stored(None, client_id)
    if stored is not None:
        return stored
    direction = _clean_direction(direction)
    scan = facts.Scan(checkpoint=checkpoint, direction=direction, at=timezone.now(),
                      temperature=_clean_temperature(temperature), visitor=_clean_visitor(visitor))
    return _decide_and_store(actor, scan, client_id, plate=_clean_plate(plate), self_scan=True)


# ---------------------------------------------------------------------------
# Passages: a scanner's batch after an outage
# ---------------------------------------------------------------------------


@dataclass
class _Row:
    """One row of a scanner's batch on its way through `passages_sync`."""

    raw: dict
    client_id: uuid.UUID | None = None
    scan: facts.Scan | None = None
    plate: str = ""
    offline_result: str = ""
    clock_note: str = ""
    status: str = ""
    message: str = ""
    decision: Decision | None = None
    stored_result: str = ""
    conflict_note: str = ""

    @property
    def pending(self) -> bool:
        return not self.status

    def answer(self) -> dict:
        client_id = str(self.client_id) if self.client_id else str(self.raw.get("client_id") or "")
        answer = {"client_id": client_id, "status": self.status, "message": self.message, "result": "",
                  "reason": "", "conflict_note": self.conflict_note}
        if self.decision is not None:
            answer.update(result=self.stored_result, reason=self.decision.reason)
        return answer


def _row_time(row: _Row, now: datetime.datetime) -> datetime.datetime:
    """The passage's time as the device sent it; one further ahead than CLOCK_SKEW is a wrong clock, so the
    passage keeps the time it was received and says so (the passage itself happened and is kept)."""
    at = parse_moment(row.raw.get("occurred_at"), field="occurred_at", label=_TIME_LABEL) or now
    if at > now + CLOCK_SKEW:
        row.clock_note = _("设备时间 %(device)s 晚于服务器时间,已按接收时间记录") % {
            "device": timezone.localtime(at).strftime("%Y-%m-%d %H:%M")}
        return now
    return at


def _parse_row(raw: dict, checkpoints: dict, read_personal, now: datetime.datetime) -> _Row:
    row = _Row(raw=raw)
    try:
        row.client_id = clean_client_id(raw.get("client_id"))
        checkpoint = checkpoints.get(raw.get("checkpoint_id"))
        if checkpoint is None:
            raise _field_error("checkpoint_id", _("checkpoint_id 不存在或不在您的管辖范围内"))
        direction = _clean_direction(raw.get("direction"))
        at = _row_time(row, now)
        row.scan = _scan(checkpoint, direction, at, _clean_temperature(raw.get("temperature")), raw.get("code") or "",
                         _clean_visitor(raw.get("visitor")), read_personal)
        row.plate = _clean_plate(raw.get("plate"))
        offline_result = raw.get("offline_result") or ""
        row.offline_result = offline_result if offline_result in _RESULTS else ""
    except DomainError as err:
        row.status, row.message = "invalid", err.message
    return row


def _checkpoints_named(actor, rows: list[dict]) -> dict:
    named = {raw.get("checkpoint_id") for raw in rows}
    ids = [pk for pk in named if isinstance(pk, int) and not isinstance(pk, bool) and 0 < pk < 2**63]
    return Checkpoint.objects.in_scope(actor).in_bulk(ids)


def _mark_replays(rows: list[_Row]) -> None:
    """Rows whose client_id is stored already, or came earlier in the batch: answered with what is stored (its
    conflict too, so a scanner that never heard the first answer still shows it), and stored nothing."""
    sent = [row.client_id for row in rows if row.pending]
    stored = {client_id: (result, reason, note) for client_id, result, reason, note in
              Passage.objects.filter(client_id__one_of=sent).order_by()
              .values_list("client_id", "result", "reason", "conflict_note")}
    seen = set()
    for row in rows:
        if not row.pending:
            continue
        if row.client_id in stored:
            row.status, row.message = "duplicate", _("已登记过")
            row.stored_result, reason, row.conflict_note = stored[row.client_id]
            row.decision = Decision(row.stored_result, reason)
        elif row.client_id in seen:
            row.status, row.message = "duplicate", _("已登记过")
        else:
            seen.add(row.client_id)


def _server_view(decision: Decision, direction: str) -> str:
    return _("服务器判定:%(decision)s") % {"decision": decision.message(direction)}


def _settle(row: _Row, decision: Decision, gathered: facts.Gathered) -> None:
    """What is stored: for a passage decided offline, what the guard did (the person did go out or was
    turned back); where the server would have decided otherwise, a conflict saying what it would have said."""
    row.decision = decision
    row.stored_result = row.offline_result or decision.result
    notes = [row.clock_note] if row.clock_note else []
    if row.offline_result and row.offline_result != decision.result:
        notes.append(_server_view(decision, row.scan.direction))
    row.conflict_note = ";".join(notes)
    if row.stored_result == Result.ALLOWED and decision.pass_id and decision.quota_total is not None:
        gathered.count_exit(decision.pass_id, row.scan.at)


def _values(actor, row: _Row, received_at) -> tuple:
    values = _passage_values(row.scan, row.decision, actor=actor, client_id=row.client_id, received_at=received_at,
                             offline=bool(row.raw.get("offline")), plate=row.plate, result=row.stored_result,
                             conflict_note=row.conflict_note)
    return tuple(values[name] for name in _PASSAGE_COLUMNS)


_PASSAGE_COLUMNS = ("community_id", "checkpoint_id", "person_id", "household_id", "used_pass_id", "visitor_name",
                    "visitor_phone", "visitor_id_number", "visitor_reason", "plate", "direction", "occurred_at",
                    "temperature", "result", "reason", "guard_id", "self_scan", "offline", "conflict", "conflict_note",
                    "client_id", "created_at")


def _insert_one_by_one(rows: list[_Row], values: list[tuple]) -> None:
    """After a concurrent writer took a client_id: each row in its own savepoint."""
    for row, one in zip(rows, values, strict=True):
        try:
            with transaction.atomic():
                insert_rows(Passage, _PASSAGE_COLUMNS, [one])
        except IntegrityError:
            row.status, row.message = "duplicate", _("已登记过")


def _store(actor, rows: list[_Row]) -> None:
    pending, now, messages = [row for row in rows if row.pending], timezone.now(), {}
    values = [_values(actor, row, now) for row in pending]
    try:
        with transaction.atomic():
            insert_rows(Passage, _PASSAGE_COLUMNS, values)
    except IntegrityError:
        _insert_one_by_one(pending, values)
    for row in pending:
        if row.pending:
            row.status = "conflict" if row.conflict_note else "stored"
            row.message = _message(messages, row.decision, row.scan.direction)


def _message(known: dict, decision: Decision, direction: str) -> str:
    """The decision's words, made once per batch for each decision without a quota (most rows share a few)."""
    if decision.quota_total is not None:
        return decision.message(direction)
    key = (decision.result, decision.reason, direction)
    if key not in known:
        known[key] = decision.message(direction)
    return known[key]


def passages_sync(*, actor, rows: list[dict]) -> list[dict]:
    """A scanner catching up after an outage: each row answered on its own, in the order sent.

    Rows carry client_id, checkpoint_id, direction, code or visitor, plate, temperature, occurred_at,
    offline and offline_result (what the scanner decided without the network). Answers: "stored";
    "duplicate" (stored already: a replay stores nothing); "conflict" (stored, but the server would have
    decided otherwise, or the device's clock was wrong: `conflict_note` says what, and the passage is marked
    for the supervisor); "invalid" (nothing stored, `message` names the field). The rows are decided in the
    order of their time, with their passes locked, so a quota is counted as the exits happened.
    """
    _require_guard(actor)
    if len(rows) > BATCH_LIMIT:
        raise DomainError(_("每批最多 %(n)s 条") % {"n": BATCH_LIMIT}, code="batch_too_large")
    now, read_personal = timezone.now(), personal_code_reader()
    checkpoints = _checkpoints_named(actor, rows)
    batch = [_parse_row(raw, checkpoints, read_personal, now) for raw in rows]
    _mark_replays(batch)
    pending = [row for row in batch if row.pending]
    facts.resolve([row.scan for row in pending])
    with transaction.atomic():
        gathered = facts.Gathered([row.scan for row in pending], lock=any(row.scan.needs_pass for row in pending))
        for row in sorted(pending, key=lambda row: row.scan.at):
            _settle(row, decide(gathered.facts(row.scan)), gathered)
        _store(actor, batch)
    return [row.answer() for row in batch]


# ---------------------------------------------------------------------------
# Tracing
# ---------------------------------------------------------------------------

TRACER_ROLES = frozenset({Role.STREET_ADMIN, Role.COMMUNITY_STAFF, Role.GRID_LEADER, Role.MEDIC, Role.POLICE})


def may_trace(actor) -> bool:
    """Tracing reads who passed near whom: community staff, the street, grid leaders, medics and police."""
    return actor.is_authenticated and (actor.is_superuser or actor.role in TRACER_ROLES)


def _require_tracer(actor) -> None:
    if not may_trace(actor):
        raise NotAllowed(_("只有社区工作人员、网格长、医护人员和民警可以查询通行轨迹"))


def tracing_record(*, actor, person, start: datetime.datetime, end: datetime.datetime) -> None:
    """Log that someone looked up a person's passages and who passed near them."""
    _require_tracer(actor)
    ensure_in_scope(actor, person)
    window = f"{timezone.localtime(start):%m-%d %H:%M}–{timezone.localtime(end):%m-%d %H:%M}"
    audit.record(actor=actor, action=audit.Action.REVEAL, obj=person, object_repr=f"{person.name} 通行轨迹 {window}",
                 fields=["passages"])


def _note_of(found) -> str:
    return _("卡口同时段通行:%(gates)s,最近相隔 %(m)s 分钟") % {
        "gates": "、".join(sorted(found.checkpoints)), "m": round(found.nearest_minutes)}


@transaction.atomic
def trace_contacts_add(*, actor, case, found: list) -> tuple[list, list]:
    """Add people found by tracing as close contacts of a case (health's contact service decides their observation),
    each with their last time at the gate as the last exposure; a visitor is registered by ID number, and
    one without an ID number is left out and named. All of them, or none with the error."""
    _require_tracer(actor)
    added, left_out = [], []
    for contact in found:
        person_data = None
        if contact.person is None:
            if not contact.visitor_id_number:
                left_out.append(contact.name)
                continue
            person_data = {"name": contact.visitor_name, "id_number": contact.visitor_id_number,
                           "phone": contact.visitor_phone, "residency": "visitor"}
        added.append(health_services.contact_add(
            actor=actor, case=case, kind=ContactKind.CLOSE, source=Contact.Source.CO_LOCATION,
            last_exposure_at=contact.last_at,
            person=contact.person, person_data=person_data, note=_note_of(contact)))
    return added, left_out
