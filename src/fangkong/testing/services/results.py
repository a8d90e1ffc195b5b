"""Lab results: a lab's result file brought in for a community, or one tube's result recorded."""

import datetime
import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import Role
from fangkong.core import audit
from fangkong.core.bulk import insert_rows, update_rows
from fangkong.core.errors import Conflict, DomainError, NotAllowed, require_choice
from fangkong.core.idnumbers import normalize_text
from fangkong.core.scope import ensure_in_scope
from fangkong.people import ledger
from fangkong.testing.models import LabResult, Result, ResultImport, Sample, Tube, normalize_barcode
from fangkong.testing.services.positives import positive_tube_chain

RESULT_WORDS = {
    "阴性": Result.NEGATIVE, "negative": Result.NEGATIVE,
    "阳性": Result.POSITIVE, "positive": Result.POSITIVE,
    "无效": Result.INVALID, "invalid": Result.INVALID,
}
# Field code → the headers labs use for it (compared without spaces, underscores, brackets, case).
RESULT_HEADERS: dict[str, tuple[str, ...]] = {
    "barcode": ("条码", "管码", "试管条码", "采样管条码", "采样管编码", "采样管编号", "样本条码", "样本编号", "管号",
                "tube", "barcode", "tubebarcode"),
    "result": ("结果", "检测结果", "核酸结果", "result"),
    "time": ("时间", "报告时间", "检测时间", "结果时间", "time", "reportedat", "reporttime"),
    "lab": ("检测机构", "检测单位", "实验室", "lab", "laboratory"),
}
RESULT_ERRORS_SHOWN = 20
RESULT_CHUNK = 5000
_RESULT_ROLES = {Role.COMMUNITY_STAFF, Role.STREET_ADMIN, Role.MEDIC}
_RESULT_ALIASES = {alias: code for code, aliases in RESULT_HEADERS.items() for alias in aliases}
_RESULT_HEADER_NOISE = re.compile(r"[\s*※:_\-]|\(.*?\)|\[.*?\]")
_RESULT_TIME = re.compile(r"^(\d{4})\D(\d{1,2})\D(\d{1,2})\D?(?:[ T]*(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2}))?)?")


@dataclass(frozen=True)
class ResultRow:
    """One line of a lab's result file, checked."""

    line: int
    barcode: str
    result: str
    reported_at: datetime.datetime
    lab: str


def may_import_results(actor) -> bool:
    """Community staff, the street's task force and medics bring in the lab's results."""
    return actor.is_authenticated and (actor.is_superuser or actor.role in _RESULT_ROLES)


def _require_result_importer(actor) -> None:
    if not may_import_results(actor):
        raise NotAllowed(_("只有社区工作人员、街道专班和医护人员可以登记检测结果"))


def result_header_code(text) -> str | None:
    """The field a header cell names: '采样管条码(必填)' → 'barcode', 'Tube_Barcode' → 'barcode'."""
    return _RESULT_ALIASES.get(_RESULT_HEADER_NOISE.sub("", normalize_text(text)).lower())


def parse_result_word(text: str) -> str | None:
    return RESULT_WORDS.get(normalize_text(text).lower())


def parse_result_time(text: str) -> datetime.datetime | None:
    """2022-04-04 06:30, 2022/4/4 6:30:15, 2022年4月4日 6时30分 or a date alone, in local time; None otherwise."""
    match = _RESULT_TIME.match(text)
    if not match:
        return None
    parts = [int(part) if part else 0 for part in match.groups()]
    try:
        moment = datetime.datetime(*parts)
    except ValueError:
        return None
    return timezone.make_aware(moment)


def read_result_file(file_name: str, data: bytes) -> list[ResultRow]:
    """Every row of a result file, or a DomainError naming each bad line ("第 N 行") and nothing read."""
    grid, _merged, _formulas = ledger.read_grid(file_name, data)
    header_index, columns = _result_header(grid)
    now = timezone.now()
    rows, errors, first_line = [], [], {}
    for index in range(header_index + 1, len(grid)):
        cells = grid[index]
        texts = {code: ledger.cell_text(cells[position]) if position < len(cells) else ""
                 for code, position in columns.items()}
        if not any(texts.values()):
            continue
        row, problem = _result_row(index + 1, texts, now)
        if row is not None:
            first = first_line.setdefault(row.barcode, row.line)
            if first != row.line:
                problem = _("第 %(line)d 行:条码 %(barcode)s 与第 %(first)d 行重复") % {
                    "line": row.line, "barcode": row.barcode, "first": first}
        if problem:
            errors.append(problem)
        else:
            rows.append(row)
    if errors:
        shown = ";".join(errors[:RESULT_ERRORS_SHOWN]) + ("……" if len(errors) > RESULT_ERRORS_SHOWN else "")
        message = _("结果文件有 %(n)d 处错误,未导入任何结果:%(errors)s") % {"n": len(errors), "errors": shown}
        raise DomainError(message, code="bad_rows", fields={"file": message})
    if not rows:
        raise DomainError(_("结果文件中没有数据行"), code="empty", fields={"file": _("没有数据行")})
    return rows


def _result_header(grid: list[list]) -> tuple[int, dict[str, int]]:
    for index, cells in enumerate(grid[:ledger.HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        for position, value in enumerate(cells):
            code = result_header_code(ledger.cell_text(value))
            if code and code not in columns:
                columns[code] = position
        if "barcode" in columns and "result" in columns:
            return index, columns
    message = _("找不到表头:前 %(n)d 行中没有同时包含“条码”和“结果”两列的行") % {"n": ledger.HEADER_SEARCH_ROWS}
    raise DomainError(message, code="missing_column", fields={"file": message})


def _result_row(line: int, texts: dict, now: datetime.datetime) -> tuple[ResultRow | None, str | None]:
    barcode = normalize_barcode(texts["barcode"])
    if not barcode or len(barcode) > 40:
        return None, _("第 %(line)d 行:条码为空或超过 40 个字符") % {"line": line}
    result = parse_result_word(texts["result"])
    if result is None:
        return None, _("第 %(line)d 行:结果“%(word)s”无法识别,应为阴性、阳性或无效(negative/positive/invalid)") % {
            "line": line, "word": texts["result"]}
    time_text = texts.get("time", "")
    reported_at = parse_result_time(time_text) if time_text else now
    if reported_at is None:
        return None, _("第 %(line)d 行:时间“%(text)s”无法识别,应如 2022-04-04 06:30") % {"line": line, "text": time_text}
    if reported_at > now + datetime.timedelta(minutes=5):
        return None, _("第 %(line)d 行:时间 %(text)s 晚于现在") % {"line": line, "text": time_text}
    return ResultRow(line=line, barcode=barcode, result=result, reported_at=reported_at,
                     lab=texts.get("lab", "")[:100]), None


def lab_results_import(*, actor, community, uploaded_file) -> ResultImport:
    """Bring in a lab's result file for one community, then set off the chain of every positive tube.

    A malformed row stops the whole file; a barcode that is no tube of the community is only
    reported. A tube whose current result the file repeats is left alone (the same file twice
    stores nothing twice); a different word is a correction that replaces the current result.
    The results land in one transaction; each positive tube's chain then runs in its own.
    """
    _require_result_importer(actor)
    ensure_in_scope(actor, community)
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
    _require_result_importer(actor)
    ensure_in_scope(actor, tube)
    result = require_choice(result, Result, field="result", label=_("检测结果"))
    _check_reported_at(reported_at)
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


def _check_reported_at(reported_at) -> None:
    if reported_at is None or reported_at > timezone.now() + datetime.timedelta(minutes=5):
        message = _("报告时间不能为空,也不能晚于现在")
        raise DomainError(message, fields={"reported_at": message})


def _check_replaces(current: tuple[int, str] | None, replaces: LabResult | None) -> None:
    if current is None and replaces is not None:
        message = _("该管还没有结果,无需更正")
        raise Conflict(message, code="nothing_to_replace", fields={"replaces_id": message})
    if current is not None and (replaces is None or replaces.pk != current[0]):
        message = _("该管已有结果(%(word)s);更正须指明所替代的当前结果") % {"word": Result(current[1]).label}
        raise Conflict(message, code="result_exists", fields={"replaces_id": message})
