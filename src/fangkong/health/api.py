"""Health endpoints: observations, health checks, alerts and policies.

Residents may POST checks for the members of their own household (session or token); every
other endpoint is for staff, and a row outside the actor's scope is 404.
"""

import datetime

from django.http import Http404
from django.utils import timezone
from ninja import Router, Status

from fangkong.accounts.auth import any_user_auth
from fangkong.accounts.queries import get_staff_member_for
from fangkong.core.api import paginated
from fangkong.core.choices import Choice
from fangkong.core.converters import Id
from fangkong.core.errors import NotInScope, lookup
from fangkong.health import queries, services
from fangkong.health.models import Case, CheckWindow, Destination, Observation, ObservationKind, Transfer
from fangkong.health.schemas import (
    AlertHandleIn,
    AlertOut,
    CaseDetailOut,
    CaseIn,
    CaseOut,
    CaseSeverityIn,
    CaseStatusIn,
    CheckIn,
    CheckOut,
    ContactIn,
    ContactOut,
    ContactPolicyIn,
    ContactPolicyOut,
    ContactRemoveIn,
    DayCountOut,
    DestinationIn,
    DestinationOut,
    EndEarlyIn,
    ExtendIn,
    ObservationDetailOut,
    ObservationIn,
    ObservationOut,
    PendingOut,
    PolicyIn,
    PolicyOut,
    ReleaseIn,
    RosterRowOut,
    TeamIn,
    TransferCancelIn,
    TransferIn,
    TransferMomentIn,
    TransferOut,
    TransferScheduleIn,
    TransferUpdateIn,
)
from fangkong.people.queries import get_person_for
from fangkong.places.models import Street
from fangkong.places.queries import get_grid_for, get_street_for, street_for_writing

router = Router()


def _team(actor, payload: TeamIn) -> dict:
    """Team members by id; the service checks that each is staff covering the person."""
    team = {role: lookup(get_staff_member_for, actor, getattr(payload, f"{role}_id"), f"{role}_id")
            for role in services.TEAM_ROLES}
    return {**team, "family_contact_name": payload.family_contact_name,
            "family_contact_phone": payload.family_contact_phone}


def _detail(actor, pk) -> Observation:
    return queries.with_check_counts([queries.get_observation_for(actor, pk)])[0]


@router.get("/observations", response=list[ObservationOut], summary="隔离观察列表")
@paginated
def observation_list(request, status: Choice[Observation.Status] | None = None, kind: ObservationKind | None = None,
                     grid: Id | None = None):
    grid_obj = lookup(get_grid_for, request.auth, grid, "grid")
    return queries.observations_for(request.auth, status=status or "", kind=kind or "", grid=grid_obj)


@router.post("/observations", response={201: ObservationDetailOut}, summary="开始隔离观察")
def observation_create(request, payload: ObservationIn):
    actor = request.auth
    person = lookup(get_person_for, actor, payload.person_id, "person_id")
    observation = services.observation_start(
        actor=actor, person=person, kind=payload.kind, reason=payload.reason, reason_note=payload.reason_note,
        starts_on=payload.starts_on, planned_end_on=payload.planned_end_on, site=payload.site,
        team=_team(actor, payload))
    return Status(201, _detail(actor, observation.pk))


@router.get("/observations/{observation_id}", response=ObservationDetailOut, summary="隔离观察详情")
def observation_detail(request, observation_id: Id):
    return _detail(request.auth, observation_id)


@router.post("/observations/{observation_id}/extend", response=ObservationDetailOut, summary="延长")
def observation_extend(request, observation_id: Id, payload: ExtendIn):
    observation = queries.get_observation_for(request.auth, observation_id)
    services.observation_extend(actor=request.auth, observation=observation, days=payload.days, until=payload.until,
                                reason=payload.reason)
    return _detail(request.auth, observation_id)


@router.post("/observations/{observation_id}/release", response=ObservationDetailOut,
             summary="解除(提前需 early 和原因)")
def observation_release(request, observation_id: Id, payload: ReleaseIn):
    observation = queries.get_observation_for(request.auth, observation_id)
    services.observation_release(actor=request.auth, observation=observation, on=payload.on, early=payload.early,
                                 reason=payload.reason)
    return _detail(request.auth, observation_id)


@router.post("/observations/{observation_id}/end-early", response=ObservationDetailOut, summary="提前结束")
def observation_end_early(request, observation_id: Id, payload: EndEarlyIn):
    observation = queries.get_observation_for(request.auth, observation_id)
    services.observation_end_early(actor=request.auth, observation=observation, reason=payload.reason)
    return _detail(request.auth, observation_id)


@router.post("/observations/{observation_id}/transfer", response=ObservationDetailOut,
             summary="转集中隔离(返回新的集中隔离观察)")
def observation_transfer(request, observation_id: Id, payload: TransferIn):
    observation = queries.get_observation_for(request.auth, observation_id)
    central = services.observation_transfer(actor=request.auth, observation=observation, site=payload.site)
    return _detail(request.auth, central.pk)


@router.post("/observations/{observation_id}/team", response=ObservationDetailOut, summary="调整责任人")
def observation_team(request, observation_id: Id, payload: TeamIn):
    observation = queries.get_observation_for(request.auth, observation_id)
    services.observation_team_set(actor=request.auth, observation=observation, team=_team(request.auth, payload))
    return _detail(request.auth, observation_id)


@router.get("/observations/{observation_id}/checks", response=list[CheckOut], summary="体温记录")
@paginated
def check_list(request, observation_id: Id):
    observation = queries.get_observation_for(request.auth, observation_id)
    return queries.checks_of_observation(request.auth, observation)


@router.post("/observations/{observation_id}/checks", response={201: CheckOut}, auth=any_user_auth(),
             summary="记录体温(同一 client_id 只记录一次;居民可为本户成员填报)")
def check_create(request, observation_id: Id, payload: CheckIn):
    observation = queries.get_observation_for(request.auth, observation_id)
    check = services.health_check_record(actor=request.auth, observation=observation, temperature=payload.temperature,
                                         symptoms=[str(s) for s in payload.symptoms], reporter=payload.reporter,
                                         taken_at=payload.taken_at, client_id=payload.client_id)
    return Status(201, check)


@router.get("/health-checks/pending", response=list[PendingOut], summary="本时段未报体温的人员")
@paginated
def checks_pending(request, window: CheckWindow | None = None):
    day, current = queries.current_window()
    return queries.not_yet_reported(request.auth, day, window or current)


@router.get("/health-alerts", response=list[AlertOut], summary="健康异常提醒(未处理在前)")
@paginated
def alert_list(request, handled: bool = False, mine: bool = False):
    return queries.my_alerts(request.auth) if mine else queries.alerts_for(request.auth, handled=handled)


@router.post("/health-alerts/{alert_id}/handle", response=AlertOut, summary="处理异常提醒")
def alert_handle(request, alert_id: Id, payload: AlertHandleIn):
    alert = queries.get_alert_for(request.auth, alert_id)
    return services.health_alert_handle(actor=request.auth, alert=alert, note=payload.note)


def _street_named(actor, street_id) -> Street:
    """The street a street-wide setting is for: the one named (404 naming the field outside scope),
    else the actor's own."""
    if street_id is not None:
        return lookup(get_street_for, actor, street_id, "street_id")
    return street_for_writing(actor)


@router.get("/observation-policies", response=list[PolicyOut], summary="隔离政策")
def policy_list(request):
    return queries.policies_for(request.auth)


@router.post("/observation-policies", response={201: PolicyOut}, summary="设置隔离政策(街道)")
def policy_set(request, payload: PolicyIn):
    actor = request.auth
    street = _street_named(actor, payload.street_id)
    policy = services.observation_policy_set(actor=actor, street=street, kind=payload.kind, days=payload.days,
                                             effective_from=payload.effective_from)
    return Status(201, policy)


# ---------------------------------------------------------------------------
# Cases and contacts
# ---------------------------------------------------------------------------

def _case_detail(actor, pk) -> Case:
    case = queries.get_case_for(actor, pk)
    case.timeline = queries.case_timeline(actor, case)
    case.zone_ids = [zone.pk for zone in queries.zones_of_case(actor, case)]
    case.transfer_ids = [transfer.pk for transfer in queries.transfers_of_case(actor, case)]
    return case


@router.get("/cases", response=list[CaseOut], summary="阳性病例列表(未结案在前)")
@paginated
def case_list(request, status: Choice[Case.Status] | None = None, grid: Id | None = None):
    grid_obj = lookup(get_grid_for, request.auth, grid, "grid")
    return queries.cases_for(request.auth, status=status or "", grid=grid_obj)


@router.post("/cases", response={201: CaseDetailOut}, summary="登记阳性(自动登记同住密接、提出封控管控区、安排转运)")
def case_create(request, payload: CaseIn):
    actor = request.auth
    person = lookup(get_person_for, actor, payload.person_id, "person_id")
    case = services.case_open(actor=actor, person=person, source=payload.source, confirmed_at=payload.confirmed_at,
                              severity=payload.severity, location=payload.location, source_ref=payload.source_ref,
                              note=payload.note)
    return Status(201, _case_detail(actor, case.pk))


@router.get("/cases/{case_id}", response=CaseDetailOut, summary="病例详情(含时间线)")
def case_detail(request, case_id: Id):
    return _case_detail(request.auth, case_id)


@router.post("/cases/{case_id}/status", response=CaseDetailOut, summary="变更病例状态(只能向前)")
def case_status(request, case_id: Id, payload: CaseStatusIn):
    case = queries.get_case_for(request.auth, case_id)
    services.case_status_set(actor=request.auth, case=case, status=payload.status, location=payload.location,
                             note=payload.note)
    return _case_detail(request.auth, case_id)


@router.post("/cases/{case_id}/severity", response=CaseDetailOut, summary="变更临床分型")
def case_severity(request, case_id: Id, payload: CaseSeverityIn):
    case = queries.get_case_for(request.auth, case_id)
    services.case_severity_set(actor=request.auth, case=case, severity=payload.severity, note=payload.note)
    return _case_detail(request.auth, case_id)


@router.get("/cases/{case_id}/contacts", response=list[ContactOut], summary="密接与次密接(每名密接后跟其次密接)")
def case_contacts(request, case_id: Id):
    case = queries.get_case_for(request.auth, case_id)
    return [row for contact in queries.contacts_of_case(request.auth, case) for row in (contact, *contact.chain)]


def _contact_via(actor, case: Case, via_id):
    if via_id is None:
        return None
    via = lookup(queries.get_contact_for, actor, via_id, "via_id")
    return via if via.case_id == case.pk else None


@router.post("/cases/{case_id}/contacts", response={201: ContactOut}, summary="添加密接(同一人同一病例只记一次)")
def contact_create(request, case_id: Id, payload: ContactIn):
    actor = request.auth
    case = queries.get_case_for(actor, case_id)
    person = lookup(get_person_for, actor, payload.person_id, "person_id")
    person_data = None if person is not None else {"name": payload.name, "id_type": payload.id_type,
                                                   "id_number": payload.id_number, "phone": payload.phone}
    contact = services.contact_add(actor=actor, case=case, kind=payload.kind, source=payload.source,
                                   last_exposure_at=payload.last_exposure_at, person=person, person_data=person_data,
                                   via=_contact_via(actor, case, payload.via_id), note=payload.note)
    return Status(201, queries.get_contact_for(actor, contact.pk))


@router.post("/contacts/{contact_id}/remove", response=ContactOut, summary="排除密接(结束因此开始的隔离观察)")
def contact_remove(request, contact_id: Id, payload: ContactRemoveIn):
    contact = queries.get_contact_for(request.auth, contact_id)
    services.contact_remove(actor=request.auth, contact=contact, reason=payload.reason)
    return queries.get_contact_for(request.auth, contact_id)


def _policy_rows(street) -> list:
    return queries.contact_policy_rows(street)


@router.get("/contact-policies", response=list[ContactPolicyOut], summary="密接管控政策(未设置时为默认)")
def contact_policy_list(request, street: Id | None = None):
    street_obj = lookup(get_street_for, request.auth, street, "street") if street else (
        queries.first_street_for(request.auth))
    return _policy_rows(street_obj) if street_obj is not None else []


@router.put("/contact-policies", response=list[ContactPolicyOut], summary="设置密接管控政策(街道)")
def contact_policy_set(request, payload: ContactPolicyIn):
    actor = request.auth
    street = _street_named(actor, payload.street_id)
    services.contact_policy_set(actor=actor, street=street, kind=payload.kind,
                                observation_kind=payload.observation_kind)
    return _policy_rows(street)


# ---------------------------------------------------------------------------
# Transfers
# ---------------------------------------------------------------------------

@router.get("/destinations", response=list[DestinationOut], summary="转运目的地")
def destination_list(request, kind: Choice[Destination.Kind] | None = None):
    return queries.destinations_for(request.auth, kind=kind or "")


@router.post("/destinations", response={201: DestinationOut}, summary="登记转运目的地(街道/社区工作人员)")
def destination_create(request, payload: DestinationIn):
    actor = request.auth
    street = _street_named(actor, payload.street_id)
    destination = services.destination_create(actor=actor, street=street, name=payload.name, kind=payload.kind,
                                              address=payload.address, phone=payload.phone, capacity=payload.capacity)
    return Status(201, queries.get_destination_for(actor, destination.pk))


@router.get("/destinations/{destination_id}/roster", response=list[RosterRowOut], summary="目的地人员名单(待送达在前)")
@paginated
def destination_roster(request, destination_id: Id):
    destination = queries.get_destination_for(request.auth, destination_id)
    return queries.destination_roster(request.auth, destination)


@router.get("/transfers/counts", response=list[DayCountOut], summary="每日转运人数(按计划日期:计划/已接走/已送达)")
def transfer_counts(request, start: datetime.date | None = None, end: datetime.date | None = None):
    default_start, end = queries.transfer_counts_window(end or timezone.localdate())
    return queries.transfer_counts_by_day(request.auth, start or default_start, end)


@router.get("/transfers", response=list[TransferOut], summary="转运列表")
@paginated
def transfer_list(request, day: datetime.date | None = None, status: Choice[Transfer.Status] | None = None,
                  destination: Id | None = None):
    destination_obj = lookup(queries.get_destination_for, request.auth, destination, "destination")
    return queries.transfers_for(request.auth, day=day, status=status or "", destination=destination_obj)


@router.post("/transfers", response={201: TransferOut}, summary="安排转运")
def transfer_create(request, payload: TransferScheduleIn):
    actor = request.auth
    try:
        people = queries.get_persons_for(actor, payload.person_ids)
    except Http404:
        raise NotInScope("person_ids") from None
    transfer = services.transfer_schedule(
        actor=actor, destination_kind=payload.destination_kind, people=people, window_start=payload.window_start,
        window_end=payload.window_end, vehicle=payload.vehicle, crew=payload.crew, note=payload.note,
        destination=lookup(queries.get_destination_for, actor, payload.destination_id, "destination_id"))
    return Status(201, queries.get_transfer_for(actor, transfer.pk))


@router.get("/transfers/{transfer_id}", response=TransferOut, summary="转运详情")
def transfer_detail(request, transfer_id: Id):
    return queries.get_transfer_for(request.auth, transfer_id)


@router.patch("/transfers/{transfer_id}", response=TransferOut, summary="修改待转运的安排")
def transfer_update(request, transfer_id: Id, payload: TransferUpdateIn):
    actor = request.auth
    transfer = queries.get_transfer_for(actor, transfer_id)
    services.transfer_update(
        actor=actor, transfer=transfer,
        destination=lookup(queries.get_destination_for, actor, payload.destination_id, "destination_id"),
        window_start=payload.window_start, window_end=payload.window_end, vehicle=payload.vehicle, crew=payload.crew,
        note=payload.note)
    return queries.get_transfer_for(actor, transfer_id)


@router.post("/transfers/{transfer_id}/pick-up", response=TransferOut, summary="登记接走")
def transfer_pick_up(request, transfer_id: Id, payload: TransferMomentIn):
    transfer = queries.get_transfer_for(request.auth, transfer_id)
    services.transfer_pick_up(actor=request.auth, transfer=transfer, at=payload.at)
    return queries.get_transfer_for(request.auth, transfer_id)


@router.post("/transfers/{transfer_id}/arrive", response=TransferOut, summary="登记送达")
def transfer_arrive(request, transfer_id: Id, payload: TransferMomentIn):
    transfer = queries.get_transfer_for(request.auth, transfer_id)
    services.transfer_arrive(actor=request.auth, transfer=transfer, at=payload.at)
    return queries.get_transfer_for(request.auth, transfer_id)


@router.post("/transfers/{transfer_id}/cancel", response=TransferOut, summary="取消转运")
def transfer_cancel(request, transfer_id: Id, payload: TransferCancelIn):
    transfer = queries.get_transfer_for(request.auth, transfer_id)
    services.transfer_cancel(actor=request.auth, transfer=transfer, reason=payload.reason)
    return queries.get_transfer_for(request.auth, transfer_id)
