"""Checkpoint, pass, passage and tracing endpoints. Anything outside the actor's scope is 404."""

import datetime

from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Status
from pydantic import TypeAdapter

from fangkong.access import queries, services
from fangkong.access.schemas import (
    CheckpointIn,
    CheckpointOut,
    CheckpointUpdate,
    PassageFiguresOut,
    PassageIn,
    PassageOut,
    PassageRowIn,
    PassDetailOut,
    PassIn,
    PassOut,
    RevokeIn,
    TraceContactsIn,
    TraceContactsOut,
    TraceOut,
)
from fangkong.accounts.auth import any_user_auth
from fangkong.core.api import paginated, rows_from_body
from fangkong.core.converters import Id
from fangkong.core.errors import NotAllowed, lookup
from fangkong.health.queries import get_case_for
from fangkong.people.queries import get_person_for
from fangkong.places.queries import get_community_for, get_compound_for, get_household_for
from fangkong.volunteers.queries import get_post_for

router = Router()


# ---------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------


def _places(actor, payload) -> dict:
    return {"compound": lookup(get_compound_for, actor, payload.compound_id, "compound_id"),
            "post": lookup(get_post_for, actor, payload.post_id, "post_id")}


@router.get("/checkpoints", response=list[CheckpointOut], summary="卡口列表")
@paginated
def checkpoint_list(request, community_id: Id | None = None, active: bool | None = None):
    return queries.checkpoints_for(request.auth, community=community_id, active=active)


@router.post("/checkpoints", response={201: CheckpointOut}, summary="设立卡口(社区工作人员)")
def checkpoint_create(request, payload: CheckpointIn):
    actor = request.auth
    checkpoint = services.checkpoint_create(
        actor=actor, community=lookup(get_community_for, actor, payload.community_id, "community_id"),
        name=payload.name, direction=payload.direction, opens_at=payload.opens_at, closes_at=payload.closes_at,
        pass_required=payload.pass_required, visitors_admitted=payload.visitors_admitted,
        test_within_hours=payload.test_within_hours, **_places(actor, payload))
    return Status(201, queries.get_checkpoint_for(actor, checkpoint.pk))


@router.get("/checkpoints/{checkpoint_id}", response=CheckpointOut, summary="卡口详情")
def checkpoint_detail(request, checkpoint_id: Id):
    return queries.get_checkpoint_for(request.auth, checkpoint_id)


@router.put("/checkpoints/{checkpoint_id}", response=CheckpointOut, summary="修改卡口规则")
def checkpoint_update(request, checkpoint_id: Id, payload: CheckpointUpdate):
    actor = request.auth
    checkpoint = queries.get_checkpoint_for(actor, checkpoint_id)
    services.checkpoint_update(
        actor=actor, checkpoint=checkpoint, name=payload.name, direction=payload.direction,
        opens_at=payload.opens_at, closes_at=payload.closes_at, pass_required=payload.pass_required,
        visitors_admitted=payload.visitors_admitted, test_within_hours=payload.test_within_hours,
        active=payload.active, **_places(actor, payload))
    return queries.get_checkpoint_for(actor, checkpoint_id)


@router.get("/checkpoints/{checkpoint_id}/snapshot", summary="离线扫码用的规则快照(本社区人员通行状态与出入证)")
def checkpoint_snapshot(request, checkpoint_id: Id):
    checkpoint = queries.get_checkpoint_for(request.auth, checkpoint_id)
    if not services.may_guard(request.auth):
        raise NotAllowed(_("只有工作人员可以下载卡口规则"))
    return JsonResponse(queries.rules_snapshot(checkpoint))


# ---------------------------------------------------------------------------
# Passes
# ---------------------------------------------------------------------------


def _with_quota(pass_):
    pass_.quota = queries.quota_left(pass_)
    return pass_


@router.get("/passes", response=list[PassOut], summary="出入证列表")
@paginated
def pass_list(request, kind: str = "", state: str = "", household_id: Id | None = None, person_id: Id | None = None):
    return queries.passes_for(request.auth, kind=kind, state=state, household=household_id, person=person_id)


@router.post("/passes", response={201: PassDetailOut}, summary="发放出入证(个人或全户)")
def pass_issue(request, payload: PassIn):
    actor = request.auth
    issued = services.pass_issue(
        actor=actor, kind=payload.kind, person=lookup(get_person_for, actor, payload.person_id, "person_id"),
        household=lookup(get_household_for, actor, payload.household_id, "household_id"),
        valid_from=payload.valid_from, valid_until=payload.valid_until, quota_exits=payload.quota_exits,
        quota_days=payload.quota_days, note=payload.note)
    return Status(201, _with_quota(queries.get_pass_for(actor, issued.pk)))


@router.get("/passes/{pass_id}", response=PassDetailOut, summary="出入证详情(含本期剩余次数)")
def pass_detail(request, pass_id: Id):
    return _with_quota(queries.get_pass_for(request.auth, pass_id))


@router.post("/passes/{pass_id}/revoke", response=PassDetailOut, summary="注销出入证")
def pass_revoke(request, pass_id: Id, payload: RevokeIn):
    services.pass_revoke(actor=request.auth, pass_=queries.get_pass_for(request.auth, pass_id), reason=payload.reason)
    return _with_quota(queries.get_pass_for(request.auth, pass_id))


@router.get("/me/passes", response=list[PassDetailOut], auth=any_user_auth(), summary="本户的出入证与本期剩余次数")
def own_passes(request):
    return queries.own_passes(request.auth)


# ---------------------------------------------------------------------------
# Passages
# ---------------------------------------------------------------------------


@router.post("/passages", response={200: PassageOut, 201: PassageOut},
             summary="卡口扫码登记一次通行(按 client_id 幂等;重发返回已存记录)")
def passage_create(request, payload: PassageIn):
    actor = request.auth
    if payload.visitor is None and not payload.medical_need:
        registered = services.passage_register_at_once(
            actor=actor, checkpoint_id=payload.checkpoint_id, client_id=payload.client_id, direction=payload.direction,
            code=payload.code or "", plate=payload.plate, temperature=payload.temperature,
            occurred_at=payload.occurred_at)
        if registered is not None:
            return _created(PassageOut.of_registered(registered))
    checkpoint = lookup(queries.get_checkpoint_for, actor, payload.checkpoint_id, "checkpoint_id")
    registered = services.passage_register(
        actor=actor, checkpoint=checkpoint, client_id=payload.client_id, direction=payload.direction,
        code=payload.code or "", visitor=payload.visitor.model_dump() if payload.visitor else None,
        plate=payload.plate, temperature=payload.temperature, occurred_at=payload.occurred_at,
        medical_need=payload.medical_need, medical_note=payload.medical_note)
    return Status(200 if registered.replayed else 201, PassageOut.of_registered(registered))


def _created(answer: PassageOut) -> HttpResponse:
    """The everyday scan's answer as it is: PassageOut already, so not checked against itself again."""
    return HttpResponse(answer.model_dump_json(), content_type="application/json", status=201)


@router.get("/passages", response=list[PassageOut], summary="通行记录(新的在前)")
@paginated
def passage_list(request, checkpoint_id: Id | None = None, day: datetime.date | None = None, result: str = "",
                 conflict: bool | None = None):
    rows = queries.passages_for(request.auth, checkpoint=checkpoint_id, day=day, result=result, conflict=conflict)
    return _PassageRows(rows)


class _PassageRows:
    """The queryset as the paginator slices it, each row turned into PassageOut."""

    def __init__(self, rows):
        self.rows = rows

    def __len__(self):
        return self.rows.count()

    def count(self):
        return self.rows.count()

    def __getitem__(self, index):
        return [PassageOut.of(passage) for passage in self.rows[index]]


_BATCH_ROWS = TypeAdapter(list[PassageRowIn])


@router.post("/passages/batch",
             summary="离线扫码补传(每批最多 10000 条;逐条答复 stored / duplicate / conflict / invalid)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": _BATCH_ROWS.json_schema()}}}})
def passage_batch(request):
    """Rows are read straight from the body by pydantic, and the answers go out as the service made them."""
    answers = services.passages_sync(actor=request.auth, rows=rows_from_body(_BATCH_ROWS, request.body))
    return JsonResponse(answers, safe=False)



@router.get("/passages/figures", response=PassageFiguresOut,
            summary="卡口日报数据:每小时通行、劝返与拒绝原因、访客、车辆")
def passage_figures(request, day: datetime.date | None = None, checkpoint_id: Id | None = None):
    actor = request.auth
    checkpoint = lookup(queries.get_checkpoint_for, actor, checkpoint_id, "checkpoint_id")
    figures = queries.passage_figures(actor, day or timezone.localdate(), checkpoint=checkpoint)
    return {"day": figures.day, "hours": figures.hours, "total": figures.total, "results": figures.results,
            "gates": [{"checkpoint_id": g.checkpoint.pk, "checkpoint": g.checkpoint.name, "counts": g.counts,
                       "total": g.total} for g in figures.gates],
            "reasons": [{"result": row.result, "reason": row.reason, "label": str(row.label), "count": row.count}
                        for row in figures.reasons],
            "visitors": figures.visitors, "vehicles": figures.vehicles, "plates": figures.plates,
            "offline": figures.offline, "conflicts": figures.conflicts}


@router.get("/passages/{passage_id}", response=PassageOut, summary="通行记录详情")
def passage_detail(request, passage_id: Id):
    return PassageOut.of(queries.get_passage_for(request.auth, passage_id))


# ---------------------------------------------------------------------------
# Tracing
# ---------------------------------------------------------------------------


def _trace(actor, person_id, start, end, minutes):
    if not services.may_trace(actor):
        raise NotAllowed(_("只有社区工作人员、网格长、医护人员和民警可以查询通行轨迹"))
    person = lookup(get_person_for, actor, person_id, "person_id")
    start, end, minutes = queries.clean_trace_window(start, end, minutes)
    return queries.trace(actor, person, start=start, end=end, minutes=minutes)


@router.get("/tracing", response=TraceOut, summary="通行轨迹:某人的通行记录,及同一卡口前后 N 分钟内通行的人")
def tracing(request, person_id: Id, start: datetime.datetime | None = None, end: datetime.datetime | None = None,
            minutes: int = queries.TRACE_MINUTES):
    found = _trace(request.auth, person_id, start, end, minutes)
    services.tracing_record(actor=request.auth, person=found.person, start=found.start, end=found.end)
    return {"person_id": found.person.pk, "start": found.start, "end": found.end, "minutes": found.minutes,
            "passages": found.windows, "contacts": found.contacts, "people": found.people, "visitors": found.visitors}


@router.post("/tracing/contacts", response={201: TraceContactsOut}, summary="将追踪到的人添加为病例的密接(时空交集)")
def tracing_contacts(request, payload: TraceContactsIn):
    actor = request.auth
    found = _trace(actor, payload.person_id, payload.start, payload.end, payload.minutes)
    case = lookup(get_case_for, actor, payload.case_id, "case_id")
    wanted = set(payload.keys)
    chosen = [contact for contact in found.contacts if contact.key in wanted]
    added, left_out = services.trace_contacts_add(actor=actor, case=case, found=chosen)
    return Status(201, {"added": len(added), "contact_ids": [c.pk for c in added], "left_out": left_out})
