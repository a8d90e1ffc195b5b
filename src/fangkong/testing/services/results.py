"""Lab results: a lab's result file brought in for a community, or one tube's result recorded."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit
from fangkong.core.bulk import insert_rows, update_rows
from fangkong.core.clock import not_later_than_now
from fangkong.core.errors import Conflict, DomainError, require_choice
from fangkong.core.idnumbers import normalize_text
from fangkong.core.scope import ensure_in_scope
from fangkong.core.uploads import check_upload_size
from fangkong.testing.models import LabResult, Result, ResultImport, Sample, Tube
from fangkong.testing.permissions import require_result_importer
from fangkong.testing.result_files import ResultRow, read_result_file
from fangkong.testing.services.positives import positive_tube_chain

RESULT_CHUNK = 5000


def lab_results_import(*, actor, community, uploaded_file) -> ResultImport:
    """Bring in a lab's result file for one community, then set off the chain of every positive tube.

    A malformed row stops the whole file; a barcode that is no tube of the community is only
    reported. A tube whose current result the file repeats is left alone (the same file twice
    stores nothing twice); a different word is a correction that replaces the current result.
    The results land in one transaction; each positive tube's chain then runs in its own.
    """
    require_result_importer(actor)
    ensure_in_scope(actor, community)
    check_upload_size(uploaded_file, field="file")
    rows = read_result_file(uploaded_file.name or "", uploaded_file.read())
    with transaction.atomic():
        result_import, positive_ids = _store_results(actor=actor, community=community,
                                                     file_name=uploaded_file.name or "", rows=rows)
    for tube in Tube.objects.filter(pk__in=positive_ids).order_by("id"):
        positive_tube_chain(actor=actor, tube=tube)
    return result_import


_LAB_RESULT_COLUMNS = ("tube_id", "community_id", "result", "reported_at", "lab", "replaces_id", "source_id",
                       "recorded_by_id", "created_at")


def _store_results(*, actor, community, file_name: str, rows: list[ResultRow]) -> tuple[ResultImport, list[int]]:
    tubes = _tube_ids_by_barcode(community, [row.barcode for row in rows])
    current = _current_results(list(tubes.values()))
    unknown = [row.barcode for row in rows if row.barcode not in tubes]
    fresh = [(row, tubes[row.barcode]) for row in rows if row.barcode in tubes
             and current.get(tubes[row.barcode], (None, None))[1] != row.result]
    positive_ids = [tube_id for row, tube_id in fresh if row.result == Result.POSITIVE]
    result_import = ResultImport.objects.create(community=community, file_name=file_name[:200], rows=len(rows),
                                                positives=len(positive_ids), unknown_tubes=unknown, imported_by=actor)
    now = timezone.now()
    insert_rows(LabResult, _LAB_RESULT_COLUMNS, [
        (tube_id, community.pk, row.result, row.reported_at, row.lab, current.get(tube_id, (None, None))[0],
         result_import.pk, actor.pk, now) for row, tube_id in fresh])
    update_rows(Tube, "id", ("result", "resulted_at", "status"),
                [(tube_id, row.result, row.reported_at, Tube.Status.RESULTED) for row, tube_id in fresh])
    invalid_ids = [tube_id for row, tube_id in fresh if row.result == Result.INVALID]
    for start in range(0, len(invalid_ids), RESULT_CHUNK):
        Sample.objects.filter(tube_id__in=invalid_ids[start:start + RESULT_CHUNK], void=False).update(void=True)
    audit.record(actor=actor, action=audit.Action.IMPORT, obj=result_import,
                 object_repr=f"{file_name} ({len(fresh)}/{len(rows)})", fields=["rows", "positives", "unknown_tubes"])
    return result_import, positive_ids


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
