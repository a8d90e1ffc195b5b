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
import datetime
from django.utils.translation import gettext as _
from ninja import Router, Status
from fangkong.core.errors import DomainError
from fangkong.people.queries import get_person_for
from fangkong.places.queries import get_household_for
from fangkong.screening.divisions import search_divisions
from fangkong.screening.schemas import ArrivalIn, ArrivalOut, DivisionOut, RiskAreaEndIn, RiskAreaIn, RiskAreaOut

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

@router.get("/risk-areas", response=list[RiskAreaOut], summary="风险地区列表")
@paginated
def risk_area_list(request, current_on: datetime.date | None = None):
    """current_on: 只列出该日有效的风险地区。"""
    return queries.risk_areas_for(request.auth, current_on=current_on)


@router.post("/risk-areas", response={201: RiskAreaOut}, summary="新增风险地区(街道账号)")
def risk_area_create(request, payload: RiskAreaIn):
    actor = request.auth
    values = payload.dict()
    street = queries.street_for_writing(actor, values.pop("street_id"))
    return Status(201, services.risk_area_create(actor=actor, street=street, **values))


@router.post("/risk-areas/{risk_area_id}/end", response=RiskAreaOut, summary="解除风险地区")
def risk_area_end(request, risk_area_id: Id, payload: RiskAreaEndIn):
    area = queries.get_risk_area_for(request.auth, risk_area_id)
    return services.risk_area_end(actor=request.auth, risk_area=area, valid_to=payload.valid_to)


@router.get("/arrivals", response=list[ArrivalOut], summary="返乡/来访登记列表(证件号、电话脱敏)")
@paginated
def arrival_list(request, community: Id | None = None, exposed: bool | None = None, since: datetime.date | None = None):
    return queries.arrivals_for(request.auth, community=community, exposed=exposed, since=since)


@router.post("/arrivals", response={201: ArrivalOut}, summary="登记返乡/来访人员(可含同行人)")
def arrival_create(request, payload: ArrivalIn):
    """The person is person_id, or found by id_type + id_number, or registered with name and number."""
    actor = request.auth
    values = payload.dict()
    household = lookup(get_household_for, actor, values.pop("household_id"), "household_id")
    person = lookup(get_person_for, actor, values.pop("person_id"), "person_id")
    community = lookup(get_community_for, actor, values.pop("community_id"), "community_id")
    community = community or (household.community if household else person.community if person else None)
    if community is None:
        raise DomainError(_("请指定社区、户或人员"), fields={"community_id": _("必填")})
    person_data = {key: values.pop(key) for key in ("name", "id_type", "id_number", "phone")}
    arrival = services.arrival_record(actor=actor, community=community, household=household, person=person,
                                      person_data=None if person else person_data, **values)
    return Status(201, queries.get_arrival_for(actor, arrival.pk))


@router.get("/arrivals/{arrival_id}", response=ArrivalOut, summary="返乡/来访登记详情(脱敏)")
def arrival_detail(request, arrival_id: Id):
    return queries.get_arrival_for(request.auth, arrival_id)


@router.get("/divisions", response=list[DivisionOut], summary="行政区划查询(代码前缀或名称)")
def division_search(request, q: str = ""):
    return search_divisions(q)


# Verification lists


# Screening rounds
