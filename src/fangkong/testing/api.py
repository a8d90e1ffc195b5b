"""Mass-testing endpoints. Anything outside the actor's scope is 404."""

from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Status, UploadedFile
from pydantic import TypeAdapter

from fangkong.accounts.auth import any_user_auth
from fangkong.core.api import paginated, rows_from_body
from fangkong.core.choices import Choice
from fangkong.core.converters import Id
from fangkong.core.errors import DomainError, NotAllowed, NotInScope, lookup
from fangkong.core.roles import is_staff_member
from fangkong.people.codes import personal_code
from fangkong.people.queries import get_person_for
from fangkong.places.queries import communities_for, get_community_for, get_grid_for, get_household_for
from fangkong.testing import permissions, queries, services
from fangkong.testing.models import ResampleTask, Tube
from fangkong.testing.schemas import (
    AntigenIn,
    AntigenOut,
    CoverageOut,
    ExemptionIn,
    ExemptionOut,
    FiguresOut,
    LabResultIn,
    LabResultOut,
    PersonalCodeOut,
    ResampleTaskOut,
    ResultImportJobOut,
    ResultImportOut,
    SampleIn,
    SampleOut,
    SampleRowIn,
    SampleRowOut,
    SamplingSiteIn,
    SamplingSiteOut,
    TestRoundIn,
    TestRoundOut,
    TubeDetailOut,
    TubeOpenIn,
    UntestedOut,
)
from fangkong.zones.queries import get_zone_for

router = Router()


# ---------------------------------------------------------------------------
# Rounds, sites and exemptions
# ---------------------------------------------------------------------------

def _manager(request):
    permissions.require_round_manager(request.auth)
    return request.auth


@router.get("/test-rounds", response=list[TestRoundOut], summary="核酸筛查轮次列表")
@paginated
def test_round_list(request, status: str = ""):
    return queries.rounds_for(request.auth, status=status)


@router.post("/test-rounds", response={201: TestRoundOut}, summary="新建核酸筛查轮次")
def test_round_new(request, payload: TestRoundIn):
    actor = _manager(request)
    grids = [lookup(get_grid_for, actor, pk, "grid_ids") for pk in payload.grid_ids]
    round = services.test_round_create(
        actor=actor, community=lookup(get_community_for, actor, payload.community_id, "community_id"),
        name=payload.name, on=payload.on, kind=payload.kind, pool_size=payload.pool_size, grids=grids,
        zone=lookup(get_zone_for, actor, payload.zone_id, "zone_id"), key_tags=payload.key_tags,
        infant_months=payload.infant_months, exempt_away=payload.exempt_away,
        exempt_in_hospital=payload.exempt_in_hospital, exempt_positive=payload.exempt_positive)
    return Status(201, round)


@router.get("/test-rounds/{round_id}", response=TestRoundOut, summary="核酸筛查轮次详情")
def test_round_detail(request, round_id: Id):
    return queries.get_round_for(request.auth, round_id)


@router.post("/test-rounds/{round_id}/close", response=TestRoundOut, summary="结束核酸筛查轮次")
def test_round_end(request, round_id: Id):
    round = queries.get_round_for(request.auth, round_id)
    return services.test_round_close(actor=_manager(request), round=round)


@router.get("/test-rounds/{round_id}/exemptions", response=list[ExemptionOut], summary="本轮免采人员(手工登记)")
@paginated
def round_exemption_list(request, round_id: Id):
    return queries.exemptions_of(request.auth, queries.get_round_for(request.auth, round_id))


@router.post("/test-rounds/{round_id}/exemptions", response={201: ExemptionOut}, summary="登记免采人员")
def round_exemption_new(request, round_id: Id, payload: ExemptionIn):
    round = queries.get_round_for(request.auth, round_id)
    actor = _manager(request)
    person = lookup(get_person_for, actor, payload.person_id, "person_id")
    return Status(201, services.round_exemption_add(actor=actor, round=round, person=person, reason=payload.reason,
                                                    note=payload.note))


@router.get("/sampling-sites", response=list[SamplingSiteOut], summary="采样点与上门采样队")
@paginated
def sampling_site_list(request):
    return queries.sites_for(request.auth).prefetch_related("roster")


@router.post("/sampling-sites", response={201: SamplingSiteOut}, summary="新建采样点或上门采样队")
def sampling_site_new(request, payload: SamplingSiteIn):
    actor = _manager(request)
    site = services.sampling_site_create(
        actor=actor, community=lookup(get_community_for, actor, payload.community_id, "community_id"),
        name=payload.name, kind=payload.kind, address=payload.address, opens_at=payload.opens_at,
        closes_at=payload.closes_at,
        team=[lookup(queries.get_team_candidate_for, actor, pk, "team_ids") for pk in payload.team_ids],
        roster=[lookup(get_household_for, actor, pk, "roster_household_ids") for pk in payload.roster_household_ids])
    return Status(201, site)


@router.get("/persons/{person_id}/personal-code", response=PersonalCodeOut, summary="个人码文本(供采样设备显示或打印)")
def person_personal_code(request, person_id: Id):
    if not is_staff_member(request.auth):
        raise NotAllowed(_("只有工作人员可以获取他人的个人码"))
    person = get_person_for(request.auth, person_id)
    return {"person_id": person.pk, "code": personal_code(person)}


# ---------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------

def _tube_detail(actor, pk) -> Tube:
    tube = queries.get_tube_for(actor, pk)
    tube.samples_list = list(queries.tube_samples(tube))
    return tube


@router.post("/tubes", response={201: TubeDetailOut}, summary="开管(扫描新采样管条码)")
def tube_create(request, payload: TubeOpenIn):
    actor = request.auth
    round = lookup(queries.get_sampling_round_for, actor, payload.round_id, "round_id")
    try:
        site = queries.get_round_site_for(round, payload.site_id)
    except Http404:
        raise NotInScope("site_id") from None
    tube = services.tube_open(actor=actor, round=round, site=site, barcode=payload.barcode)
    return Status(201, _tube_detail(actor, tube.pk))


@router.get("/tubes/{tube_id}", response=TubeDetailOut, summary="采样管详情(含管内人员)")
def tube_detail(request, tube_id: Id):
    return _tube_detail(request.auth, tube_id)


@router.post("/tubes/{tube_id}/close", response=TubeDetailOut, summary="手动封管")
def tube_close(request, tube_id: Id):
    services.tube_close(actor=request.auth, tube=queries.get_tube_for(request.auth, tube_id))
    return _tube_detail(request.auth, tube_id)


@router.post("/tubes/{tube_id}/undo", response=TubeDetailOut, summary="撤销本人在该管最后一次采样")
def tube_undo(request, tube_id: Id):
    services.sample_undo_last(actor=request.auth, tube=queries.get_tube_for(request.auth, tube_id))
    return _tube_detail(request.auth, tube_id)


@router.post("/samples", response={201: SampleOut}, summary="登记一条采样(按 client_id 幂等;新条码自动开管)")
def sample_create(request, payload: SampleIn):
    sample = services.sample_register_from_device(
        actor=request.auth, round_id=payload.round_id, site_id=payload.site_id, barcode=payload.tube,
        client_id=payload.client_id, code=payload.code, id_number=payload.id_number, person_id=payload.person_id,
        taken_at=payload.taken_at, door_to_door=payload.door_to_door)
    return Status(201, SampleOut.of(sample))


_BATCH_ROWS = TypeAdapter(list[SampleRowIn])


@router.post("/samples/batch", response=list[SampleRowOut],
             summary="批量登记采样(设备补传,每批最多 2000 条;逐条答复 stored / duplicate / refused)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": _BATCH_ROWS.json_schema()}}}})
def sample_batch(request):
    """A device catching up sends a thousand rows. pydantic reads them straight from the body (three
    times faster than Ninja's parse, then check), and the service's answers, already SampleRowOut's
    shape, go out as they are rather than being checked again."""
    answers = services.samples_register(actor=request.auth, rows=rows_from_body(_BATCH_ROWS, request.body))
    return JsonResponse(answers, safe=False)



# ---------------------------------------------------------------------------
# Lab results and positive tubes
# ---------------------------------------------------------------------------

def _result_importer(request):
    permissions.require_result_importer(request.auth)
    return request.auth


def _import_community(actor, community_id):
    """The community named, or the actor's only one."""
    if community_id is not None:
        return lookup(get_community_for, actor, community_id, "community_id")
    communities = list(communities_for(actor)[:2])
    if len(communities) != 1:
        message = _("请指明社区(community_id)")
        raise DomainError(message, fields={"community_id": message})
    return communities[0]


@router.post("/lab-results/import", response={201: ResultImportOut},
             summary="导入检测结果文件(.xlsx/.csv:条码、结果、时间、检测机构;列顺序不限;未知条码只报告)")
def lab_results_import(request, file: File[UploadedFile], community_id: Form[Id | None] = None):
    """Within the request: a malformed row rejects the whole file; the results and each positive tube's
    chain land together. A large file is better queued (POST /lab-results/import-jobs)."""
    actor = _result_importer(request)
    community = _import_community(actor, community_id)
    result_import = services.lab_results_import(actor=actor, community=community, uploaded_file=file)
    return Status(201, queries.get_result_import_for(actor, result_import.pk))


@router.post("/lab-results/import-jobs", response={202: ResultImportJobOut},
             summary="排队导入检测结果文件(后台处理,适合大文件;轮询任务查看进度和结果)")
def lab_results_import_job_start(request, file: File[UploadedFile], community_id: Form[Id | None] = None):
    """The worker imports the file; GET the job until its status is done (with the counts) or failed
    (with the reason)."""
    actor = _result_importer(request)
    community = _import_community(actor, community_id)
    result_import = services.lab_results_import_start(actor=actor, community=community, uploaded_file=file)
    return Status(202, queries.get_result_import_for(actor, result_import.pk))


@router.get("/lab-results/import-jobs/{job_id}", response=ResultImportJobOut, summary="检测结果导入任务的进度与结果")
def lab_results_import_job(request, job_id: Id):
    return queries.get_result_import_for(_result_importer(request), job_id)


@router.post("/lab-results", response={201: LabResultOut},
             summary="登记一管检测结果;已有结果时须以 replaces_id 指明所更正的当前结果(否则 409)")
def lab_result_create(request, payload: LabResultIn):
    actor = _result_importer(request)
    try:
        tube = queries.lab_tube_for(actor, payload.barcode)
    except Http404:
        raise NotInScope("barcode") from None
    replaces = lookup(queries.get_lab_result_for, actor, payload.replaces_id, "replaces_id")
    if replaces is not None and replaces.tube_id != tube.pk:
        raise NotInScope("replaces_id")
    lab_result = services.lab_result_record(actor=actor, tube=tube, result=payload.result,
                                            reported_at=payload.reported_at, lab=payload.lab, replaces=replaces)
    return Status(201, queries.get_lab_result_for(actor, lab_result.pk))


@router.get("/tubes/{barcode}/results", response=list[LabResultOut], summary="一管的全部检测结果(含更正链)")
def tube_results(request, barcode: str):
    return list(queries.results_of_tube(queries.lab_tube_for(request.auth, barcode)))


@router.get("/resample-tasks", response=list[ResampleTaskOut],
            summary="单管复核任务(本人网格在前;电话已脱敏)")
@paginated
def resample_task_list(request, status: Choice[ResampleTask.Status] | None = ResampleTask.Status.OPEN,
                       grid: Id | None = None, round: Id | None = None):
    return queries.resample_tasks_for(request.auth, status=status or "", grid=grid, round=round)


# ---------------------------------------------------------------------------
# Coverage and figures
# ---------------------------------------------------------------------------

def _coverage_body(round, coverage: queries.Coverage) -> dict:
    total = coverage.total
    return {"round_id": round.pk, "expected": total.expected, "sampled": total.sampled, "untested": total.untested,
            "percent": total.percent, "antigen": coverage.antigen, "left_out": coverage.left_out,
            "grids": coverage.grids}


@router.get("/test-rounds/{round_id}/coverage", response=CoverageOut,
            summary="采样进度:应采、已采、未采(按网格、楼栋、单元)")
def round_coverage(request, round_id: Id):
    round = queries.get_round_for(request.auth, round_id)
    return _coverage_body(round, queries.round_coverage(request.auth, round))


@router.get("/test-rounds/{round_id}/untested", response=list[UntestedOut], summary="未采样人员(电话已脱敏)")
@paginated
def round_untested(request, round_id: Id, building_id: Id | None = None):
    round = queries.get_round_for(request.auth, round_id)
    building = None
    if building_id is not None:
        try:
            building = queries.get_round_building_for(request.auth, round, building_id)
        except Http404:
            raise NotInScope("building_id") from None
    return queries.untested_people(request.auth, round, building=building)


@router.get("/test-rounds/{round_id}/figures", response=FiguresOut,
            summary="采样数据:每小时采样、管数、出结果时长、阳性")
def round_figures(request, round_id: Id):
    round = queries.get_round_for(request.auth, round_id)
    return queries.round_figures(round)


@router.post("/antigen-reports", response={201: AntigenOut}, auth=any_user_auth(),
             summary="抗原自测上报(multipart 表单,照片可选;同一 client_id 只记录一次;居民可为本户成员上报)")
def antigen_create(request, payload: Form[AntigenIn], photo: File[UploadedFile] = None):
    actor = request.auth
    person = lookup(get_person_for, actor, payload.person_id, "person_id")
    round = None
    if payload.round_id is not None:
        try:
            round = queries.get_person_round(person, payload.round_id)
        except Http404:
            raise NotInScope("round_id") from None
    report = services.antigen_report(actor=actor, person=person, result=payload.result, taken_at=payload.taken_at,
                                     photo=photo, client_id=payload.client_id, round=round)
    return Status(201, report)
