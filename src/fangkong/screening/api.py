"""Screening endpoints: risk areas, arrivals, follow-ups and colours, verification lists, screening rounds."""

from functools import partial

from ninja import Router

from fangkong.core.api import lookup, paginated
from fangkong.core.converters import Id
from fangkong.places.queries import get_community_for
from fangkong.screening.models import Color
from fangkong.screening.schemas import (BoardRowOut, FollowUpAssignIn, FollowUpContactIn, FollowUpDetailOut,
                                        FollowUpOut, FollowUpOverrideIn)

from fangkong.screening import queries, services

router = Router()


# Follow-ups and the four colours

@router.get("/follow-ups", response=list[FollowUpOut], summary="跟踪对象(四色),mine=true 为我的跟踪对象")
@paginated
def follow_up_list(request, color: Color | None = None, grid: Id | None = None, mine: bool = False):
    if mine:
        return queries.my_follow_ups(request.auth)
    return queries.follow_ups_for(request.auth, color=color or "", grid=grid).order_by("risk_color", "next_visit_on", "id")


@router.get("/follow-ups/board", response=list[BoardRowOut], summary="四色看板:各网格各颜色人数")
def follow_up_board(request, community: Id | None = None):
    community = get_community_for(request.auth, community) if community else None
    rows, totals = queries.color_board(request.auth, community=community)
    return [{"grid_id": r["grid"].pk if r["grid"] else None, "grid_name": r["grid"].name if r["grid"] else "",
             **{color.value: n for color, n in r["cells"]}, "total": r["total"]} for r in rows]


def _follow_up_detail(actor, follow_up):
    follow_up.history = list(queries.color_history(actor, follow_up)[:100])
    return follow_up


@router.get("/follow-ups/{id}", response=FollowUpDetailOut, summary="跟踪对象详情与颜色变化记录")
def follow_up_detail(request, id: Id):
    return _follow_up_detail(request.auth, queries.get_follow_up_for(request.auth, id))


@router.post("/follow-ups/{id}/contacts", response=FollowUpDetailOut, summary="记录一次电话或上门联系")
def follow_up_contact(request, id: Id, body: FollowUpContactIn):
    follow_up = services.follow_up_record_contact(actor=request.auth, follow_up=queries.get_follow_up_for(request.auth, id),
                                                  **body.dict())
    return _follow_up_detail(request.auth, follow_up)


@router.post("/follow-ups/{id}/override", response=FollowUpDetailOut, summary="人工调整颜色(须填写原因)")
def follow_up_override(request, id: Id, body: FollowUpOverrideIn):
    follow_up = services.follow_up_override(actor=request.auth, follow_up=queries.get_follow_up_for(request.auth, id),
                                            color=body.color, reason=body.reason)
    return _follow_up_detail(request.auth, follow_up)


@router.post("/follow-ups/{id}/assign", response=FollowUpDetailOut, summary="指定责任人")
def follow_up_assign(request, id: Id, body: FollowUpAssignIn):
    follow_up = queries.get_follow_up_for(request.auth, id)
    responsible = lookup(partial(queries.get_responsible_candidate_for, follow_up=follow_up), request.auth,
                         body.responsible_id, "responsible_id")
    follow_up = services.follow_up_assign(actor=request.auth, follow_up=follow_up, responsible=responsible)
    return _follow_up_detail(request.auth, follow_up)



# Risk areas and arrivals


# Verification lists


# Screening rounds
