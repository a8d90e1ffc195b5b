"""Post endpoints. A post or a place outside the actor's scope is 404."""

from ninja import Router, Status

from fangkong.core.api import paginated
from fangkong.core.choices import Choice
from fangkong.core.converters import Id
from fangkong.core.errors import lookup
from fangkong.places.queries import get_building_for, get_community_for, get_compound_for
from fangkong.volunteers import queries, services
from fangkong.volunteers.models import Post
from fangkong.volunteers.schemas import PostIn, PostOut

router = Router()


@router.get("/posts", response=list[PostOut], summary="岗位列表(在岗在前)")
@paginated
def post_list(request, status: Choice[Post.Status] | None = None, zone: Id | None = None):
    return queries.posts_for(request.auth, status=status or "", zone=zone)


@router.post("/posts", response={201: PostOut}, summary="设岗(社区工作人员)")
def post_create(request, payload: PostIn):
    actor = request.auth
    post = services.post_create(
        actor=actor, community=lookup(get_community_for, actor, payload.community_id, "community_id"),
        name=payload.name, kind=payload.kind,
        compound=lookup(get_compound_for, actor, payload.compound_id, "compound_id"),
        building=lookup(get_building_for, actor, payload.building_id, "building_id"),
        unit=lookup(queries.get_unit_for, actor, payload.unit_id, "unit_id"),
        zone=lookup(queries.get_live_zone_for, actor, payload.zone_id, "zone_id"),
        hours_per_day=payload.hours_per_day, headcount=payload.headcount)
    return Status(201, queries.get_post_for(actor, post.pk))


@router.post("/posts/{post_id}/close", response=PostOut, summary="撤岗")
def post_close(request, post_id: Id):
    post = queries.get_post_for(request.auth, post_id)
    services.post_close(actor=request.auth, post=post)
    return queries.get_post_for(request.auth, post_id)
