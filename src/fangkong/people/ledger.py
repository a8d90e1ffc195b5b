"""Reading and writing the population ledger (人口台账) as communities keep it in spreadsheets.

This module knows the file format only: where the header row is, which column holds what,
merged cells, encodings, formula cells. What a value means and whether it is valid is the
business of `people.ledger_import`.
"""

import csv
import datetime
import io
import re
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from openpyxl import Workbook
from python_calamine import CalamineError, CalamineWorkbook

from fangkong.core.errors import DomainError
from fangkong.core.idnumbers import normalize_text

# Field code → the headers communities use for it. The first is the one written on export.
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "serial": ("序号", "编号", "No"),
    "compound": ("小区", "小区名称", "院落", "小区/院落"),
    "building": ("楼栋", "楼号", "楼栋号", "栋号", "幢号", "楼"),
    "unit": ("单元", "单元号"),
    "room": ("房号", "门牌号", "房间号", "室号", "户号"),
    "name": ("姓名", "居民姓名", "人员姓名"),
    "id_type": ("证件类型",),
    "id_number": ("身份证号", "身份证号码", "证件号码", "证件号", "公民身份号码", "身份证"),
    "sex": ("性别",),
    "birth_date": ("出生日期", "出生年月", "出生年月日"),
    "phone": ("联系电话", "手机号", "电话", "手机号码", "手机", "联系方式"),
    "relationship": ("与户主关系", "户主关系", "关系"),
    "residency": ("人员类型", "人口类型", "居住类型"),
    "tags": ("重点人群", "人员标签", "重点人群标签", "标签"),
    "notes": ("备注",),
}
EXPORT_FIELDS = ("compound", "building", "unit", "room", "name", "id_type", "id_number", "sex", "birth_date",
                 "phone", "relationship", "residency", "tags", "notes")
ADDRESS_FIELDS = ("building", "unit", "room")
IGNORED_FIELDS = {"serial"}
HEADER_SEARCH_ROWS = 20
FORMULA_PREFIXES = ("=", "+", "-", "@")

_LIST_SEPARATORS = re.compile(r"[、,;/\s]+")
_DATE_PARTS = re.compile(r"^(\d{4})\D?(\d{1,2})\D?(\d{1,2})\D?$")
_ALIASES = {alias: code for code, aliases in HEADER_NAMES.items() for alias in aliases}
_HEADER_NOISE = re.compile(r"[\s*※:]|\(.*?\)|\[.*?\]")
_FORMULA_CELL = re.compile(rb'<c r="([A-Z]+)(\d+)"[^>]*?(?<!/)>\s*<f[\s>/]')


def label_of(code: str) -> str:
    """The header a column is written under on export, and named by in messages when absent."""
    return HEADER_NAMES[code][0]


@dataclass
class LedgerSheet:
    """The rows of a ledger file with the line numbers the user sees; `columns` says where each field is.

    Each row holds a cell at every position `columns` names (a short row is padded with "").
    """

    headers: dict[str, str]
    columns: dict[str, int]
    rows: list[tuple[int, list]]
    unknown_columns: list[str] = field(default_factory=list)
    formula_cells: set[tuple[int, str]] = field(default_factory=set)

    def has(self, code: str) -> bool:
        return code in self.headers

    def values(self, cells: list) -> dict:
        """A row's cells keyed by field code."""
        return {code: cells[position] for code, position in self.columns.items()}

    def header(self, code: str) -> str:
        return self.headers.get(code) or label_of(code)


def header_code(text) -> str | None:
    """The field a header cell names: '身份证号码(必填)' → 'id_number'."""
    return _ALIASES.get(_HEADER_NOISE.sub("", normalize_text(text)))


def cell_text(value) -> str:
    """A cell as text: numbers without a trailing '.0', dates as YYYY-MM-DD, full-width folded."""
    if type(value) is str:
        return " ".join(value.split()) if value.isascii() else normalize_text(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return normalize_text(value)


def cell_date(raw, text: str) -> datetime.date:
    """A date cell, or a text cell written as 1980-01-31, 1980/1/31, 1980年1月31日 or 19800131."""
    if isinstance(raw, datetime.datetime):
        return raw.date()
    if isinstance(raw, datetime.date):
        return raw
    if len(text) == 10 and text[4] == text[7] == "-":
        try:
            return datetime.date.fromisoformat(text)
        except ValueError:
            pass  # the general reading below explains what is wrong
    match = _DATE_PARTS.match(text)
    if not match:
        raise ValidationError(_("出生日期格式不正确,应如 1980-01-31"))
    try:
        return datetime.date(*map(int, match.groups()))
    except ValueError:
        raise ValidationError(_("出生日期不存在")) from None


def split_list(text: str) -> list[str]:
    """The words of a cell listing several (独居、慢病 / 独居,慢病 / 独居 慢病)."""
    return [word for word in _LIST_SEPARATORS.split(text) if word]


def neutralise(text: str) -> str:
    """Write a text cell so no spreadsheet runs it as a formula: a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def unneutralise(text: str) -> str:
    """Undo `neutralise`, so an exported file imports back unchanged."""
    if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES):
        return text[1:]
    return text


# Reading -----------------------------------------------------------------------------------

def read_grid(file_name: str, data: bytes):
    """The first sheet of an uploaded .xlsx / .xls / .csv file as (rows of cells, merged ranges, formula cells).

    Ledgers, verification lists and risk-area lists all arrive this way; too large, empty and
    other formats are refused with the same messages.
    """
    if len(data) > settings.LEDGER_MAX_BYTES:
        raise DomainError(_("文件过大:不能超过 %(mb)d MB") % {"mb": settings.LEDGER_MAX_BYTES // (1024 * 1024)},
                          code="too_large", fields={"file": _("文件过大")})
    if not data.strip():
        raise DomainError(_("文件是空的"), code="empty", fields={"file": _("文件是空的")})
    suffix = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if suffix in {"xlsx", "xlsm", "xls"}:
        return read_workbook(data, suffix)
    if suffix == "csv":
        return read_csv(data), [], set()
    raise DomainError(_("只支持 .xlsx、.xls 和 .csv 格式"), code="format", fields={"file": _("格式不支持")})


def read_ledger(file_name: str, data: bytes) -> LedgerSheet:
    """Parse an uploaded .xlsx / .xls / .csv ledger; raise DomainError when it is not one."""
    return _sheet_from_grid(*read_grid(file_name, data))


def _not_a_spreadsheet() -> DomainError:
    return DomainError(_("文件不是有效的电子表格,请上传 Excel(.xlsx)或 CSV 文件"), code="format",
                       fields={"file": _("不是电子表格")})


def read_workbook(data: bytes, suffix: str):
    magic = b"PK\x03\x04" if suffix in {"xlsx", "xlsm"} else b"\xd0\xcf\x11\xe0"
    if not data.startswith(magic):
        raise _not_a_spreadsheet()
    try:
        with CalamineWorkbook.from_filelike(io.BytesIO(data)) as workbook:
            sheet = workbook.get_sheet_by_index(0)
            grid = sheet.to_python(skip_empty_area=False)
            merged = sheet.merged_cell_ranges or []
    except (CalamineError, ValueError, OSError):
        raise _not_a_spreadsheet() from None
    formulas = _formula_positions(data) if suffix != "xls" else set()
    return grid, merged, formulas


def _formula_positions(data: bytes) -> set[tuple[int, int]]:
    """(row, column), 0-based, of every cell of the first sheet that holds a formula.

    calamine gives a formula's cached result, so formulas are found in the sheet's XML.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xml = archive.read(_first_sheet_path(archive))
    except (zipfile.BadZipFile, KeyError):
        return set()
    if b"<f" not in xml:
        return set()
    return {(int(row) - 1, _column_index(letters.decode())) for letters, row in _FORMULA_CELL.findall(xml)}


def _first_sheet_path(archive: zipfile.ZipFile) -> str:
    workbook = archive.read("xl/workbook.xml")
    rels = archive.read("xl/_rels/workbook.xml.rels")
    first = re.search(rb'<(?:\w+:)?sheet\b[^>]*?\br:id="([^"]+)"', workbook)
    if first:
        for rel in re.finditer(rb"<Relationship\b[^>]*>", rels):
            if re.search(rb'\bId="' + re.escape(first.group(1)) + rb'"', rel.group(0)):
                target = re.search(rb'\bTarget="([^"]+)"', rel.group(0)).group(1).decode()
                return target.lstrip("/") if target.startswith("/") else "xl/" + target
    return "xl/worksheets/sheet1.xml"


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def read_csv(data: bytes) -> list[list[str]]:
    if b"\x00" in data[:4096]:
        raise _not_a_spreadsheet()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DomainError(_("无法识别 CSV 文件的编码,请另存为 UTF-8 或 GBK 编码"), code="encoding",
                          fields={"file": _("编码无法识别")})
    sample = text[:8192]
    delimiter = max(",\t;", key=sample.count) if sample.count(",") == 0 else ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:
        raise _not_a_spreadsheet() from None


def _find_header(grid: list[list]) -> tuple[int, dict[int, str]]:
    for index, cells in enumerate(grid[:HEADER_SEARCH_ROWS]):
        codes = {position: header_code(value) for position, value in enumerate(cells) if cell_text(value)}
        found = {code for code in codes.values() if code}
        if len(found) >= 2 and found & {"name", "id_number"}:
            return index, codes
    raise DomainError(_("找不到表头:前 %(n)d 行中没有包含“姓名”“身份证号”等列名的行") % {"n": HEADER_SEARCH_ROWS},
                      code="no_header", fields={"file": _("找不到表头")})


def _sheet_from_grid(grid: list[list], merged, formulas: set[tuple[int, int]]) -> LedgerSheet:
    header_index, codes = _find_header(grid)
    header_row = grid[header_index]
    columns: dict[str, int] = {}
    headers: dict[str, str] = {}
    unknown: list[str] = []
    for position, code in codes.items():
        text = cell_text(header_row[position])
        if code is None or code in columns:
            unknown.append(text)
        elif code not in IGNORED_FIELDS:
            columns[code] = position
            headers[code] = text
    present = [code for code in ADDRESS_FIELDS if code in columns]
    if present and len(present) != len(ADDRESS_FIELDS):
        missing = "、".join(label_of(code) for code in ADDRESS_FIELDS if code not in columns)
        raise DomainError(_("缺少地址列:楼栋、单元、房号须同时提供,缺少“%(m)s”") % {"m": missing},
                          code="missing_column", fields={"file": missing})
    for code in ("name", "id_number"):
        if code not in columns:
            raise DomainError(_("缺少必需的列“%(c)s”") % {"c": label_of(code)}, code="missing_column",
                              fields={"file": label_of(code)})
    filled = fill_merged(grid, header_index + 1, merged)
    width = max(columns.values()) + 1
    rows = []
    for index in range(header_index + 1, len(grid)):
        cells = filled.get(index) if filled else None
        if cells is None:
            cells = grid[index]
            if not _has_text(cells):
                continue
        rows.append((index + 1, cells if len(cells) >= width else [*cells, *[""] * (width - len(cells))]))
    if not rows:
        raise DomainError(_("表中没有数据行"), code="empty", fields={"file": _("没有数据行")})
    by_position = {position: code for code, position in columns.items()}
    formula_cells = {(row + 1, by_position[column]) for row, column in formulas
                     if row > header_index and column in by_position}
    return LedgerSheet(headers=headers, columns=columns, rows=rows, unknown_columns=unknown,
                       formula_cells=formula_cells)


def _has_text(cells) -> bool:
    for value in cells:
        if isinstance(value, str):
            if value and not value.isspace():
                return True
        elif value is not None:
            return True
    return False


def fill_merged(grid: list[list], first_row: int, merged) -> dict[int, list]:
    """Copy each merged range's value into every row it covers (楼栋 written once over its rooms).

    Returns the rows that changed, keyed by row index; a row blank apart from merged values
    stays out (it is an empty line in the sheet, not a person).
    """
    filled: dict[int, list] = {}
    for (top, left), (bottom, right) in merged:
        if bottom < first_row or top >= len(grid):
            continue
        value = grid[top][left] if left < len(grid[top]) else ""
        for index in range(max(top, first_row), min(bottom, len(grid) - 1) + 1):
            if not _has_text(grid[index]):
                continue
            cells = filled.setdefault(index, list(grid[index]))
            cells.extend([""] * (right + 1 - len(cells)))
            cells[left:right + 1] = [value] * (right + 1 - left)
    return filled


# Writing -----------------------------------------------------------------------------------

def write_ledger(rows, *, file_format: str, title: str) -> bytes:
    """Write rows of text (EXPORT_FIELDS order) under the usual headers, formulas neutralised."""
    header = [label_of(code) for code in EXPORT_FIELDS]
    if file_format == "csv":
        return _write_csv(header, rows)
    if file_format == "xlsx":
        return _write_xlsx(header, rows, title)
    raise DomainError(_("导出格式只能是 xlsx 或 csv"), fields={"file_format": _("格式不支持")})


def _write_csv(header: list[str], rows) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([neutralise(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def _write_xlsx(header: list[str], rows, title: str) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("人口台账"))
    sheet.append([title])
    sheet.append(header)
    for row in rows:
        sheet.append([neutralise(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
