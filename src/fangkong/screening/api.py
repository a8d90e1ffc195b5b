"""Screening endpoints: risk areas, arrivals, follow-ups and colours, verification lists, screening rounds."""

import datetime
from functools import partial
from typing import Literal

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from fangkong.core.api import paginated
from fangkong.core.converters import Id
from fangkong.core.errors import DomainError, lookup
from fangkong.core.uploads import check_upload_size
from fangkong.people.queries import get_person_for
from fangkong.places.queries import get_community_for, get_grid_for, get_household_for, street_for_writing
from fangkong.screening import lists, queries, services
from fangkong.screening.divisions import search_divisions
from fangkong.screening.models import Color
from fangkong.screening.permissions import require_list_worker
from fangkong.screening.schemas import (
    ArrivalIn,
    ArrivalOut,
    BoardRowOut,
    DivisionOut,
    FollowUpAssignIn,
    FollowUpContactIn,
    FollowUpDetailOut,
    FollowUpOut,
    FollowUpOverrideIn,
    RiskAreaEndIn,
    RiskAreaIn,
    RiskAreaOut,
    RoundDetailOut,
    RoundHouseholdOut,
    RoundIn,
    RoundOut,
    VerificationAnswerIn,
    VerificationBatchOut,
    VerificationItemOut,
    VisitIn,
    VisitOut,
)

router = Router()


# Follow-ups and the four colours

@router.get("/follow-ups", response=list[FollowUpOut], summary="跟踪对象(四色),mine=true 为我的跟踪对象")
@paginated
def follow_up_list(request, color: Color | None = None, grid: Id | None = None, mine: bool = False):
    if mine:
        return queries.my_follow_ups(request.auth)
    rows = queries.follow_ups_for(request.auth, color=color or "", grid=grid)
    return rows.order_by("risk_color", "next_visit_on", "id")


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
    follow_up = services.follow_up_record_contact(actor=request.auth,
                                                  follow_up=queries.get_follow_up_for(request.auth, id),
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
    street = street_for_writing(actor, values.pop("street_id"))
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

def _list_worker(request):
    require_list_worker(request.auth)
    return request.auth


@router.post("/verification-batches", response={201: VerificationBatchOut},
             summary="导入大数据核查名单(.xlsx/.csv,列顺序不限;hours 或 deadline 给出反馈时限)")
def verification_batch_import(request, file: File[UploadedFile], title: Form[str], hours: Form[int | None] = None,
                              deadline: Form[datetime.datetime | None] = None, issued_by: Form[str] = "",
                              community_id: Form[Id | None] = None):
    """A bad row rejects the whole list (nothing written); the same file twice is 409."""
    actor = request.auth
    community = lookup(get_community_for, actor, community_id, "community_id")
    check_upload_size(file)
    batch = services.verification_batch_import(actor=actor, file_name=file.name, data=file.read(), title=title,
                                               deadline=deadline, hours=hours, issued_by=issued_by, community=community)
    return Status(201, queries.get_batch_for(actor, batch.pk))


@router.get("/verification-batches", response=list[VerificationBatchOut], summary="核查名单(含反馈进度)")
@paginated
def verification_batch_list(request):
    return queries.batches_for(_list_worker(request)).order_by("-received_at", "-id")


@router.get("/verification-batches/{batch_id}", response=VerificationBatchOut, summary="核查名单详情")
def verification_batch_detail(request, batch_id: Id):
    return queries.get_batch_for(_list_worker(request), batch_id)


@router.get("/verification-batches/{batch_id}/items", response=list[VerificationItemOut],
            summary="核查名单各行(证件号、电话脱敏;网格员只见本网格)")
@paginated
def verification_batch_items(request, batch_id: Id, mine: bool = False, queue: bool = False, unanswered: bool = False):
    actor = _list_worker(request)
    batch = queries.get_batch_for(actor, batch_id)
    return queries.items_for(actor, batch, mine=mine, queue=queue, unanswered=unanswered)


@router.post("/verification-items/{item_id}/answer", response=VerificationItemOut, summary="反馈一行的核查结果")
def verification_item_answer(request, item_id: Id, payload: VerificationAnswerIn):
    actor = request.auth
    item = queries.get_item_for(actor, item_id)
    services.verification_item_answer(actor=actor, item=item, answer=payload.answer, note=payload.note)
    return queries.get_item_for(actor, item.pk)


@router.get("/verification-batches/{batch_id}/export", summary="导出反馈表(原表列顺序 + 核查结果列,记入审计日志)")
def verification_batch_export(request, batch_id: Id, fmt: Literal["xlsx", "csv"] = "xlsx"):
    actor = _list_worker(request)
    batch = queries.get_batch_for(actor, batch_id)
    content = services.verification_batch_export(actor=actor, batch=batch, fmt=fmt)
    response = HttpResponse(content, content_type=_LIST_CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition_header(True, lists.export_file_name(batch, fmt))
    return response


_LIST_CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}



# Screening rounds

@router.get("/screening-rounds", response=list[RoundOut], summary="排查轮次列表")
@paginated
def round_list(request):
    return queries.rounds_for(request.auth)


@router.post("/screening-rounds", response={201: RoundOut}, summary="发起排查轮次(社区工作人员、街道)")
def round_start(request, payload: RoundIn):
    """grid_ids 为空表示全社区。"""
    actor = request.auth
    community = lookup(get_community_for, actor, payload.community_id, "community_id")
    grids = [lookup(get_grid_for, actor, pk, "grid_ids") for pk in payload.grid_ids]
    round = services.screening_round_start(actor=actor, community=community, name=payload.name, grids=grids)
    return Status(201, queries.get_round_for(actor, round.pk))


@router.get("/screening-rounds/{round_id}", response=RoundDetailOut, summary="排查轮次详情与各网格进度")
def round_detail(request, round_id: Id):
    round = queries.get_round_for(request.auth, round_id)
    round.progress, round.totals = queries.round_progress(request.auth, round)
    return round


@router.post("/screening-rounds/{round_id}/visits", response={201: VisitOut}, summary="登记一次入户/电话排查")
def round_visit(request, round_id: Id, payload: VisitIn):
    """同一人一分钟内重复提交同一户同一方式只记一次;新发现人员登记到该户。"""
    actor = request.auth
    round = queries.get_round_for(actor, round_id)
    household = lookup(partial(_round_household, round), actor, payload.household_id, "household_id")
    visit = services.household_visit_record(
        actor=actor, round=round, household=household, method=payload.method, people_present=payload.people_present,
        anomalies=payload.anomalies, note=payload.note, new_persons=[row.dict() for row in payload.new_persons],
        visited_at=payload.visited_at)
    return Status(201, visit)


def _round_household(round, actor, pk):
    return queries.get_round_household_for(actor, round, pk)


@router.get("/screening-rounds/{round_id}/households", response=list[RoundHouseholdOut],
            summary="本轮各户及排查状态(status=not_reached 即下一遍的名单)")
@paginated
def round_household_list(request, round_id: Id, status: Literal["done", "not_reached", "pending"] | None = None,
                         grid: Id | None = None, building: Id | None = None):
    round = queries.get_round_for(request.auth, round_id)
    return queries.round_households(request.auth, round, status=status or "", grid=grid, building=building)


@router.post("/screening-rounds/{round_id}/close", response=RoundOut, summary="结束排查轮次")
def round_close(request, round_id: Id):
    round = queries.get_round_for(request.auth, round_id)
    services.screening_round_close(actor=request.auth, round=round)
    return queries.get_round_for(request.auth, round.pk)
