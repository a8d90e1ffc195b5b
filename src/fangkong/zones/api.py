"""Zone endpoints. A zone outside the actor's scope is 404."""

from ninja import Router, Status

from fangkong.core.api import lookup
from fangkong.core.converters import Id
from fangkong.health.queries import get_staff_member_for
from fangkong.people.queries import get_person_for
from fangkong.zones import queries, services
from fangkong.zones.schemas import (
    CareAssignIn,
    CareCheckIn,
    CareCheckOut,
    CareTaskOut,
    MedicalExceptionIn,
    MedicalExceptionOut,
    ZoneHouseholdOut,
)

router = Router()


# ---------------------------------------------------------------------------
# Zones and their unlock dates
# ---------------------------------------------------------------------------


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
    return queries.care_tasks_of_zone(request.auth, task.zone).get(pk=task.pk)


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
