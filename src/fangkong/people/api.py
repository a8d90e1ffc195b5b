"""People endpoints: persons (search, CRUD, reveal, duplicates, merge) and the community ledger."""

from typing import Literal

from django.conf import settings
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from fangkong.core.api import error_body, paginated
from fangkong.core.converters import Id
from fangkong.core.errors import DomainError, lookup
from fangkong.core.uploads import check_upload_size
from fangkong.people import queries, services
from fangkong.people.models import Residency, Tag
from fangkong.people.schemas import (
    DuplicateGroupOut,
    ImportJobOut,
    LedgerReportOut,
    MergeIn,
    PersonIn,
    PersonOut,
    PersonPatch,
    PersonRevealed,
)
from fangkong.places.queries import get_community_for, get_household_for

router = Router()

_CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@router.get("/persons", response=list[PersonOut], summary="人员列表与搜索(证件号、电话脱敏)")
@paginated
def person_list(request, q: str = "", tag: Tag | None = None, residency: Residency | None = None,
                grid: Id | None = None, household: Id | None = None):
    """q: 姓名、拼音首字母(zs)、证件号或电话后四位、手机号、地址简写 3-2-301;按完整证件号查询有频率限制。"""
    return services.person_search(actor=request.auth, text=q, tag=tag or "", residency=residency or "", grid_id=grid,
                                  household_id=household)


@router.get("/persons/duplicates", response=list[DuplicateGroupOut], summary="疑似重复人员")
def person_duplicates(request):
    return queries.duplicate_suspects(request.auth)


@router.get("/persons/{person_id}", response=PersonOut, summary="人员详情(脱敏)")
def person_detail(request, person_id: Id):
    return queries.get_person_for(request.auth, person_id)


@router.post("/persons/{person_id}/reveal", response=PersonRevealed, summary="查看完整证件号和手机号(记入审计日志)")
def person_reveal(request, person_id: Id):
    person = queries.get_person_for(request.auth, person_id)
    return services.person_reveal(actor=request.auth, person=person)


@router.post("/persons", response={201: PersonOut}, summary="新建人员")
def person_create(request, payload: PersonIn):
    actor = request.auth
    values = payload.dict()
    household = lookup(get_household_for, actor, values.pop("household_id"), "household_id")
    community = lookup(get_community_for, actor, values.pop("community_id"), "community_id")
    if community is None and household is None:
        raise DomainError(_("请指定所属社区或户"), fields={"community_id": _("必填")})
    person = services.person_create(actor=actor, community=community or household.community, household=household,
                                    **values)
    return Status(201, queries.get_person_for(actor, person.pk))


@router.patch("/persons/{person_id}", response=PersonOut, summary="修改人员(只传要改的字段)")
def person_update(request, person_id: Id, payload: PersonPatch):
    actor = request.auth
    person = queries.get_person_for(actor, person_id)
    changes = payload.dict(exclude_unset=True)
    if "household_id" in changes:
        changes["household"] = lookup(get_household_for, actor, changes.pop("household_id"), "household_id")
    services.person_patch(actor=actor, person=person, changes=changes)
    return queries.get_person_for(actor, person.pk)


@router.delete("/persons/{person_id}", response={204: None}, summary="删除人员")
def person_delete(request, person_id: Id):
    services.person_delete(actor=request.auth, person=queries.get_person_for(request.auth, person_id))
    return Status(204, None)


@router.post("/persons/{person_id}/merge", response=PersonOut, summary="合并重复人员(重复记录的一切移到当前人员)")
def person_merge(request, person_id: Id, payload: MergeIn):
    actor = request.auth
    keep = queries.get_person_for(actor, person_id)
    duplicate = lookup(queries.get_person_for, actor, payload.duplicate, "duplicate")
    kept = services.person_merge(actor=actor, keep=keep, duplicate=duplicate)
    return queries.get_person_for(actor, kept.pk)


@router.post("/communities/{community_id}/ledger/import", response={200: LedgerReportOut, 400: dict},
             summary="导入人口台账(.xlsx/.csv;dry_run=true 只预览)")
def ledger_import(request, community_id: Id, file: File[UploadedFile], dry_run: Form[bool] = False):
    """Any bad row rejects the whole file (nothing written) and lists every problem with its line."""
    community = get_community_for(request.auth, community_id)
    if file.size > settings.LEDGER_MAX_BYTES:
        message = _("文件过大:台账文件不能超过 %(mb)d MB") % {"mb": settings.LEDGER_MAX_BYTES // (1024 * 1024)}
        raise DomainError(message, code="too_large", fields={"file": _("文件过大")})
    report = services.ledger_import(actor=request.auth, community=community, file_name=file.name, data=file.read(),
                                    dry_run=dry_run)
    if report.ok or report.dry_run:
        return report
    problems = [{"line": p.line, "field": p.field, "message": p.message} for p in report.problems]
    message = _("台账有 %(n)d 处错误,未导入任何数据") % {"n": len(problems)}
    return Status(400, error_body("ledger_invalid", message, {"file": message}, problems=problems))


@router.post("/communities/{community_id}/ledger/import-jobs", response={202: ImportJobOut},
             summary="排队导入人口台账(后台处理,适合大文件;轮询任务查看进度和结果)")
def ledger_import_job_start(request, community_id: Id, file: File[UploadedFile], dry_run: Form[bool] = False):
    """The worker imports the file; GET the job until its status is done (with the report) or failed
    (with the reason)."""
    community = get_community_for(request.auth, community_id)
    check_upload_size(file)
    job = services.ledger_import_job_start(actor=request.auth, community=community, file_name=file.name,
                                           data=file.read(), dry_run=dry_run)
    return Status(202, queries.get_import_job_for(request.auth, job.pk))


@router.get("/ledger/import-jobs/{job_id}", response=ImportJobOut, summary="台账导入任务的进度与结果")
def ledger_import_job(request, job_id: Id):
    return queries.get_import_job_for(request.auth, job_id)


@router.get("/communities/{community_id}/ledger/export", summary="导出人口台账(无权限者证件号、电话脱敏)")
def ledger_export(request, community_id: Id, file_format: Literal["xlsx", "csv"] = "xlsx"):
    community = get_community_for(request.auth, community_id)
    data, filename = services.ledger_export(actor=request.auth, community=community, file_format=file_format)
    response = HttpResponse(data, content_type=_CONTENT_TYPES[file_format])
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
