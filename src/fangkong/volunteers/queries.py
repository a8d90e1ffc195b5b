"""Scoped reads of posts and of the places and zones a post may stand at."""

from django.db.models import Case, IntegerField, Value, When

from fangkong.core.scope import get_in_scope
from fangkong.places.models import Unit
from fangkong.volunteers.models import Post
from fangkong.zones.models import Zone

_OPEN_FIRST = Case(When(status=Post.Status.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())


def posts_for(actor, *, status: str = "", community=None, zone=None):
    """Posts in scope, open ones first; each with its community, place and zone for the list."""
    return (Post.objects.in_scope(actor).narrowed(status=status, community=community, zone=zone)
            .select_related("community", "compound", "building", "unit__building", "zone__compound",
                            "zone__building", "zone__unit__building", "zone__household__unit__building")
            .order_by(_OPEN_FIRST, "community_id", "name", "id"))


def get_post_for(actor, pk) -> Post:
    return get_in_scope(posts_for(actor), pk)


def get_unit_for(actor, pk) -> Unit:
    """A unit a post may stand at; 404 outside the actor's scope."""
    return get_in_scope(Unit.objects.in_scope(actor).select_related("building"), pk)


def live_zones_for(actor):
    """Proposed and active zones in scope: the zones a post may belong to."""
    return (Zone.objects.in_scope(actor).live()
            .select_related("compound", "building", "unit__building", "household__unit__building"))


def get_live_zone_for(actor, pk) -> Zone:
    return get_in_scope(live_zones_for(actor), pk)
