"""Zone endpoints. A zone outside the actor's scope is 404."""

from typing import Literal

from django.utils.translation import gettext as _
from ninja import Router, Status

from fangkong.accounts.queries import get_staff_member_for
from fangkong.core.api import paginated
from fangkong.core.converters import Id
from fangkong.core.errors import NotAllowed, lookup
from fangkong.people.queries import get_person_for
from fangkong.zones import queries, services
from fangkong.zones.models import Level
from fangkong.zones.schemas import (
    CareAssignIn,
    CareCheckIn,
    CareCheckOut,
    CareTaskOut,
    MedicalExceptionIn,
    MedicalExceptionOut,
    MovementOut,
    ZoneAcceptIn,
    ZoneChangeIn,
    ZoneDetailOut,
    ZoneDismissIn,
    ZoneDrawIn,
    ZoneHouseholdOut,
    ZoneLiftIn,
    ZoneOut,
    ZonePolicyIn,
    ZonePolicyOut,
    ZoneRoundIn,
)

router = Router()


# ---------------------------------------------------------------------------
# Zones and their unlock dates
# ---------------------------------------------------------------------------

def _zone_detail(actor, pk) -> dict:
    zone = queries.get_zone_for(actor, pk)
    counts = queries.zone_counts(zone)
    return {**ZoneOut.from_orm(zone).dict(), "case_ids": [case.pk for case in queries.zone_cases(actor, zone)],
            "superseded_by_id": queries.successor_id(actor, zone), "households": counts["households"],
            "people": counts["people"], "rounds": list(queries.zone_rounds(zone)),
            "history": list(queries.zone_history(zone))}


def _place(actor, kind, pk, field: str = "place_id"):
    return lookup(lambda who, key: queries.place_for(who, kind, key), actor, pk, field)


@router.get("/zones", response=list[ZoneOut], summary="区域列表(待确认在前,其次按可解封日期)")
@paginated
def zone_list(request,
              status: Literal["proposed", "active", "lifted", "dismissed", "superseded", "ended"] | None = None,
              level: Level | None = None):
    return queries.zones_for(request.auth, status=status or "", level=level or "")


@router.get("/zones/{zone_id}", response=ZoneDetailOut, summary="区域详情:解封倒计时、核酸轮次、变更记录")
def zone_detail(request, zone_id: Id):
    return _zone_detail(request.auth, zone_id)


@router.post("/zones", response={201: ZoneDetailOut}, summary="划定区域(立即生效)")
def zone_draw(request, payload: ZoneDrawIn):
    place = _place(request.auth, payload.place_kind, payload.place_id)
    zone = services.zone_draw(actor=request.auth, level=payload.level, place=place, reason=payload.reason,
                              rules=payload.rules, guarded=payload.guarded, override_reason=payload.override_reason)
    return Status(201, _zone_detail(request.auth, zone.pk))


@router.post("/zones/{zone_id}/accept", response=ZoneDetailOut, summary="确认生效(已被他人确认时返回 409)")
def zone_accept(request, zone_id: Id, payload: ZoneAcceptIn):
    zone = queries.get_zone_for(request.auth, zone_id)
    services.zone_accept(actor=request.auth, zone=zone, guarded=payload.guarded, rules=payload.rules)
    return _zone_detail(request.auth, zone_id)


@router.post("/zones/{zone_id}/dismiss", response=ZoneDetailOut, summary="不采纳建议")
def zone_dismiss(request, zone_id: Id, payload: ZoneDismissIn):
    zone = queries.get_zone_for(request.auth, zone_id)
    services.zone_dismiss(actor=request.auth, zone=zone, reason=payload.reason)
    return _zone_detail(request.auth, zone_id)


@router.post("/zones/{zone_id}/change", response=ZoneDetailOut, summary="升级或降级(返回新的区域)")
def zone_change(request, zone_id: Id, payload: ZoneChangeIn):
    zone = queries.get_zone_for(request.auth, zone_id)
    place = _place(request.auth, payload.place_kind, payload.place_id) if payload.place_kind else None
    new = services.zone_change(actor=request.auth, zone=zone, reason=payload.reason, level=payload.level, place=place,
                               override_reason=payload.override_reason)
    return _zone_detail(request.auth, new.pk)


@router.post("/zones/{zone_id}/lift", response=ZoneDetailOut, summary="解封(未达条件需强制解封原因)")
def zone_lift(request, zone_id: Id, payload: ZoneLiftIn):
    zone = queries.get_zone_for(request.auth, zone_id)
    services.zone_lift(actor=request.auth, zone=zone, note=payload.note, override_reason=payload.override_reason)
    return _zone_detail(request.auth, zone_id)


@router.post("/zones/{zone_id}/rounds", response={201: ZoneDetailOut}, summary="登记一轮核酸结果")
def zone_round(request, zone_id: Id, payload: ZoneRoundIn):
    zone = queries.get_zone_for(request.auth, zone_id)
    services.zone_round_record(actor=request.auth, zone=zone, on=payload.on, negative=payload.negative,
                               note=payload.note)
    return Status(201, _zone_detail(request.auth, zone_id))


@router.get("/zone-policies", response=list[ZonePolicyOut], summary="解封政策")
@paginated
def zone_policy_list(request):
    return queries.policies_for(request.auth)


@router.post("/zone-policies", response={201: ZonePolicyOut}, summary="设置解封政策(重新计算该类型区域的可解封日期)")
def zone_policy_set(request, payload: ZonePolicyIn):
    street = queries.policy_street_for(request.auth)
    if street is None:
        raise NotAllowed(_("您的账号没有所属街道,不能设置解封政策"))
    policy = services.zone_policy_set(actor=request.auth, street=street, **payload.dict())
    return Status(201, policy)


@router.get("/persons/{person_id}/movement", response=MovementOut, summary="人员通行状态(由住址周边的区域得出)")
def person_movement(request, person_id: Id):
    person = get_person_for(request.auth, person_id)
    status = queries.movement_for(request.auth, person)
    return {"person_id": person.pk, "movement": status.movement, "label": str(status.label),
            "zone_id": status.zone.pk if status.zone else None, "zones": status.zones, "exception": status.exception}


# ---------------------------------------------------------------------------
# Care inside zones
# ---------------------------------------------------------------------------


@router.get("/zones/{zone_id}/people", response=list[ZoneHouseholdOut],
            summary="区域内的户和人员(需要每日关照的户在前;证件号码和电话脱敏)")
def zone_people(request, zone_id: Id):
    zone = queries.get_care_zone_for(request.auth, zone_id)
    return queries.zone_people(request.auth, zone).households


@router.get("/zones/{zone_id}/care-tasks", response=list[CareTaskOut], summary="区域内的每日关照任务及今天的查看记录")
def care_task_list(request, zone_id: Id):
    zone = queries.get_care_zone_for(request.auth, zone_id)
    return queries.care_tasks_of_zone(request.auth, zone)


@router.post("/care-tasks/{task_id}/checks", response=CareCheckOut,
             summary="记录今天的关照情况(同一天再次提交覆盖当天记录,不会重复)")
def care_check_create(request, task_id: Id, payload: CareCheckIn):
    task = queries.get_care_task_for(request.auth, task_id)
    return services.care_check_record(actor=request.auth, task=task, outcome=payload.outcome, note=payload.note,
                                      day=payload.day)


@router.post("/care-tasks/{task_id}/assign", response=CareTaskOut, summary="指派每日关照责任人")
def care_task_assign(request, task_id: Id, payload: CareAssignIn):
    task = queries.get_care_task_for(request.auth, task_id)
    assignee = lookup(get_staff_member_for, request.auth, payload.assignee_id, "assignee_id")
    services.care_task_assign(actor=request.auth, task=task, assignee=assignee)
    return queries.get_care_task_for(request.auth, task.pk)


@router.get("/zones/{zone_id}/exceptions", response=list[MedicalExceptionOut], summary="就医例外(含批准人)")
def exception_list(request, zone_id: Id):
    zone = queries.get_care_zone_for(request.auth, zone_id)
    return queries.exceptions_of_zone(request.auth, zone)


@router.post("/zones/{zone_id}/exceptions", response={201: MedicalExceptionOut},
             summary="登记就医例外(就医需求不因封控被拒绝,记录批准人)")
def exception_create(request, zone_id: Id, payload: MedicalExceptionIn):
    zone = queries.get_care_zone_for(request.auth, zone_id)
    person = lookup(get_person_for, request.auth, payload.person_id, "person_id")
    exception = services.medical_exception_allow(actor=request.auth, zone=zone, person=person, need=payload.need,
                                                 note=payload.note, destination=payload.destination,
                                                 valid_on=payload.valid_on)
    return Status(201, exception)
