"""Reading a list of risk areas (.xlsx/.csv) as a street receives it.

Columns are found by their usual headers (地区代码 or 行政区划代码, 风险等级, 起始日期, 截止日期,
备注) in any order, under a title row or not. Every row is checked first, and every problem is
named by line and column; creating the risk areas is the business of `screening.services`.
"""

from django.utils.translation import gettext as _

from fangkong.core.errors import DomainError
from fangkong.core.idnumbers import compact
from fangkong.people import ledger
from fangkong.screening.divisions import division
from fangkong.screening.lists import parse_date
from fangkong.screening.models import RiskLevel

LEVEL_WORDS = {"高": RiskLevel.HIGH, "高风险": RiskLevel.HIGH, "中": RiskLevel.MEDIUM, "中风险": RiskLevel.MEDIUM,
               "低": RiskLevel.LOW, "低风险": RiskLevel.LOW, **{level: level for level in RiskLevel.values}}
HEADERS = {"地区代码": "division_code", "行政区划代码": "division_code", "区划代码": "division_code",
           "风险等级": "level", "等级": "level", "起始日期": "valid_from", "开始日期": "valid_from",
           "截止日期": "valid_to", "结束日期": "valid_to", "解除日期": "valid_to", "备注": "note"}


def read_risk_areas(file_name: str, data: bytes) -> list[dict]:
    """The rows of the file as risk-area values; any bad row rejects the whole file, naming every problem."""
    grid = ledger.read_grid(file_name, data)[0]
    header, columns = _header(grid)
    rows, problems = [], []
    for index in range(header + 1, len(grid)):
        if not any(ledger.cell_text(value) for value in grid[index]):
            continue
        values, row_problems = _row(grid[index], columns)
        problems += [_("第 %(n)d 行:%(c)s:%(r)s") % {"n": index + 1, "c": column, "r": reason}
                     for column, reason in row_problems]
        rows.append(values)
    if not rows and not problems:
        raise DomainError(_("表中没有数据行"), code="empty", fields={"file": _("没有数据行")})
    if problems:
        message = _("风险地区表有 %(n)d 处错误,未导入任何数据:%(p)s") % {"n": len(problems), "p": ";".join(problems)}
        raise DomainError(message, code="import_invalid", fields={"file": "\n".join(problems)})
    return rows


def _header(grid: list[list]) -> tuple[int, dict[str, int]]:
    for index, cells in enumerate(grid[:ledger.HEADER_SEARCH_ROWS]):
        columns = {}
        for position, value in enumerate(cells):
            code = HEADERS.get(compact(ledger.cell_text(value)))
            if code and code not in columns:
                columns[code] = position
        if "division_code" in columns:
            required = (("level", "风险等级"), ("valid_from", "起始日期"))
            missing = [label for code, label in required if code not in columns]
            if missing:
                raise DomainError(_("缺少必需的列“%(c)s”") % {"c": "、".join(missing)}, code="missing_column",
                                  fields={"file": "、".join(missing)})
            return index, columns
    raise DomainError(_("找不到表头:须有“地区代码”或“行政区划代码”列"), code="no_header",
                      fields={"file": _("找不到表头")})


def _row(cells: list, columns: dict[str, int]) -> tuple[dict, list[tuple[str, str]]]:
    """The values of one row, and its problems as (column, reason)."""
    texts = {code: ledger.cell_text(cells[position]) if position < len(cells) else ""
             for code, position in columns.items()}
    values, problems = {"note": texts.get("note", "")}, []
    found = division(compact(texts["division_code"]))
    if found is None:
        problems.append(("行政区划代码", _("行政区划代码 %(code)s 不存在") % {"code": texts["division_code"] or "—"}))
    values["division_code"] = found.code if found else ""
    values["level"] = LEVEL_WORDS.get(compact(texts["level"]).lower(), "")
    if not values["level"]:
        problems.append(("风险等级", _("应为 高、中 或 低")))
    for code, label in (("valid_from", "起始日期"), ("valid_to", "截止日期")):
        text = compact(texts.get(code, ""))
        values[code] = parse_date(text) if text else None
        if text and values[code] is None:
            problems.append((label, _("日期格式应为 2022-04-01")))
    if values["valid_from"] is None and not any(label == "起始日期" for label, _reason in problems):
        problems.append(("起始日期", _("必填")))
    if values["valid_from"] and values["valid_to"] and values["valid_to"] < values["valid_from"]:
        problems.append(("截止日期", _("截止日期不能早于起始日期")))
    return values, problems
