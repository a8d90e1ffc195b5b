"""Benchmark: sample registration through the HTTP API and a lab result import, beside raw psycopg.

    .venv/bin/python bench/sampling.py [--persons 200000] [--samples 4000] [--result-tubes 100000]
    FANGKONG_DATABASE_URL=postgres://... .venv/bin/python bench/sampling.py      (a migrated or empty database)

Without FANGKONG_DATABASE_URL it starts its own PostgreSQL (scripts/postgres.sh) and removes it at
the end. It migrates, builds one community of --persons people in households (COPY), a round of
ten-person tubes with sixteen sites, starts `fangkong serve` on a free loopback port (--workers,
2 as by default) and measures:
  (1) single     C clients (threads, keep-alive sockets) POST /api/v1/samples, one person each,
                 for C = 2 × cores and 16: samples/s, p50/p99 latency, errors; beside the raw baseline:
                 C psycopg connections, per row one INSERT into testing_sample plus the tube-count
                 UPDATE, each committed on its own (same table, same constraints, another round); and
                 the framework's floor: the same clients POSTing an empty body, signed in and answered
                 400 (token check, routing, validation, nothing stored). The three take turns in
                 --rounds rounds, the clients on new connections each time (the raw connections stay
                 open, as the server's own do): a moment when the machine runs slower, or
                 clients' connections landing unevenly on the server's workers (a keep-alive connection
                 stays with the worker that took it), then weighs on every side alike
  (2) batch      1,000 samples in one POST /api/v1/samples/batch against psycopg executemany of the
                 same 1,000 rows (and the tube counts) in one transaction; best of --batch-runs
  (3) replay     the same batch again must store nothing
  (4) results    a --result-tubes CSV result file (0.1 % positive tubes of ten people) queued as a
                 ResultImport job and run as `fangkong worker` runs it (core.jobs.run_job calling
                 result_import_work, with its progress written every thousand lines), here at once in
                 this process: seconds from the upload until every re-sampling task exists and the job
                 is done, and each chain (people, tasks, zone proposals) timed on its own: ms per positive tube
Goals (issue 5): (1) ≥ 15 % of raw, p99 < 50 ms, no errors; (2) ≥ 0.5 of raw; (3) nothing twice;
(4) < 50 ms per positive tube. Exits non-zero when a correctness check fails (errors, duplicates,
counts). The client threads share the machine with the server and the database, as on a site
server; both sides of each ratio pay that alike. Beside each line of (1), the CPU milliseconds
per row the server's processes, PostgreSQL's and the client threads used (from /proc): where a
registration's cost goes.
"""

import argparse
import csv
import datetime
import http.client
import io
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parse_options() -> argparse.Namespace:
    cores = os.cpu_count() or 2
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=4_000, help="single registrations per concurrency level")
    parser.add_argument("--clients", default=f"{2 * cores},16", help="concurrency levels, comma separated")
    parser.add_argument("--workers", type=int, default=2, help="fangkong serve --workers")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of (1), each with new connections")
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--batch-runs", type=int, default=3)
    parser.add_argument("--result-tubes", type=int, default=100_000)
    parser.add_argument("--identify", choices=["code", "id_number", "person_id"], default="code",
                        help="how the clients name the person (a scanned personal code by default)")
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnPostgres:
    """A throwaway server from scripts/postgres.sh, unless FANGKONG_DATABASE_URL names one."""

    def __init__(self):
        self.dir = None

    def start(self) -> None:
        if os.environ.get("FANGKONG_DATABASE_URL"):
            return
        self.dir = tempfile.mkdtemp(prefix="fangkong-bench-pg-")
        port = subprocess.run([str(ROOT / "scripts/postgres.sh"), "start", self.dir], check=True,
                              capture_output=True, text=True).stdout.strip().splitlines()[-1]
        os.environ["FANGKONG_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{port}/fangkong"
        print(f"PostgreSQL started on 127.0.0.1:{port} in {self.dir}", flush=True)

    def stop(self) -> None:
        if self.dir:
            subprocess.run([str(ROOT / "scripts/postgres.sh"), "stop", self.dir], check=False)
            self.dir = None


OPTIONS = parse_options()
POSTGRES = OwnPostgres()
POSTGRES.start()
VAR_DIR = tempfile.mkdtemp(prefix="fangkong-bench-var-")
os.environ.setdefault("FANGKONG_VAR_DIR", VAR_DIR)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Sum  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from fangkong.accounts.models import Role, User  # noqa: E402
from fangkong.accounts.services import token_create  # noqa: E402
from fangkong.core.actors import bind_context  # noqa: E402
from fangkong.core.bulk import insert_rows  # noqa: E402
from fangkong.core.idnumbers import compose_resident_id  # noqa: E402
from fangkong.people.codes import personal_code  # noqa: E402
from fangkong.people.models import Person  # noqa: E402
from fangkong.places.models import Building, Community, Compound, Grid, Household, Street, Unit  # noqa: E402
from fangkong.testing.models import ResampleTask, Sample, SamplingSite, TestRound, Tube  # noqa: E402
from names import person_name  # noqa: E402

STREET, COMMUNITY = "采样基准街道", "采样基准社区"
GRIDS, BUILDINGS_PER_GRID, UNITS, FLOORS, ROOMS_PER_FLOOR = 4, 40, 4, 26, 4
SITES, POOL = 16, 10
RUN = uuid.uuid4().hex[:6].upper()  # barcodes are stored upper case, as the service normalises them
SAMPLE_COLUMNS = ("round_id", "tube_id", "community_id", "person_id", "household_id", "site_id", "sampler_id",
                  "taken_at", "door_to_door", "resample", "void", "client_id", "created_at")
RAW_INSERT = ("INSERT INTO testing_sample (round_id, tube_id, community_id, person_id, household_id, site_id,"
              " sampler_id, taken_at, door_to_door, resample, void, client_id, created_at)"
              " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, false, false, false, %s, now())")
RAW_TUBE = ("UPDATE testing_tube SET sample_count = sample_count + %(n)s,"
            " status = CASE WHEN sample_count + %(n)s >= pool_size THEN 'closed' ELSE status END,"
            " closed_at = CASE WHEN sample_count + %(n)s >= pool_size THEN now() ELSE closed_at END"
            " WHERE id = %(tube)s AND status = 'open' AND sample_count + %(n)s <= pool_size")
CPU_SIDES = ("server", "database", "clients")
FAILURES: list[str] = []
COUNTS = {"api": 0, "raw": 0}


def check(ok: bool, message: str) -> None:
    print(f"  check: {message}: {'ok' if ok else 'FAILED'}", flush=True)
    if not ok:
        FAILURES.append(message)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# ---------------------------------------------------------------------------
# The community, its people, the round, sites and tubes
# ---------------------------------------------------------------------------


def prepare_households(community: Community) -> list[tuple[int, int]]:
    """(household id, grid id) of 66,560 households in 4 grids, written with COPY."""
    compound = Compound.objects.create(community=community, name="采样基准小区")
    now = timezone.now()
    rows = []
    for g in range(GRIDS):
        grid = Grid.objects.create(community=community, name=f"第{g + 1}网格")
        for b in range(BUILDINGS_PER_GRID):
            building = Building.objects.create(community=community, compound=compound, grid=grid,
                                               number=str(g * BUILDINGS_PER_GRID + b + 1))
            units = Unit.objects.bulk_create([Unit(community=community, grid=grid, building=building, number=str(u + 1))
                                              for u in range(UNITS)])
            rows += [(community.pk, grid.pk, compound.pk, building.pk, unit.pk, f"{floor}{room:02d}", "", now, now)
                     for unit in units for floor in range(1, FLOORS + 1) for room in range(1, ROOMS_PER_FLOOR + 1)]
    insert_rows(Household, ("community_id", "grid_id", "compound_id", "building_id", "unit_id", "room", "notes",
                            "created_at", "updated_at"), rows)
    return list(Household.objects.filter(community=community).order_by("pk").values_list("pk", "grid_id"))


def prepare_community(count: int) -> Community:
    """The community with `count` persons, three or so per household; kept for the next run on the same database."""
    street, _ = Street.objects.get_or_create(name=STREET)
    community, created = Community.objects.get_or_create(street=street, name=COMMUNITY)
    if not created:
        if Person.objects.filter(community=community).count() != count:
            sys.exit(f"{COMMUNITY} exists with another number of persons: drop the database or pass that number")
        return community
    households = prepare_households(community)
    print(f"inserting {count:,} persons into {len(households):,} households ...", flush=True)
    started = time.perf_counter()
    now = timezone.now()

    def rows():
        for n in range(count):
            birth = datetime.date(1940, 1, 1) + datetime.timedelta(days=(n * 7) % 29000)
            id_number = compose_resident_id(f"3201{n // 1000 % 100:02d}", birth, n % 1000)
            name = person_name(n)
            phone = f"13{n % 10}{n:08d}"
            yield (community.pk, households[n % len(households)][0], name, "", "", "resident_id", id_number,
                   id_number[-4:], "M" if int(id_number[16]) % 2 else "F", birth, phone, phone[-4:], "", "resident",
                   "", now, now)

    insert_rows(Person, ("community_id", "household_id", "name", "name_pinyin", "name_initials", "id_type", "id_number",
                         "id_last4", "sex", "birth_date", "phone", "phone_last4", "relationship", "residency", "notes",
                         "created_at", "updated_at"), rows())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE people_person")
        cursor.execute("ANALYZE places_household")
    print(f"persons inserted in {time.perf_counter() - started:.1f} s", flush=True)
    return community


def prepare_users(community: Community) -> tuple[User, User]:
    """A medic who samples at every site, community staff who import results, and a grid member per grid."""
    def user(username, role, **extra):
        found, created = User.objects.get_or_create(username=username, defaults={"role": role, **extra})
        if created:
            found.scope_communities.add(community)
        return found

    medic = user("bench-sampler", Role.MEDIC)
    staff = user("bench-community-staff", Role.COMMUNITY_STAFF)
    for grid in Grid.objects.filter(community=community):
        member = user(f"bench-grid-{grid.pk}", Role.GRID_MEMBER)
        member.scope_grids.add(grid)
    return medic, staff


def new_round(community: Community, name: str, sampler: User) -> tuple[TestRound, list[SamplingSite]]:
    testing_round = TestRound.objects.create(community=community, name=f"{name} {RUN}", on=timezone.localdate(),
                                             pool_size=POOL)
    sites = []
    for s in range(SITES):
        site, _ = SamplingSite.objects.get_or_create(community=community, name=f"{s + 1}号采样点")
        site.team.add(sampler)
        sites.append(site)
    return testing_round, sites


def open_tubes(testing_round: TestRound, site: SamplingSite, sampler: User, label: str, count: int) -> list[Tube]:
    """Tubes opened beforehand, as the raw baseline's; upper case, as the service stores barcodes."""
    now = timezone.now()
    return Tube.objects.bulk_create([
        Tube(round=testing_round, community=testing_round.community, site=site, barcode=f"B{RUN}{label}{k:05d}".upper(),
             pool_size=POOL, opened_by=sampler, opened_at=now) for k in range(count)])


class People:
    """The community's persons in id order, with what a sampler's device would send for each."""

    def __init__(self, community: Community, identify: str):
        self.rows = list(Person.objects.filter(community=community).order_by("pk")
                         .values_list("pk", "household_id", "id_number", "community_id"))
        self.identify = identify
        self.next = 0

    def take(self, count: int) -> list[tuple]:
        if self.next + count > len(self.rows):
            sys.exit(f"not enough persons: raise --persons above {self.next + count:,}")
        taken = self.rows[self.next:self.next + count]
        self.next += count
        return taken

    def naming(self, row: tuple) -> dict:
        pk, _household, id_number, community_id = row
        if self.identify == "code":
            return {"code": personal_code(_Holder(pk, community_id))}
        if self.identify == "id_number":
            return {"id_number": id_number}
        return {"person_id": pk}


class _Holder:
    def __init__(self, pk, community_id):
        self.pk, self.community_id = pk, community_id


# ---------------------------------------------------------------------------
# The server and the HTTP clients
# ---------------------------------------------------------------------------


class Server:
    """`fangkong serve` on a free loopback port with --workers, stopped by its pid."""

    def __init__(self):
        self.port = free_port()
        self.log = open(Path(os.environ["FANGKONG_VAR_DIR"]) / "serve.log", "w")
        self.process = subprocess.Popen([str(ROOT / ".venv/bin/fangkong"), "serve", "--bind", f"127.0.0.1:{self.port}",
                                         "--workers", str(OPTIONS.workers)],
                                        stdout=self.log, stderr=subprocess.STDOUT, env=os.environ.copy())

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"fangkong serve exited with {self.process.returncode}; see {self.log.name}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/api/v1/openapi.json")
                conn.getresponse().read()
                return
            except OSError:
                time.sleep(0.2)
        sys.exit("fangkong serve did not answer within a minute")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class Client:
    """One keep-alive HTTP/1.1 connection: sends a request, reads the status line, the headers and
    Content-Length bytes of body.

    http.client parses every answer's headers through the email package: its client threads used 0.17 ms
    of CPU per request, this 0.05 ms (the "client" column), on the cores the server under test runs on."""

    def __init__(self, port: int, token: str):
        self.port = port
        self.headers = f"Host: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        self.sock = None
        self.received = b""

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        try:
            if self.sock is None:
                self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock.sendall(f"POST {path} HTTP/1.1\r\n{self.headers}Content-Length: {len(body)}\r\n\r\n".encode()
                              + body)
            return self._response()
        except (OSError, ValueError) as err:
            if self.sock is not None:
                self.sock.close()
            self.sock, self.received = None, b""
            return 0, repr(err).encode()

    def _response(self) -> tuple[int, bytes]:
        while b"\r\n\r\n" not in self.received:
            self._receive()
        head, _, self.received = self.received.partition(b"\r\n\r\n")
        status_line, *header_lines = head.split(b"\r\n")
        lengths = [value for name, _, value in (line.partition(b":") for line in header_lines)
                   if name.strip().lower() == b"content-length"]
        if not lengths:
            raise ValueError(f"no Content-Length in the answer: {head[:200]!r}")
        length = int(lengths[0])
        while len(self.received) < length:
            self._receive()
        body, self.received = self.received[:length], self.received[length:]
        return int(status_line.split()[1]), body

    def _receive(self) -> None:
        data = self.sock.recv(1 << 16)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.received += data


def sample_body(people: People, row: tuple, testing_round: TestRound, site: SamplingSite, tube: Tube) -> dict:
    return {"client_id": str(uuid.uuid4()), "round_id": testing_round.pk, "site_id": site.pk, "tube": tube.barcode,
            **people.naming(row)}


def cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by PostgreSQL's processes, this process (the clients) and its other
    descendants (the server), from /proc: where a registration's cost goes."""
    ticks = os.sysconf("SC_CLK_TCK")
    processes = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
            processes[int(entry.name)] = (name, int(rest[1]), (int(rest[11]) + int(rest[12])) / ticks)
    used = {"server": 0.0, "database": 0.0, "clients": 0.0}
    for pid, (name, _parent, seconds) in processes.items():
        if name.startswith("postgres"):
            used["database"] += seconds
        elif pid == os.getpid():
            used["clients"] += seconds
        elif _descends_from_me(pid, processes):
            used["server"] += seconds
    return used


def _descends_from_me(pid: int, processes: dict) -> bool:
    while pid in processes and pid > 1:
        pid = processes[pid][1]
        if pid == os.getpid():
            return True
    return False


def run_threads(count: int, work) -> tuple[float, dict]:
    """Run work(i, barrier) in `count` threads started together: seconds from the start to the last finish,
    and the CPU seconds each side used meanwhile."""
    barrier = threading.Barrier(count + 1)
    threads = [threading.Thread(target=work, args=(i, barrier)) for i in range(count)]
    for thread in threads:
        thread.start()
    before = cpu_seconds()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    after = cpu_seconds()
    return seconds, {side: after[side] - before[side] for side in after}


# ---------------------------------------------------------------------------
# (1) single registrations
# ---------------------------------------------------------------------------


def plan_single(people: People, testing_round, sites, sampler, clients: int, samples: int, label: str) -> list[list]:
    """Per client: (person row, site, tube) for its share of samples, ten people per tube of its own."""
    per_client = samples // clients
    plans = []
    for c in range(clients):
        site = sites[c % len(sites)]
        tubes = open_tubes(testing_round, site, sampler, f"{label}c{c}", -(-per_client // POOL))
        plans.append([(row, site, tubes[i // POOL]) for i, row in enumerate(people.take(per_client))])
    return plans


def api_single(server: Server, token: str, people: People, plans: list[list], testing_round) -> dict:
    bodies = [[json.dumps(sample_body(people, row, testing_round, site, tube)).encode() for row, site, tube in plan]
              for plan in plans]
    return api_posts(server, token, bodies, expected=201)


def api_floor(server: Server, token: str, clients: int, count: int) -> dict:
    """What the framework alone costs: a signed-in POST /samples with an empty body, answered 400, storing nothing."""
    return api_posts(server, token, [[b"{}"] * (count // clients) for _ in range(clients)], expected=400)


def api_posts(server: Server, token: str, bodies: list[list[bytes]], *, expected: int) -> dict:
    """Each client POSTs its bodies to /api/v1/samples one after another; any other status is an error."""
    latencies = [[] for _ in bodies]
    errors = [[] for _ in bodies]
    clients = [Client(server.port, token) for _ in bodies]

    def work(i, barrier):
        client = clients[i]
        barrier.wait()
        for body in bodies[i]:
            started = time.perf_counter()
            status, data = client.post("/api/v1/samples", body)
            latencies[i].append(time.perf_counter() - started)
            if status != expected:
                errors[i].append((status, data[:300]))

    seconds, cpu = run_threads(len(bodies), work)
    flat = [x for part in latencies for x in part]
    failed = [e for part in errors for e in part]
    for status, data in failed[:3]:
        print(f"  error {status}: {data.decode(errors='replace')}", flush=True)
    return {"rows": len(flat) - len(failed), "seconds": seconds, "errors": len(failed), "latencies": flat, "cpu": cpu}


def conninfo() -> dict:
    db = settings.DATABASES["default"]
    return {"dbname": db["NAME"], "user": db["USER"], "password": db["PASSWORD"] or None,
            "host": db["HOST"] or None, "port": db["PORT"] or None}


def raw_row(row: tuple, testing_round, site, tube, sampler) -> tuple:
    pk, household_id, _id_number, community_id = row
    return (testing_round.pk, tube.pk, community_id, pk, household_id, site.pk, sampler.pk, timezone.now(),
            uuid.uuid4())


def raw_single(connections: list, plans: list[list], testing_round, sampler) -> dict:
    """One psycopg connection per client; per row the INSERT and the tube UPDATE, then COMMIT."""
    rows = [[(raw_row(row, testing_round, site, tube, sampler), tube.pk) for row, site, tube in plan] for plan in plans]
    latencies = [[] for _ in plans]

    def work(i, barrier):
        db = connections[i]
        barrier.wait()
        with db.cursor() as cursor:
            for values, tube_id in rows[i]:
                started = time.perf_counter()
                cursor.execute(RAW_INSERT, values)
                cursor.execute(RAW_TUBE, {"n": 1, "tube": tube_id})
                db.commit()
                latencies[i].append(time.perf_counter() - started)

    seconds, cpu = run_threads(len(plans), work)
    flat = [x for part in latencies for x in part]
    return {"rows": len(flat), "seconds": seconds, "errors": 0, "latencies": flat, "cpu": cpu}


def check_round(testing_round, expected: int, label: str) -> None:
    samples = Sample.objects.filter(round=testing_round, void=False, resample=False)
    stored = samples.count()
    people = samples.values("person").distinct().count()
    counted = Tube.objects.filter(round=testing_round).aggregate(n=Sum("sample_count"))["n"] or 0
    over = Tube.objects.filter(round=testing_round).annotate(n=Count("samples")).filter(n__gt=POOL).count()
    check(stored == expected, f"{label}: {stored:,} samples stored, {expected:,} expected")
    check(people == stored, f"{label}: nobody sampled twice ({people:,} people)")
    check(counted == stored, f"{label}: tube counts add up to the samples ({counted:,})")
    check(over == 0, f"{label}: no tube above its pool size")


# ---------------------------------------------------------------------------
# (2) and (3) a batch of 1,000 in one request, and its replay
# ---------------------------------------------------------------------------


def api_batch(server: Server, token: str, bodies: list[dict]) -> tuple[float, int, list]:
    client = Client(server.port, token)
    payload = json.dumps(bodies).encode()
    started = time.perf_counter()
    status, data = client.post("/api/v1/samples/batch", payload)
    seconds = time.perf_counter() - started
    try:
        answer = json.loads(data)
    except ValueError:
        answer = data.decode(errors="replace")[:300]
    return seconds, status, answer


def row_statuses(answer) -> dict:
    """How many rows of a batch answer came back with each status (created / duplicate / an error code)."""
    rows = answer.get("results", answer.get("items", answer.get("rows"))) if isinstance(answer, dict) else answer
    counts = {}
    for row in rows if isinstance(rows, list) else []:
        status = str(row.get("status", row.get("code", "?"))) if isinstance(row, dict) else str(row)
        counts[status] = counts.get(status, 0) + 1
    return counts


def raw_batch(rows: list[tuple], tube_counts: dict[int, int]) -> float:
    with psycopg.connect(**conninfo()) as db, db.cursor() as cursor:
        started = time.perf_counter()
        cursor.executemany(RAW_INSERT, rows)
        cursor.executemany(RAW_TUBE, [{"n": n, "tube": tube} for tube, n in tube_counts.items()])
        db.commit()
        return time.perf_counter() - started


def plan_batch(people: People, testing_round, site, sampler, size: int, label: str) -> list[tuple]:
    tubes = open_tubes(testing_round, site, sampler, label, -(-size // POOL))
    return [(row, tubes[i // POOL]) for i, row in enumerate(people.take(size))]


# ---------------------------------------------------------------------------
# (4) a lab result file with positive tubes
# ---------------------------------------------------------------------------


def prepare_result_tubes(community, people_rows: list[tuple], sampler, site, count: int) -> tuple[list[str], set[int]]:
    """`count` closed tubes of ten people (COPY), spread over as many rounds as the registry needs.

    The positive tubes (0.1 %) lie in the last round, so nobody is in two of them.
    """
    per_round = len(people_rows) // POOL
    rounds = -(-count // per_round)
    now = timezone.now()
    barcodes, positive_ids = [], set()
    print(f"writing {count:,} closed tubes and {count * POOL:,} samples in {rounds} rounds ...", flush=True)
    started = time.perf_counter()
    for r in range(rounds):
        in_round = min(per_round, count - r * per_round)
        testing_round = TestRound.objects.create(community=community, name=f"结果基准第{r + 1}轮 {RUN}",
                                                 on=timezone.localdate(), pool_size=POOL)
        codes = [f"R{RUN}{r:02d}{k:06d}" for k in range(in_round)]
        insert_rows(Tube, ("round_id", "community_id", "site_id", "barcode", "pool_size", "sample_count", "status",
                           "result", "opened_by_id", "opened_at", "closed_at"),
                    ((testing_round.pk, community.pk, site.pk, code, POOL, POOL, Tube.Status.CLOSED, "", sampler.pk,
                      now, now) for code in codes))
        tube_ids = dict(Tube.objects.filter(round=testing_round).values_list("barcode", "pk"))
        insert_rows(Sample, SAMPLE_COLUMNS, (
            (testing_round.pk, tube_ids[codes[k]], community.pk, row[0], row[1], site.pk, sampler.pk, now, False, False,
             False, uuid.uuid4(), now)
            for k in range(in_round) for row in people_rows[k * POOL:(k + 1) * POOL]))
        barcodes += codes
        if r == rounds - 1:
            positives = max(1, count // 1000)
            positive_ids = {tube_ids[code] for code in codes[::max(1, in_round // positives)][:positives]}
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE testing_tube")
        cursor.execute("ANALYZE testing_sample")
    print(f"tubes and samples written in {time.perf_counter() - started:.1f} s", flush=True)
    return barcodes, positive_ids


def result_file(barcodes: list[str], positive_barcodes: set[str]) -> bytes:
    reported = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["条码", "结果", "检测时间", "检测机构"])
    for code in barcodes:
        writer.writerow([code, "阳性" if code in positive_barcodes else "阴性", reported, "基准检测所"])
    return out.getvalue().encode("utf-8")


def measure_import(community, staff: User, data: bytes, positive_ids: set[int]) -> dict:
    """The whole import job, from the upload to its end, run by the function the worker runs
    (FANGKONG_TASKS_EAGER runs it at once, without the queue's wait); each positive tube's chain
    timed on its own (the import calls one per tube)."""
    from fangkong.testing.services import results as services

    chain_seconds = []
    chain = services.positive_tube_chain

    def timed_chain(**kwargs):
        started = time.perf_counter()
        try:
            return chain(**kwargs)
        finally:
            chain_seconds.append(time.perf_counter() - started)

    expected = len(positive_ids) * POOL
    bind_context(staff, via="cli", cli_label="bench")
    services.positive_tube_chain = timed_chain
    try:
        started = time.perf_counter()
        with override_settings(FANGKONG_TASKS_EAGER=True):
            job = services.lab_results_import_start(
                actor=staff, community=community,
                uploaded_file=SimpleUploadedFile("检测结果.csv", data, content_type="text/csv"))
        seconds = time.perf_counter() - started
    finally:
        services.positive_tube_chain = chain
    job.refresh_from_db()
    check(job.status == job.Status.DONE,
          f"results: the import job ended {job.status}" + (f": {job.error}" if job.error else ""))
    tasks = ResampleTask.objects.filter(tube_id__in=positive_ids).count()
    return {"seconds": seconds, "tasks": tasks, "expected": expected, "tubes": len(positive_ids),
            "chains": len(chain_seconds), "chain_mean": statistics.fmean(chain_seconds) if chain_seconds else 0.0,
            "chain_max": max(chain_seconds, default=0.0)}


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------


def line(label: str, figures: dict, raw: dict | None = None) -> None:
    rate = figures["rows"] / figures["seconds"]
    ratio = f"{rate / (raw['rows'] / raw['seconds']):8.1%}" if raw else f"{'':8}"
    cpu = "".join(f"{figures['cpu'][side] * 1000 / max(figures['rows'], 1):>7.2f}" for side in CPU_SIDES)
    print(f"{label:34}{figures['rows']:>8,}{figures['seconds']:>9.2f}{rate:>10,.0f}{figures['p50'] * 1000:>9.1f}"
          f"{figures['p99'] * 1000:>9.1f}{figures['errors']:>7}{ratio}{cpu}")


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("bench/sampling.py measures PostgreSQL: unset FANGKONG_DATABASE_URL or point it at PostgreSQL")
    call_command("migrate", interactive=False, verbosity=0)
    community = prepare_community(OPTIONS.persons)
    sampler, staff = prepare_users(community)
    bind_context(sampler, via="cli", cli_label="bench")
    token = token_create(actor=sampler, user=sampler, label="bench")
    people = People(community, OPTIONS.identify)
    api_round, sites = new_round(community, "接口基准", sampler)
    raw_round, _ = new_round(community, "直写基准", sampler)
    server = Server()
    try:
        server.wait_ready()
        print(f"fangkong serve on 127.0.0.1:{server.port}, {OPTIONS.workers} workers; "
              f"persons named by {OPTIONS.identify}", flush=True)
        single = run_single(server, token, people, api_round, raw_round, sites, sampler)
        batch = run_batch(server, token, people, api_round, raw_round, sites[0], sampler)
    finally:
        server.stop()
    check_round(api_round, COUNTS["api"], "API round")
    check_round(raw_round, COUNTS["raw"], "raw round")
    results = run_results(community, sampler, staff, sites[0])
    report(single, batch, results)


def twin_plans(plans: list[list], raw_round, sampler, label: str) -> list[list]:
    """The same people at the same sites, in tubes of the raw round."""
    twins = []
    for c, plan in enumerate(plans):
        tubes = open_tubes(raw_round, plan[0][1], sampler, f"{label}c{c}", -(-len(plan) // POOL))
        twins.append([(row, site, tubes[i // POOL]) for i, (row, site, _tube) in enumerate(plan)])
    return twins


def run_single(server, token, people, api_round, raw_round, sites, sampler) -> list[tuple]:
    warm = plan_single(people, api_round, sites, sampler, 8, 400, "w")
    warmed = api_single(server, token, people, warm, api_round)
    COUNTS["api"] += warmed["rows"]
    print(f"warm-up: {warmed['rows']:,} registrations from 8 clients, {warmed['errors']} errors", flush=True)
    figures = []
    for clients in [int(c) for c in OPTIONS.clients.split(",")]:
        print(f"(1) {OPTIONS.samples:,} single registrations from {clients} clients, in {OPTIONS.rounds} rounds ...",
              flush=True)
        api_plans = plan_single(people, api_round, sites, sampler, clients, OPTIONS.samples, f"a{clients}x")
        raw_plans = twin_plans(api_plans, raw_round, sampler, f"r{clients}x")
        parts = {"raw": [], "api": [], "floor": []}
        connections = [psycopg.connect(**conninfo()) for _ in range(clients)]
        for r in range(OPTIONS.rounds):
            parts["raw"].append(raw_single(connections, round_share(raw_plans, r), raw_round, sampler))
            parts["api"].append(api_single(server, token, people, round_share(api_plans, r), api_round))
            parts["floor"].append(api_floor(server, token, clients, OPTIONS.samples // OPTIONS.rounds))
        for db in connections:
            db.close()
        raw, api, floor = (merged(parts[kind]) for kind in ("raw", "api", "floor"))
        COUNTS["api"] += api["rows"]
        COUNTS["raw"] += raw["rows"]
        check(api["errors"] == 0, f"{clients} clients: no errors ({api['errors']})")
        figures.append((clients, api, raw, floor))
    return figures


def round_share(plans: list[list], r: int) -> list[list]:
    """Each client's r-th share of its plan, for round r of OPTIONS.rounds."""
    return [plan[len(plan) * r // OPTIONS.rounds:len(plan) * (r + 1) // OPTIONS.rounds] for plan in plans]


def merged(parts: list[dict]) -> dict:
    """Rounds taken together: rows, seconds, errors and CPU added up, percentiles over every latency."""
    latencies = [x for part in parts for x in part["latencies"]]
    return {"rows": sum(p["rows"] for p in parts), "seconds": sum(p["seconds"] for p in parts),
            "errors": sum(p["errors"] for p in parts), "p50": percentile(latencies, 0.5),
            "p99": percentile(latencies, 0.99), "cpu": {side: sum(p["cpu"][side] for p in parts) for side in CPU_SIDES}}


def run_batch(server, token, people, api_round, raw_round, site, sampler) -> dict:
    warm_up_batches(server, token, people, api_round, site, sampler)
    best_api, best_raw, last = None, None, None
    for run in range(OPTIONS.batch_runs):
        print(f"(2) a batch of {OPTIONS.batch:,}, run {run + 1} ...", flush=True)
        plan = plan_batch(people, api_round, site, sampler, OPTIONS.batch, f"b{run}x")
        bodies = [sample_body(people, row, api_round, site, tube) for row, tube in plan]
        raw_plan = [(row, raw_tube) for (row, _), raw_tube in
                    zip(plan, [t for t in open_tubes(raw_round, site, sampler, f"q{run}x", -(-len(plan) // POOL))
                               for _ in range(POOL)], strict=False)]
        tube_counts = {}
        for _, tube in raw_plan:
            tube_counts[tube.pk] = tube_counts.get(tube.pk, 0) + 1
        raw_seconds = raw_batch([raw_row(row, raw_round, site, tube, sampler) for row, tube in raw_plan], tube_counts)
        before = Sample.objects.filter(round=api_round).count()
        seconds, status, answer = api_batch(server, token, bodies)
        stored = Sample.objects.filter(round=api_round).count() - before
        check(status == 200 and stored == len(bodies),
              f"batch run {run + 1}: HTTP {status}, {stored:,} of {len(bodies):,} stored, rows {row_statuses(answer)}")
        COUNTS["api"] += len(bodies)
        COUNTS["raw"] += len(bodies)
        best_api = seconds if best_api is None else min(best_api, seconds)
        best_raw = raw_seconds if best_raw is None else min(best_raw, raw_seconds)
        last = bodies
    print("(3) the last batch again ...", flush=True)
    before = Sample.objects.filter(round=api_round).count()
    counted = Tube.objects.filter(round=api_round).aggregate(n=Sum("sample_count"))["n"]
    replay_seconds, status, answer = api_batch(server, token, last)
    new_rows = Sample.objects.filter(round=api_round).count() - before
    recounted = Tube.objects.filter(round=api_round).aggregate(n=Sum("sample_count"))["n"]
    check(status == 200 and new_rows == 0 and recounted == counted,
          f"replay: HTTP {status}, {new_rows} new rows, tube counts unchanged ({counted:,} → {recounted:,}), "
          f"rows {row_statuses(answer)}")
    return {"size": OPTIONS.batch, "api": best_api, "raw": best_raw, "replay": replay_seconds, "new_rows": new_rows}


def warm_up_batches(server, token, people, api_round, site, sampler, count: int = 4) -> None:
    """A few batches before measuring, as the single registrations are warmed up: a server thread's
    first batch also fills its database connection's caches."""
    for run in range(count):
        plan = plan_batch(people, api_round, site, sampler, OPTIONS.batch, f"wb{run}x")
        api_batch(server, token, [sample_body(people, row, api_round, site, tube) for row, tube in plan])
        COUNTS["api"] += len(plan)
    print(f"warm-up: {count} batches of {OPTIONS.batch:,}", flush=True)


def run_results(community, sampler, staff, site) -> dict | None:
    if not OPTIONS.result_tubes:
        return None
    print(f"(4) a {OPTIONS.result_tubes:,}-tube result file ...", flush=True)
    unsampled = list(Person.objects.filter(community=community).order_by("pk").values_list("pk", "household_id"))
    barcodes, positive_ids = prepare_result_tubes(community, unsampled, sampler, site, OPTIONS.result_tubes)
    positive_barcodes = set(Tube.objects.filter(pk__in=positive_ids).values_list("barcode", flat=True))
    data = result_file(barcodes, positive_barcodes)
    print(f"result file: {len(barcodes):,} tubes, {len(positive_barcodes)} positive, {len(data) / 2**20:.1f} MB",
          flush=True)
    figures = measure_import(community, staff, data, positive_ids)
    check(figures["tasks"] == figures["expected"],
          f"results: {figures['tasks']:,} re-sampling tasks, {figures['expected']:,} expected")
    check(figures["chains"] == figures["tubes"], f"results: one chain per positive tube ({figures['chains']})")
    return figures


def report(single: list[tuple], batch: dict, results: dict | None) -> None:
    print("\nthe last three columns: CPU milliseconds per row used by the server, PostgreSQL and the client threads")
    print(f"{'':34}{'rows':>8}{'seconds':>9}{'rows/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>7}{'÷ raw':>8}"
          f"{'server':>7}{'db':>7}{'client':>7}")
    for clients, api, raw, floor in single:
        line(f"raw psycopg, {clients} connections", raw)
        line(f"API single, {clients} clients", api, raw)
        line(f"API floor (sign-in, 400), {clients} cl.", floor, raw)
    raw_rate, api_rate = batch["size"] / batch["raw"], batch["size"] / batch["api"]
    print(f"\n{'batch of ' + format(batch['size'], ','):34}{'seconds':>9}{'rows/s':>10}{'÷ raw':>8}")
    print(f"{'raw executemany, one transaction':34}{batch['raw']:9.3f}{raw_rate:10,.0f}")
    print(f"{'API /samples/batch, one request':34}{batch['api']:9.3f}{api_rate:10,.0f}{api_rate / raw_rate:8.2f}")
    print(f"{'replay of the same batch':34}{batch['replay']:9.3f}   new rows: {batch['new_rows']}")
    if results:
        print(f"\nresult import: {OPTIONS.result_tubes:,} tubes, {results['tubes']} positive: "
              f"{results['seconds']:.2f} s until all {results['tasks']:,} re-sampling tasks exist "
              f"({results['seconds'] * 1000 / results['tubes']:.1f} ms per positive tube, "
              "whole import ÷ positive tubes)")
        print(f"positive-tube chain (people, tasks, zone proposals), each timed: "
              f"{results['chain_mean'] * 1000:.1f} ms per tube on average, "
              f"{results['chain_max'] * 1000:.1f} ms the slowest")
    worst = min(api["rows"] / api["seconds"] / (raw["rows"] / raw["seconds"]) for _, api, raw, _floor in single)
    p99 = max(api["p99"] for _, api, _raw, _floor in single) * 1000
    print(f"\ngoals: single ≥ 15 % of raw (lowest {worst:.1%}), p99 < 50 ms (highest {p99:.1f} ms); "
          f"batch ≥ 0.5 of raw ({api_rate / raw_rate:.2f}); replay stores nothing ({batch['new_rows']} new rows)"
          + (f"; < 50 ms per positive tube ({results['chain_mean'] * 1000:.1f})" if results else ""))
    if FAILURES:
        print(f"\n{len(FAILURES)} correctness check(s) failed:", *FAILURES, sep="\n  ")


if __name__ == "__main__":
    try:
        main()
    finally:
        POSTGRES.stop()
        shutil.rmtree(VAR_DIR, ignore_errors=True)
    sys.exit(1 if FAILURES else 0)
