"""Build ledger spreadsheets for tests, the way communities keep them."""

from pathlib import Path

from openpyxl import Workbook

from tests.people.factories import resident_id

HEADER = ["序号", "楼栋", "单元", "房号", "姓名", "身份证号", "联系电话", "与户主关系", "人员类型", "重点人群", "备注"]


def person_row(n: int, *, building="3", unit="2", room="301", name=None, id_number=None, phone=None,
               relationship="户主", residency="常住", tags="", notes="") -> list:
    """One ledger row in HEADER order; n makes the ID number and phone distinct."""
    return [n, building, unit, room, name or f"居民{n}", id_number or resident_id(n),
            phone if phone is not None else f"139{n:08d}", relationship, residency, tags, notes]


def ledger_xlsx(path: Path, rows, *, header=HEADER, title="春雨社区人口台账", merge=(), formulas=()) -> Path:
    """An .xlsx with an optional title row above the header; merge takes ranges like "B3:B5";
    formulas takes (cell, formula) pairs written as real formula cells."""
    workbook = Workbook()
    sheet = workbook.active
    if title:
        sheet.append([title])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for cell_range in merge:
        sheet.merge_cells(cell_range)
    for cell, formula in formulas:
        sheet[cell] = formula
    workbook.save(path)
    return path


def ledger_csv(path: Path, rows, *, header=HEADER, encoding="utf-8") -> Path:
    lines = [",".join(str(value) for value in line) for line in [header, *rows]]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path
