"""Test rounds and the people left out of them by hand (exemptions)."""

import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from fangkong.core import audit
from fangkong.core.errors import Conflict, DomainError, require_choice
from fangkong.core.idnumbers import normalize_text
from fangkong.core.scope import ensure_in_scope
from fangkong.people.models import Person, Tag
from fangkong.places.models import Community
from fangkong.testing.models import POOL_SIZES, RoundExemption, TestRound
from fangkong.testing.permissions import require_round_manager
from fangkong.testing.queries import round_people
from fangkong.zones.models import Zone

_INFANT_MONTHS_MAX = 216
_CASE_REASONS = {RoundExemption.Reason.AWAY: "exempt_away", RoundExemption.Reason.IN_HOSPITAL: "exempt_in_hospital",
                 RoundExemption.Reason.POSITIVE: "exempt_positive"}


def field_error(field: str, message: str) -> DomainError:
    return DomainError(message, fields={field: message})


def clean_name(name: str, field: str = "name") -> str:
    name = normalize_text(name)
    if not name:
        raise field_error(field, _("请填写名称"))
    return name


def _clean_pool_size(pool_size) -> int:
    if pool_size not in POOL_SIZES:
        raise field_error("pool_size", _("混采人数应为 1、5、10 或 20 人一管"))
    return pool_size


def _clean_grids(grids, community) -> list:
    grids = list(grids)
    if any(grid.community_id != community.pk for grid in grids):
        raise field_error("grids", _("所选网格不属于%(community)s") % {"community": community.name})
    return grids


def _clean_round_target(kind: str, community, zone, key_tags) -> tuple:
    """The zone and key tags that go with the round's kind, or a clear error."""
    require_choice(kind, TestRound.Kind, field="kind", label=_("筛查类型"))
    if kind == TestRound.Kind.ZONE:
        if zone is None:
            raise field_error("zone", _("区域筛查须选择一个封控管控区域"))
        if zone.community_id != community.pk:
            raise field_error("zone", _("所选区域不属于%(community)s") % {"community": community.name})
    elif zone is not None:
        raise field_error("zone", _("只有区域筛查可以选择区域"))
    key_tags = sorted(set(key_tags or ()))
    if kind == TestRound.Kind.KEY_GROUPS:
        unknown = [tag for tag in key_tags if tag not in Tag.values]
        if not key_tags or unknown:
            raise field_error("key_tags", _("重点人群筛查须选择至少一类重点人群"))
    elif key_tags:
        raise field_error("key_tags", _("只有重点人群筛查可以选择重点人群"))
    return zone, key_tags


def _clean_infant_months(months) -> int:
    if not isinstance(months, int) or not 0 <= months <= _INFANT_MONTHS_MAX:
        raise field_error("infant_months", _("免采婴幼儿月龄应在 0 到 216 之间"))
    return months


@transaction.atomic
def test_round_create(*, actor, community: Community, name: str, on: datetime.date, kind: str = TestRound.Kind.EVERYONE,
                      pool_size: int = 10, grids=(), zone: Zone | None = None, key_tags=(), infant_months: int = 36,
                      exempt_away: bool = True, exempt_in_hospital: bool = True,
                      exempt_positive: bool = True) -> TestRound:
    """A round of mass testing over a community, some of its grids, one of its zones or its key groups."""
    require_round_manager(actor)
    ensure_in_scope(actor, community)
    if zone is not None:
        ensure_in_scope(actor, zone)
    if on is None:
        raise field_error("on", _("请填写采样日期"))
    zone, key_tags = _clean_round_target(kind, community, zone, key_tags)
    round = TestRound.objects.create(
        community=community, name=clean_name(name), on=on, kind=kind, pool_size=_clean_pool_size(pool_size),
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
    require_round_manager(actor)
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
        raise field_error("reason", message)
    return reason


@transaction.atomic
def round_exemption_add(*, actor, round: TestRound, person: Person, reason: str, note: str = "") -> RoundExemption:
    """Leave one person of the round out by hand (away, in hospital, ...), with who decided it."""
    require_round_manager(actor)
    ensure_in_scope(actor, round)
    ensure_in_scope(actor, person)
    round = TestRound.objects.select_for_update().get(pk=round.pk)
    _require_open(round)
    _check_reason(round, reason)
    if not round_people(round).filter(pk=person.pk).exists():
        raise field_error("person", _("%(name)s不在本轮筛查范围内") % {"name": person.name})
    note = normalize_text(note)
    if reason == RoundExemption.Reason.OTHER and not note:
        raise field_error("note", _("其他原因须写明说明"))
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
    require_round_manager(actor)
    ensure_in_scope(actor, exemption)
    _require_open(TestRound.objects.select_for_update().get(pk=exemption.round_id))
    audit.record(actor=actor, action=audit.Action.DELETE, obj=exemption,
                 object_repr=f"{exemption.round} {exemption.person}", fields=["reason"])
    exemption.delete()
