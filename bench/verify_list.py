"""Benchmark: a 10,000-row verification list matched against 1,000,000 persons, beside raw SQL doing the same.

    FANGKONG_DATABASE_URL=postgres://... .venv/bin/fangkong migrate
    FANGKONG_DATABASE_URL=postgres://... .venv/bin/python bench/verify_list.py [--persons 1000000] [--rows 10000]

Builds one street of 20 communities (households in grids, persons inserted with COPY; kept for
the next run), writes a 10,000-row .xlsx list (60 % found by ID, 20 % by phone only, 10 % by
name and birth date, 10 % nobody), then measures, best of three runs each:
  raw          calamine read, COPY into a temp table, three UPDATE joins (ID, phone, name + birth date)
               on the bare tables, results with grid fetched
  raw joins    the joins and the fetch alone (the rows already in the temp table)
  import       verification_batch_import by the street admin: read, check, match, write 10,000 items
  matching     screening.services.match_list_rows alone (the rows already read)
and prints seconds and the ratios import / raw and matching / raw joins (goal: within 3×).
"""

import argparse
import datetime
import io
import os
import random
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from openpyxl import Workbook  # noqa: E402
from python_calamine import CalamineWorkbook  # noqa: E402

from fangkong.accounts.models import Role, User  # noqa: E402
from fangkong.core.actors import bind_context  # noqa: E402
from fangkong.core.bulk import insert_rows  # noqa: E402
from fangkong.core.idnumbers import compose_resident_id  # noqa: E402
from fangkong.people.models import Person  # noqa: E402
from fangkong.places.models import Building, Community, Compound, Grid, Household, Street, Unit  # noqa: E402
from fangkong.screening import lists  # noqa: E402
from fangkong.screening.models import VerificationBatch  # noqa: E402
from fangkong.screening.services import match_list_rows, verification_batch_import  # noqa: E402
from names import GIVEN, person_name  # noqa: E402

STREET = "核查基准街道"
COMMUNITIES, GRIDS, BUILDINGS_PER_GRID, UNITS, FLOORS, ROOMS_PER_FLOOR = 20, 4, 10, 4, 26, 4
HEADER = ["序号", "姓名", "身份证号", "手机号", "来源地", "核查原因", "推送时间"]
BASE_BIRTH = datetime.date(1940, 1, 1)


def refuse_unless_postgresql() -> None:
    if connection.vendor != "postgresql":
        sys.exit("bench/verify_list.py measures PostgreSQL: "
                 "set FANGKONG_DATABASE_URL to a migrated PostgreSQL database")


def person_values(n: int) -> tuple[str, str, datetime.date, str]:
    """Name, ID number, birth date and phone of the n-th person: IDs and phones unique, names often shared."""
    birth = BASE_BIRTH + datetime.timedelta(days=(n // 1000) % 29000)
    name = person_name(n)
    return name, compose_resident_id("110105", birth, n % 1000), birth, f"13{n:09d}"


def prepare_households(street: Street) -> list[tuple[int, int]]:
    """(community id, household id) of every household, built once per community with COPY."""
    now = timezone.now()
    for c in range(COMMUNITIES):
        community = Community.objects.create(street=street, name=f"基准社区{c + 1}")
        compound = Compound.objects.create(community=community, name="基准小区")
        rows = []
        for g in range(GRIDS):
            grid = Grid.objects.create(community=community, name=f"第{g + 1}网格")
            for b in range(BUILDINGS_PER_GRID):
                building = Building.objects.create(community=community, compound=compound, grid=grid,
                                                   number=str(g * BUILDINGS_PER_GRID + b + 1))
                units = Unit.objects.bulk_create([Unit(community=community, grid=grid, building=building,
                                                       number=str(u + 1)) for u in range(UNITS)])
                rows += [(community.pk, grid.pk, compound.pk, building.pk, unit.pk, f"{floor}{room:02d}", "", now, now)
                         for unit in units for floor in range(1, FLOORS + 1) for room in range(1, ROOMS_PER_FLOOR + 1)]
        insert_rows(Household, ("community_id", "grid_id", "compound_id", "building_id", "unit_id", "room", "notes",
                                "created_at", "updated_at"), rows)
    return list(Household.objects.filter(community__street=street).order_by("pk").values_list("community_id", "pk"))


def prepare_registry(count: int) -> Street:
    street, created = Street.objects.get_or_create(name=STREET)
    if not created and Person.objects.filter(community__street=street).count() == count:
        return street
    if not created:
        sys.exit(f"street {STREET} exists with another number of persons: drop the database and migrate again")
    households = prepare_households(street)
    print(f"inserting {count:,} persons into {len(households):,} households ...", flush=True)
    now = timezone.now()

    def rows():
        for n in range(count):
            community_id, household_id = households[n % len(households)]
            name, id_number, birth, phone = person_values(n)
            yield (community_id, household_id, name, "", "", "resident_id", id_number, id_number[-4:],
                   "M" if int(id_number[16]) % 2 else "F", birth, phone, phone[-4:], "", "resident", "", now, now)

    started = time.perf_counter()
    insert_rows(Person, ("community_id", "household_id", "name", "name_pinyin", "name_initials", "id_type", "id_number",
                         "id_last4", "sex", "birth_date", "phone", "phone_last4", "relationship", "residency", "notes",
                         "created_at", "updated_at"), rows())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE people_person")
        cursor.execute("ANALYZE places_household")
    print(f"persons inserted in {time.perf_counter() - started:.1f} s", flush=True)
    return street


def list_rows(persons: int, rows: int, seed: int) -> list[list]:
    """60 % by ID, 20 % phone only, 10 % name + birth date (another, unregistered ID), 10 % nobody."""
    rng = random.Random(seed)
    picked = rng.sample(range(persons), rows)
    out = []
    for i, n in enumerate(picked):
        name, id_number, birth, phone = person_values(n)
        kind = i % 10
        if kind < 6:
            row = [name, id_number, phone]
        elif kind < 8:
            row = [name, "", phone]
        elif kind < 9:
            row = [name, compose_resident_id("310101", birth, rng.randrange(1000)), f"199{rng.randrange(10**8):08d}"]
        else:
            stranger = BASE_BIRTH + datetime.timedelta(days=rng.randrange(29000))
            row = ["外来" + GIVEN[i % len(GIVEN)], compose_resident_id("440101", stranger, rng.randrange(1000)),
                   f"198{rng.randrange(10**8):08d}"]
        out.append([i + 1, *row, "湖北省武汉市", "途经风险地区", f"run {seed}"])
    return out


def build_file(rows: list[list]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("名单")
    sheet.append(["大数据核查名单(基准测试)"])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


RAW_JOINS = [
    """UPDATE bench_list t SET birth = to_date(substr(id_number, 7, 8), 'YYYYMMDD') WHERE id_number <> ''""",
    """UPDATE bench_list t SET person_id = p.id, kind = 'id_number' FROM people_person p
       WHERE p.id_type = 'resident_id' AND p.id_number = t.id_number AND p.community_id = ANY(%(c)s)""",
    """UPDATE bench_list t SET person_id = m.id, kind = 'phone' FROM (
         SELECT p.phone, min(p.id) AS id FROM people_person p
         WHERE p.community_id = ANY(%(c)s)
           AND p.phone IN (SELECT phone FROM bench_list WHERE person_id IS NULL AND phone <> '')
         GROUP BY p.phone HAVING count(*) = 1) m
       WHERE t.person_id IS NULL AND t.phone = m.phone""",
    """UPDATE bench_list t SET person_id = m.id, kind = 'name_birth' FROM (
         SELECT p.name, p.birth_date, min(p.id) AS id FROM people_person p
         JOIN (SELECT DISTINCT name, birth FROM bench_list WHERE person_id IS NULL AND birth IS NOT NULL) l
           ON l.name = p.name AND l.birth = p.birth_date
         WHERE p.community_id = ANY(%(c)s) GROUP BY p.name, p.birth_date HAVING count(*) = 1) m
       WHERE t.person_id IS NULL AND t.name = m.name AND t.birth = m.birth_date""",
]
RAW_FETCH = """SELECT t.line, t.person_id, t.kind, p.community_id, h.grid_id FROM bench_list t
               LEFT JOIN people_person p ON p.id = t.person_id LEFT JOIN places_household h ON h.id = p.household_id"""


def raw_load(data: bytes) -> None:
    """calamine read and COPY of the list's rows into a bare temp table."""
    grid = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()[2:]
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_list")
        cursor.execute("CREATE TEMP TABLE bench_list (line int, name text, id_number text, phone text, birth date, "
                       "person_id bigint, kind text)")
        with cursor.cursor.copy("COPY bench_list (line, name, id_number, phone) FROM STDIN") as copy:
            for row in grid:
                copy.write_row((int(row[0]), row[1], row[2], str(row[3])))
        cursor.execute("ANALYZE bench_list")


def raw_match(community_ids: list[int]) -> list:
    with connection.cursor() as cursor:
        for statement in RAW_JOINS:
            cursor.execute(statement, {"c": community_ids})
        cursor.execute(RAW_FETCH)
        return cursor.fetchall()


def best_of(runs: int, fn, before=None) -> tuple[float, object]:
    best, result = None, None
    for _ in range(runs):
        if before:
            before()
        started = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - started
        best = seconds if best is None else min(best, seconds)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    refuse_unless_postgresql()
    street = prepare_registry(options.persons)
    community_ids = list(Community.objects.filter(street=street).values_list("pk", flat=True))
    admin, _created = User.objects.get_or_create(username="bench-street-admin",
                                                 defaults={"role": Role.STREET_ADMIN, "scope_street": street})
    bind_context(admin, via="cli", cli_label="bench")
    rows = list_rows(options.persons, options.rows, seed=1)
    data = build_file(rows)
    print(f"list: {options.rows:,} rows, {len(data) / 2**20:.1f} MB; registry: {options.persons:,} persons "
          f"in {len(community_ids)} communities", flush=True)

    def forget_batches():
        VerificationBatch.objects.filter(street=street).delete()

    raw_seconds, _ = best_of(options.runs, lambda: (raw_load(data), raw_match(community_ids))[1])
    joins_seconds, raw_result = best_of(options.runs, lambda: raw_match(community_ids), before=lambda: raw_load(data))
    import_seconds, batch = best_of(options.runs, lambda: verification_batch_import(
        actor=admin, file_name="名单.xlsx", data=data, title="基准测试名单", hours=4), before=forget_batches)
    parsed = lists.list_rows(lists.read_list("名单.xlsx", data))
    match_seconds, matches = best_of(options.runs, lambda: match_list_rows(community_ids, parsed))

    kinds = {}
    for match in matches:
        kinds[str(match.kind)] = kinds.get(str(match.kind), 0) + 1
    raw_kinds = {}
    for _line, _person, kind, _community, _grid in raw_result:
        raw_kinds[kind or "none"] = raw_kinds.get(kind or "none", 0) + 1
    print(f"\n{'':34}{'seconds':>9}{'× raw':>8}")
    print(f"{'raw: read + COPY + SQL joins':34}{raw_seconds:9.3f}{1:8.2f}")
    print(f"{'import (read, match, write items)':34}{import_seconds:9.3f}{import_seconds / raw_seconds:8.2f}")
    print(f"{'raw: SQL joins + fetch alone':34}{joins_seconds:9.3f}{1:8.2f}")
    print(f"{'matching alone (match_list_rows)':34}{match_seconds:9.3f}{match_seconds / joins_seconds:8.2f}")
    print(f"\nservice matches: {dict(sorted(kinds.items()))}")
    print(f"raw matches:     {dict(sorted(raw_kinds.items()))}")
    print(f"items written: {batch.items.count():,}, of them matched: {batch.items.exclude(person=None).count():,}")
    print(f"goal: within 3× of the baseline (import {import_seconds / raw_seconds:.2f}×, "
          f"matching {match_seconds / joins_seconds:.2f}×)")
    forget_batches()


if __name__ == "__main__":
    main()
