"""Benchmark: a 100,000-person ledger through ledger_import, beside the raw database doing the same work.

    FANGKONG_DATABASE_URL=postgres://... .venv/bin/fangkong migrate
    FANGKONG_DATABASE_URL=postgres://... .venv/bin/python bench/import_ledger.py [--rows 100000]

Builds one community with a few compounds, buildings and units, writes a 12-column .xlsx ledger,
then measures:
  raw        the file read with python-calamine, its rows COPYed into a bare table of the same columns
  import     ledger_import of the file into the empty registry
  re-import  the same file again (must change nothing)
and prints seconds, rows/s and peak resident memory of each, and the ratios to the raw baseline
(goals: import ≤ 3×, re-import ≤ 2×, peak memory < 1.5 GB).
"""

import argparse
import datetime
import gc
import io
import os
import resource
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from openpyxl import Workbook  # noqa: E402
from python_calamine import CalamineWorkbook  # noqa: E402

from fangkong.accounts.models import User  # noqa: E402
from fangkong.core.actors import bind_context  # noqa: E402
from fangkong.core.idnumbers import compose_resident_id  # noqa: E402
from fangkong.people.models import Person  # noqa: E402
from fangkong.people.services import ledger_import  # noqa: E402
from fangkong.places.models import Building, Community, Compound, Grid, Household, Street, Unit  # noqa: E402
from names import person_name  # noqa: E402

HEADER = ["小区", "楼栋", "单元", "房号", "姓名", "身份证号", "性别", "出生日期", "联系电话", "与户主关系",
          "人员类型", "重点人群"]
RELATIONSHIPS = ["户主", "配偶", "子女", "父母", "孙子女", "其他"]
RESIDENCIES = ["户籍", "常住", "流动", "临时来访"]
TAGS = ["", "", "", "", "", "", "", "", "独居老人", "重症慢病", "孕产妇", "残疾人", "保洁保安保供", "返乡大学生",
        "慢病、独居"]
COMPOUNDS, BUILDINGS_PER_COMPOUND, UNITS, FLOORS, ROOMS_PER_FLOOR = 5, 10, 4, 18, 4
COMMUNITY = "基准测试社区"


def refuse_unless_postgresql() -> None:
    if connection.vendor != "postgresql":
        sys.exit("bench/import_ledger.py measures PostgreSQL: "
                 "set FANGKONG_DATABASE_URL to a migrated PostgreSQL database")


def prepare_places() -> Community:
    """One community, 5 compounds × 10 buildings × 4 units × 18 floors × 4 rooms (14,400 households)."""
    street, _ = Street.objects.get_or_create(name="基准测试街道")
    community, created = Community.objects.get_or_create(street=street, name=COMMUNITY)
    if not created:
        Person.objects.filter(community=community).delete()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE people_person")
            cursor.execute("VACUUM ANALYZE people_persontag")
        return community
    grid = Grid.objects.create(community=community, name="第一网格")
    for c in range(COMPOUNDS):
        compound = Compound.objects.create(community=community, name=f"第{c + 1}小区")
        for b in range(BUILDINGS_PER_COMPOUND):
            building = Building.objects.create(community=community, compound=compound, grid=grid, number=str(b + 1))
            units = Unit.objects.bulk_create([Unit(community=community, grid=grid, building=building, number=str(u + 1))
                                              for u in range(UNITS)])
            Household.objects.bulk_create([
                Household(community=community, grid=grid, compound=compound, building=building, unit=unit,
                          room=f"{floor}{room:02d}")
                for unit in units for floor in range(1, FLOORS + 1) for room in range(1, ROOMS_PER_FLOOR + 1)])
    return community


def ledger_rows(count: int):
    rooms = [(c, b, u, f"{floor}{room:02d}") for c in range(COMPOUNDS) for b in range(BUILDINGS_PER_COMPOUND)
             for u in range(UNITS) for floor in range(1, FLOORS + 1) for room in range(1, ROOMS_PER_FLOOR + 1)]
    for n in range(count):
        c, b, u, room = rooms[n % len(rooms)]
        birth = datetime.date(1940, 1, 1) + datetime.timedelta(days=(n * 7) % 29000)
        id_number = compose_resident_id(f"1501{n // 1000 % 100:02d}", birth, n % 1000)
        name = person_name(n)
        yield [f"第{c + 1}小区", str(b + 1), str(u + 1), room, name, id_number,
               "男" if int(id_number[16]) % 2 else "女", birth.isoformat(), f"13{n % 10}{n:08d}",
               RELATIONSHIPS[n % len(RELATIONSHIPS)], RESIDENCIES[n % len(RESIDENCIES)], TAGS[n % len(TAGS)]]


def build_file(count: int) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("人口台账")
    sheet.append([f"{COMMUNITY}人口台账"])
    sheet.append(HEADER)
    for row in ledger_rows(count):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def measure(label: str, fn):
    """Wall-clock seconds, and the process's peak resident memory once the step is done.

    tracemalloc would slow the Python side several-fold and skew the ratios, so memory is the
    kernel's high-water mark (ru_maxrss, monotonic: each figure includes the steps before).
    """
    gc.collect()
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"label": label, "seconds": seconds, "peak_mb": peak, "result": result}


def raw_baseline(data: bytes) -> int:
    """The floor: calamine read plus COPY into a bare table with the same columns."""
    columns = ", ".join(f"c{i} text" for i in range(len(HEADER)))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_ledger_raw")
        cursor.execute(f"CREATE TABLE bench_ledger_raw ({columns})")
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()[2:]
    raw = connection.connection
    with raw.cursor() as cursor, cursor.copy("COPY bench_ledger_raw FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    raw.commit()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_ledger_raw")
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    count = parser.parse_args().rows
    refuse_unless_postgresql()
    admin = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    if admin is None:
        admin = User.objects.create_superuser("bench-admin", password=None)
    bind_context(admin, via="cli", cli_label="bench")
    community = prepare_places()
    print(f"building a {count:,}-row ledger ...", flush=True)
    data = build_file(count)
    print(f"file: {len(data) / 2**20:.1f} MB, {len(HEADER)} columns", flush=True)

    def run_import():
        return ledger_import(actor=admin, community=community, file_name="ledger.xlsx", data=data)

    raw = measure("raw calamine + COPY", lambda: raw_baseline(data))
    first = measure("import (empty registry)", run_import)
    again = measure("re-import (same file)", run_import)
    for run in (first, again):
        report = run["result"]
        if not report.ok:
            sys.exit(f"{run['label']} failed: {report.problems[:5]}")
    print(f"\n{'':26}{'seconds':>9}{'rows/s':>10}{'peak MB':>9}{'× raw':>7}")
    for run in (raw, first, again):
        ratio = run["seconds"] / raw["seconds"]
        print(f"{run['label']:26}{run['seconds']:9.2f}{count / run['seconds']:10,.0f}{run['peak_mb']:9.0f}{ratio:7.2f}")
    print(f"\nimport:    {first['result'].created:,} created, {first['result'].households_created} households created")
    print(f"re-import: {again['result'].unchanged:,} unchanged, {again['result'].updated} updated, "
          f"{again['result'].created} created")
    print(f"goals: import ≤ 3× raw ({first['seconds'] / raw['seconds']:.2f}×), "
          f"re-import ≤ 2× raw ({again['seconds'] / raw['seconds']:.2f}×), peak < 1.5 GB")


if __name__ == "__main__":
    main()
