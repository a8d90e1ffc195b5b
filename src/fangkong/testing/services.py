"""Every write about mass testing: rounds, sites, tubes and samples, lab results, and what a positive tube sets off."""

import datetime
import re
import uuid
from dataclasses import dataclass, field
from functools import cache

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from fangkong.accounts.models import Role
from fangkong.accounts.scope import staff_scope_params
from fangkong.core import audit, rawsql
from fangkong.core.bulk import insert_rows, update_rows
from fangkong.core.converters import is_id
from fangkong.core.errors import Conflict, DomainError, NotAllowed, require_choice
from fangkong.core.idnumbers import compact, normalize_text
from fangkong.core.roles import is_staff_member
from fangkong.core.scope import ensure_in_scope, scope_of
from fangkong.health import services as health_services
from fangkong.health.models import Case, CaseEvent
from fangkong.people import ledger
from fangkong.people.codes import is_personal_code, personal_code_reader, read_personal_code
from fangkong.people.models import IdType, Person, Tag
from fangkong.places.models import Building, Community
from fangkong.testing import queries
from fangkong.testing.models import (
    POOL_SIZES,
    AntigenReport,
    LabResult,
    ResampleTask,
    Result,
    ResultImport,
    RoundExemption,
    Sample,
    SamplingSite,
    TestRound,
    Tube,
    normalize_barcode,
)
from fangkong.testing.queries import expected_people, round_people
from fangkong.zones import services as zone_services
from fangkong.zones.models import Level, Zone
from fangkong.zones.places import households_in

# ---------------------------------------------------------------------------
# Rounds, sites and exemptions
# ---------------------------------------------------------------------------

MANAGER_ROLES = (Role.STREET_ADMIN, Role.COMMUNITY_STAFF)
_INFANT_MONTHS_MAX = 216
_CASE_REASONS = {RoundExemption.Reason.AWAY: "exempt_away", RoundExemption.Reason.IN_HOSPITAL: "exempt_in_hospital",
                 RoundExemption.Reason.POSITIVE: "exempt_positive"}


def may_manage_rounds(actor) -> bool:
    """Rounds, sites, teams, rosters and exemptions: community staff and street admins."""
    return actor.is_authenticated and (actor.is_superuser or actor.role in MANAGER_ROLES)


def _require_round_manager(actor) -> None:
    if not may_manage_rounds(actor):
        raise NotAllowed(_("只有社区工作人员或街道管理员可以安排筛查轮次、采样点和免采人员"))


def _field_error(field: str, message: str) -> DomainError:
    return DomainError(message, fields={field: message})


def _clean_name(name: str, field: str = "name") -> str:
    name = normalize_text(name)
    if not name:
        raise _field_error(field, _("请填写名称"))
    return name


def _clean_pool_size(pool_size) -> int:
    if pool_size not in POOL_SIZES:
        raise _field_error("pool_size", _("混采人数应为 1、5、10 或 20 人一管"))
    return pool_size


def _clean_grids(grids, community) -> list:
    grids = list(grids)
    if any(grid.community_id != community.pk for grid in grids):
        raise _field_error("grids", _("所选网格不属于%(community)s") % {"community": community.name})
    return grids


def _clean_round_target(kind: str, community, zone, key_tags) -> tuple:
    """The zone and key tags that go with the round's kind, or a clear error."""
    require_choice(kind, TestRound.Kind, field="kind", label=_("筛查类型"))
    if kind == TestRound.Kind.ZONE:
        if zone is None:
            raise _field_error("zone", _("区域筛查须选择一个封控管控区域"))
        if zone.community_id != community.pk:
            raise _field_error("zone", _("所选区域不属于%(community)s") % {"community": community.name})
    elif zone is not None:
        raise _field_error("zone", _("只有区域筛查可以选择区域"))
    key_tags = sorted(set(key_tags or ()))
    if kind == TestRound.Kind.KEY_GROUPS:
        unknown = [tag for tag in key_tags if tag not in Tag.values]
        if not key_tags or unknown:
            raise _field_error("key_tags", _("重点人群筛查须选择至少一类重点人群"))
    elif key_tags:
        raise _field_error("key_tags", _("只有重点人群筛查可以选择重点人群"))
    return zone, key_tags


def _clean_infant_months(months) -> int:
    if not isinstance(months, int) or not 0 <= months <= _INFANT_MONTHS_MAX:
        raise _field_error("infant_months", _("免采婴幼儿月龄应在 0 到 216 之间"))
    return months


@transaction.atomic
def test_round_create(*, actor, community: Community, name: str, on: datetime.date, kind: str = TestRound.Kind.EVERYONE,
                      pool_size: int = 10, grids=(), zone: Zone | None = None, key_tags=(), infant_months: int = 36,
                      exempt_away: bool = True, exempt_in_hospital: bool = True,
                      exempt_positive: bool = True) -> TestRound:
    """A round of mass testing over a community, some of its grids, one of its zones or its key groups."""
    _require_round_manager(actor)
    ensure_in_scope(actor, community)
    if zone is not None:
        ensure_in_scope(actor, zone)
    if on is None:
        raise _field_error("on", _("请填写采样日期"))
    zone, key_tags = _clean_round_target(kind, community, zone, key_tags)
    round = TestRound.objects.create(
        community=community, name=_clean_name(name), on=on, kind=kind, pool_size=_clean_pool_size(pool_size),
        zone=zone, key_tags=key_tags, infant_months=_clean_infant_months(infant_months), exempt_away=exempt_away,
        exempt_in_hospital=exempt_in_hospital, exempt_positive=exempt_positive, created_by=actor)
    round.grids.set(_clean_grids(grids, community))
    audit.record(actor=actor, action=audit.Action.CREATE, obj=round,
                 fields=["name", "on", "kind", "pool_size", "grids", "zone", "key_tags"])
    return round


def _require_open(round: TestRound) -> None:
    if round.status != TestRound.Status.OPEN:
        raise Conflict(_("%(round)s已结束,不能再修改") % {"round": round.name}, code="round_closed")


@transaction.atomic
def test_round_close(*, actor, round: TestRound) -> TestRound:
    """End the round: no more exemptions; its figures stay."""
    _require_round_manager(actor)
    ensure_in_scope(actor, round)
    round = TestRound.objects.select_for_update().get(pk=round.pk)
    _require_open(round)
    round.status = TestRound.Status.CLOSED
    round.save(update_fields=["status", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=round, fields=["status"])
    return round


def _check_reason(round: TestRound, reason: str) -> str:
    require_choice(reason, RoundExemption.Reason, field="reason", label=_("免采原因"))
    flag = _CASE_REASONS.get(reason)
    if flag and not getattr(round, flag):
        message = _("本轮筛查不对“%(reason)s”人员免采") % {"reason": RoundExemption.Reason(reason).label}
        raise _field_error("reason", message)
    return reason


@transaction.atomic
def round_exemption_add(*, actor, round: TestRound, person: Person, reason: str, note: str = "") -> RoundExemption:
    """Leave one person of the round out by hand (away, in hospital, ...), with who decided it."""
    _require_round_manager(actor)
    ensure_in_scope(actor, round)
    ensure_in_scope(actor, person)
    round = TestRound.objects.select_for_update().get(pk=round.pk)
    _require_open(round)
    _check_reason(round, reason)
    if not round_people(round).filter(pk=person.pk).exists():
        raise _field_error("person", _("%(name)s不在本轮筛查范围内") % {"name": person.name})
    note = normalize_text(note)
    if reason == RoundExemption.Reason.OTHER and not note:
        raise _field_error("note", _("其他原因须写明说明"))
    if RoundExemption.objects.filter(round=round, person=person).exists():
        raise Conflict(_("%(name)s已登记免采") % {"name": person.name}, code="already_exempt")
    exemption = RoundExemption.objects.create(round=round, community=round.community, person=person, reason=reason,
                                              note=note[:200], recorded_by=actor)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=exemption, object_repr=f"{round} {person}",
                 fields=["reason", "note"])
    return exemption


@transaction.atomic
def round_exemption_remove(*, actor, exemption: RoundExemption) -> None:
    """Take the person back into the round's expected list."""
    _require_round_manager(actor)
    ensure_in_scope(actor, exemption)
    _require_open(TestRound.objects.select_for_update().get(pk=exemption.round_id))
    audit.record(actor=actor, action=audit.Action.DELETE, obj=exemption,
                 object_repr=f"{exemption.round} {exemption.person}", fields=["reason"])
    exemption.delete()


def _covers(user, community: Community) -> bool:
    """Whether the user's scope reaches the community (all of it, or one of its grids)."""
    scope = scope_of(user)
    if scope.holds_community(community.pk):
        return True
    return bool(scope.grid_ids) and community.grids.filter(pk__in=scope.grid_ids).exists()


def _clean_team(team, community: Community) -> list:
    team = list(team)
    outside = [user for user in team if not is_staff_member(user) or not user.is_active or not _covers(user, community)]
    if outside:
        names = "、".join(user.display_name or user.get_username() for user in outside)
        raise _field_error("team", _("%(names)s不负责%(community)s,不能加入采样队") % {
            "names": names, "community": community.name})
    return team


def _clean_roster(roster, kind: str, community: Community) -> list:
    roster = list(roster)
    if roster and kind != SamplingSite.Kind.DOOR_TO_DOOR:
        raise _field_error("roster", _("只有上门采样队有上门名单"))
    if any(household.community_id != community.pk for household in roster):
        raise _field_error("roster", _("上门名单中有不属于%(community)s的户") % {"community": community.name})
    return roster


def _clean_hours(opens_at, closes_at) -> None:
    if opens_at is not None and closes_at is not None and opens_at >= closes_at:
        raise _field_error("closes_at", _("结束时间应晚于开始时间"))


def _clean_site(*, community, site_pk, name, kind, opens_at, closes_at, team, roster) -> dict:
    require_choice(kind, SamplingSite.Kind, field="kind", label=_("采样点类型"))
    name = _clean_name(name)
    if SamplingSite.objects.filter(community=community, name=name).exclude(pk=site_pk).exists():
        raise Conflict(_("%(community)s已有名为“%(name)s”的采样点") % {"community": community.name, "name": name},
                       code="duplicate_name")
    _clean_hours(opens_at, closes_at)
    return {"name": name, "team": _clean_team(team, community), "roster": _clean_roster(roster, kind, community)}


@transaction.atomic
def sampling_site_create(*, actor, community: Community, name: str, kind: str = SamplingSite.Kind.FIXED,
                         address: str = "", opens_at: datetime.time | None = None,
                         closes_at: datetime.time | None = None, team=(), roster=()) -> SamplingSite:
    """A fixed sampling site with its hours, or a door-to-door team with its roster of households."""
    _require_round_manager(actor)
    ensure_in_scope(actor, community)
    clean = _clean_site(community=community, site_pk=None, name=name, kind=kind, opens_at=opens_at,
                        closes_at=closes_at, team=team, roster=roster)
    site = SamplingSite.objects.create(community=community, name=clean["name"], kind=kind,
                                       address=normalize_text(address)[:200], opens_at=opens_at, closes_at=closes_at)
    site.team.set(clean["team"])
    site.roster.set(clean["roster"])
    audit.record(actor=actor, action=audit.Action.CREATE, obj=site,
                 fields=["name", "kind", "address", "opens_at", "closes_at", "team", "roster"])
    return site


@transaction.atomic
def sampling_site_update(*, actor, site: SamplingSite, name: str, kind: str, address: str = "",
                         opens_at: datetime.time | None = None, closes_at: datetime.time | None = None, team=(),
                         roster=(), active: bool = True) -> SamplingSite:
    """Change a site's facts, team or roster (the whole of each, as the edit form shows them)."""
    _require_round_manager(actor)
    ensure_in_scope(actor, site)
    clean = _clean_site(community=site.community, site_pk=site.pk, name=name, kind=kind, opens_at=opens_at,
                        closes_at=closes_at, team=team, roster=roster)
    site.name, site.kind, site.address = clean["name"], kind, normalize_text(address)[:200]
    site.opens_at, site.closes_at, site.active = opens_at, closes_at, active
    site.save()
    site.team.set(clean["team"])
    site.roster.set(clean["roster"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=site,
                 fields=["name", "kind", "address", "opens_at", "closes_at", "team", "roster", "active"])
    return site


@transaction.atomic
def site_roster_from_zone(*, actor, site: SamplingSite, zone: Zone) -> int:
    """Put every household of a sealed or controlled zone on a door-to-door team's roster; how many were new."""
    _require_round_manager(actor)
    ensure_in_scope(actor, site)
    ensure_in_scope(actor, zone)
    if site.kind != SamplingSite.Kind.DOOR_TO_DOOR:
        raise _field_error("roster", _("只有上门采样队有上门名单"))
    if zone.community_id != site.community_id:
        raise _field_error("zone", _("所选区域不属于%(community)s") % {"community": site.community.name})
    known = set(site.roster.values_list("id", flat=True))
    added = [pk for pk in households_in(zone).values_list("id", flat=True) if pk not in known]
    site.roster.add(*added)
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=site, fields=["roster"])
    return len(added)


def household_card_print(*, actor, household) -> None:
    """Log that someone printed a household's card of personal codes: the codes let anyone holding the card
    pass as its people."""
    if not is_staff_member(actor):
        raise NotAllowed(_("只有工作人员可以打印家庭个人码卡片"))
    ensure_in_scope(actor, household)
    audit.record(actor=actor, action=audit.Action.EXPORT, obj=household, object_repr=f"{household} 个人码卡片",
                 fields=["personal_code"])


# ---------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------

SAMPLER_ROLES = frozenset({Role.MEDIC, Role.COMMUNITY_STAFF, Role.STREET_ADMIN})
BATCH_LIMIT = 2000
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")


def _clean_barcode(raw, *, field: str) -> str:
    barcode = normalize_barcode(raw)
    if not barcode or len(barcode) > 40:
        message = _("请扫描或输入采样管条码(最多 40 位)")
        raise DomainError(message, code="bad_barcode", fields={field: message})
    return barcode


def _clean_sample_client_id(client_id) -> uuid.UUID:
    try:
        return client_id if isinstance(client_id, uuid.UUID) else uuid.UUID(str(client_id))
    except ValueError:
        message = _("client_id 应为 UUID")
        raise DomainError(message, fields={"client_id": message}) from None


def _clean_taken_at(taken_at, now: datetime.datetime | None = None) -> datetime.datetime:
    """The swab's time: as sent, or `now` (by default the present moment) when none was sent."""
    now = now or timezone.now()
    if taken_at in (None, ""):
        return now
    if isinstance(taken_at, str):
        parsed = parse_datetime(taken_at)
        if parsed is None:
            message = _("采样时间格式应为 YYYY-MM-DDTHH:MM")
            raise DomainError(message, fields={"taken_at": message})
        taken_at = parsed
    if timezone.is_naive(taken_at):
        taken_at = timezone.make_aware(taken_at)
    if taken_at > now + datetime.timedelta(minutes=10):
        message = _("采样时间不能晚于现在")
        raise DomainError(message, fields={"taken_at": message})
    return taken_at


def _is_sampler_anywhere(actor) -> bool:
    return actor.is_superuser or actor.role in SAMPLER_ROLES


def may_sample_at(actor, site: SamplingSite | None) -> bool:
    """Medics, community staff and street admins sample at every site in scope; other staff only at a site
    whose team they are on (without a site, nowhere)."""
    if not is_staff_member(actor):
        return False
    return _is_sampler_anywhere(actor) or (site is not None and site.team.filter(pk=actor.pk).exists())


def _require_sampler(actor, site: SamplingSite) -> None:
    if not is_staff_member(actor):
        raise NotAllowed(_("仅工作人员可以采样"))
    if may_sample_at(actor, site):
        return
    raise NotAllowed(_("您不在“%(site)s”的采样人员名单中") % {"site": site.name}, code="not_on_team")


def _round_closed(round: TestRound) -> DomainError:
    return DomainError(_("“%(round)s”已结束,不能再采样") % {"round": round.name}, code="round_closed")


def _require_site_of(round: TestRound, site: SamplingSite) -> None:
    if round.status != TestRound.Status.OPEN:
        raise _round_closed(round)
    if site.community_id != round.community_id:
        message = _("采样点“%(site)s”不属于本轮筛查的社区") % {"site": site.name}
        raise DomainError(message, code="site_elsewhere", fields={"site_id": message})
    if not site.active:
        message = _("采样点“%(site)s”已停用") % {"site": site.name}
        raise DomainError(message, code="site_inactive", fields={"site_id": message})


def _moment(value: datetime.datetime) -> str:
    return timezone.localtime(value).strftime("%m-%d %H:%M")


def _barcode_used(tube: Tube, *, field: str = "barcode") -> Conflict:
    used = Tube.objects.select_related("round", "site").get(pk=tube.pk)
    message = _("条码 %(barcode)s 已于 %(when)s 在“%(round)s”%(site)s开管使用,请换一支采样管") % {
        "barcode": used.barcode, "when": _moment(used.opened_at), "round": used.round.name, "site": used.site.name}
    return Conflict(message, code="barcode_used", fields={field: message})


def _new_tube(actor, round: TestRound, site: SamplingSite, barcode: str) -> Tube:
    return Tube(round=round, community_id=round.community_id, site=site, barcode=barcode, pool_size=round.pool_size,
                opened_by=actor, opened_at=timezone.now())


def _create_tube(actor, round: TestRound, site: SamplingSite, barcode: str) -> Tube:
    tube = _new_tube(actor, round, site, barcode)
    tube.save(force_insert=True)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=tube, fields=["barcode"])
    return tube


@transaction.atomic
def tube_open(*, actor, round: TestRound, site: SamplingSite, barcode: str) -> Tube:
    """Open a new tube at a site; a barcode is used once, in any round."""
    barcode = _clean_barcode(barcode, field="barcode")
    ensure_in_scope(actor, round)
    _require_site_of(round, site)
    _require_sampler(actor, site)
    used = Tube.objects.filter(barcode=barcode).first()
    if used is not None:
        raise _barcode_used(used)
    try:
        with transaction.atomic():
            return _create_tube(actor, round, site, barcode)
    except IntegrityError:
        used = Tube.objects.filter(barcode=barcode).first()
        if used is None:
            raise
        raise _barcode_used(used) from None


def _clean_id_number(text: str) -> str:
    id_number = compact(normalize_text(text)).upper()
    if not _ID_NUMBER.match(id_number):
        message = _("请扫描个人码,或输入 18 位身份证号")
        raise DomainError(message, code="not_a_code", fields={"code": message})
    return id_number


def _not_of_community() -> DomainError:
    message = _("该个人码不属于本社区")
    return DomainError(message, code="code_elsewhere", fields={"code": message})


def _unknown_person() -> DomainError:
    message = _("本社区查无此人,请核对个人码或身份证号")
    return DomainError(message, code="unknown_person", fields={"code": message})


def _person_named(person_id, code, id_number, read_code=read_personal_code) -> tuple[str, int | str, int | None]:
    """How a registration names its person, before any query: ('pk', person id, the community a personal code
    names or None) or ('id', ID number, None). A `code` that is no personal code is read as an ID number, as a
    scanner box takes either; a bad value raises the refusal it earns."""
    if person_id not in (None, ""):
        pk = _int_or_none(person_id)
        if pk is None:
            raise _unknown_person()
        return "pk", pk, None
    code = str(code or "").strip()
    if code and is_personal_code(code):
        holder = read_code(code)
        return "pk", holder.person_id, holder.community_id
    return "id", _clean_id_number(code or str(id_number or "")), None


def person_for_scan(actor, round: TestRound, text: str) -> Person:
    """Who a scanned personal code or a typed ID number names, among the people of the round's community.

    A sampler on a site's team samples anyone of the community, whatever grid the account covers.
    """
    if not is_staff_member(actor):
        raise NotAllowed(_("仅工作人员可以采样"))
    kind, value, code_community = _person_named(None, text, "")
    if code_community not in (None, round.community_id):
        raise _not_of_community()
    named = {"pk": value} if kind == "pk" else {"id_type": IdType.RESIDENT_ID, "id_number": value}
    person = Person.objects.filter(community_id=round.community_id, **named).first()
    if person is None:
        raise _unknown_person()
    return person


def _stored_sample(actor, client_id: uuid.UUID) -> Sample | None:
    stored = Sample.objects.filter(client_id=client_id).select_related("tube", "person").first()
    if stored is not None:
        ensure_in_scope(actor, stored)
    return stored


def _locked_tube(pk: int) -> Tube:
    return Tube.objects.select_for_update(of=("self",)).select_related("round", "site").get(pk=pk)


def _already_sampled(round_id: int, person: Person) -> DomainError:
    first = (Sample.objects.filter(round_id=round_id, person=person, void=False, resample=False)
             .select_related("site").order_by("taken_at").first())
    message = _("%(name)s 本轮已于 %(when)s 在%(site)s采样,不能重复采样") % {
        "name": person.name, "when": _moment(first.taken_at), "site": first.site.name}
    return Conflict(message, code="already_sampled", fields={"code": message})


def _tube_closed(tube: Tube) -> DomainError:
    message = _("采样管 %(barcode)s 已封管,请扫描新的采样管") % {"barcode": tube.barcode}
    return DomainError(message, code="tube_closed", fields={"tube": message})


def _close(actor, tube: Tube, at: datetime.datetime) -> None:
    """Close the tube as of `at`: the time its last person was swabbed, which a device syncing late still knows."""
    tube.status = Tube.Status.CLOSED
    tube.closed_at = at
    tube.save(update_fields=["sample_count", "status", "closed_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=tube, fields=["status"])


def _count_one_more(actor, tube: Tube, taken_at: datetime.datetime) -> None:
    tube.sample_count += 1
    if tube.sample_count >= tube.pool_size:
        _close(actor, tube, taken_at)
    else:
        tube.save(update_fields=["sample_count"])


def _sample_into(actor, tube: Tube, person: Person, client_id: uuid.UUID, taken_at, door_to_door: bool) -> Sample:
    """Swab one person into a locked tube; the partial unique constraint is the last word on a second sample."""
    if tube.status != Tube.Status.OPEN:
        raise _tube_closed(tube)
    if tube.round.status != TestRound.Status.OPEN:
        raise _round_closed(tube.round)
    if person.community_id != tube.community_id:
        raise _unknown_person()
    task = None
    if tube.pool_size == 1:
        task = ResampleTask.objects.filter(round_id=tube.round_id, person=person,
                                           status=ResampleTask.Status.OPEN).first()
    sample = Sample(round_id=tube.round_id, tube=tube, community_id=tube.community_id, person=person,
                    household_id=person.household_id, site_id=tube.site_id, sampler=actor,
                    taken_at=_clean_taken_at(taken_at), door_to_door=bool(door_to_door), resample=task is not None,
                    client_id=client_id)
    try:
        with transaction.atomic():
            sample.save(force_insert=True)
    except IntegrityError:
        twin = Sample.objects.filter(client_id=client_id).select_related("tube", "person").first()
        if twin is not None:
            return twin
        raise _already_sampled(tube.round_id, person) from None
    _count_one_more(actor, tube, sample.taken_at)
    if task is not None:
        ResampleTask.objects.filter(pk=task.pk).update(status=ResampleTask.Status.DONE, sample=sample,
                                                       updated_at=timezone.now())
    return sample


def sample_add(*, actor, tube: Tube, person: Person, client_id, taken_at=None, door_to_door: bool = False) -> Sample:
    """Add one person to an open tube; the same client_id again returns the stored sample and stores nothing.

    The tube row is locked while counting, so two samplers at one tube never push it past its pool
    size; it closes itself at the pool size. Samples are not audited one by one (volume).
    """
    client_id = _clean_sample_client_id(client_id)
    stored = _stored_sample(actor, client_id)
    if stored is not None:
        return stored
    with transaction.atomic():
        tube = _locked_tube(tube.pk)
        _require_sampler(actor, tube.site)
        return _sample_into(actor, tube, person, client_id, taken_at, door_to_door)


def _tube_for_registration(actor, round: TestRound, site: SamplingSite, barcode: str) -> Tube:
    """The open tube of this barcode at this site, locked; a new barcode opens a tube."""
    lock = Tube.objects.select_for_update(of=("self",))
    tube = lock.filter(barcode=barcode).first()
    if tube is None:
        try:
            with transaction.atomic():
                tube = _create_tube(actor, round, site, barcode)
        except IntegrityError:
            tube = lock.get(barcode=barcode)
    if tube.round_id != round.pk or tube.site_id != site.pk:
        raise _barcode_used(tube, field="tube")
    tube.round, tube.site = round, site
    return tube


@cache
def _registration_statement(by: str) -> str:
    """Register one person into a pooled tube of the round and site, only when `queries.registration_facts_sql`
    finds the registration plainly allowed: count them into the open tube of this barcode if it has room,
    or open the tube of a barcode never used with them in it; store their sample; audit the tube opened or
    closed. One statement, so one round trip and its own transaction, answering one row or none.

    Two devices opening one new barcode at once: the second breaks the barcode's unique constraint and stores nothing.
    """
    table = rawsql.table(Tube)
    t = {name: rawsql.column(Tube, name) for name in (
        "id", "round", "community", "site", "barcode", "pool_size", "sample_count", "status", "result", "opened_by",
        "opened_at", "closed_at")}
    sample_columns = ", ".join(rawsql.column(Sample, n) for n in (
        "round", "tube", "community", "person", "household", "site", "sampler", "taken_at", "door_to_door",
        "resample", "void", "client_id", "created_at"))
    opened_columns = ", ".join(t[n] for n in ("round", "community", "site", "barcode", "pool_size", "sample_count",
                                              "status", "result", "opened_by", "opened_at"))
    full = f"tube.{t['sample_count']} + 1 >= tube.{t['pool_size']}"
    audited = {event: audit.insert_select_sql(event=event, object_id=f"CAST(tube.{t['id']} AS text)",
                                              community="facts.community_id", source=f"facts, {source}")
               for event, source in (("opened", "opened tube"),
                                     ("closed", f"counted tube WHERE tube.{t['status']} = %(closed)s"))}
    return (f"WITH facts AS ({queries.registration_facts_sql(by)}),"
            f" counted AS (UPDATE {table} tube SET {t['sample_count']} = tube.{t['sample_count']} + 1,"
            f" {t['status']} = CASE WHEN {full} THEN %(closed)s ELSE tube.{t['status']} END,"
            f" {t['closed_at']} = CASE WHEN {full} THEN %(taken_at)s ELSE tube.{t['closed_at']} END"
            f" FROM facts WHERE tube.{t['barcode']} = %(barcode)s AND tube.{t['round']} = facts.round_id"
            f" AND tube.{t['site']} = %(site)s AND tube.{t['status']} = %(open)s"
            f" AND tube.{t['sample_count']} < tube.{t['pool_size']} AND tube.{t['pool_size']} > 1"
            f" RETURNING tube.{t['id']}, tube.{t['status']}, tube.{t['sample_count']}),"
            f" opened AS (INSERT INTO {table} ({opened_columns})"
            f" SELECT facts.round_id, facts.community_id, %(site)s, %(barcode)s, facts.pool_size, 1, %(open)s, '',"
            f" %(sampler)s, %(created_at)s FROM facts WHERE facts.pool_size > 1"
            f" AND NOT EXISTS (SELECT 1 FROM {table} used WHERE used.{t['barcode']} = %(barcode)s)"
            f" RETURNING {t['id']}, {t['status']}, {t['sample_count']}),"
            f" filled AS (SELECT * FROM counted UNION ALL SELECT * FROM opened),"
            f" stored AS (INSERT INTO {rawsql.table(Sample)} ({sample_columns})"
            f" SELECT facts.round_id, tube.{t['id']}, facts.community_id, facts.person_id, facts.household_id,"
            f" %(site)s, %(sampler)s, %(taken_at)s, %(door_to_door)s, false, false, %(client_id)s, %(created_at)s"
            f" FROM facts, filled tube RETURNING {rawsql.column(Sample, 'id')}),"
            f" audited_opened AS ({audited['opened']}), audited_closed AS ({audited['closed']})"
            f" SELECT facts.round_id, facts.community_id, facts.pool_size, facts.person_id, facts.household_id,"
            f" facts.person_name, tube.{t['id']}, tube.{t['status']}, tube.{t['sample_count']},"
            f" stored.{rawsql.column(Sample, 'id')} FROM facts, filled tube, stored")


def _registered_in_one_statement(params: dict, by: str) -> tuple | None:
    """The statement's row, or None when the facts did not hold or a unique constraint refused the sample
    (a second sample in the round, a replayed client_id): nothing is then stored."""
    try:
        return rawsql.fetch_one_alone(_registration_statement(by), params)
    except IntegrityError:
        return None


def _person_named_at_once(code: str, id_number: str, person_id) -> tuple[str, int | str, int | None] | None:
    """How `registration_facts_sql` should find the person ("id" or "id_number"), the value, and the community a
    personal code names; None when only the full path can say (a damaged code, a malformed ID number)."""
    try:
        kind, value, code_community = _person_named(person_id, code, id_number)
    except DomainError:
        return None
    return ("id" if kind == "pk" else "id_number"), value, code_community


def _cleaned_at_once(barcode, client_id, taken_at) -> tuple | None:
    try:
        return _clean_barcode(barcode, field="tube"), _clean_sample_client_id(client_id), _clean_taken_at(taken_at)
    except DomainError:
        return None


def sample_register_at_once(*, actor, round_id: int, site_id: int, barcode: str, client_id, code: str = "",
                            id_number: str = "", person_id: int | None = None, taken_at=None,
                            door_to_door: bool = False) -> Sample | None:
    """The everyday device registration, one more person into a pooled tube, in one statement on PostgreSQL.

    A busy site registers a swab every second per table, and the ORM's lookups and a transaction's round
    trips cost more than the writes. `_registration_statement` checks the facts, the scope and the tube's
    rules, stores the sample and counts it into its tube (opening the tube of a new barcode). This returns
    None, having stored nothing, whenever anything is unusual (a retry, a refusal, a barcode used elsewhere,
    an actor whose scope does not hold the whole community) or the database is SQLite: the caller then
    takes `sample_register`, which decides and explains.
    """
    cleaned = _cleaned_at_once(barcode, client_id, taken_at)
    naming = _person_named_at_once(code, id_number, person_id)
    if (connection.vendor != "postgresql" or cleaned is None or naming is None or not is_staff_member(actor)
            or not _is_sampler_anywhere(actor)):
        return None
    (by, person, code_community), (barcode, client_id, taken_at) = naming, cleaned
    params = {"round": round_id, "site": site_id, "person": person, "id_type": IdType.RESIDENT_ID,
              "code_community": code_community, "open_round": TestRound.Status.OPEN, **staff_scope_params(actor),
              "barcode": barcode, "open": Tube.Status.OPEN, "closed": Tube.Status.CLOSED, "sampler": actor.pk,
              "taken_at": taken_at, "door_to_door": bool(door_to_door), "client_id": client_id,
              "created_at": timezone.now(),
              **audit.insert_select_params(actor=actor, object_type="tube", object_repr=barcode, events={
                  "opened": (audit.Action.CREATE, ["barcode"]), "closed": (audit.Action.UPDATE, ["status"])})}
    row = _registered_in_one_statement(params, by)
    if row is None:
        return None
    return _registered_sample(actor, row, site_id, barcode, client_id, taken_at, door_to_door)


def _registered_sample(actor, row: tuple, site_id: int, barcode: str, client_id, taken_at, door_to_door) -> Sample:
    round_id, community_id, pool_size, person_id, household_id, person_name, tube_id, status, count, pk = row
    tube = Tube(pk=tube_id, round_id=round_id, community_id=community_id, site_id=site_id, barcode=barcode,
                pool_size=pool_size, sample_count=count, status=status,
                closed_at=taken_at if status == Tube.Status.CLOSED else None)
    person = Person(pk=person_id, community_id=community_id, household_id=household_id, name=person_name)
    return Sample(pk=pk, round_id=round_id, tube=tube, community_id=community_id, person=person,
                  household_id=household_id, site_id=site_id, sampler=actor, taken_at=taken_at,
                  door_to_door=bool(door_to_door), resample=False, client_id=client_id)


def sample_register(*, actor, round: TestRound, site: SamplingSite, barcode: str, person: Person, client_id,
                    taken_at=None, door_to_door: bool = False) -> Sample:
    """One registration from a device: the tube by barcode (opened when new), then `sample_add`'s rules.

    `round` and `site` come from scoped lookups; a retry with the same client_id returns the stored sample.
    """
    client_id = _clean_sample_client_id(client_id)
    stored = _stored_sample(actor, client_id)
    if stored is not None:
        return stored
    barcode = _clean_barcode(barcode, field="tube")
    _require_site_of(round, site)
    _require_sampler(actor, site)
    with transaction.atomic():
        tube = _tube_for_registration(actor, round, site, barcode)
        return _sample_into(actor, tube, person, client_id, taken_at, door_to_door)


@transaction.atomic
def sample_undo_last(*, actor, tube: Tube) -> Sample:
    """Take back this sampler's last person in an open tube (a wrong scan); the tube has room again."""
    tube = _locked_tube(tube.pk)
    _require_sampler(actor, tube.site)
    if tube.status != Tube.Status.OPEN:
        raise Conflict(_("采样管 %(barcode)s 已封管,不能撤销") % {"barcode": tube.barcode}, code="tube_closed")
    last = tube.samples.filter(sampler=actor).select_related("person").order_by("-id").first()
    if last is None:
        raise DomainError(_("这支采样管里没有您采的人"), code="nothing_to_undo")
    if last.resample:
        ResampleTask.objects.filter(sample=last).update(status=ResampleTask.Status.OPEN, sample=None,
                                                        updated_at=timezone.now())
    audit.record(actor=actor, action=audit.Action.DELETE, obj=last, object_repr=f"{tube.barcode} {last.person.name}",
                 fields=["person"])
    last.delete()
    tube.sample_count -= 1
    tube.save(update_fields=["sample_count"])
    return last


@transaction.atomic
def tube_close(*, actor, tube: Tube) -> Tube:
    """Close a tube by hand before it is full (the last people of a site, a door-to-door round)."""
    tube = _locked_tube(tube.pk)
    _require_sampler(actor, tube.site)
    if tube.status != Tube.Status.OPEN:
        raise Conflict(_("采样管 %(barcode)s 已封管") % {"barcode": tube.barcode}, code="tube_closed")
    if tube.sample_count == 0:
        raise DomainError(_("采样管中还没有人,不能封管"), code="tube_empty")
    _close(actor, tube, timezone.now())
    return tube


@dataclass
class _Row:
    """One row of a device's batch on its way through `samples_register`."""

    raw: dict
    client_id: uuid.UUID | None = None
    round: TestRound | None = None
    site: SamplingSite | None = None
    barcode: str = ""
    person_id: int | None = None
    household_id: int | None = None
    tube: Tube | None = None
    task_id: int | None = None
    taken_at: datetime.datetime | None = None
    status: str = ""
    message: str = ""

    @property
    def pending(self) -> bool:
        return not self.status

    def refuse(self, message: str) -> None:
        self.status, self.message = "refused", message

    def answer(self) -> dict:
        client_id = str(self.client_id) if self.client_id else str(self.raw.get("client_id") or "")
        return {"client_id": client_id, "status": self.status, "message": self.message}


def _parse_row(raw: dict, now: datetime.datetime) -> _Row:
    row = _Row(raw=raw)
    try:
        row.client_id = _clean_sample_client_id(raw.get("client_id"))
        row.barcode = _clean_barcode(raw.get("tube"), field="tube")
        row.taken_at = _clean_taken_at(raw.get("taken_at"), now)
    except DomainError as err:
        row.refuse(err.message)
    return row


def _mark_replays(rows: list[_Row]) -> None:
    """Rows whose client_id is stored already, or came earlier in the batch: duplicates, stored nothing."""
    known = set(Sample.objects.filter(client_id__one_of=[row.client_id for row in rows if row.pending])
                .order_by().values_list("client_id", flat=True))
    for row in rows:
        if row.pending and row.client_id in known:
            row.status, row.message = "duplicate", _("已登记过")
        elif row.pending:
            known.add(row.client_id)


def _int_or_none(value) -> int | None:
    return int(value) if is_id(value) else None


def _rounds_and_sites(actor, pairs: set) -> tuple[dict, dict, dict]:
    """The rounds (in scope) and sites (of their communities) a batch's (round_id, site_id) pairs name, and each
    pair's refusal, "" when allowed: checked once per pair, not once per row."""
    rounds = TestRound.objects.in_scope(actor).in_bulk([pk for pk, _site in pairs if pk])
    sites = SamplingSite.objects.filter(community_id__in={r.community_id for r in rounds.values()}).in_bulk(
        [pk for _round, pk in pairs if pk])
    on_team = set()
    if not _is_sampler_anywhere(actor):
        on_team = set(SamplingSite.team.through.objects.filter(user_id=actor.pk, samplingsite_id__in=list(sites))
                      .values_list("samplingsite_id", flat=True))
    refusals = {pair: _round_and_site_refusal(actor, rounds.get(pair[0]), sites.get(pair[1]), on_team)
                for pair in pairs}
    return rounds, sites, refusals


def _attach_rounds_and_sites(actor, rows: list[_Row]) -> None:
    """Each row's round and site, or its refusal (`_rounds_and_sites`)."""
    named = {id(row): (_int_or_none(row.raw.get("round_id")), _int_or_none(row.raw.get("site_id")))
             for row in rows if row.pending}
    rounds, sites, refusals = _rounds_and_sites(actor, set(named.values()))
    for row in (row for row in rows if row.pending):
        round_id, site_id = named[id(row)]
        row.round, row.site = rounds.get(round_id), sites.get(site_id)
        if refusals[round_id, site_id]:
            row.refuse(refusals[round_id, site_id])


def _round_and_site_refusal(actor, round: TestRound | None, site: SamplingSite | None, on_team: set) -> str:
    if round is None:
        return _("round_id 不存在或不在您的管辖范围内")
    if site is None:
        return _("site_id 不存在或不属于本轮筛查的社区")
    if not _is_sampler_anywhere(actor) and site.pk not in on_team:
        return _("您不在“%(site)s”的采样人员名单中") % {"site": site.name}
    try:
        _require_site_of(round, site)
    except DomainError as err:
        return err.message
    return ""


def _person_key(row: _Row, read_code):
    """('pk', id) or ('id', number) naming the row's person, before any query."""
    kind, value, code_community = _person_named(row.raw.get("person_id"), row.raw.get("code"),
                                                row.raw.get("id_number"), read_code)
    if code_community not in (None, row.round.community_id):
        raise _not_of_community()
    return kind, value


def _attach_persons(rows: list[_Row]) -> None:
    keys, read_code = {}, personal_code_reader()
    for row in (row for row in rows if row.pending):
        try:
            keys[id(row)] = _person_key(row, read_code)
        except DomainError as err:
            row.refuse(err.message)
    pks = [value for kind, value in keys.values() if kind == "pk"]
    numbers = [value for kind, value in keys.values() if kind == "id"]
    found = Person.objects.filter(Q(pk__one_of=pks) | Q(id_type=IdType.RESIDENT_ID, id_number__one_of=numbers)).values_list(
        "pk", "id_number", "community_id", "household_id")
    by_key = {}
    for pk, number, community_id, household_id in found:
        by_key[("pk", pk)] = by_key[("id", number)] = (pk, community_id, household_id)
    for row in (row for row in rows if row.pending):
        person = by_key.get(keys[id(row)])
        if person is None or person[1] != row.round.community_id:
            row.refuse(_unknown_person().message)
        else:
            row.person_id, _community, row.household_id = person


def _record_tube_events(actor, action: str, fields: list[str], tubes: list[Tube]) -> None:
    """One audit event per tube of a batch, under the tube's community so that community's staff see it."""
    by_community: dict[int, list[Tube]] = {}
    for tube in tubes:
        by_community.setdefault(tube.community_id, []).append(tube)
    for community_id, group in by_community.items():
        audit.record_many(actor=actor, action=action, object_type="tube", community_id=community_id,
                          objects=[(tube.pk, tube.barcode, fields) for tube in group])


def _open_batch_tubes(actor, rows: list[_Row], tubes: dict) -> None:
    """Open the batch's unknown barcodes at the round and site of their first row, and lock them."""
    new = {}
    for row in rows:
        if row.pending and row.barcode not in tubes and row.barcode not in new:
            new[row.barcode] = _new_tube(actor, row.round, row.site, row.barcode)
    if not new:
        return
    Tube.objects.bulk_create(new.values(), ignore_conflicts=True)
    opened = list(Tube.objects.select_for_update(of=("self",)).filter(barcode__one_of=list(new)).order_by("barcode"))
    tubes.update((tube.barcode, tube) for tube in opened)
    _record_tube_events(actor, audit.Action.CREATE, ["barcode"], [
        tube for tube in opened if tube.opened_by_id == actor.pk and tube.opened_at == new[tube.barcode].opened_at])


def _attach_tubes(actor, rows: list[_Row]) -> None:
    barcodes = sorted({row.barcode for row in rows if row.pending})
    tubes = {tube.barcode: tube for tube in
             Tube.objects.select_for_update(of=("self",)).filter(barcode__one_of=barcodes).order_by("barcode")}
    _open_batch_tubes(actor, rows, tubes)
    for row in (row for row in rows if row.pending):
        tube = tubes[row.barcode]
        if tube.round_id != row.round.pk or tube.site_id != row.site.pk:
            row.refuse(_("条码 %(barcode)s 已于 %(when)s 在其他轮次或采样点开管使用") % {
                "barcode": tube.barcode, "when": _moment(tube.opened_at)})
        else:
            row.tube = tube


def _first_samples(rows: list[_Row]) -> dict:
    pending = [row for row in rows if row.pending]
    firsts = (Sample.objects.filter(round_id__one_of={row.round.pk for row in pending},
                                    person_id__one_of={row.person_id for row in pending}, void=False, resample=False)
              .order_by().values_list("round_id", "person_id", "taken_at", "site__name"))
    return {(round_id, person_id): (taken_at, site) for round_id, person_id, taken_at, site in firsts}


def _open_tasks(rows: list[_Row]) -> dict:
    singles = [row for row in rows if row.pending and row.tube.pool_size == 1]
    if not singles:
        return {}
    tasks = ResampleTask.objects.filter(status=ResampleTask.Status.OPEN,
                                        round_id__one_of={row.round.pk for row in singles},
                                        person_id__one_of={row.person_id for row in singles})
    return {(round_id, person_id): pk for pk, round_id, person_id in tasks.values_list("pk", "round_id", "person_id")}


def _room_left(tube: Tube, room: dict) -> int:
    if tube.pk not in room:
        room[tube.pk] = tube.pool_size - tube.sample_count if tube.status == Tube.Status.OPEN else 0
    return room[tube.pk]


def _refuse_second_samples(rows: list[_Row]) -> None:
    """Room in the tube, then once per round and person, the batch included; an open 单管复核 task lets a
    single tube take them again."""
    firsts, tasks, seen, room = _first_samples(rows), _open_tasks(rows), set(), {}
    for row in (row for row in rows if row.pending):
        key = (row.round.pk, row.person_id)
        if _room_left(row.tube, room) <= 0:
            row.refuse(_tube_closed(row.tube).message)
            continue
        if row.tube.pool_size == 1 and tasks.get(key):
            row.task_id = tasks.pop(key)
        elif key in firsts:
            taken_at, site = firsts[key]
            row.refuse(_("本轮已于 %(when)s 在%(site)s采样,不能重复采样") % {"when": _moment(taken_at), "site": site})
            continue
        elif key in seen:
            row.refuse(_("同一批次中重复登记了此人"))
            continue
        seen.add(key)
        room[row.tube.pk] -= 1


_SAMPLE_COLUMNS = ("round_id", "tube_id", "community_id", "person_id", "household_id", "site_id", "sampler_id",
                   "taken_at", "door_to_door", "resample", "void", "client_id", "created_at")


def _sample_values(actor, row: _Row, now: datetime.datetime) -> tuple:
    return (row.round.pk, row.tube.pk, row.round.community_id, row.person_id, row.household_id, row.site.pk,
            actor.pk, row.taken_at, bool(row.raw.get("door_to_door")), row.task_id is not None, False, row.client_id,
            now)


def _insert_one_by_one(actor, rows: list[_Row], now: datetime.datetime) -> None:
    """The slow path after a concurrent writer took a client_id or a person: each row in its own savepoint."""
    for row in rows:
        try:
            with transaction.atomic():
                insert_rows(Sample, _SAMPLE_COLUMNS, [_sample_values(actor, row, now)])
        except IntegrityError:
            if Sample.objects.filter(client_id=row.client_id).exists():
                row.status, row.message = "duplicate", _("已登记过")
            else:
                row.refuse(_("本轮已采样,不能重复采样"))


def _insert_samples(actor, rows: list[_Row]) -> list[_Row]:
    """The batch's valid rows in one COPY (PostgreSQL) or one executemany; the rows stored."""
    pending, now = [row for row in rows if row.pending], timezone.now()
    try:
        with transaction.atomic():
            insert_rows(Sample, _SAMPLE_COLUMNS, [_sample_values(actor, row, now) for row in pending])
    except IntegrityError:
        _insert_one_by_one(actor, pending, now)
    for row in pending:
        if row.pending:
            row.status = "stored"
    return [row for row in pending if row.status == "stored"]


def _count_stored(actor, stored: list[_Row]) -> None:
    """Each tube's count and, at its pool size, its closing as of its last swab: two UPDATE … FROM VALUES."""
    tubes, last_taken = {}, {}
    for row in stored:
        tube = tubes.setdefault(row.tube.pk, row.tube)
        tube.sample_count += 1
        last_taken[tube.pk] = max(last_taken.get(tube.pk, row.taken_at), row.taken_at)
    closed = [tube for tube in tubes.values() if tube.sample_count >= tube.pool_size]
    for tube in closed:
        tube.status, tube.closed_at = Tube.Status.CLOSED, last_taken[tube.pk]
    update_rows(Tube, "id", ["sample_count"], [(tube.pk, tube.sample_count) for tube in tubes.values()
                                               if tube.status == Tube.Status.OPEN])
    update_rows(Tube, "id", ["sample_count", "status", "closed_at"],
                [(tube.pk, tube.sample_count, tube.status, tube.closed_at) for tube in closed])
    _record_tube_events(actor, audit.Action.UPDATE, ["status"], closed)


def _finish_tasks(stored: list[_Row]) -> None:
    done = {row.client_id: row.task_id for row in stored if row.task_id}
    if not done:
        return
    samples = Sample.objects.filter(client_id__one_of=list(done)).values_list("client_id", "pk")
    ResampleTask.objects.bulk_update([
        ResampleTask(pk=done[client_id], status=ResampleTask.Status.DONE, sample_id=pk, updated_at=timezone.now())
        for client_id, pk in samples], ["status", "sample", "updated_at"])


def _batch_statement() -> str:
    """Store a whole batch when every row is plainly allowed, and nothing otherwise: one statement.

    Each row must name a person of its round's community who has no sample in the round yet and appears
    once in the batch, a client_id never stored, and a pooled tube (single tubes, where 单管复核 goes, take
    the full path) of its round and site, open with room for all the batch's rows in it, or a barcode
    never used (opened at the round and site of its first row). Then the samples are stored, the tubes
    counted and closed at their pool size, and the tubes opened or closed audited. Answers whether all
    held, the samples stored, the tubes counted or opened, and the tubes the batch names.

    Persons, tubes and earlier samples are each looked up by a lateral subquery with LIMIT, which the
    planner keeps as one index probe per row: as joins, it read whole tables under PostgreSQL's default
    page costs (64-70 ms for a thousand rows against 27-31). The tubes are locked in barcode order, as
    the full path locks them, and new tubes and samples are inserted in barcode and person order, so two
    devices' batches wait for each other rather than deadlock.
    """
    return (f"WITH {_batch_rows_sql()}, {_batch_tubes_sql()}, {_batch_verdict_sql()}, {_batch_writes_sql()}"
            " SELECT (SELECT ok FROM verdict), (SELECT count(*) FROM stored), (SELECT count(*) FROM filled),"
            " (SELECT count(*) FROM tubes)")


def _batch_rows_sql() -> str:
    """`batch`, the arrays as numbered rows; `named`, each with its round's community and pool size and the
    person its id or ID number names in that community (NULL when none)."""
    r = {n: rawsql.column(TestRound, n) for n in ("id", "community", "pool_size")}
    p = {n: rawsql.column(Person, n) for n in ("id", "community", "household", "id_type", "id_number")}

    def person(condition: str) -> str:
        return (f"(SELECT {p['id']} AS id, {p['household']} AS household_id FROM {rawsql.table(Person)}"
                f" WHERE {condition} AND {p['community']} = r.{r['community']} LIMIT 1)")

    by_pk = person(f"{p['id']} = b.person_pk")
    by_number = person(f"b.person_pk IS NULL AND {p['id_type']} = %(id_type)s AND {p['id_number']} = b.id_number")
    return ("batch AS (SELECT * FROM unnest(%(client_ids)s::uuid[], %(rounds)s::bigint[], %(sites)s::bigint[],"
            " %(barcodes)s::text[], %(persons)s::bigint[], %(id_numbers)s::text[], %(taken_ats)s::timestamptz[],"
            " %(door_to_doors)s::boolean[]) WITH ORDINALITY"
            " AS b(client_id, round_id, site_id, barcode, person_pk, id_number, taken_at, door_to_door, n)),"
            f" named AS (SELECT b.*, r.{r['community']} AS community_id, r.{r['pool_size']} AS pool_size,"
            " COALESCE(by_pk.id, by_number.id) AS person_id,"
            " COALESCE(by_pk.household_id, by_number.household_id) AS household_id"
            f" FROM batch b JOIN {rawsql.table(TestRound)} r ON r.{r['id']} = b.round_id"
            f" LEFT JOIN LATERAL {by_pk} by_pk ON true"
            f" LEFT JOIN LATERAL {by_number} by_number ON true)")


def _batch_tubes_sql() -> str:
    """`locked`, the batch's tubes that exist, locked; `tubes`, those and the ones to open, each with the
    rows the batch adds to it and the last of their swab times."""
    t = {n: rawsql.column(Tube, n) for n in (
        "id", "barcode", "round", "site", "community", "pool_size", "sample_count", "status")}
    selected = ", ".join(f"t.{t[name]} AS {alias}" for name, alias in (
        ("id", "id"), ("barcode", "barcode"), ("round", "round_id"), ("site", "site_id"),
        ("community", "community_id"), ("pool_size", "pool_size"), ("sample_count", "sample_count"),
        ("status", "status")))
    return (f"locked AS (SELECT {selected} FROM unnest(%(tube_barcodes)s::text[]) wanted(barcode)"
            f" JOIN LATERAL (SELECT * FROM {rawsql.table(Tube)} WHERE {t['barcode']} = wanted.barcode LIMIT 1) t"
            f" ON true ORDER BY t.{t['barcode']} FOR UPDATE OF t),"
            " per_tube AS (SELECT barcode, count(*) AS added, max(taken_at) AS last_taken, min(n) AS first"
            " FROM named GROUP BY barcode),"
            " tubes AS (SELECT l.id, pt.barcode, l.round_id, l.site_id, l.community_id, l.pool_size, l.sample_count,"
            " l.status, pt.added, pt.last_taken FROM per_tube pt JOIN locked l ON l.barcode = pt.barcode"
            " UNION ALL SELECT NULL, pt.barcode, nm.round_id, nm.site_id, nm.community_id, nm.pool_size, 0,"
            " %(open)s, pt.added, pt.last_taken FROM per_tube pt JOIN named nm ON nm.n = pt.first"
            " WHERE NOT EXISTS (SELECT 1 FROM locked l WHERE l.barcode = pt.barcode))")


def _batch_verdict_sql() -> str:
    """`verdict`: whether every row is allowed (see `_batch_statement`)."""
    s = {n: rawsql.column(Sample, n) for n in ("client_id", "round", "person", "void", "resample")}
    sample = f"SELECT 1 AS one FROM {rawsql.table(Sample)} s WHERE"
    return ("checked AS (SELECT nm.person_id IS NOT NULL AND tb.round_id = nm.round_id AND tb.site_id = nm.site_id"
            " AND tb.status = %(open)s AND tb.pool_size > 1 AND tb.sample_count + tb.added <= tb.pool_size"
            " AND replay.one IS NULL AND earlier.one IS NULL AS allowed,"
            " count(*) OVER (PARTITION BY nm.round_id, nm.person_id) AS times,"
            " count(*) OVER (PARTITION BY nm.client_id) AS sent FROM named nm JOIN tubes tb ON tb.barcode = nm.barcode"
            f" LEFT JOIN LATERAL ({sample} s.{s['client_id']} = nm.client_id LIMIT 1) replay ON true"
            f" LEFT JOIN LATERAL ({sample} s.{s['round']} = nm.round_id AND s.{s['person']} = nm.person_id"
            f" AND s.{s['void']} = false AND s.{s['resample']} = false LIMIT 1) earlier ON true),"
            " verdict AS (SELECT count(*) = %(size)s AND bool_and(allowed AND times = 1 AND sent = 1) AS ok"
            " FROM checked)")


def _batch_writes_sql() -> str:
    """`opened` and `counted` tubes (together `filled`), `stored` samples and the audit events: each writes
    only when the verdict holds."""
    t = {n: rawsql.column(Tube, n) for n in (
        "id", "round", "community", "site", "barcode", "pool_size", "sample_count", "status", "result", "opened_by",
        "opened_at", "closed_at")}
    tube_table, full = rawsql.table(Tube), "added >= pool_size"
    opened_columns = ", ".join(t[n] for n in ("round", "community", "site", "barcode", "pool_size", "sample_count",
                                              "status", "result", "opened_by", "opened_at", "closed_at"))
    reached = f"t.{t['sample_count']} + tb.added >= t.{t['pool_size']}"
    returned = {"id": "id", "barcode": "barcode", "community": "community_id", "status": "status"}
    audited = {event: audit.insert_select_sql(event=event, object_id="CAST(tube.id AS text)",
                                              community="tube.community_id", object_repr="tube.barcode", source=source)
               for event, source in (("opened", "opened tube"),
                                     ("closed", "filled tube WHERE tube.status = %(closed)s"))}
    return (f"opened AS (INSERT INTO {tube_table} ({opened_columns})"
            " SELECT round_id, community_id, site_id, barcode, pool_size, added,"
            f" CASE WHEN {full} THEN %(closed)s ELSE %(open)s END, '', %(sampler)s, %(created_at)s,"
            f" CASE WHEN {full} THEN last_taken END FROM tubes WHERE id IS NULL AND (SELECT ok FROM verdict)"
            " ORDER BY barcode ON CONFLICT DO NOTHING"
            f" RETURNING {', '.join(f'{t[name]} AS {alias}' for name, alias in returned.items())}),"
            f" counted AS (UPDATE {tube_table} t SET {t['sample_count']} = t.{t['sample_count']} + tb.added,"
            f" {t['status']} = CASE WHEN {reached} THEN %(closed)s ELSE t.{t['status']} END,"
            f" {t['closed_at']} = CASE WHEN {reached} THEN tb.last_taken ELSE t.{t['closed_at']} END"
            f" FROM tubes tb WHERE t.{t['id']} = tb.id AND t.{t['id']} = ANY(ARRAY(SELECT id FROM locked))"
            " AND (SELECT ok FROM verdict)"
            f" RETURNING {', '.join(f't.{t[name]} AS {alias}' for name, alias in returned.items())}),"
            " filled AS (SELECT * FROM counted UNION ALL SELECT * FROM opened),"
            f" stored AS (INSERT INTO {rawsql.table(Sample)}"
            f" ({', '.join(rawsql.column(Sample, n) for n in _SAMPLE_COLUMNS)})"
            " SELECT nm.round_id, tube.id, nm.community_id, nm.person_id, nm.household_id, nm.site_id, %(sampler)s,"
            " nm.taken_at, nm.door_to_door, false, false, nm.client_id, %(created_at)s"
            " FROM named nm JOIN filled tube ON tube.barcode = nm.barcode ORDER BY nm.person_id RETURNING 1),"
            f" audited_opened AS ({audited['opened']}), audited_closed AS ({audited['closed']})")


def _batch_arrays(actor, rows: list[dict], now: datetime.datetime) -> dict | None:
    """The batch as `_batch_statement`'s arrays, or None when a row, a round or a site needs the full path to
    explain a refusal."""
    try:
        named = {(raw.get("round_id"), raw.get("site_id")) for raw in rows}
    except TypeError:
        return None
    pairs = {pair: (_int_or_none(pair[0]), _int_or_none(pair[1])) for pair in named}
    rounds, _sites, refusals = _rounds_and_sites(actor, set(pairs.values()))
    if any(refusals.values()):
        return None
    read_code, arrays = personal_code_reader(), {name: [] for name in (
        "client_ids", "rounds", "sites", "barcodes", "persons", "id_numbers", "taken_ats", "door_to_doors")}
    try:
        for raw in rows:
            round_id, site_id = pairs[raw.get("round_id"), raw.get("site_id")]
            kind, person, code_community = _person_named(raw.get("person_id"), raw.get("code"), raw.get("id_number"),
                                                         read_code)
            if code_community not in (None, rounds[round_id].community_id):
                return None
            arrays["client_ids"].append(_clean_sample_client_id(raw.get("client_id")))
            arrays["rounds"].append(round_id)
            arrays["sites"].append(site_id)
            arrays["barcodes"].append(_clean_barcode(raw.get("tube"), field="tube"))
            arrays["persons"].append(person if kind == "pk" else None)
            arrays["id_numbers"].append(person if kind == "id" else None)
            arrays["taken_ats"].append(_clean_taken_at(raw.get("taken_at"), now))
            arrays["door_to_doors"].append(bool(raw.get("door_to_door")))
    except DomainError:
        return None
    return arrays


class _NotAtOnce(Exception):
    """The batch statement found everything allowed but could not store it all (a writer in between)."""


def _stored_at_once(actor, rows: list[dict], now: datetime.datetime) -> list[dict] | None:
    """The everyday batch of a device catching up, every row allowed, stored by `_batch_statement` on PostgreSQL:
    each row's answer "stored". None, having stored nothing, when any row needs the full path (a replay, a
    refusal, a race with another writer) or the database is SQLite."""
    if connection.vendor != "postgresql" or not rows:
        return None
    arrays = _batch_arrays(actor, rows, now)
    if arrays is None:
        return None
    params = {**arrays, "tube_barcodes": list(dict.fromkeys(arrays["barcodes"])), "size": len(rows),
              "id_type": IdType.RESIDENT_ID, "open": Tube.Status.OPEN,
              "closed": Tube.Status.CLOSED, "sampler": actor.pk, "created_at": now,
              **audit.insert_select_params(actor=actor, object_type="tube", object_repr="", events={
                  "opened": (audit.Action.CREATE, ["barcode"]), "closed": (audit.Action.UPDATE, ["status"])})}
    try:
        with transaction.atomic():
            ok, stored, filled, tubes = rawsql.fetch_one(_batch_statement(), params)
            if ok and (stored, filled) != (len(rows), tubes):
                raise _NotAtOnce
    except (_NotAtOnce, IntegrityError):
        return None
    if not ok:
        return None
    return [{"client_id": str(client_id), "status": "stored", "message": ""} for client_id in arrays["client_ids"]]


def samples_register(*, actor, rows: list[dict]) -> list[dict]:
    """A site device catching up: each row answered stored / duplicate / refused; a replay stores nothing twice.

    Rows carry client_id, round_id, site_id, tube (barcode), code | id_number | person_id, taken_at,
    door_to_door. On PostgreSQL a batch whose every row is plainly allowed is stored by one statement
    (`_stored_at_once`). Otherwise, row by row: persons, stored client ids and earlier samples are read in
    bulk, unknown tubes are opened, the batch's tubes are locked, and the valid rows are inserted at once.
    """
    if not is_staff_member(actor):
        raise NotAllowed(_("仅工作人员可以采样"))
    if len(rows) > BATCH_LIMIT:
        raise DomainError(_("每批最多 %(n)s 条") % {"n": BATCH_LIMIT}, code="batch_too_large")
    now = timezone.now()
    at_once = _stored_at_once(actor, rows, now)
    if at_once is not None:
        return at_once
    batch = [_parse_row(raw, now) for raw in rows]
    _mark_replays(batch)
    _attach_rounds_and_sites(actor, batch)
    _attach_persons(batch)
    with transaction.atomic():
        _attach_tubes(actor, batch)
        _refuse_second_samples(batch)
        stored = _insert_samples(actor, batch)
        _count_stored(actor, stored)
        _finish_tasks(stored)
    return [row.answer() for row in batch]


# ---------------------------------------------------------------------------
# Lab results and positive tubes
# ---------------------------------------------------------------------------

RESULT_WORDS = {
    "阴性": Result.NEGATIVE, "negative": Result.NEGATIVE,
    "阳性": Result.POSITIVE, "positive": Result.POSITIVE,
    "无效": Result.INVALID, "invalid": Result.INVALID,
}
# Field code → the headers labs use for it (compared without spaces, underscores, brackets, case).
RESULT_HEADERS: dict[str, tuple[str, ...]] = {
    "barcode": ("条码", "管码", "试管条码", "采样管条码", "采样管编码", "采样管编号", "样本条码", "样本编号", "管号",
                "tube", "barcode", "tubebarcode"),
    "result": ("结果", "检测结果", "核酸结果", "result"),
    "time": ("时间", "报告时间", "检测时间", "结果时间", "time", "reportedat", "reporttime"),
    "lab": ("检测机构", "检测单位", "实验室", "lab", "laboratory"),
}
RESULT_ERRORS_SHOWN = 20
RESULT_CHUNK = 5000
_RESULT_ROLES = {Role.COMMUNITY_STAFF, Role.STREET_ADMIN, Role.MEDIC}
_RESULT_ALIASES = {alias: code for code, aliases in RESULT_HEADERS.items() for alias in aliases}
_RESULT_HEADER_NOISE = re.compile(r"[\s*※:_\-]|\(.*?\)|\[.*?\]")
_RESULT_TIME = re.compile(r"^(\d{4})\D(\d{1,2})\D(\d{1,2})\D?(?:[ T]*(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2}))?)?")


@dataclass(frozen=True)
class ResultRow:
    """One line of a lab's result file, checked."""

    line: int
    barcode: str
    result: str
    reported_at: datetime.datetime
    lab: str


@dataclass
class PositiveChain:
    """What a positive tube set off: its people, their re-sampling tasks, zones and cases, and what was skipped."""

    tube: Tube
    people: list = field(default_factory=list)
    tasks: int = 0
    zones: list = field(default_factory=list)
    cases: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def may_import_results(actor) -> bool:
    """Community staff, the street's task force and medics bring in the lab's results."""
    return actor.is_authenticated and (actor.is_superuser or actor.role in _RESULT_ROLES)


def _require_result_importer(actor) -> None:
    if not may_import_results(actor):
        raise NotAllowed(_("只有社区工作人员、街道专班和医护人员可以登记检测结果"))


def result_header_code(text) -> str | None:
    """The field a header cell names: '采样管条码(必填)' → 'barcode', 'Tube_Barcode' → 'barcode'."""
    return _RESULT_ALIASES.get(_RESULT_HEADER_NOISE.sub("", normalize_text(text)).lower())


def parse_result_word(text: str) -> str | None:
    return RESULT_WORDS.get(normalize_text(text).lower())


def parse_result_time(text: str) -> datetime.datetime | None:
    """2022-04-04 06:30, 2022/4/4 6:30:15, 2022年4月4日 6时30分 or a date alone, in local time; None otherwise."""
    match = _RESULT_TIME.match(text)
    if not match:
        return None
    parts = [int(part) if part else 0 for part in match.groups()]
    try:
        moment = datetime.datetime(*parts)
    except ValueError:
        return None
    return timezone.make_aware(moment)


def read_result_file(file_name: str, data: bytes) -> list[ResultRow]:
    """Every row of a result file, or a DomainError naming each bad line ("第 N 行") and nothing read."""
    grid, _merged, _formulas = ledger.read_grid(file_name, data)
    header_index, columns = _result_header(grid)
    now = timezone.now()
    rows, errors, first_line = [], [], {}
    for index in range(header_index + 1, len(grid)):
        cells = grid[index]
        texts = {code: ledger.cell_text(cells[position]) if position < len(cells) else ""
                 for code, position in columns.items()}
        if not any(texts.values()):
            continue
        row, problem = _result_row(index + 1, texts, now)
        if row is not None:
            first = first_line.setdefault(row.barcode, row.line)
            if first != row.line:
                problem = _("第 %(line)d 行:条码 %(barcode)s 与第 %(first)d 行重复") % {
                    "line": row.line, "barcode": row.barcode, "first": first}
        if problem:
            errors.append(problem)
        else:
            rows.append(row)
    if errors:
        shown = ";".join(errors[:RESULT_ERRORS_SHOWN]) + ("……" if len(errors) > RESULT_ERRORS_SHOWN else "")
        message = _("结果文件有 %(n)d 处错误,未导入任何结果:%(errors)s") % {"n": len(errors), "errors": shown}
        raise DomainError(message, code="bad_rows", fields={"file": message})
    if not rows:
        raise DomainError(_("结果文件中没有数据行"), code="empty", fields={"file": _("没有数据行")})
    return rows


def _result_header(grid: list[list]) -> tuple[int, dict[str, int]]:
    for index, cells in enumerate(grid[:ledger.HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        for position, value in enumerate(cells):
            code = result_header_code(ledger.cell_text(value))
            if code and code not in columns:
                columns[code] = position
        if "barcode" in columns and "result" in columns:
            return index, columns
    message = _("找不到表头:前 %(n)d 行中没有同时包含“条码”和“结果”两列的行") % {"n": ledger.HEADER_SEARCH_ROWS}
    raise DomainError(message, code="missing_column", fields={"file": message})


def _result_row(line: int, texts: dict, now: datetime.datetime) -> tuple[ResultRow | None, str | None]:
    barcode = normalize_barcode(texts["barcode"])
    if not barcode or len(barcode) > 40:
        return None, _("第 %(line)d 行:条码为空或超过 40 个字符") % {"line": line}
    result = parse_result_word(texts["result"])
    if result is None:
        return None, _("第 %(line)d 行:结果“%(word)s”无法识别,应为阴性、阳性或无效(negative/positive/invalid)") % {
            "line": line, "word": texts["result"]}
    time_text = texts.get("time", "")
    reported_at = parse_result_time(time_text) if time_text else now
    if reported_at is None:
        return None, _("第 %(line)d 行:时间“%(text)s”无法识别,应如 2022-04-04 06:30") % {"line": line, "text": time_text}
    if reported_at > now + datetime.timedelta(minutes=5):
        return None, _("第 %(line)d 行:时间 %(text)s 晚于现在") % {"line": line, "text": time_text}
    return ResultRow(line=line, barcode=barcode, result=result, reported_at=reported_at,
                     lab=texts.get("lab", "")[:100]), None


def lab_results_import(*, actor, community, uploaded_file) -> ResultImport:
    """Bring in a lab's result file for one community, then set off the chain of every positive tube.

    A malformed row stops the whole file; a barcode that is no tube of the community is only
    reported. A tube whose current result the file repeats is left alone (the same file twice
    stores nothing twice); a different word is a correction that replaces the current result.
    The results land in one transaction; each positive tube's chain then runs in its own.
    """
    _require_result_importer(actor)
    ensure_in_scope(actor, community)
    rows = read_result_file(uploaded_file.name or "", uploaded_file.read())
    with transaction.atomic():
        result_import, positive_ids = _store_results(actor=actor, community=community,
                                                     file_name=uploaded_file.name or "", rows=rows)
    for tube in Tube.objects.filter(pk__in=positive_ids).order_by("id"):
        positive_tube_chain(actor=actor, tube=tube)
    return result_import


_LAB_RESULT_COLUMNS = ("tube_id", "community_id", "result", "reported_at", "lab", "replaces_id", "source_id",
                       "recorded_by_id", "created_at")


def _store_results(*, actor, community, file_name: str, rows: list[ResultRow]) -> tuple[ResultImport, list[int]]:
    tubes = _tube_ids_by_barcode(community, [row.barcode for row in rows])
    current = _current_results(list(tubes.values()))
    unknown = [row.barcode for row in rows if row.barcode not in tubes]
    fresh = [(row, tubes[row.barcode]) for row in rows if row.barcode in tubes
             and current.get(tubes[row.barcode], (None, None))[1] != row.result]
    positive_ids = [tube_id for row, tube_id in fresh if row.result == Result.POSITIVE]
    result_import = ResultImport.objects.create(community=community, file_name=file_name[:200], rows=len(rows),
                                                positives=len(positive_ids), unknown_tubes=unknown, imported_by=actor)
    now = timezone.now()
    insert_rows(LabResult, _LAB_RESULT_COLUMNS, [
        (tube_id, community.pk, row.result, row.reported_at, row.lab, current.get(tube_id, (None, None))[0],
         result_import.pk, actor.pk, now) for row, tube_id in fresh])
    update_rows(Tube, "id", ("result", "resulted_at", "status"),
                [(tube_id, row.result, row.reported_at, Tube.Status.RESULTED) for row, tube_id in fresh])
    invalid_ids = [tube_id for row, tube_id in fresh if row.result == Result.INVALID]
    for start in range(0, len(invalid_ids), RESULT_CHUNK):
        Sample.objects.filter(tube_id__in=invalid_ids[start:start + RESULT_CHUNK], void=False).update(void=True)
    audit.record(actor=actor, action=audit.Action.IMPORT, obj=result_import,
                 object_repr=f"{file_name} ({len(fresh)}/{len(rows)})", fields=["rows", "positives", "unknown_tubes"])
    return result_import, positive_ids


def _tube_ids_by_barcode(community, barcodes: list[str]) -> dict[str, int]:
    """The community's tubes among the barcodes, locked so a second import of the same tubes waits."""
    found: dict[str, int] = {}
    for start in range(0, len(barcodes), RESULT_CHUNK):
        chunk = barcodes[start:start + RESULT_CHUNK]
        found.update(Tube.objects.select_for_update().filter(community=community, barcode__in=chunk)
                     .values_list("barcode", "id"))
    return found


def _current_results(tube_ids: list[int]) -> dict[int, tuple[int, str]]:
    """tube id → (id, word) of its current result: the latest one nothing replaces."""
    current: dict[int, tuple[int, str]] = {}
    for start in range(0, len(tube_ids), RESULT_CHUNK):
        rows = (LabResult.objects.filter(tube_id__in=tube_ids[start:start + RESULT_CHUNK], replaced_by__isnull=True)
                .order_by("created_at", "id").values_list("tube_id", "id", "result"))
        current.update((tube_id, (pk, word)) for tube_id, pk, word in rows)
    return current


def lab_result_record(*, actor, tube: Tube, result: str, reported_at: datetime.datetime, lab: str = "",
                      replaces: LabResult | None = None) -> LabResult:
    """One result for one tube (a lab's device, a phone call written down).

    Results are never changed: a second result must name the current one in `replaces`,
    so two people correcting at once cannot both win (409 for the second).
    """
    _require_result_importer(actor)
    ensure_in_scope(actor, tube)
    result = require_choice(result, Result, field="result", label=_("检测结果"))
    _check_reported_at(reported_at)
    with transaction.atomic():
        tube = Tube.objects.select_for_update().get(pk=tube.pk)
        current = _current_results([tube.pk]).get(tube.pk)
        _check_replaces(current, replaces)
        lab_result = LabResult.objects.create(tube=tube, community_id=tube.community_id, result=result,
                                              reported_at=reported_at, lab=normalize_text(lab)[:100],
                                              replaces=replaces, recorded_by=actor)
        Tube.objects.filter(pk=tube.pk).update(result=result, resulted_at=reported_at, status=Tube.Status.RESULTED)
        if result == Result.INVALID:
            Sample.objects.filter(tube=tube, void=False).update(void=True)
        audit.record(actor=actor, action=audit.Action.CREATE, obj=lab_result,
                     object_repr=f"{tube.barcode} {lab_result.get_result_display()}",
                     fields=["result", "reported_at", "lab"] + (["replaces"] if replaces else []))
    if result == Result.POSITIVE:
        tube.refresh_from_db()
        positive_tube_chain(actor=actor, tube=tube)
    return lab_result


def _check_reported_at(reported_at) -> None:
    if reported_at is None or reported_at > timezone.now() + datetime.timedelta(minutes=5):
        message = _("报告时间不能为空,也不能晚于现在")
        raise DomainError(message, fields={"reported_at": message})


def _check_replaces(current: tuple[int, str] | None, replaces: LabResult | None) -> None:
    if current is None and replaces is not None:
        message = _("该管还没有结果,无需更正")
        raise Conflict(message, code="nothing_to_replace", fields={"replaces_id": message})
    if current is not None and (replaces is None or replaces.pk != current[0]):
        message = _("该管已有结果(%(word)s);更正须指明所替代的当前结果") % {"word": Result(current[1]).label}
        raise Conflict(message, code="result_exists", fields={"replaces_id": message})


def positive_tube_chain(*, actor, tube: Tube) -> PositiveChain:
    """Everything a positive tube sets off, in one transaction.

    A pooled tube: everyone in it gets a re-sampling task (单管复核) with their household and grid,
    and each household is proposed as a controlled zone. A tube of one person (pool size 1 or a
    re-sample) is a positive: it opens a case, whose own chain follows; someone who already has
    an open case gets a line on that case's timeline instead.
    """
    with transaction.atomic():
        samples = list(Sample.objects.filter(tube_id=tube.pk, void=False)
                       .select_related("person", "household__unit__building", "household__compound")
                       .order_by("id"))
        chain = PositiveChain(tube=tube, people=[sample.person for sample in samples])
        if tube.pool_size == 1 or any(sample.resample for sample in samples):
            _open_cases(actor=actor, chain=chain)
        else:
            _resample_everyone(actor=actor, chain=chain, samples=samples)
    return chain


def _resample_everyone(*, actor, chain: PositiveChain, samples: list[Sample]) -> None:
    tube = chain.tube
    households = {}
    tasks = []
    for sample in samples:
        household = sample.household or sample.person.household
        if household is not None:
            households.setdefault(household.pk, household)
        tasks.append(ResampleTask(round_id=tube.round_id, community_id=tube.community_id, tube_id=tube.pk,
                                  person_id=sample.person_id, household=household,
                                  grid_id=household.grid_id if household else None))
    ResampleTask.objects.bulk_create(tasks, ignore_conflicts=True)
    chain.tasks = len(tasks)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=tube, object_type="resampletask",
                 object_repr=_("%(barcode)s 混管阳性:%(n)d 人单管复核") % {"barcode": tube.barcode, "n": len(tasks)},
                 fields=["person", "household", "grid"])
    reason = _("混管阳性 %(barcode)s") % {"barcode": tube.barcode}
    chain.zones, refused = zone_services.zones_propose_for_households(
        actor=actor, level=Level.CONTROLLED, households=list(households.values()), reason=reason)
    chain.notes += [f"{household.shorthand}:{message}" for household, message in refused]


def _open_cases(*, actor, chain: PositiveChain) -> None:
    tube = chain.tube
    for person in chain.people:
        open_case = Case.objects.filter(person=person, status__in=Case.OPEN_STATUSES).first()
        if open_case is not None:
            note = _("单管阳性 %(barcode)s(已是病例,未重复登记)") % {"barcode": tube.barcode}
            health_services.case_event_add(actor=actor, case=open_case, kind=CaseEvent.Kind.NOTE, note=note)
            chain.notes.append(f"{person.name}:{note}")
            continue
        try:
            with transaction.atomic():
                chain.cases.append(health_services.case_open(
                    actor=actor, person=person, source=Case.Source.TEST_RESULT,
                    confirmed_at=tube.resulted_at or timezone.now(), source_ref=tube.barcode))
        except DomainError as err:
            chain.notes.append(f"{person.name}:{err.message}")


# ---------------------------------------------------------------------------
# Coverage and figures
# ---------------------------------------------------------------------------

MAX_PHOTO_BYTES = 5 * 1024 * 1024
_PHOTO_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def _antigen_client_id(client_id) -> uuid.UUID | None:
    if client_id in (None, ""):
        return None
    try:
        return client_id if isinstance(client_id, uuid.UUID) else uuid.UUID(str(client_id))
    except ValueError:
        message = _("client_id 应为 UUID")
        raise DomainError(message, fields={"client_id": message}) from None


def _check_photo(photo) -> None:
    """At most 5 MB, and a JPEG or PNG by its first bytes (a renamed file is refused whatever its name says)."""
    if photo.size > MAX_PHOTO_BYTES:
        message = _("照片不能超过 5 MB")
        raise DomainError(message, code="photo_too_large", fields={"photo": message})
    photo.seek(0)
    head = photo.read(8)
    photo.seek(0)
    if not head.startswith(_PHOTO_SIGNATURES):
        message = _("照片应为 JPEG 或 PNG 图片")
        raise DomainError(message, code="photo_not_image", fields={"photo": message})


def _antigen_taken_at(taken_at: datetime.datetime | None) -> datetime.datetime:
    now = timezone.now()
    taken_at = taken_at or now
    if taken_at > now + datetime.timedelta(minutes=10):
        message = _("检测时间不能晚于现在")
        raise DomainError(message, fields={"taken_at": message})
    if taken_at < now - datetime.timedelta(days=7):
        message = _("只能填报7天内的检测")
        raise DomainError(message, fields={"taken_at": message})
    return taken_at


def _antigen_round(person: Person, round: TestRound | None, taken_at: datetime.datetime) -> TestRound | None:
    """The round a report counts in: the one given (of the person's community), else the latest round that
    day expecting the person, else none."""
    if round is not None:
        if round.community_id != person.household.community_id:
            message = _("该轮次不属于此人所在社区")
            raise DomainError(message, fields={"round": message})
        return round
    candidates = TestRound.objects.filter(community_id=person.household.community_id,
                                          on=timezone.localdate(taken_at)).order_by("-id")
    return next((candidate for candidate in candidates
                 if expected_people(candidate).filter(pk=person.pk).exists()), None)


def antigen_report(*, actor, person: Person, result: str, taken_at: datetime.datetime | None = None, photo=None,
                   client_id=None, round: TestRound | None = None) -> AntigenReport:
    """A resident reports an antigen self-test for a member of their own household (staff for anyone in scope).

    The same client_id twice stores once and returns the first report; it is counted apart from samples.
    """
    if not actor.is_authenticated:
        raise NotAllowed(_("请先登录"))
    client_id = _antigen_client_id(client_id)
    if client_id is not None:
        existing = AntigenReport.objects.filter(client_id=client_id).first()
        if existing is not None:
            ensure_in_scope(actor, existing)
            return existing
    ensure_in_scope(actor, person)
    if person.household_id is None:
        message = _("该人员没有登记住户,无法填报")
        raise DomainError(message, fields={"person": message})
    require_choice(result, Result, field="result", label=_("检测结果"))
    if photo:
        _check_photo(photo)
    taken_at = _antigen_taken_at(taken_at)
    round = _antigen_round(person, round, taken_at)
    try:
        with transaction.atomic():
            return _store_antigen(actor=actor, person=person, result=result, taken_at=taken_at, photo=photo,
                                  client_id=client_id, round=round)
    except IntegrityError:
        existing = AntigenReport.objects.filter(client_id=client_id).first() if client_id else None
        if existing is None:
            raise
        return existing


def _store_antigen(*, actor, person: Person, result: str, taken_at, photo, client_id, round) -> AntigenReport:
    report = AntigenReport(community_id=person.household.community_id, person=person, household_id=person.household_id,
                           round=round, result=result, taken_at=taken_at, reported_by=actor, client_id=client_id)
    if photo:
        report.photo.save(f"{uuid.uuid4().hex}{_photo_suffix(photo)}", photo, save=False)
    report.save()
    audit.record(actor=actor, action=audit.Action.CREATE, obj=report, object_repr=str(person),
                 fields=["result", "taken_at"] + (["photo"] if photo else []))
    return report


def _photo_suffix(photo) -> str:
    photo.seek(0)
    suffix = ".png" if photo.read(8).startswith(_PHOTO_SIGNATURES[1]) else ".jpg"
    photo.seek(0)
    return suffix


def untested_list_print(*, actor, round: TestRound, building: Building) -> None:
    """Printing a building's untested list (names, rooms, masked phones) for door knocking is logged as an export."""
    audit.record(actor=actor, action=audit.Action.EXPORT, obj=round,
                 object_repr=_("%(round)s %(building)s 未采样名单") % {"round": round, "building": building},
                 fields=["name", "room", "phone"])
