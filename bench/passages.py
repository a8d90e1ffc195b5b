"""Benchmark: checkpoint scans through the HTTP API and a scanner's sync beside raw psycopg,
and tracing at 1 M and 10 M passages.

    .venv/bin/python bench/passages.py [--persons 50000] [--scans 4000] [--clients 4,16] [--sizes 1000000,10000000]
    FANGKONG_DATABASE_URL=postgres://... .venv/bin/python bench/passages.py      (a migrated or empty database)

Without FANGKONG_DATABASE_URL it starts its own PostgreSQL (scripts/postgres.sh) and removes it at the end.
It migrates, builds one community of --persons people in households (COPY) with four gates of 驰誉-style
compounds (a tenth of the households in sealed units, so some scans are refused), starts `fangkong serve`
on a free loopback port (--workers, 2 as by default) and measures:
  (1) single     C clients (threads, keep-alive sockets) POST /api/v1/passages, a resident's personal code
                 each, for each C of --clients: passages/s, p50/p99 latency and errors, beside the raw
                 baseline: C psycopg connections, per passage one INSERT into access_passage committed on its
                 own (same table, same indexes and constraints), and the framework's floor: the same clients
                 POSTing an empty body, signed in and answered 400. The three take turns in --rounds rounds.
  (2) batch      1,000 queued offline passages in one POST /api/v1/passages/batch against psycopg
                 executemany of the same 1,000 rows in one transaction; best of --batch-runs
  (3) replay     the same batch again must store nothing
  (4) tracing    access.queries.trace (a person's passages over 14 days and everyone at the same gate within
                 ± 30 minutes of each) with the table filled afresh to each of --sizes passages: it grows as a
                 deployment grows, more gates at the same traffic per gate (50 passages an hour over 30 days,
                 written in time order with the gates interleaved, as scans arrive; the traced person twice a
                 day at their gate), so each query reads as many rows at every size; median and slowest of
                 --trace-runs on a warm cache, and the growth factor from the first size to the last
Goals (issue 13): (1) ≥ 15 % of raw at the same concurrency, p99 < 50 ms, no errors; (2) ≥ 0.5 of raw;
(3) nothing stored twice; (4) tracing grows less than 2× from 1 M to 10 M. Exits non-zero when a
correctness check fails. Beside each line of (1), the CPU milliseconds per passage used by the server's
processes, PostgreSQL's and the client threads (from /proc).
"""

import argparse
import datetime
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
FANGKONG = Path(sys.executable).parent / "fangkong"


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=50_000)
    parser.add_argument("--scans", type=int, default=4_000, help="single scans per concurrency level")
    parser.add_argument("--clients", default="4,16", help="concurrency levels, comma separated")
    parser.add_argument("--workers", type=int, default=2, help="fangkong serve --workers")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of (1), each with new connections")
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--batch-runs", type=int, default=3)
    parser.add_argument("--sizes", default="1000000,10000000", help="passages in the table for (4), ascending")
    parser.add_argument("--trace-runs", type=int, default=15)
    parser.add_argument("--skip", default="", help="parts to leave out, comma separated: single, batch, tracing")
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
SKIP = {part.strip() for part in OPTIONS.skip.split(",") if part.strip()}
POSTGRES = OwnPostgres()
POSTGRES.start()
VAR_DIR = tempfile.mkdtemp(prefix="fangkong-bench-var-")
os.environ.setdefault("FANGKONG_VAR_DIR", VAR_DIR)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
sys.path.insert(0, str(ROOT / "bench"))

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from fangkong.access import queries  # noqa: E402
from fangkong.access.models import Checkpoint, Passage  # noqa: E402
from fangkong.accounts.models import Role, User  # noqa: E402
from fangkong.accounts.services import token_create  # noqa: E402
from fangkong.core.actors import bind_context  # noqa: E402
from fangkong.core.bulk import insert_rows  # noqa: E402
from fangkong.core.idnumbers import compose_resident_id  # noqa: E402
from fangkong.people.codes import personal_code  # noqa: E402
from fangkong.people.models import Person  # noqa: E402
from fangkong.places.models import Building, Community, Compound, Grid, Household, Street, Unit  # noqa: E402
from fangkong.zones.models import Level, Zone  # noqa: E402
from fangkong.zones.places import place_fields  # noqa: E402
from names import person_name  # noqa: E402

STREET, COMMUNITY, TRACE_COMMUNITY = "通行基准街道", "通行基准社区", "追踪基准社区"
BUILDINGS, UNITS, FLOORS, ROOMS_PER_FLOOR = 40, 4, 18, 4
GATES = 4
PASSAGE_COLUMNS = ("community_id", "checkpoint_id", "person_id", "household_id", "used_pass_id", "visitor_name",
                   "visitor_phone", "visitor_id_number", "visitor_reason", "plate", "direction", "occurred_at",
                   "temperature", "result", "reason", "guard_id", "self_scan", "offline", "conflict", "conflict_note",
                   "client_id", "created_at")
RAW_INSERT = ("INSERT INTO access_passage (community_id, checkpoint_id, person_id, household_id, used_pass_id,"
              " visitor_name, visitor_phone, visitor_id_number, visitor_reason, plate, direction, occurred_at,"
              " temperature, result, reason, guard_id, self_scan, offline, conflict, conflict_note, client_id,"
              " created_at) VALUES (%s, %s, %s, %s, NULL, '', '', '', '', '', %s, %s, NULL, %s, %s, %s, false, %s,"
              " false, '', %s, now())")
CPU_SIDES = ("server", "database", "clients")
FAILURES: list[str] = []
HOUR_RATE = 50          # passages an hour at each gate, for (4)
TRACE_DAYS = 30         # the days the tracing table covers
TRACED_DAYS = 14        # the window traced


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
# The community, its people, sealed units and gates
# ---------------------------------------------------------------------------


def prepare_households(community: Community) -> list[int]:
    compound = Compound.objects.create(community=community, name="通行基准小区")
    grid = Grid.objects.create(community=community, name="第一网格")
    now = timezone.now()
    rows = []
    for b in range(BUILDINGS):
        building = Building.objects.create(community=community, compound=compound, grid=grid, number=str(b + 1))
        units = Unit.objects.bulk_create([Unit(community=community, grid=grid, building=building, number=str(u + 1))
                                          for u in range(UNITS)])
        rows += [(community.pk, grid.pk, compound.pk, building.pk, unit.pk, f"{floor}{room:02d}", "", now, now)
                 for unit in units for floor in range(1, FLOORS + 1) for room in range(1, ROOMS_PER_FLOOR + 1)]
    insert_rows(Household, ("community_id", "grid_id", "compound_id", "building_id", "unit_id", "room", "notes",
                            "created_at", "updated_at"), rows)
    return list(Household.objects.filter(community=community).order_by("pk").values_list("pk", flat=True))


def insert_persons(community: Community, households: list[int], count: int, offset: int) -> None:
    now = timezone.now()

    def rows():
        for k in range(count):
            n = offset + k
            birth = datetime.date(1940, 1, 1) + datetime.timedelta(days=(n * 7) % 29000)
            id_number = compose_resident_id(f"3302{n // 1000 % 100:02d}", birth, n % 1000)
            phone = f"15{n % 10}{n:08d}"
            yield (community.pk, households[k % len(households)] if households else None, person_name(n), "", "",
                   "resident_id", id_number, id_number[-4:], "M" if int(id_number[16]) % 2 else "F", birth, phone,
                   phone[-4:], "", "resident", "", now, now)

    insert_rows(Person, ("community_id", "household_id", "name", "name_pinyin", "name_initials", "id_type",
                         "id_number", "id_last4", "sex", "birth_date", "phone", "phone_last4", "relationship",
                         "residency", "notes", "created_at", "updated_at"), rows())


def prepare_community(street: Street) -> Community:
    community, created = Community.objects.get_or_create(street=street, name=COMMUNITY)
    if not created:
        if Person.objects.filter(community=community).count() != OPTIONS.persons:
            sys.exit(f"{COMMUNITY} exists with another number of persons: drop the database or pass that number")
        return community
    households = prepare_households(community)
    print(f"inserting {OPTIONS.persons:,} persons into {len(households):,} households ...", flush=True)
    insert_persons(community, households, OPTIONS.persons, 0)
    seal_units(community)
    compound = Compound.objects.get(community=community)
    for g in range(GATES):
        Checkpoint.objects.create(community=community, compound=compound, name=f"{g + 1}号门")
    with connection.cursor() as cursor:
        for table in ("people_person", "places_household", "zones_zone", "access_checkpoint"):
            cursor.execute(f"ANALYZE {table}")
    return community


def seal_units(community: Community) -> None:
    """Every tenth unit sealed: its residents' scans going out are refused, as at a real gate."""
    units = list(Unit.objects.filter(community=community).select_related("building").order_by("pk")[::10])
    Zone.objects.bulk_create([Zone(community=community, level=Level.SEALED, status=Zone.Status.ACTIVE,
                                   started_at=timezone.now(), **place_fields(unit)) for unit in units])


def prepare_guard(community: Community) -> User:
    guard, created = User.objects.get_or_create(username="bench-guard", defaults={"role": Role.VOLUNTEER})
    if created:
        guard.scope_communities.add(community)
    return guard


class People:
    """The community's persons in id order; each scan names one by their personal code."""

    def __init__(self, community: Community):
        self.rows = list(Person.objects.filter(community=community).order_by("pk")
                         .values_list("pk", "household_id", "community_id"))
        self.next = 0

    def take(self, count: int) -> list[tuple]:
        taken = [self.rows[(self.next + k) % len(self.rows)] for k in range(count)]
        self.next += count
        return taken


class _Holder:
    def __init__(self, pk, community_id):
        self.pk, self.community_id = pk, community_id


def code_of(row: tuple) -> str:
    return personal_code(_Holder(row[0], row[2]))


# ---------------------------------------------------------------------------
# The server and the HTTP clients
# ---------------------------------------------------------------------------


class Server:
    """`fangkong serve` on a free loopback port with --workers, stopped by its pid."""

    def __init__(self):
        self.port = free_port()
        self.log = open(Path(os.environ["FANGKONG_VAR_DIR"]) / "serve.log", "w")
        self.process = subprocess.Popen([str(FANGKONG), "serve", "--bind", f"127.0.0.1:{self.port}",
                                         "--workers", str(OPTIONS.workers)],
                                        stdout=self.log, stderr=subprocess.STDOUT, env=os.environ.copy())

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"fangkong serve exited with {self.process.returncode}; see {self.log.name}")
            try:
                status, _ = Client(self.port, "").get("/api/v1/openapi.json")
                if status:
                    return
            except OSError:
                pass
            time.sleep(0.3)
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
    """One keep-alive HTTP/1.1 connection on a plain socket (http.client's header parsing would take CPU
    from the cores the server runs on)."""

    def __init__(self, port: int, token: str):
        self.port = port
        self.headers = f"Host: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        self.sock = None
        self.received = b""

    def get(self, path: str) -> tuple[int, bytes]:
        return self._send(f"GET {path} HTTP/1.1\r\n{self.headers}\r\n".encode())

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        return self._send(f"POST {path} HTTP/1.1\r\n{self.headers}Content-Length: {len(body)}\r\n\r\n".encode() + body)

    def _send(self, data: bytes) -> tuple[int, bytes]:
        try:
            if self.sock is None:
                self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=120)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock.sendall(data)
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


def cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by PostgreSQL's processes, this process (the clients) and its other
    descendants (the server), from /proc."""
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
# (1) single scans
# ---------------------------------------------------------------------------


def scan_body(row: tuple, gate: Checkpoint, direction: str) -> bytes:
    return json.dumps({"client_id": str(uuid.uuid4()), "checkpoint_id": gate.pk, "direction": direction,
                       "code": code_of(row)}).encode()


def plan_single(people: People, gates: list, clients: int, scans: int) -> list[list[tuple]]:
    """Per client: (person row, gate, direction) for its share, each client at one gate, out and in by turns."""
    per_client = scans // clients
    return [[(row, gates[c % len(gates)], "out" if k % 2 else "in") for k, row in enumerate(people.take(per_client))]
            for c in range(clients)]


def api_posts(server: Server, token: str, path: str, bodies: list[list[bytes]], *, expected: set[int]) -> dict:
    latencies = [[] for _ in bodies]
    errors = [[] for _ in bodies]
    clients = [Client(server.port, token) for _ in bodies]

    def work(i, barrier):
        client = clients[i]
        barrier.wait()
        for body in bodies[i]:
            started = time.perf_counter()
            status, data = client.post(path, body)
            latencies[i].append(time.perf_counter() - started)
            if status not in expected:
                errors[i].append((status, data[:300]))

    seconds, cpu = run_threads(len(bodies), work)
    flat = [x for part in latencies for x in part]
    failed = [e for part in errors for e in part]
    for status, data in failed[:3]:
        print(f"  error {status}: {data.decode(errors='replace')}", flush=True)
    return {"rows": len(flat) - len(failed), "seconds": seconds, "errors": len(failed), "latencies": flat, "cpu": cpu}


def api_single(server, token, plans) -> dict:
    bodies = [[scan_body(row, gate, direction) for row, gate, direction in plan] for plan in plans]
    return api_posts(server, token, "/api/v1/passages", bodies, expected={201})


def api_floor(server, token, clients: int, count: int) -> dict:
    return api_posts(server, token, "/api/v1/passages", [[b"{}"] * (count // clients) for _ in range(clients)],
                     expected={400})


def conninfo() -> dict:
    db = settings.DATABASES["default"]
    return {"dbname": db["NAME"], "user": db["USER"], "password": db["PASSWORD"] or None,
            "host": db["HOST"] or None, "port": db["PORT"] or None}


def raw_values(row: tuple, gate: Checkpoint, direction: str, guard: User, offline: bool = False) -> tuple:
    pk, household_id, community_id = row
    return (community_id, gate.pk, pk, household_id, direction, timezone.now(), "allowed", "", guard.pk, offline,
            uuid.uuid4())


def raw_single(connections: list, plans: list[list], guard: User) -> dict:
    """One psycopg connection per client; per passage one INSERT, then COMMIT."""
    rows = [[raw_values(row, gate, direction, guard) for row, gate, direction in plan] for plan in plans]
    latencies = [[] for _ in plans]

    def work(i, barrier):
        db = connections[i]
        barrier.wait()
        with db.cursor() as cursor:
            for values in rows[i]:
                started = time.perf_counter()
                cursor.execute(RAW_INSERT, values)
                db.commit()
                latencies[i].append(time.perf_counter() - started)

    seconds, cpu = run_threads(len(plans), work)
    flat = [x for part in latencies for x in part]
    return {"rows": len(flat), "seconds": seconds, "errors": 0, "latencies": flat, "cpu": cpu}


def round_share(plans: list[list], r: int) -> list[list]:
    return [plan[len(plan) * r // OPTIONS.rounds:len(plan) * (r + 1) // OPTIONS.rounds] for plan in plans]


def merged(parts: list[dict]) -> dict:
    latencies = [x for part in parts for x in part["latencies"]]
    return {"rows": sum(p["rows"] for p in parts), "seconds": sum(p["seconds"] for p in parts),
            "errors": sum(p["errors"] for p in parts), "p50": percentile(latencies, 0.5),
            "p99": percentile(latencies, 0.99), "cpu": {side: sum(p["cpu"][side] for p in parts) for side in CPU_SIDES}}


def run_single(server, token, people, gates, guard) -> list[tuple]:
    warm = api_single(server, token, plan_single(people, gates, 8, 400))
    print(f"warm-up: {warm['rows']:,} scans from 8 clients, {warm['errors']} errors", flush=True)
    figures = []
    for clients in [int(c) for c in OPTIONS.clients.split(",")]:
        print(f"(1) {OPTIONS.scans:,} single scans from {clients} clients, in {OPTIONS.rounds} rounds ...", flush=True)
        plans = plan_single(people, gates, clients, OPTIONS.scans)
        parts = {"raw": [], "api": [], "floor": []}
        connections = [psycopg.connect(**conninfo()) for _ in range(clients)]
        before = Passage.objects.count()
        for r in range(OPTIONS.rounds):
            share = round_share(plans, r)
            parts["raw"].append(raw_single(connections, share, guard))
            parts["api"].append(api_single(server, token, share))
            parts["floor"].append(api_floor(server, token, clients, OPTIONS.scans // OPTIONS.rounds))
        for db in connections:
            db.close()
        raw, api, floor = (merged(parts[kind]) for kind in ("raw", "api", "floor"))
        stored = Passage.objects.count() - before
        check(api["errors"] == 0, f"{clients} clients: no errors ({api['errors']})")
        check(stored == api["rows"] + raw["rows"], f"{clients} clients: {stored:,} passages stored, "
              f"{api['rows'] + raw['rows']:,} sent (API and raw)")
        figures.append((clients, api, raw, floor))
    return figures


# ---------------------------------------------------------------------------
# (2) and (3) a scanner's queue of 1,000 in one request, and its replay
# ---------------------------------------------------------------------------


def batch_rows(people: People, gate: Checkpoint, size: int) -> list[tuple]:
    return [(row, "out" if k % 2 else "in") for k, row in enumerate(people.take(size))]


def batch_body(rows: list[tuple], gate: Checkpoint, started: datetime.datetime) -> list[dict]:
    """The queue of a scanner that was offline for the last hour: each passage decided offline, with its time."""
    step = datetime.timedelta(hours=1) / max(len(rows), 1)
    return [{"client_id": str(uuid.uuid4()), "checkpoint_id": gate.pk, "direction": direction, "code": code_of(row),
             "occurred_at": (started + k * step).isoformat(), "offline": True, "offline_result": "allowed"}
            for k, (row, direction) in enumerate(rows)]


def raw_batch(rows: list[tuple]) -> float:
    with psycopg.connect(**conninfo()) as db, db.cursor() as cursor:
        started = time.perf_counter()
        cursor.executemany(RAW_INSERT, rows)
        db.commit()
        return time.perf_counter() - started


def api_batch(server: Server, token: str, body: list[dict]) -> tuple[float, int, list]:
    client = Client(server.port, token)
    payload = json.dumps(body).encode()
    started = time.perf_counter()
    status, data = client.post("/api/v1/passages/batch", payload)
    seconds = time.perf_counter() - started
    try:
        answer = json.loads(data)
    except ValueError:
        answer = data.decode(errors="replace")[:300]
    return seconds, status, answer


def statuses(answer) -> dict:
    counts = {}
    for row in answer if isinstance(answer, list) else []:
        counts[row.get("status", "?")] = counts.get(row.get("status", "?"), 0) + 1
    return counts


def run_batch(server, token, people, gate, guard) -> dict:
    hour_ago = timezone.now() - datetime.timedelta(hours=1)
    for _ in range(4):
        api_batch(server, token, batch_body(batch_rows(people, gate, OPTIONS.batch), gate, hour_ago))
    print(f"warm-up: 4 batches of {OPTIONS.batch:,}", flush=True)
    best_api, best_raw, last = None, None, None
    for run in range(OPTIONS.batch_runs):
        print(f"(2) a queue of {OPTIONS.batch:,}, run {run + 1} ...", flush=True)
        rows = batch_rows(people, gate, OPTIONS.batch)
        raw_seconds = raw_batch([raw_values(row, gate, direction, guard, offline=True) for row, direction in rows])
        body = batch_body(rows, gate, hour_ago)
        before = Passage.objects.count()
        seconds, status, answer = api_batch(server, token, body)
        stored = Passage.objects.count() - before
        check(status == 200 and stored == len(body),
              f"batch run {run + 1}: HTTP {status}, {stored:,} of {len(body):,} stored, rows {statuses(answer)}")
        best_api = seconds if best_api is None else min(best_api, seconds)
        best_raw = raw_seconds if best_raw is None else min(best_raw, raw_seconds)
        last = body
    print("(3) the last queue again ...", flush=True)
    before = Passage.objects.count()
    replay_seconds, status, answer = api_batch(server, token, last)
    new_rows = Passage.objects.count() - before
    check(status == 200 and new_rows == 0 and statuses(answer) == {"duplicate": len(last)},
          f"replay: HTTP {status}, {new_rows} new rows, rows {statuses(answer)}")
    return {"size": OPTIONS.batch, "api": best_api, "raw": best_raw, "replay": replay_seconds, "new_rows": new_rows}


# ---------------------------------------------------------------------------
# (4) tracing at growing sizes
# ---------------------------------------------------------------------------


def trace_community(street: Street) -> tuple[Community, list[int]]:
    """The tracing table's own community: persons to name (FK), no households needed."""
    community, created = Community.objects.get_or_create(street=street, name=TRACE_COMMUNITY)
    if created:
        print("inserting 200,000 persons for the tracing table ...", flush=True)
        insert_persons(community, [], 200_000, 10_000_000)
    ids = list(Person.objects.filter(community=community).order_by("pk").values_list("pk", flat=True)[:1])
    last = Person.objects.filter(community=community).order_by("-pk").values_list("pk", flat=True)[:1]
    return community, [ids[0], last[0]]


def trace_gates(community: Community, count: int) -> list[int]:
    have = Checkpoint.objects.filter(community=community).count()
    Checkpoint.objects.bulk_create(
        [Checkpoint(community=community, name=f"追踪{n + 1}号门") for n in range(have, count)])
    return list(Checkpoint.objects.filter(community=community).order_by("pk").values_list("pk", flat=True)[:count])


def fill_passages(community: Community, person_range: list[int], gates: list[int], start: datetime.datetime) -> None:
    """HOUR_RATE passages an hour at each gate over TRACE_DAYS days, people drawn at random, written in the order
    of their time with the gates interleaved, as scans arrive; by INSERT … SELECT in chunks of a million."""
    step = 3600 / HOUR_RATE
    total = len(gates) * HOUR_RATE * 24 * TRACE_DAYS
    low, high = person_range
    sql = ("INSERT INTO access_passage (community_id, checkpoint_id, person_id, household_id, used_pass_id,"
           " visitor_name, visitor_phone, visitor_id_number, visitor_reason, plate, direction, occurred_at,"
           " temperature, result, reason, guard_id, self_scan, offline, conflict, conflict_note, client_id, created_at)"
           " SELECT %(community)s, (%(gates)s::bigint[])[1 + n %% %(count)s],"
           " %(low)s + floor(random() * %(span)s)::bigint, NULL, NULL, '', '', '', '', '',"
           " CASE WHEN n %% 2 = 0 THEN 'in' ELSE 'out' END,"
           " %(start)s::timestamptz + make_interval(secs => (n / %(count)s) * %(step)s + random() * %(step)s), NULL,"
           " 'allowed', '', NULL, false, false, false, '', gen_random_uuid(), now()"
           " FROM generate_series(%(first)s, %(last)s) n")
    with connection.cursor() as cursor:
        for first in range(0, total, 1_000_000):
            cursor.execute(sql, {"community": community.pk, "gates": gates, "count": len(gates), "low": low,
                                 "span": high - low, "start": start, "step": step, "first": first,
                                 "last": min(first + 1_000_000, total) - 1})
            print(f"  {min(first + 1_000_000, total):,} of {total:,}", flush=True)


def traced_person(community: Community, person_range: list[int], gate: int, start: datetime.datetime) -> Person:
    """One person passing their gate twice a day, out at 8:00 and in at 18:00, over the whole table's days."""
    person = Person.objects.get(pk=person_range[0])
    day0 = timezone.localtime(start).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = []
    for d in range(TRACE_DAYS):
        for hour, direction in ((8, "out"), (18, "in")):
            moment = day0 + datetime.timedelta(days=d, hours=hour)
            rows.append((community.pk, gate, person.pk, None, None, "", "", "", "", "", direction, moment, None,
                         "allowed", "", None, False, False, False, "", uuid.uuid4(), moment))
    insert_rows(Passage, PASSAGE_COLUMNS, rows)
    return person


def time_trace(actor: User, person: Person, start: datetime.datetime) -> dict:
    window_end = start + datetime.timedelta(days=TRACE_DAYS - 1)
    window_start = window_end - datetime.timedelta(days=TRACED_DAYS)
    found = queries.trace(actor, person, start=window_start, end=window_end, minutes=30)
    times = []
    for _ in range(OPTIONS.trace_runs):
        began = time.perf_counter()
        found = queries.trace(actor, person, start=window_start, end=window_end, minutes=30)
        times.append(time.perf_counter() - began)
    return {"median": statistics.median(times), "slowest": max(times), "own": len(found.windows),
            "contacts": len(found.contacts), "rows": sum(w.others for w in found.windows)}


def run_tracing(street: Street) -> list[tuple]:
    """At each size the table is filled afresh (the scans of (1) and (2) go), gates interleaved in time."""
    sizes = [int(size) for size in OPTIONS.sizes.split(",")]
    community, person_range = trace_community(street)
    tracer, created = User.objects.get_or_create(username="bench-tracer", defaults={"role": Role.COMMUNITY_STAFF})
    if created:
        tracer.scope_communities.add(community)
    start = timezone.now() - datetime.timedelta(days=TRACE_DAYS)
    figures = []
    for size in sizes:
        gates = trace_gates(community, max(1, round(size / (HOUR_RATE * 24 * TRACE_DAYS))))
        print(f"(4) filling the table with about {size:,} passages at {len(gates)} gates ...", flush=True)
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE access_passage")
        fill_passages(community, person_range, gates, start)
        person = traced_person(community, person_range, gates[0], start)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE access_passage")
        total = Passage.objects.count()
        print(f"  {total:,} passages in {time.perf_counter() - began:.0f} s; tracing ...", flush=True)
        figures.append((total, time_trace(tracer, person, start)))
    return figures


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------


def line(label: str, figures: dict, raw: dict | None = None) -> None:
    rate = figures["rows"] / figures["seconds"]
    ratio = f"{rate / (raw['rows'] / raw['seconds']):8.1%}" if raw else f"{'':8}"
    cpu = "".join(f"{figures['cpu'][side] * 1000 / max(figures['rows'], 1):>7.2f}" for side in CPU_SIDES)
    print(f"{label:34}{figures['rows']:>8,}{figures['seconds']:>9.2f}{rate:>10,.0f}{figures['p50'] * 1000:>9.1f}"
          f"{figures['p99'] * 1000:>9.1f}{figures['errors']:>7}{ratio}{cpu}")


def report(single: list, batch: dict | None, tracing: list) -> None:
    goals = []
    if single:
        print("\nthe last three columns: CPU milliseconds per passage used by the server, PostgreSQL and the clients")
        print(f"{'':34}{'rows':>8}{'seconds':>9}{'rows/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>7}{'÷ raw':>8}"
              f"{'server':>7}{'db':>7}{'client':>7}")
        for clients, api, raw, floor in single:
            line(f"raw psycopg, {clients} connections", raw)
            line(f"API single scan, {clients} clients", api, raw)
            line(f"API floor (sign-in, 400), {clients} cl.", floor, raw)
        worst = min(api["rows"] / api["seconds"] / (raw["rows"] / raw["seconds"]) for _, api, raw, _f in single)
        p99 = max(api["p99"] for _, api, _raw, _f in single) * 1000
        goals.append(f"single ≥ 15 % of raw (lowest {worst:.1%}), p99 < 50 ms (highest {p99:.1f} ms)")
    if batch:
        raw_rate, api_rate = batch["size"] / batch["raw"], batch["size"] / batch["api"]
        print(f"\n{'queue of ' + format(batch['size'], ','):34}{'seconds':>9}{'rows/s':>10}{'÷ raw':>8}")
        print(f"{'raw executemany, one transaction':34}{batch['raw']:9.3f}{raw_rate:10,.0f}")
        print(f"{'API /passages/batch, one request':34}{batch['api']:9.3f}{api_rate:10,.0f}{api_rate / raw_rate:8.2f}")
        print(f"{'replay of the same queue':34}{batch['replay']:9.3f}   new rows: {batch['new_rows']}")
        goals.append(f"batch ≥ 0.5 of raw ({api_rate / raw_rate:.2f}); replay stores nothing ({batch['new_rows']} new)")
    if tracing:
        print(f"\n{'tracing (14 days, ± 30 min)':34}{'median ms':>10}{'slowest':>9}"
              f"{'own':>6}{'nearby':>8}{'people':>8}")
        for total, figures in tracing:
            print(f"{format(total, ',') + ' passages':34}{figures['median'] * 1000:10.1f}"
                  f"{figures['slowest'] * 1000:9.1f}"
                  f"{figures['own']:>6}{figures['rows']:>8,}{figures['contacts']:>8,}")
        growth = tracing[-1][1]["median"] / tracing[0][1]["median"]
        goals.append(f"tracing grows < 2× from {tracing[0][0]:,} to {tracing[-1][0]:,} ({growth:.2f}×)")
    print("\ngoals: " + "; ".join(goals))
    if FAILURES:
        print(f"\n{len(FAILURES)} correctness check(s) failed:", *FAILURES, sep="\n  ")


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("bench/passages.py measures PostgreSQL: unset FANGKONG_DATABASE_URL or point it at PostgreSQL")
    call_command("migrate", interactive=False, verbosity=0)
    street, _ = Street.objects.get_or_create(name=STREET)
    community = prepare_community(street)
    guard = prepare_guard(community)
    bind_context(guard, via="cli", cli_label="bench")
    token = token_create(actor=guard, user=guard, label="bench")
    people = People(community)
    gates = list(Checkpoint.objects.filter(community=community).order_by("pk"))
    single, batch = [], None
    if not {"single", "batch"} <= SKIP:
        server = Server()
        try:
            server.wait_ready()
            print(f"fangkong serve on 127.0.0.1:{server.port}, {OPTIONS.workers} workers", flush=True)
            if "single" not in SKIP:
                single = run_single(server, token, people, gates, guard)
            if "batch" not in SKIP:
                batch = run_batch(server, token, people, gates[0], guard)
        finally:
            server.stop()
    tracing = run_tracing(street) if "tracing" not in SKIP else []
    report(single, batch, tracing)


if __name__ == "__main__":
    try:
        main()
    finally:
        POSTGRES.stop()
        shutil.rmtree(VAR_DIR, ignore_errors=True)
    sys.exit(1 if FAILURES else 0)
