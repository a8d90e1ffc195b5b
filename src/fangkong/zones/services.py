"""Every write about zones: proposals, activation, changes, unlock dates, lifting, and the care inside.

A positive case calls `zone_note_positive` and `zone_propose`; nothing else reaches in here
but explicit service calls. Every change writes a ZoneEvent and an AuditEvent.
"""

import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit
from fangkong.core.errors import Conflict, DomainError, require_choice
from fangkong.core.followers import follow
from fangkong.core.idnumbers import normalize_text
from fangkong.core.roles import is_staff_member
from fangkong.core.scope import ensure_in_scope
from fangkong.people.models import VULNERABLE_TAGS, Person
from fangkong.places.models import Building, Compound, Household, Unit
from fangkong.zones.models import (
    LEVEL_RANK,
    CareCheck,
    CareTask,
    Level,
    MedicalException,
    PlaceKind,
    Zone,
    ZoneEvent,
    ZonePolicy,
    ZoneRound,
)
from fangkong.zones.permissions import require_care_staff, require_zone_manager, require_zone_staff
from fangkong.zones.places import covering_place, covers, households_in, place_fields, place_of
from fangkong.zones.unlock import (
    DEFAULT_DAYS_WITHOUT_POSITIVE,
    DEFAULT_NEGATIVE_ROUNDS,
    UnlockRule,
    UnlockStatus,
    unlock_status,
)

# ---------------------------------------------------------------------------
# Zones and their unlock dates
# ---------------------------------------------------------------------------

ZONE_PLACES = (Household, Unit, Building, Compound)


def _clean_level(level) -> str:
    if level not in Level.values:
        message = _("区域类型应为:封控区、管控区或防范区")
        raise DomainError(message, fields={"level": message})
    return level


def _clean_place(actor, place) -> None:
    if not isinstance(place, ZONE_PLACES):
        message = _("区域范围应为户、单元、楼栋或小区")
        raise DomainError(message, fields={"place": message})
    ensure_in_scope(actor, place)


def _required(text: str, field: str, message: str) -> str:
    text = normalize_text(text or "")
    if not text:
        raise DomainError(message, fields={field: message})
    return text


def _level_label(level: str) -> str:
    return str(Level(level).label)


def _event(*, actor, zone: Zone, kind: str, note: str = "", unlock_on=None) -> ZoneEvent:
    return ZoneEvent.objects.create(zone=zone, community_id=zone.community_id, kind=kind, note=note[:300],
                                    unlock_on=unlock_on, by=actor if actor is not None and actor.pk else None)


def _locked(zone: Zone) -> Zone:
    return Zone.objects.select_for_update(of=("self",)).select_related("activated_by").get(pk=zone.pk)


# Unlock dates

def zone_rule(street, level: str, on: datetime.date) -> UnlockRule:
    """The street's unlock rule for a level on a day: the policy then in force, else the defaults."""
    street_id = getattr(street, "pk", street)
    policy = ZonePolicy.objects.filter(street_id=street_id, level=level).in_force_on(on).first()
    if policy is None:
        return UnlockRule(DEFAULT_DAYS_WITHOUT_POSITIVE, DEFAULT_NEGATIVE_ROUNDS[level])
    return UnlockRule(policy.days_without_positive, policy.negative_rounds)


def _started_on(zone: Zone) -> datetime.date:
    return timezone.localdate(zone.started_at or zone.created_at or timezone.now())


def zone_unlock_status(zone: Zone) -> UnlockStatus:
    """The zone's unlock status now: its start, its cases' confirmation days and its rounds.

    The policy applies to countdowns that start on or after its effective date (the day of
    the last positive, or the zone's start when it had none).
    """
    positives = [timezone.localdate(at) for at in zone.cases.values_list("confirmed_at", flat=True)]
    rounds = list(zone.rounds.values_list("on", "negative"))
    started_on = _started_on(zone)
    counted_from = unlock_status(started_on=started_on, positives=positives, rounds=rounds,
                                 rule=UnlockRule(0, 0)).last_positive_on
    rule = zone_rule(zone.community.street_id, zone.level, counted_from)
    return unlock_status(started_on=started_on, positives=positives, rounds=rounds, rule=rule)


def _recompute(zone: Zone) -> UnlockStatus:
    """Store the zone's last positive day, negative rounds and unlock date; return the status."""
    status = zone_unlock_status(zone)
    zone.last_positive_on, zone.negative_rounds_done = status.last_positive_on, status.rounds_done
    zone.unlock_on = status.unlock_on
    zone.save(update_fields=["last_positive_on", "negative_rounds_done", "unlock_on", "updated_at"])
    return status


def _link_case(*, actor, zone: Zone, case) -> bool:
    """Link a case to the zone and reset its countdown (POSITIVE event); False when it was linked already."""
    if zone.cases.filter(pk=case.pk).exists():
        return False
    zone.cases.add(case)
    status = _recompute(zone)
    _event(actor=actor, zone=zone, kind=ZoneEvent.Kind.POSITIVE, unlock_on=status.unlock_on,
           note=_("新增阳性 %(person)s") % {"person": case.person})
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=zone, fields=["cases", "unlock_on"])
    return True


# Proposals

def _strictest_live(place, *, exclude=None) -> Zone | None:
    zones = Zone.objects.live().filter(covering_place(place)).select_for_update()
    if exclude is not None:
        zones = zones.exclude(pk=exclude.pk)
    return max(zones, key=lambda zone: zone.rank, default=None)


def _new_zone(*, actor, level: str, place, status: str, reason: str, rules: str = "", guarded: bool = False) -> Zone:
    fields = place_fields(place)
    now = timezone.now() if status == Zone.Status.ACTIVE else None
    return Zone.objects.create(
        community_id=place.community_id, level=level, status=status, reason=reason[:300], rules=rules,
        guarded=guarded, proposed_by=actor, started_at=now, activated_by=actor if now else None, **fields)


@transaction.atomic
def zone_propose(*, actor, level: str, place, case=None, reason: str = "") -> Zone:
    """Propose a zone on a place (a positive case calls this); at most one live zone per place.

    A live zone on the place or around it that is at least as strict takes the case instead;
    a less strict proposal on the place is raised; a less strict active zone gets a proposal
    to raise it (its level changes only when staff change it).
    """
    require_zone_staff(actor)
    level = _clean_level(level)
    _clean_place(actor, place)
    strictest = _strictest_live(place)
    if strictest is not None and strictest.rank >= LEVEL_RANK[level]:
        return _into_existing(actor=actor, zone=strictest, case=case)
    same_place = Zone.objects.live().select_for_update().filter(place_key=place_fields(place)["place_key"]).first()
    if same_place is not None:
        return _raise_existing(actor=actor, zone=same_place, level=level, case=case)
    try:
        with transaction.atomic():
            zone = _new_zone(actor=actor, level=level, place=place, status=Zone.Status.PROPOSED, reason=reason)
    except IntegrityError:
        live = Zone.objects.live().get(place_key=place_fields(place)["place_key"])
        return _into_existing(actor=actor, zone=live, case=case)
    if case is not None:
        zone.cases.add(case)
    status = _recompute(zone)
    _event(actor=actor, zone=zone, kind=ZoneEvent.Kind.PROPOSED, note=reason, unlock_on=status.unlock_on)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=zone, fields=["level", "place", "cases"])
    return zone


def _propose_fresh(*, actor, level: str, households: list, reason: str) -> list[Zone]:
    """Proposals on households no live zone holds: no cases or rounds yet, so one countdown, from today, fits all.

    Three statements whatever the number; an IntegrityError means a concurrent proposal took a place.
    """
    today = timezone.localdate()
    street_id = Household.objects.filter(pk=households[0].pk).values_list("community__street_id", flat=True).get()
    status = unlock_status(started_on=today, positives=[], rounds=[], rule=zone_rule(street_id, level, today))
    zones = []
    for household in households:
        zone = Zone(community_id=household.community_id, level=level, status=Zone.Status.PROPOSED,
                    reason=reason[:300], proposed_by=actor, last_positive_on=status.last_positive_on,
                    negative_rounds_done=status.rounds_done, unlock_on=status.unlock_on, **place_fields(household))
        zone.household, zone.compound = household, household.compound
        zones.append(zone)
    Zone.objects.bulk_create(zones)
    ZoneEvent.objects.bulk_create([ZoneEvent(zone=zone, community_id=zone.community_id, kind=ZoneEvent.Kind.PROPOSED,
                                             note=reason[:300], unlock_on=zone.unlock_on, by=actor) for zone in zones])
    audit.record_many(actor=actor, action=audit.Action.CREATE, object_type="zone",
                      community_id=households[0].community_id,
                      objects=[(zone.pk, str(zone), ["cases", "level", "place"]) for zone in zones])
    return zones


def _around_any(households: list) -> Q:
    """Live zones that may hold any of these households (a few more; `covers` decides)."""
    around = Q(compound_id__in={h.compound_id for h in households})
    for field, ids in (("building", {h.building_id for h in households}), ("unit", {h.unit_id for h in households}),
                       ("household", {h.pk for h in households})):
        around &= Q(**{f"{field}__isnull": True}) | Q(**{f"{field}_id__in": ids})
    return around


def zones_propose_for_households(*, actor, level: str, households: list, reason: str = "") -> tuple[list, list]:
    """`zone_propose` for the households of a positive pooled tube at once: (zones, notes on households refused).

    Households that no live zone holds yet (the usual case) get their proposals in a few bulk
    statements; each of the others goes through `zone_propose`, which decides what a zone already
    there means. A place outside the actor's scope is a note, like any refusal. Pass households
    with their unit, building and compound loaded: the audit trail names each place.
    """
    require_zone_staff(actor)
    level = _clean_level(level)
    seen = set(Household.objects.in_scope(actor).filter(pk__in=[h.pk for h in households]).values_list("pk", flat=True))
    notes = [(household, _("不在您的管辖范围内")) for household in households if household.pk not in seen]
    households = [household for household in households if household.pk in seen]
    if not households:
        return [], notes
    live = list(Zone.objects.live().filter(_around_any(households))
                .only("compound_id", "building_id", "unit_id", "household_id"))
    held = [h for h in households if any(covers(zone, h) for zone in live)]
    fresh = [h for h in households if h not in held]
    zones = []
    try:
        with transaction.atomic():
            zones = _propose_fresh(actor=actor, level=level, households=fresh, reason=reason) if fresh else []
    except IntegrityError:
        held = households
    for household in held:
        try:
            with transaction.atomic():
                zones.append(zone_propose(actor=actor, level=level, place=household, reason=reason))
        except DomainError as err:
            notes.append((household, err.message))
    return zones, notes


def _into_existing(*, actor, zone: Zone, case) -> Zone:
    if case is not None:
        _link_case(actor=actor, zone=zone, case=case)
    return zone


def _raise_existing(*, actor, zone: Zone, level: str, case) -> Zone:
    """A less strict live zone on the same place: a proposal is raised, an active zone gets a proposal event."""
    if zone.status == Zone.Status.PROPOSED:
        zone.level = level
        zone.save(update_fields=["level", "updated_at"])
        note = _("提级为%(level)s") % {"level": _level_label(level)}
        audit.record(actor=actor, action=audit.Action.UPDATE, obj=zone, fields=["level"])
    else:
        note = _("建议升级为%(level)s") % {"level": _level_label(level)}
    _event(actor=actor, zone=zone, kind=ZoneEvent.Kind.PROPOSED, note=note, unlock_on=zone.unlock_on)
    if case is not None:
        _link_case(actor=actor, zone=zone, case=case)
    else:
        _recompute(zone)
    return zone


@transaction.atomic
def zone_note_positive(*, actor, case) -> list[Zone]:
    """A new positive inside: every live zone covering the case's household takes it and restarts its countdown."""
    require_zone_staff(actor)
    if case.household_id is None:
        return []
    zones = list(Zone.objects.live().filter(covering_place(case.household)).select_for_update().order_by("id"))
    for zone in zones:
        _link_case(actor=actor, zone=zone, case=case)
    return zones


# Activation and dismissal

STATUS_CHANGED = "zones.status_changed"


def _status_followed(*, actor, zone: Zone) -> None:
    """The apps above zones follow its new status, in this transaction: volunteers opens the guard post of an
    active zone under 24-hour guard and closes an ended zone's posts (settings.FOLLOWERS, core.followers)."""
    follow(STATUS_CHANGED, actor=actor, zone=zone)


def _activate(*, actor, zone: Zone, note: str) -> None:
    status = _recompute(zone)
    _event(actor=actor, zone=zone, kind=ZoneEvent.Kind.ACTIVATED, note=note, unlock_on=status.unlock_on)
    care_tasks_sync_around(actor=actor, zone=zone)
    _status_followed(actor=actor, zone=zone)


@transaction.atomic
def zone_accept(*, actor, zone: Zone, guarded: bool = False, rules: str = "") -> Zone:
    """Proposed → active. Of two staff accepting at once, the second is told who accepted and when."""
    require_zone_manager(actor)
    ensure_in_scope(actor, zone)
    zone = _locked(zone)
    if zone.status == Zone.Status.ACTIVE:
        when = timezone.localtime(zone.started_at).strftime("%Y-%m-%d %H:%M")
        raise Conflict(_("该区域已由 %(who)s 于 %(when)s 确认生效") % {"who": zone.activated_by or "-", "when": when},
                       code="already_active")
    if zone.status != Zone.Status.PROPOSED:
        raise DomainError(_("只能确认待确认的区域,该区域%(status)s") % {"status": zone.get_status_display()},
                          code="not_proposed")
    zone.status, zone.started_at, zone.activated_by = Zone.Status.ACTIVE, timezone.now(), actor
    zone.guarded, zone.rules = bool(guarded), (rules or "").strip() or zone.rules
    zone.save(update_fields=["status", "started_at", "activated_by", "guarded", "rules", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=zone, fields=["status", "guarded", "rules"])
    _activate(actor=actor, zone=zone, note=_("确认生效"))
    return zone


def _end(*, actor, zone: Zone, status: str, note: str) -> None:
    """End the zone; only an active zone held daily checks, so only its ending moves them to the zones around."""
    was_active = zone.status == Zone.Status.ACTIVE
    zone.status, zone.ended_at, zone.ended_by, zone.end_note = status, timezone.now(), actor, note[:300]
    zone.save(update_fields=["status", "ended_at", "ended_by", "end_note", "lifted_by_override", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=zone, fields=["status", "end_note"])
    if was_active:
        care_tasks_sync_around(actor=actor, zone=zone)
    _status_followed(actor=actor, zone=zone)


@transaction.atomic
def zone_dismiss(*, actor, zone: Zone, reason: str) -> Zone:
    require_zone_manager(actor)
    ensure_in_scope(actor, zone)
    reason = _required(reason, "reason", _("请填写不采纳的原因"))
    zone = _locked(zone)
    if zone.status != Zone.Status.PROPOSED:
        raise DomainError(_("只能处理待确认的区域,该区域%(status)s") % {"status": zone.get_status_display()},
                          code="not_proposed")
    _end(actor=actor, zone=zone, status=Zone.Status.DISMISSED, note=reason)
    _event(actor=actor, zone=zone, kind=ZoneEvent.Kind.DISMISSED, note=reason)
    return zone


# Drawing and changing by hand

def _refuse_or_override(*, actor, zone: Zone | None, level: str, override_reason: str) -> str:
    """A stricter or equal live zone already holds the place: refused, unless overridden with a reason."""
    if zone is None or zone.rank < LEVEL_RANK[level]:
        return ""
    override_reason = normalize_text(override_reason or "")
    if not override_reason:
        message = _("%(zone)s 已是%(status)s的%(level)s,范围内不能再划定同级或更宽松的区域;"
                    "如确需划定,请填写强制操作原因") % {
            "zone": zone.place_label, "status": zone.get_status_display(), "level": zone.get_level_display()}
        raise DomainError(message, code="covered", fields={"place": message})
    return override_reason


def _same_place_free(place, *, exclude=None) -> None:
    zones = Zone.objects.live().filter(place_key=place_fields(place)["place_key"])
    if exclude is not None:
        zones = zones.exclude(pk=exclude.pk)
    existing = zones.first()
    if existing is not None:
        message = _("该范围已有%(status)s的%(level)s,请在该区域页面确认或调整") % {
            "status": existing.get_status_display(), "level": existing.get_level_display()}
        raise DomainError(message, code="exists", fields={"place": message})


def _override_event(*, actor, zone: Zone, override_reason: str) -> None:
    if override_reason:
        _event(actor=actor, zone=zone, kind=ZoneEvent.Kind.OVERRIDE, note=override_reason)
        audit.record(actor=actor, action=audit.Action.UPDATE, obj=zone, fields=["override"])


@transaction.atomic
def zone_draw(*, actor, level: str, place, reason: str, rules: str = "", guarded: bool = False,
              override_reason: str = "") -> Zone:
    """Draw an active zone by hand."""
    require_zone_manager(actor)
    level = _clean_level(level)
    _clean_place(actor, place)
    reason = _required(reason, "reason", _("请填写划定原因"))
    _same_place_free(place)
    override_reason = _refuse_or_override(actor=actor, zone=_strictest_live(place), level=level,
                                          override_reason=override_reason)
    try:
        with transaction.atomic():
            zone = _new_zone(actor=actor, level=level, place=place, status=Zone.Status.ACTIVE, reason=reason,
                             rules=(rules or "").strip(), guarded=bool(guarded))
    except IntegrityError:
        raise Conflict(_("该范围刚刚已划定区域,请刷新后查看"), code="exists") from None
    audit.record(actor=actor, action=audit.Action.CREATE, obj=zone, fields=["level", "place", "rules", "guarded"])
    _override_event(actor=actor, zone=zone, override_reason=override_reason)
    _activate(actor=actor, zone=zone, note=reason)
    return zone


def _ids(place) -> tuple:
    fields = place_fields(place)
    return tuple(fields[name] for name in ("compound_id", "building_id", "unit_id", "household_id"))


def _contains(outer, inner) -> bool:
    """Whether place `outer` is `inner` or around it (the building around a unit, ...)."""
    return all(o is None or o == i for o, i in zip(_ids(outer), _ids(inner), strict=True))


def _direction(zone: Zone, level: str, place) -> str:
    """ESCALATED for a stricter level or a wider place, DE_ESCALATED for a looser level or a narrower place."""
    old_place = place_of(zone)
    if LEVEL_RANK[level] != zone.rank:
        return ZoneEvent.Kind.ESCALATED if LEVEL_RANK[level] > zone.rank else ZoneEvent.Kind.DE_ESCALATED
    if _ids(place) == _ids(old_place):
        raise DomainError(_("区域类型和范围都没有变化"), code="unchanged", fields={"level": _("请选择新的类型或范围")})
    return ZoneEvent.Kind.ESCALATED if _contains(place, old_place) else ZoneEvent.Kind.DE_ESCALATED


def _check_related_place(zone: Zone, place) -> None:
    old_place = place_of(zone)
    if not (_contains(place, old_place) or _contains(old_place, place)):
        message = _("新范围须包含原范围或位于原范围之内")
        raise DomainError(message, code="unrelated_place", fields={"place": message})


@transaction.atomic
def zone_change(*, actor, zone: Zone, reason: str, level: str | None = None, place=None,
                override_reason: str = "") -> Zone:
    """Escalate or de-escalate an active zone: it becomes SUPERSEDED by a new active zone keeping its cases.

    Rounds carry over only when the place stays the same (they tested that place).
    """
    require_zone_manager(actor)
    ensure_in_scope(actor, zone)
    reason = _required(reason, "reason", _("请填写调整原因"))
    zone = _locked(zone)
    if zone.status != Zone.Status.ACTIVE:
        raise DomainError(_("只能调整生效中的区域"), code="not_active")
    level = _clean_level(level or zone.level)
    place = place if place is not None else place_of(zone)
    _clean_place(actor, place)
    _check_related_place(zone, place)
    kind = _direction(zone, level, place)
    _same_place_free(place, exclude=zone)
    override_reason = _refuse_or_override(actor=actor, zone=_strictest_live(place, exclude=zone), level=level,
                                          override_reason=override_reason)
    _end(actor=actor, zone=zone, status=Zone.Status.SUPERSEDED, note=reason)
    new = _successor(actor=actor, zone=zone, level=level, place=place, reason=reason)
    _event(actor=actor, zone=zone, kind=kind, note=_("%(reason)s → %(new)s") % {"reason": reason, "new": new})
    _override_event(actor=actor, zone=new, override_reason=override_reason)
    status = _recompute(new)
    _event(actor=actor, zone=new, kind=kind, unlock_on=status.unlock_on,
           note=_("%(reason)s ← %(old)s") % {"reason": reason, "old": zone})
    care_tasks_sync_around(actor=actor, zone=new)
    _status_followed(actor=actor, zone=new)
    return new


def _successor(*, actor, zone: Zone, level: str, place, reason: str) -> Zone:
    new = _new_zone(actor=actor, level=level, place=place, status=Zone.Status.ACTIVE, reason=reason,
                    rules=zone.rules, guarded=zone.guarded)
    new.supersedes = zone
    new.save(update_fields=["supersedes", "updated_at"])
    new.cases.set(zone.cases.all())
    if new.place_key == zone.place_key:
        ZoneRound.objects.bulk_create([
            ZoneRound(zone=new, community_id=new.community_id, on=r.on, negative=r.negative, note=r.note,
                      recorded_by_id=r.recorded_by_id) for r in zone.rounds.all()])
    audit.record(actor=actor, action=audit.Action.CREATE, obj=new, fields=["level", "place", "supersedes", "cases"])
    return new


# Rounds, lifting, policies

@transaction.atomic
def zone_round_record(*, actor, zone: Zone, on: datetime.date, negative: bool, note: str = "") -> ZoneRound:
    """Record a testing round inside an active zone; a round that was not all negative restarts the countdown."""
    require_zone_staff(actor)
    ensure_in_scope(actor, zone)
    zone = _locked(zone)
    if zone.status != Zone.Status.ACTIVE:
        raise DomainError(_("只能为生效中的区域登记核酸轮次"), code="not_active")
    _check_round_day(zone, on)
    try:
        with transaction.atomic():
            row = ZoneRound.objects.create(zone=zone, community_id=zone.community_id, on=on, negative=bool(negative),
                                           note=normalize_text(note or "")[:200], recorded_by=actor)
    except IntegrityError:
        raise _round_twice(on) from None
    status = _recompute(zone)
    kind = ZoneEvent.Kind.NEGATIVE_ROUND if negative else ZoneEvent.Kind.POSITIVE
    text = _("%(on)s 全员阴性") if negative else _("%(on)s 筛查发现阳性")
    _event(actor=actor, zone=zone, kind=kind, note=text % {"on": on.isoformat()}, unlock_on=status.unlock_on)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=row, object_repr=f"{zone} {on}",
                 fields=["on", "negative"])
    return row


def _round_twice(on: datetime.date) -> DomainError:
    message = _("%(on)s 已登记过一轮核酸") % {"on": on.isoformat()}
    return DomainError(message, code="round_twice", fields={"on": message})


def _check_round_day(zone: Zone, on: datetime.date) -> None:
    if on > timezone.localdate():
        message = _("采样日期不能晚于今天")
        raise DomainError(message, fields={"on": message})
    if on < _started_on(zone):
        message = _("采样日期不能早于区域生效日期")
        raise DomainError(message, fields={"on": message})
    if zone.rounds.filter(on=on).exists():
        raise _round_twice(on)


def _not_met_message(status: UnlockStatus, today: datetime.date) -> str:
    missing = []
    if status.days_left(today):
        missing.append(_("还需 %(n)s 天") % {"n": status.days_left(today)})
    if status.rounds_missing:
        missing.append(_("还需 %(k)s 轮阴性") % {"k": status.rounds_missing})
    return _("尚未达到解封条件:%(missing)s(可解封日期 %(on)s)") % {
        "missing": "、".join(missing), "on": status.unlock_on.isoformat()}


@transaction.atomic
def zone_lift(*, actor, zone: Zone, note: str = "", override_reason: str = "") -> Zone:
    """Lift an active zone that meets its criteria; before that only with an override reason (logged)."""
    require_zone_manager(actor)
    ensure_in_scope(actor, zone)
    zone = _locked(zone)
    if zone.status != Zone.Status.ACTIVE:
        raise DomainError(_("只能解封生效中的区域"), code="not_active")
    status, today = _recompute(zone), timezone.localdate()
    override_reason = normalize_text(override_reason or "")
    if not status.met(today):
        if not override_reason:
            message = _not_met_message(status, today)
            raise DomainError(message, code="criteria_not_met", fields={"override_reason": message})
        zone.lifted_by_override = True
        _override_event(actor=actor, zone=zone, override_reason=override_reason)
    note = normalize_text(note or "")
    _end(actor=actor, zone=zone, status=Zone.Status.LIFTED, note=note)
    _event(actor=actor, zone=zone, kind=ZoneEvent.Kind.LIFTED, note=note, unlock_on=zone.unlock_on)
    return zone


def _check_policy_numbers(days: int, rounds: int) -> None:
    if not 1 <= days <= 60:
        message = _("无新增阳性天数应为 1 至 60")
        raise DomainError(message, fields={"days_without_positive": message})
    if not 0 <= rounds <= 30:
        message = _("核酸阴性轮次应为 0 至 30")
        raise DomainError(message, fields={"negative_rounds": message})


@transaction.atomic
def zone_policy_set(*, actor, street, level: str, days_without_positive: int, negative_rounds: int,
                    effective_from: datetime.date) -> ZonePolicy:
    """Set a level's unlock rule from a date on and recompute the street's live zones of that level."""
    require_zone_manager(actor)
    ensure_in_scope(actor, street)
    level = _clean_level(level)
    _check_policy_numbers(days_without_positive, negative_rounds)
    policy, _created = ZonePolicy.objects.update_or_create(
        street=street, level=level, effective_from=effective_from,
        defaults={"days_without_positive": days_without_positive, "negative_rounds": negative_rounds,
                  "created_by": actor})
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=policy, community_id=None,
                 fields=["days_without_positive", "negative_rounds", "effective_from"])
    zones = (Zone.objects.live().select_for_update(of=("self",)).select_related("community")
             .filter(community__street=street, level=level).order_by("id"))
    for zone in zones:
        before = zone.unlock_on
        status = _recompute(zone)
        if status.unlock_on != before:
            _event(actor=actor, zone=zone, kind=ZoneEvent.Kind.POLICY, unlock_on=status.unlock_on,
                   note=_("解封政策调整:%(days)s 天无新增、%(rounds)s 轮阴性") % {
                       "days": days_without_positive, "rounds": negative_rounds})
    return policy


# ---------------------------------------------------------------------------
# Care inside zones
# ---------------------------------------------------------------------------

def vulnerable_people(zone: Zone):
    """The people inside the zone with a tag that needs a daily look (dialysis, pregnant, ...)."""
    return (Person.objects.filter(household__in=households_in(zone), tags__tag__in=VULNERABLE_TAGS)
            .distinct().select_related("household").prefetch_related("tags"))


_PLACE_DEPTH = {PlaceKind.HOUSEHOLD: 4, PlaceKind.UNIT: 3, PlaceKind.BUILDING: 2, PlaceKind.COMPOUND: 1}


def _care_precedence(zone: Zone) -> tuple:
    """The strictest zone comes first, then the narrowest place, then the oldest."""
    return (-zone.rank, -_PLACE_DEPTH[zone.place_kind], zone.pk)


def _people_cared_for_here(zone: Zone) -> dict:
    """Vulnerable people inside whose strictest active zone is this one: one daily check per person,
    not one per zone."""
    if zone.status != Zone.Status.ACTIVE:
        return {}
    ahead = [other for other in Zone.objects.active().filter(compound_id=zone.compound_id).exclude(pk=zone.pk)
             if _care_precedence(other) < _care_precedence(zone)]
    return {person.pk: person for person in vulnerable_people(zone)
            if not any(covers(other, person.household) for other in ahead)}


@transaction.atomic
def care_tasks_sync(*, actor, zone: Zone) -> int:
    """Give every vulnerable person inside an active zone a standing daily check; return how many were added.

    A person inside a sealed unit of a controlled building is checked under the sealed unit only.
    Tasks of people no longer inside (moved, untagged, now under a stricter zone) stop; a zone
    that ended stops them all.
    """
    inside = _people_cared_for_here(zone)
    existing = {task.person_id: task for task in CareTask.objects.select_for_update().filter(zone=zone)}
    added = []
    for person_id, person in inside.items():
        needs = sorted(tag.tag for tag in person.tags.all() if tag.tag in VULNERABLE_TAGS)
        task = existing.get(person_id)
        if task is None:
            added.append(CareTask(zone=zone, community_id=zone.community_id, person=person,
                                  household_id=person.household_id, needs=needs))
        elif not task.active or task.needs != needs:
            task.active, task.needs = True, needs
            task.save(update_fields=["active", "needs", "updated_at"])
    CareTask.objects.filter(zone=zone, active=True).exclude(person_id__in=inside).update(active=False)
    CareTask.objects.bulk_create(added)
    if added:
        audit.record(actor=actor, action=audit.Action.CREATE, object_type="caretask", community_id=zone.community_id,
                     object_repr=f"{zone} +{len(added)}", fields=["person", "needs"])
    return len(added)


def care_tasks_follow_people(*, actor, households) -> None:
    """Someone moved in or out, or was tagged or untagged: the active zones around those homes resync their checks."""
    zones = {}
    for household in households:
        if household is not None:
            zones.update({zone.pk: zone for zone in Zone.objects.active().filter(covering_place(household))})
    for zone in zones.values():
        care_tasks_sync(actor=actor, zone=zone)


def care_tasks_follow_community(*, actor, community) -> None:
    """A ledger import may add, move or tag anyone: every active zone of the community resyncs its checks."""
    for zone in Zone.objects.active().filter(community=community).order_by("id"):
        care_tasks_sync(actor=actor, zone=zone)


def care_tasks_sync_around(*, actor, zone: Zone) -> None:
    """Resync the zone and every active zone of its compound, since which zone cares for whom depends on all of them."""
    care_tasks_sync(actor=actor, zone=zone)
    for other in Zone.objects.active().filter(compound_id=zone.compound_id).exclude(pk=zone.pk):
        care_tasks_sync(actor=actor, zone=other)


def _task_label(task: CareTask) -> str:
    return f"{task.person.name} · {task.zone}"


def _covers_person(user, person_id: int) -> bool:
    return (user.is_active and is_staff_member(user)
            and Person.objects.in_scope(user).filter(pk=person_id).exists())


def _locked_active(task: CareTask) -> CareTask:
    """The task locked for the write; Conflict once it stopped (zone ended, person no longer inside)."""
    locked = CareTask.objects.select_for_update(of=("self",)).select_related("zone", "person").get(pk=task.pk)
    if not locked.active or locked.zone.status != Zone.Status.ACTIVE:
        raise Conflict(_("该关照任务已停止(区域已解除或人员已不在区域内)"), code="not_active")
    return locked


@transaction.atomic
def care_task_assign(*, actor, task: CareTask, assignee) -> CareTask:
    """Name who looks in on the person each day: a staff member whose scope covers the household (None clears it)."""
    require_care_staff(actor)
    ensure_in_scope(actor, task)
    _locked_active(task)
    if assignee is not None and not _covers_person(assignee, task.person_id):
        message = _("%(user)s 不负责该户,不能指派") % {"user": assignee}
        raise DomainError(message, fields={"assignee": message})
    task.assignee = assignee
    task.save(update_fields=["assignee", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=task, object_repr=_task_label(task), fields=["assignee"])
    return task


def _clean_check(outcome: str, note: str, day) -> tuple[str, str, object]:
    require_choice(outcome, CareCheck.Outcome, field="outcome", label=_("情况"))
    note = normalize_text(note or "")[:300]
    if outcome == CareCheck.Outcome.NEEDS_HELP and not note:
        message = _("需要帮助时请写明需要什么")
        raise DomainError(message, fields={"note": message})
    today = timezone.localdate()
    day = day or today
    if day > today:
        message = _("日期不能晚于今天")
        raise DomainError(message, fields={"day": message})
    return outcome, note, day


@transaction.atomic
def care_check_record(*, actor, task: CareTask, outcome: str, note: str = "", day=None) -> CareCheck:
    """Record the day's check of a care task; a second record the same day replaces the first.

    A phone on a weak network sends the same check twice: that must neither fail nor count twice.
    """
    require_care_staff(actor)
    ensure_in_scope(actor, task)
    outcome, note, day = _clean_check(outcome, note, day)
    locked = _locked_active(task)
    check, created = CareCheck.objects.update_or_create(
        task=locked, day=day,
        defaults={"community_id": locked.community_id, "outcome": outcome, "note": note,
                  "checked_by": actor if actor.pk else None})
    audit.record(actor=actor, action=audit.Action.CREATE if created else audit.Action.UPDATE, obj=check,
                 object_repr=f"{_task_label(locked)} {day:%Y-%m-%d}", fields=["outcome", "note"])
    return check


def _clean_need(need: str) -> str:
    return require_choice(need, MedicalException.Need, field="need", label=_("就医需求"))


def _ensure_inside(zone: Zone, person: Person) -> None:
    if person.household_id is None or not households_in(zone).filter(pk=person.household_id).exists():
        message = _("%(person)s 不住在 %(zone)s 内") % {"person": person.name, "zone": zone.place_label}
        raise DomainError(message, code="not_inside", fields={"person": message})


@transaction.atomic
def medical_exception_allow(*, actor, zone: Zone, person: Person, need: str, note: str = "", destination: str = "",
                            valid_on=None) -> MedicalException:
    """Let a person inside a zone out for a medical need, and log it with who allowed it.

    Never refused because of the zone (its level or status): dialysis, chemotherapy, a birth or an
    emergency outrank every zone rule. Any staff member in scope may record it.
    """
    require_care_staff(actor)
    ensure_in_scope(actor, zone)
    ensure_in_scope(actor, person)
    need = _clean_need(need)
    _ensure_inside(zone, person)
    by = actor if actor.pk else None
    exception = MedicalException.objects.create(
        zone=zone, community_id=zone.community_id, person=person, need=need,
        destination=normalize_text(destination or "")[:100], note=normalize_text(note or "")[:300],
        valid_on=valid_on or timezone.localdate(), allowed_by=by)
    summary = _("%(need)s:%(person)s,%(by)s 批准") % {
        "need": exception.get_need_display(), "person": person.name, "by": audit.actor_label(actor)}
    if exception.destination:
        summary = f"{summary} → {exception.destination}"
    _event(actor=actor, zone=zone, kind=ZoneEvent.Kind.EXCEPTION, note=summary)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=exception, object_repr=f"{zone} {summary}"[:200],
                 fields=["person", "need", "destination", "note", "valid_on"])
    return exception
