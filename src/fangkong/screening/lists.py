"""Reading and writing verification lists (大数据核查名单) as they are sent down from above.

A list comes as .xlsx or .csv in whatever column order its sender chose, often under a title
row. Every received column is kept, in order, so the answer goes back in the same layout; the
columns matching needs (姓名, 身份证号, 手机号, ...) are recognised by their usual headers. The
spreadsheet reading itself (encodings, merged cells, full-width digits) is the ledger's.
Each row is checked and read into the values matching uses (`list_rows`); whom a row matches
and what an answer means is the business of `screening.services`.
"""

import csv
import datetime
import io
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from fangkong.core.errors import DomainError
from fangkong.core.idnumbers import compact, normalize_phone, normalize_text, parse_resident_id
from fangkong.people import ledger

# Field code → the headers lists use for it.
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "name": ledger.HEADER_NAMES["name"],
    "id_number": ledger.HEADER_NAMES["id_number"],
    "phone": ledger.HEADER_NAMES["phone"],
    "birth_date": ledger.HEADER_NAMES["birth_date"],
    "origin": ("来源地", "来自", "来源", "来源地区", "出发地", "途经地", "来自地区"),
    "reason": ("核查原因", "原因", "推送原因", "核查事由", "风险类型"),
    "notes": ("备注",),
}
ANSWER_COLUMNS = ("核查结果", "情况说明", "核查人", "核查时间", "匹配方式", "所属网格")
HEADER_SEARCH_ROWS = ledger.HEADER_SEARCH_ROWS

_ALIASES = {alias: code for code, aliases in HEADER_NAMES.items() for alias in aliases}
_HEADER_NOISE = re.compile(r"[\s*※:]|\(.*?\)|\[.*?\]")
_DATE = re.compile(r"^(\d{4})\D?(\d{1,2})\D?(\d{1,2})\D?$")


@dataclass
class ListSheet:
    """The received header row, where each known field sits in it, and the data rows as text."""

    columns: list[str]
    positions: dict[str, int]
    rows: list[tuple[int, list[str]]]

    def has(self, code: str) -> bool:
        return code in self.positions

    def value(self, cells: list[str], code: str) -> str:
        position = self.positions.get(code)
        return cells[position] if position is not None else ""


def list_header_code(text) -> str | None:
    """The field a header cell names: '公民身份号码(18位)' → 'id_number'."""
    return _ALIASES.get(_HEADER_NOISE.sub("", normalize_text(text)))


def parse_date(text: str) -> datetime.date | None:
    """1980-01-31, 1980/1/31, 19800131 or 1980年1月31日; None when it is none of them."""
    match = _DATE.match(text)
    if not match:
        return None
    try:
        return datetime.date(*map(int, match.groups()))
    except ValueError:
        return None


def read_list(file_name: str, data: bytes) -> ListSheet:
    """Parse an uploaded list; raise DomainError when it is no spreadsheet or has no header row."""
    grid, merged, _formulas = ledger.read_grid(file_name, data)
    return _sheet_from_grid(grid, merged)


def _find_header(grid: list[list]) -> int:
    for index, cells in enumerate(grid[:HEADER_SEARCH_ROWS]):
        found = {list_header_code(value) for value in cells if ledger.cell_text(value)} - {None}
        if len(found) >= 2 or "id_number" in found:
            return index
    raise DomainError(_("找不到表头:前 %(n)d 行中没有包含“姓名”“身份证号”等列名的行") % {"n": HEADER_SEARCH_ROWS},
                      code="no_header", fields={"file": _("找不到表头")})


def _sheet_from_grid(grid: list[list], merged) -> ListSheet:
    header_index = _find_header(grid)
    columns = [ledger.cell_text(value) for value in grid[header_index]]
    while columns and not columns[-1]:
        columns.pop()
    positions: dict[str, int] = {}
    for position, text in enumerate(columns):
        code = list_header_code(text)
        if code and code not in positions:
            positions[code] = position
    filled = ledger.fill_merged(grid, header_index + 1, merged)
    width = len(columns)
    rows = []
    for index in range(header_index + 1, len(grid)):
        cells = [ledger.unneutralise(ledger.cell_text(value)) for value in (filled.get(index) or grid[index])[:width]]
        if any(cells):
            rows.append((index + 1, cells + [""] * (width - len(cells))))
    if not rows:
        raise DomainError(_("名单中没有数据行"), code="empty", fields={"file": _("没有数据行")})
    return ListSheet(columns=columns, positions=positions, rows=rows)


@dataclass
class ListRow:
    """One row of a list, its values ready for matching; `cells` as received."""

    line: int
    cells: list
    name: str
    id_number: str
    phone: str
    phone_text: str
    birth_date: datetime.date | None
    origin: str
    reason: str


def list_rows(sheet: ListSheet) -> list[ListRow]:
    """Every row checked first; one bad row rejects the file, naming every bad row and its line."""
    if not sheet.has("id_number"):
        raise DomainError(_("名单缺少身份证号列"), code="missing_column", fields={"file": _("名单缺少身份证号列")})
    rows, problems = [], []
    for line, cells in sheet.rows:
        row, problem = _list_row(sheet, line, cells)
        if problem:
            problems.append(problem)
        else:
            rows.append(row)
    if problems:
        shown = ";".join(problems[:20]) + (_(" 等") if len(problems) > 20 else "")
        message = _("名单有 %(n)d 行有误,未导入任何数据:%(problems)s") % {"n": len(problems), "problems": shown}
        raise DomainError(message, code="list_invalid", fields={"file": message})
    return rows


def _list_row(sheet: ListSheet, line: int, cells: list) -> tuple[ListRow | None, str]:
    """One row's values for matching, or the problem that rejects it."""
    id_number, birth_date = compact(sheet.value(cells, "id_number")).upper(), None
    if id_number:
        try:
            parsed = parse_resident_id(id_number)
        except ValidationError as err:
            return None, _("第 %(line)d 行:身份证号:%(message)s") % {"line": line, "message": err.messages[0]}
        id_number, birth_date = parsed.number, parsed.birth_date
    elif sheet.has("birth_date") and sheet.value(cells, "birth_date"):
        birth_date = parse_date(compact(sheet.value(cells, "birth_date")))
        if birth_date is None:
            return None, _("第 %(line)d 行:出生日期:格式不正确,应如 1980-01-31") % {"line": line}
    name = normalize_text(sheet.value(cells, "name"))[:50]
    phone_text = compact(sheet.value(cells, "phone"))
    if not (id_number or phone_text or name):
        return None, _("第 %(line)d 行:没有身份证号、手机号或姓名,无法核查") % {"line": line}
    try:
        phone = normalize_phone(phone_text) if phone_text else ""
    except ValidationError:
        phone = ""
    return ListRow(line=line, cells=cells, name=name, id_number=id_number, phone=phone,
                   phone_text=(phone or phone_text)[:20], birth_date=birth_date,
                   origin=normalize_text(sheet.value(cells, "origin"))[:100],
                   reason=normalize_text(sheet.value(cells, "reason"))[:200]), ""


def write_list(header: list[str], rows, *, file_format: str) -> bytes:
    """Write the header row then the rows of text; every cell neutralised against formula injection."""
    if file_format == "csv":
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        writer.writerow([ledger.neutralise(value) for value in header])
        writer.writerows([ledger.neutralise(value) for value in row] for row in rows)
        return buffer.getvalue().encode("utf-8-sig")
    if file_format == "xlsx":
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(_("核查名单"))
        sheet.append([ledger.neutralise(value) for value in header])
        for row in rows:
            sheet.append([ledger.neutralise(value) for value in row])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
    raise DomainError(_("导出格式只能是 xlsx 或 csv"), code="format", fields={"fmt": _("格式不支持")})


def export_file_name(batch, fmt: str) -> str:
    return f"{batch.title}-核查结果-{timezone.localtime():%Y%m%d%H%M}.{fmt}"
