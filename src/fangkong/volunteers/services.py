"""Every write about posts. Sealed zones open their 24-hour guard posts through here."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit
from fangkong.volunteers.models import Post


def _zone_post_name(zone) -> str:
    return _("%(place)s 24小时值守") % {"place": zone.place_label}


@transaction.atomic
def posts_open_for_zone(*, actor, zone, headcount: int = 2) -> list[Post]:
    """Open the zone's 24-hour guard post unless it already has one open; return its open posts."""
    open_posts = list(Post.objects.open().filter(zone=zone))
    if open_posts:
        return open_posts
    post = Post.objects.create(community_id=zone.community_id, name=_zone_post_name(zone), kind=Post.Kind.ZONE_GUARD,
                               compound_id=zone.compound_id, building_id=zone.building_id, unit_id=zone.unit_id,
                               zone=zone, hours_per_day=24, headcount=headcount, created_by=actor)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=post, fields=["name", "kind", "hours_per_day", "headcount"])
    return [post]


@transaction.atomic
def posts_close_for_zone(*, actor, zone) -> int:
    """Close the zone's open posts when it is lifted or replaced; return how many closed."""
    posts = list(Post.objects.select_for_update().open().filter(zone=zone))
    now = timezone.now()
    for post in posts:
        post.status, post.closed_at = Post.Status.CLOSED, now
        post.save(update_fields=["status", "closed_at", "updated_at"])
        audit.record(actor=actor, action=audit.Action.UPDATE, obj=post, fields=["status"])
    return len(posts)
