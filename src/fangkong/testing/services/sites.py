"""Sampling sites and door-to-door teams: their hours, their team of samplers, their roster of households."""

import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from fangkong.core import audit
from fangkong.core.errors import Conflict, require_choice
from fangkong.core.idnumbers import normalize_text
from fangkong.core.roles import is_staff_member
from fangkong.core.scope import ensure_in_scope, scope_of
from fangkong.places.models import Community
from fangkong.testing.models import SamplingSite
from fangkong.testing.permissions import require_round_manager
from fangkong.testing.services.rounds import clean_name, field_error
from fangkong.zones.models import Zone
from fangkong.zones.places import households_in


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
        raise field_error("team", _("%(names)s不负责%(community)s,不能加入采样队") % {
            "names": names, "community": community.name})
    return team


def _clean_roster(roster, kind: str, community: Community) -> list:
    roster = list(roster)
    if roster and kind != SamplingSite.Kind.DOOR_TO_DOOR:
        raise field_error("roster", _("只有上门采样队有上门名单"))
    if any(household.community_id != community.pk for household in roster):
        raise field_error("roster", _("上门名单中有不属于%(community)s的户") % {"community": community.name})
    return roster


def _clean_hours(opens_at, closes_at) -> None:
    if opens_at is not None and closes_at is not None and opens_at >= closes_at:
        raise field_error("closes_at", _("结束时间应晚于开始时间"))


def _clean_site(*, community, site_pk, name, kind, opens_at, closes_at, team, roster) -> dict:
    require_choice(kind, SamplingSite.Kind, field="kind", label=_("采样点类型"))
    name = clean_name(name)
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
    require_round_manager(actor)
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
    require_round_manager(actor)
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
    require_round_manager(actor)
    ensure_in_scope(actor, site)
    ensure_in_scope(actor, zone)
    if site.kind != SamplingSite.Kind.DOOR_TO_DOOR:
        raise field_error("roster", _("只有上门采样队有上门名单"))
    if zone.community_id != site.community_id:
        raise field_error("zone", _("所选区域不属于%(community)s") % {"community": site.community.name})
    known = set(site.roster.values_list("id", flat=True))
    added = [pk for pk in households_in(zone).values_list("id", flat=True) if pk not in known]
    site.roster.add(*added)
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=site, fields=["roster"])
    return len(added)
