"""Every write about posts. Sealed zones open their 24-hour guard posts through here.

Community staff (and street admins) set up and close posts by hand with `post_create` / `post_close`.
A zone's guard post follows the zone: once the zone services have checked who may change the zone
and changed it, `posts_follow_zone` opens or closes its post in the same transaction (it follows
"zones.status_changed" in settings.FOLLOWERS, since zones, below volunteers, cannot call it).
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit
from fangkong.core.errors import Conflict, DomainError, NotAllowed, require_choice
from fangkong.core.idnumbers import normalize_text
from fangkong.core.scope import ensure_in_scope
from fangkong.places.permissions import may_edit_places
from fangkong.volunteers.models import Post
from fangkong.zones.models import Zone

HOURS_RANGE = (1, 24)
HEADCOUNT_RANGE = (1, 50)


def _require_post_manager(actor) -> None:
    if not may_edit_places(actor):
        raise NotAllowed(_("只有社区工作人员可以设岗和撤岗"))


def _within(value, bounds: tuple[int, int], field: str, label: str) -> int:
    low, high = bounds
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        message = _("%(label)s应为 %(low)s–%(high)s 的整数") % {"label": label, "low": low, "high": high}
        raise DomainError(message, fields={field: message})
    return value


def _outside(field: str, label: str):
    message = _("%(label)s不在该社区内") % {"label": label}
    return DomainError(message, fields={field: message})


def _clean_place(community, compound, building, unit, zone) -> dict:
    """The post's place, filled upwards (a unit names its building and compound) and checked to lie in the community."""
    if zone is not None and zone.community_id != community.pk:
        raise _outside("zone_id", _("所属区域"))
    if zone is not None and compound is None and building is None and unit is None:
        compound, building, unit = zone.compound, zone.building, zone.unit
    if unit is not None:
        if building is not None and unit.building_id != building.pk:
            raise DomainError(_("单元不属于所选楼栋"), fields={"unit_id": _("单元不属于所选楼栋")})
        building = unit.building
    if building is not None:
        if compound is not None and building.compound_id != compound.pk:
            raise DomainError(_("楼栋不属于所选小区"), fields={"building_id": _("楼栋不属于所选小区")})
        compound = building.compound
    if compound is not None and compound.community_id != community.pk:
        raise _outside("compound_id", _("地点"))
    return {"compound": compound, "building": building, "unit": unit, "zone": zone}


def _insert(*, actor, community, name: str, kind: str, place: dict, hours_per_day: int, headcount: int) -> Post:
    post = Post.objects.create(community=community, name=name, kind=kind, hours_per_day=hours_per_day,
                               headcount=headcount, created_by=actor if actor is not None and actor.pk else None,
                               **place)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=post,
                 fields=["name", "kind", "hours_per_day", "headcount"])
    return post


def _end(*, actor, post: Post) -> None:
    post.status, post.closed_at = Post.Status.CLOSED, timezone.now()
    post.save(update_fields=["status", "closed_at", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=post, fields=["status"])


@transaction.atomic
def post_create(*, actor, community, name: str, kind: str, compound=None, building=None, unit=None, zone=None,
                hours_per_day: int = 24, headcount: int = 1) -> Post:
    """Set up a post where someone must stand: its place (inside the community), kind, hours a day and headcount."""
    _require_post_manager(actor)
    ensure_in_scope(actor, community)
    name = normalize_text(name or "")[:100]
    if not name:
        raise DomainError(_("请填写岗位名称"), fields={"name": _("必填")})
    require_choice(kind, Post.Kind, field="kind", label=_("岗位类型"))
    hours_per_day = _within(hours_per_day, HOURS_RANGE, "hours_per_day", _("每日在岗小时"))
    headcount = _within(headcount, HEADCOUNT_RANGE, "headcount", _("同时在岗人数"))
    place = _clean_place(community, compound, building, unit, zone)
    return _insert(actor=actor, community=community, name=name, kind=kind, place=place,
                   hours_per_day=hours_per_day, headcount=headcount)


@transaction.atomic
def post_close(*, actor, post: Post) -> Post:
    """Close a post (撤岗); a post already closed says so."""
    _require_post_manager(actor)
    ensure_in_scope(actor, post)
    locked = Post.objects.select_for_update().get(pk=post.pk)
    if locked.status == Post.Status.CLOSED:
        raise Conflict(_("该岗位已撤岗"), code="closed")
    _end(actor=actor, post=locked)
    return locked


def _zone_post_name(zone) -> str:
    return _("%(place)s 24小时值守") % {"place": zone.place_label}


@transaction.atomic
def posts_open_for_zone(*, actor, zone, headcount: int = 2) -> list[Post]:
    """Open the zone's 24-hour guard post unless it already has one open; return its open posts.

    The zone's row is locked first, so two activations at once still open one post.
    """
    list(Zone.objects.select_for_update().filter(pk=zone.pk).values_list("pk", flat=True))
    open_posts = list(Post.objects.open().filter(zone=zone))
    if open_posts:
        return open_posts
    place = {"compound_id": zone.compound_id, "building_id": zone.building_id, "unit_id": zone.unit_id, "zone": zone}
    headcount = _within(headcount, HEADCOUNT_RANGE, "headcount", _("同时在岗人数"))
    return [_insert(actor=actor, community=zone.community, name=_zone_post_name(zone), kind=Post.Kind.ZONE_GUARD,
                    place=place, hours_per_day=24, headcount=headcount)]


@transaction.atomic
def posts_close_for_zone(*, actor, zone) -> int:
    """Close the zone's open posts when it is lifted or replaced; return how many closed."""
    posts = list(Post.objects.select_for_update().open().filter(zone=zone))
    for post in posts:
        _end(actor=actor, post=post)
    return len(posts)


def posts_follow_zone(*, actor, zone) -> None:
    """An active zone under 24-hour guard has its guard post open; a zone that ended has none open."""
    if zone.status == Zone.Status.ACTIVE:
        if zone.guarded:
            posts_open_for_zone(actor=actor, zone=zone)
    elif zone.status != Zone.Status.PROPOSED:
        posts_close_for_zone(actor=actor, zone=zone)
