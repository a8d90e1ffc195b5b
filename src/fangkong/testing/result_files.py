"""A lab's result file: the headers labs give their columns, the words and times they write, each bad line named."""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core.clock import not_later_than_now
from fangkong.core.errors import DomainError
from fangkong.core.idnumbers import normalize_text
from fangkong.people import ledger
from fangkong.testing.models import Result, normalize_barcode

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
RESULT_PROGRESS_EVERY = 1000  # lines read between two calls of progress
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


def read_result_file(file_name: str, data: bytes, *,
                     progress: Callable[..., None] | None = None) -> tuple[list[ResultRow], int]:
    """Every row of a result file and how many lines lie under its header (blank ones too), or a
    DomainError naming each bad line ("第 N 行") and nothing read.

    `progress("read", lines, total)` hears of the lines read as they go.
    """
    grid, _merged, _formulas = ledger.read_grid(file_name, data)
    header_index, columns = _result_header(grid)
    lines = len(grid) - header_index - 1
    now = timezone.now()
    rows, errors, first_line = [], [], {}
    for index in range(header_index + 1, len(grid)):
        if progress and (index - header_index) % RESULT_PROGRESS_EVERY == 0:
            progress("read", index - header_index, lines)
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
    if progress:
        progress("read", lines, lines)
    return rows, lines


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
        return None, _("第 %(line)d 行:时间“%(text)s”无法识别,应如 2022-04-04 06:30") % {
            "line": line, "text": time_text}
    try:
        not_later_than_now(reported_at, field="file", label=_("第 %(line)d 行:时间 %(text)s") % {
            "line": line, "text": time_text}, now=now)
    except DomainError as err:
        return None, err.message
    return ResultRow(line=line, barcode=barcode, result=result, reported_at=reported_at,
                     lab=texts.get("lab", "")[:100]), None
