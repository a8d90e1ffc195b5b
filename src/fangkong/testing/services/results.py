"""Lab results: a lab's result file brought in for a community, or one tube's result recorded."""

import datetime
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit
from fangkong.core.bulk import insert_rows, update_rows
from fangkong.core.clock import not_later_than_now
from fangkong.core.errors import Conflict, DomainError, require_choice
from fangkong.core.idnumbers import normalize_text
from fangkong.core.jobs import Progress, job_enqueue, job_origin
from fangkong.core.scope import ensure_in_scope
from fangkong.core.uploads import check_upload_size
from fangkong.testing.models import LabResult, Result, ResultImport, Sample, Tube
from fangkong.testing.permissions import require_result_importer
from fangkong.testing.result_files import ResultRow, read_result_file
from fangkong.testing.services.positives import positive_tube_chain

RESULT_CHUNK = 5000


def lab_results_import_start(*, actor, community, uploaded_file) -> ResultImport:
    """Queue a lab's result file for the worker; the ResultImport shows its progress, then what it did.

    The file is kept with the job until its results have landed (or the job failed).
    """
    _check_import(actor=actor, community=community, uploaded_file=uploaded_file)
    result_import = ResultImport.objects.create(community=community, actor=actor, origin=job_origin(actor),
                                                file_name=(uploaded_file.name or "")[:200],
                                                upload=uploaded_file.read())
    job_enqueue(result_import)
    return result_import


def result_import_work(job: ResultImport, progress: Progress) -> dict:
    """The worker's side of a ResultImport (see fangkong.core.jobs), and what bench/sampling.py measures.

    A run cut off before its transaction committed stored nothing and starts again; a rerun of a
    job whose results already landed (the file given up) stores nothing and reports what they were.
    """
    if job.upload is None:
        for step in ResultImport.STEPS:
            progress(step, job.total, job.total)
        return {}
    _import_results(job, bytes(job.upload), progress=progress)
    return {}


def lab_results_import(*, actor, community, uploaded_file) -> ResultImport:
    """The same import run at once, in the caller's transaction (the synchronous API, scripts).

    A bad file raises its DomainError and leaves nothing behind, not even a failed job.
    """
    _check_import(actor=actor, community=community, uploaded_file=uploaded_file)
    with transaction.atomic():
        result_import = ResultImport.objects.create(community=community, actor=actor, origin=job_origin(actor),
                                                    file_name=(uploaded_file.name or "")[:200],
                                                    status=ResultImport.Status.RUNNING, started_at=timezone.now())
        lines = _import_results(result_import, uploaded_file.read())
        ResultImport.objects.filter(pk=result_import.pk).update(
            status=ResultImport.Status.DONE, finished_at=timezone.now(),
            **{f"rows_{step}": lines for step in ResultImport.STEPS})
    result_import.refresh_from_db()
    return result_import


def _check_import(*, actor, community, uploaded_file) -> None:
    require_result_importer(actor)
    ensure_in_scope(actor, community)
    check_upload_size(uploaded_file, field="file")


def _import_results(result_import: ResultImport, data: bytes, *, progress: Callable[..., None] | None = None) -> int:
    """Read the file, then store its results and run the chain of every positive tube, all in one transaction.

    A malformed row stops the whole file; a barcode that is no tube of the community is only
    reported. A tube whose current result the file repeats is left alone (the same file twice
    stores nothing twice); a different word is a correction that replaces the current result.
    The import's own row is written last (its counts, the file given up): that write is what says
    the results have landed. `progress(step, lines, total)` hears of the lines read, checked, written
    (a positive tube's line is written once its chain has run). Returns the file's lines under its header.
    """
    progress = progress or _no_progress
    rows, lines = read_result_file(result_import.file_name, data, progress=progress)
    actor = result_import.actor
    with transaction.atomic():
        positive_ids, unknown = _store_results(actor=actor, result_import=result_import, rows=rows, lines=lines,
                                               progress=progress)
        chained = lines - len(positive_ids)
        progress("written", chained)
        for tube in Tube.objects.filter(pk__in=positive_ids).order_by("id"):
            positive_tube_chain(actor=actor, tube=tube)
            chained += 1
            progress("written", chained)
        ResultImport.objects.filter(pk=result_import.pk).update(
            total=lines, rows=len(rows), positives=len(positive_ids), unknown_tubes=unknown, upload=None)
    return lines


def _no_progress(step: str, rows: int, total: int | None = None) -> None:
    """Progress nobody follows (an import run at once)."""


_LAB_RESULT_COLUMNS = ("tube_id", "community_id", "result", "reported_at", "lab", "replaces_id", "source_id",
                       "recorded_by_id", "created_at")


def _store_results(*, actor, result_import: ResultImport, rows: list[ResultRow], lines: int,
                   progress: Callable[..., None]) -> tuple[list[int], list[str]]:
    """Insert the rows' new results and result their tubes; the positive tubes' ids and the unknown barcodes."""
    community = result_import.community
    tubes = _tube_ids_by_barcode(community, [row.barcode for row in rows])
    current = _current_results(list(tubes.values()))
    progress("checked", lines)
    unknown = [row.barcode for row in rows if row.barcode not in tubes]
    fresh = [(row, tubes[row.barcode]) for row in rows if row.barcode in tubes
             and current.get(tubes[row.barcode], (None, None))[1] != row.result]
    positive_ids = [tube_id for row, tube_id in fresh if row.result == Result.POSITIVE]
    now = timezone.now()
    insert_rows(LabResult, _LAB_RESULT_COLUMNS, [
        (tube_id, community.pk, row.result, row.reported_at, row.lab, current.get(tube_id, (None, None))[0],
         result_import.pk, actor.pk if actor else None, now) for row, tube_id in fresh])
    update_rows(Tube, "id", ("result", "resulted_at", "status"),
                [(tube_id, row.result, row.reported_at, Tube.Status.RESULTED) for row, tube_id in fresh])
    invalid_ids = [tube_id for row, tube_id in fresh if row.result == Result.INVALID]
    for start in range(0, len(invalid_ids), RESULT_CHUNK):
        Sample.objects.filter(tube_id__in=invalid_ids[start:start + RESULT_CHUNK], void=False).update(void=True)
    result_import.rows, result_import.positives, result_import.unknown_tubes = len(rows), len(positive_ids), unknown
    audit.record(actor=actor, action=audit.Action.IMPORT, obj=result_import,
                 object_repr=f"{result_import.file_name} ({len(fresh)}/{len(rows)})",
                 fields=["rows", "positives", "unknown_tubes"])
    return positive_ids, unknown


def _tube_ids_by_barcode(community, barcodes: list[str]) -> dict[str, int]:
    """The community's tubes among the barcodes, locked so a second import of the same tubes waits."""
    found: dict[str, int] = {}
    for start in range(0, len(barcodes), RESULT_CHUNK):
        chunk = barcodes[start:start + RESULT_CHUNK]
        found.update(Tube.objects.select_for_update().filter(community=community, barcode__in=chunk)
                     .values_list("barcode", "id"))
    return found


def _current_results(tube_ids: list[int]) -> dict[int, tuple[int, str]]:
    """tube id → (id, word) of its current result: the latest one nothing replaces."""
    current: dict[int, tuple[int, str]] = {}
    for start in range(0, len(tube_ids), RESULT_CHUNK):
        rows = (LabResult.objects.filter(tube_id__in=tube_ids[start:start + RESULT_CHUNK], replaced_by__isnull=True)
                .order_by("created_at", "id").values_list("tube_id", "id", "result"))
        current.update((tube_id, (pk, word)) for tube_id, pk, word in rows)
    return current


def lab_result_record(*, actor, tube: Tube, result: str, reported_at: datetime.datetime, lab: str = "",
                      replaces: LabResult | None = None) -> LabResult:
    """One result for one tube (a lab's device, a phone call written down).

    Results are never changed: a second result must name the current one in `replaces`,
    so two people correcting at once cannot both win (409 for the second).
    """
    require_result_importer(actor)
    ensure_in_scope(actor, tube)
    result = require_choice(result, Result, field="result", label=_("检测结果"))
    reported_at = _check_reported_at(reported_at)
    with transaction.atomic():
        tube = Tube.objects.select_for_update().get(pk=tube.pk)
        current = _current_results([tube.pk]).get(tube.pk)
        _check_replaces(current, replaces)
        lab_result = LabResult.objects.create(tube=tube, community_id=tube.community_id, result=result,
                                              reported_at=reported_at, lab=normalize_text(lab)[:100],
                                              replaces=replaces, recorded_by=actor)
        Tube.objects.filter(pk=tube.pk).update(result=result, resulted_at=reported_at, status=Tube.Status.RESULTED)
        if result == Result.INVALID:
            Sample.objects.filter(tube=tube, void=False).update(void=True)
        audit.record(actor=actor, action=audit.Action.CREATE, obj=lab_result,
                     object_repr=f"{tube.barcode} {lab_result.get_result_display()}",
                     fields=["result", "reported_at", "lab"] + (["replaces"] if replaces else []))
    if result == Result.POSITIVE:
        tube.refresh_from_db()
        positive_tube_chain(actor=actor, tube=tube)
    return lab_result


def _check_reported_at(reported_at) -> datetime.datetime:
    if reported_at is None:
        message = _("请填写报告时间")
        raise DomainError(message, fields={"reported_at": message})
    return not_later_than_now(reported_at, field="reported_at", label=_("报告时间"))


def _check_replaces(current: tuple[int, str] | None, replaces: LabResult | None) -> None:
    if current is None and replaces is not None:
        message = _("该管还没有结果,无需更正")
        raise Conflict(message, code="nothing_to_replace", fields={"replaces_id": message})
    if current is not None and (replaces is None or replaces.pk != current[0]):
        message = _("该管已有结果(%(word)s);更正须指明所替代的当前结果") % {"word": Result(current[1]).label}
        raise Conflict(message, code="result_exists", fields={"replaces_id": message})
