"""Benchmark: searching the registry as staff do, beside the raw database doing the same work.

    FANGKONG_DATABASE_URL=postgres://... .venv/bin/python bench/import_ledger.py     # first: 100,000 persons
    FANGKONG_DATABASE_URL=postgres://... .venv/bin/python bench/search_persons.py

For each kind of search box text (pinyin initials, a name, last four digits, the address
shorthand "3-2-301", a phone number) it times the first page of 50 through
people.queries.search_persons for a community staff account of the benchmark community, and
the same rows fetched by one hand-written SQL query, and prints the median of several runs
and their ratio. Also the home page's counts (people.queries.scope_counts).
"""

import os
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from fangkong.accounts.models import Role, User  # noqa: E402
from fangkong.people.models import Person  # noqa: E402
from fangkong.people.queries import scope_counts, search_persons  # noqa: E402
from fangkong.places.models import Community  # noqa: E402

COMMUNITY = "基准测试社区"
RUNS = 7
PAGE = 50
_ADDRESS_JOIN = ("JOIN places_household h ON h.id = p.household_id JOIN places_building b ON b.id = h.building_id "
                 "JOIN places_unit u ON u.id = h.unit_id")
_ORDER = f"ORDER BY b.number, u.number, h.room, p.id LIMIT {PAGE}"


def median_ms(fn) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def raw(where: str, params: list):
    def run():
        with connection.cursor() as cursor:
            cursor.execute("SELECT p.id, p.name, p.id_number, p.phone, b.number, u.number, h.room"
                           f" FROM people_person p {_ADDRESS_JOIN}"
                           f" WHERE p.community_id = %s AND ({where}) {_ORDER}", params)
            return cursor.fetchall()
    return run


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("bench/search_persons.py measures PostgreSQL: set FANGKONG_DATABASE_URL")
    community = Community.objects.filter(name=COMMUNITY).first()
    if community is None or not Person.objects.filter(community=community).exists():
        sys.exit("run bench/import_ledger.py first: it loads the 100,000 persons this benchmark searches")
    staff, _ = User.objects.get_or_create(username="bench-staff", defaults={"role": Role.COMMUNITY_STAFF})
    staff.scope_communities.set([community])
    sample = Person.objects.filter(community=community).exclude(phone="").order_by("id")[5000]
    cid = community.id
    cases = [
        ("pinyin initials 'zs'", "zs", "p.name_initials LIKE %s OR p.name_pinyin LIKE %s", [cid, "zs%", "zs%"]),
        ("name '张伟'", "张伟", "p.name LIKE %s", [cid, "%张伟%"]),
        ("last four digits", sample.id_number[-4:], "p.id_last4 = %s OR p.phone_last4 = %s",
         [cid, sample.id_number[-4:], sample.id_number[-4:]]),
        ("address '3-2-301'", "3-2-301", "b.number = %s AND u.number = %s AND h.room = %s", [cid, "3", "2", "301"]),
        ("phone number", sample.phone, "p.phone = %s", [cid, sample.phone]),
    ]
    print(f"{Person.objects.filter(community=community).count():,} persons in {COMMUNITY}; median of {RUNS} runs, "
          f"first page of {PAGE}\n")
    print(f"{'search':28}{'fangkong ms':>12}{'raw SQL ms':>12}{'ratio':>8}{'rows':>6}")
    for label, text, where, params in cases:
        actor = User.objects.get(pk=staff.pk)
        rows = len(list(search_persons(actor, text)[:PAGE]))
        ours = median_ms(lambda text=text: list(search_persons(User.objects.get(pk=staff.pk), text)[:PAGE]))
        base = median_ms(raw(where, params))
        print(f"{label:28}{ours:12.1f}{base:12.1f}{ours / base:8.1f}{rows:6}")
    ours = median_ms(lambda: scope_counts(User.objects.get(pk=staff.pk)))

    def raw_counts():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM places_household WHERE community_id = %s", [cid])
            cursor.execute("SELECT count(*) FROM people_person WHERE community_id = %s", [cid])
            cursor.execute("SELECT t.tag, count(*) FROM people_persontag t JOIN people_person p ON p.id = t.person_id "
                           "WHERE p.community_id = %s GROUP BY t.tag", [cid])
            return cursor.fetchall()
    base = median_ms(raw_counts)
    print(f"{'home page counts':28}{ours:12.1f}{base:12.1f}{ours / base:8.1f}")


if __name__ == "__main__":
    main()
