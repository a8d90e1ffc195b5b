"""A site device catching up: a batch of registrations answered row by row (in one statement on PostgreSQL)."""

import datetime
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit, rawsql
from fangkong.core.bulk import insert_rows, update_rows
from fangkong.core.client_ids import clean_client_id
from fangkong.core.converters import is_id
from fangkong.core.errors import DomainError
from fangkong.people.codes import personal_code_reader
from fangkong.people.models import IdType, Person
from fangkong.testing.models import ResampleTask, Sample, SamplingSite, TestRound, Tube
from fangkong.testing.permissions import is_sampler_anywhere, require_sampling_staff
from fangkong.testing.scans import not_of_community, person_named, unknown_person
from fangkong.testing.services.sampling import clean_taken_at
from fangkong.testing.services.tubes import clean_barcode, moment, new_tube, require_site_of, tube_closed

BATCH_LIMIT = 2000


@dataclass
class _Row:
    """One row of a device's batch on its way through `samples_register`."""

    raw: dict
    client_id: uuid.UUID | None = None
    round: TestRound | None = None
    site: SamplingSite | None = None
    barcode: str = ""
    person_id: int | None = None
    household_id: int | None = None
    tube: Tube | None = None
    task_id: int | None = None
    taken_at: datetime.datetime | None = None
    status: str = ""
    message: str = ""

    @property
    def pending(self) -> bool:
        return not self.status

    def refuse(self, message: str) -> None:
        self.status, self.message = "refused", message

    def answer(self) -> dict:
        client_id = str(self.client_id) if self.client_id else str(self.raw.get("client_id") or "")
        return {"client_id": client_id, "status": self.status, "message": self.message}


def _parse_row(raw: dict, now: datetime.datetime) -> _Row:
    row = _Row(raw=raw)
    try:
        row.client_id = clean_client_id(raw.get("client_id"))
        row.barcode = clean_barcode(raw.get("tube"), field="tube")
        row.taken_at = clean_taken_at(raw.get("taken_at"), now)
    except DomainError as err:
        row.refuse(err.message)
    return row


def _mark_replays(rows: list[_Row]) -> None:
    """Rows whose client_id is stored already, or came earlier in the batch: duplicates, stored nothing."""
    known = set(Sample.objects.filter(client_id__one_of=[row.client_id for row in rows if row.pending])
                .order_by().values_list("client_id", flat=True))
    for row in rows:
        if row.pending and row.client_id in known:
            row.status, row.message = "duplicate", _("已登记过")
        elif row.pending:
            known.add(row.client_id)


def _int_or_none(value) -> int | None:
    return int(value) if is_id(value) else None


def _rounds_and_sites(actor, pairs: set) -> tuple[dict, dict, dict]:
    """The rounds (in scope) and sites (of their communities) a batch's (round_id, site_id) pairs name, and each
    pair's refusal, "" when allowed: checked once per pair, not once per row."""
    rounds = TestRound.objects.in_scope(actor).in_bulk([pk for pk, _site in pairs if pk])
    sites = SamplingSite.objects.filter(community_id__in={r.community_id for r in rounds.values()}).in_bulk(
        [pk for _round, pk in pairs if pk])
    on_team = set()
    if not is_sampler_anywhere(actor):
        on_team = set(SamplingSite.team.through.objects.filter(user_id=actor.pk, samplingsite_id__in=list(sites))
                      .values_list("samplingsite_id", flat=True))
    refusals = {pair: _round_and_site_refusal(actor, rounds.get(pair[0]), sites.get(pair[1]), on_team)
                for pair in pairs}
    return rounds, sites, refusals


def _attach_rounds_and_sites(actor, rows: list[_Row]) -> None:
    """Each row's round and site, or its refusal (`_rounds_and_sites`)."""
    named = {id(row): (_int_or_none(row.raw.get("round_id")), _int_or_none(row.raw.get("site_id")))
             for row in rows if row.pending}
    rounds, sites, refusals = _rounds_and_sites(actor, set(named.values()))
    for row in (row for row in rows if row.pending):
        round_id, site_id = named[id(row)]
        row.round, row.site = rounds.get(round_id), sites.get(site_id)
        if refusals[round_id, site_id]:
            row.refuse(refusals[round_id, site_id])


def _round_and_site_refusal(actor, round: TestRound | None, site: SamplingSite | None, on_team: set) -> str:
    if round is None:
        return _("round_id 不存在或不在您的管辖范围内")
    if site is None:
        return _("site_id 不存在或不属于本轮筛查的社区")
    if not is_sampler_anywhere(actor) and site.pk not in on_team:
        return _("您不在“%(site)s”的采样人员名单中") % {"site": site.name}
    try:
        require_site_of(round, site)
    except DomainError as err:
        return err.message
    return ""


def _person_key(row: _Row, read_code):
    """('pk', id) or ('id', number) naming the row's person, before any query."""
    kind, value, code_community = person_named(row.raw.get("person_id"), row.raw.get("code"),
                                                row.raw.get("id_number"), read_code)
    if code_community not in (None, row.round.community_id):
        raise not_of_community()
    return kind, value


def _attach_persons(rows: list[_Row]) -> None:
    keys, read_code = {}, personal_code_reader()
    for row in (row for row in rows if row.pending):
        try:
            keys[id(row)] = _person_key(row, read_code)
        except DomainError as err:
            row.refuse(err.message)
    pks = [value for kind, value in keys.values() if kind == "pk"]
    numbers = [value for kind, value in keys.values() if kind == "id"]
    wanted = Q(pk__one_of=pks) | Q(id_type=IdType.RESIDENT_ID, id_number__one_of=numbers)
    found = Person.objects.filter(wanted).values_list("pk", "id_number", "community_id", "household_id")
    by_key = {}
    for pk, number, community_id, household_id in found:
        by_key[("pk", pk)] = by_key[("id", number)] = (pk, community_id, household_id)
    for row in (row for row in rows if row.pending):
        person = by_key.get(keys[id(row)])
        if person is None or person[1] != row.round.community_id:
            row.refuse(unknown_person().message)
        else:
            row.person_id, _community, row.household_id = person


def _record_tube_events(actor, action: str, fields: list[str], tubes: list[Tube]) -> None:
    """One audit event per tube of a batch, under the tube's community so that community's staff see it."""
    by_community: dict[int, list[Tube]] = {}
    for tube in tubes:
        by_community.setdefault(tube.community_id, []).append(tube)
    for community_id, group in by_community.items():
        audit.record_many(actor=actor, action=action, object_type="tube", community_id=community_id,
                          objects=[(tube.pk, tube.barcode, fields) for tube in group])


def _open_batch_tubes(actor, rows: list[_Row], tubes: dict) -> None:
    """Open the batch's unknown barcodes at the round and site of their first row, and lock them."""
    new = {}
    for row in rows:
        if row.pending and row.barcode not in tubes and row.barcode not in new:
            new[row.barcode] = new_tube(actor, row.round, row.site, row.barcode)
    if not new:
        return
    Tube.objects.bulk_create(new.values(), ignore_conflicts=True)
    opened = list(Tube.objects.select_for_update(of=("self",)).filter(barcode__one_of=list(new)).order_by("barcode"))
    tubes.update((tube.barcode, tube) for tube in opened)
    _record_tube_events(actor, audit.Action.CREATE, ["barcode"], [
        tube for tube in opened if tube.opened_by_id == actor.pk and tube.opened_at == new[tube.barcode].opened_at])


def _attach_tubes(actor, rows: list[_Row]) -> None:
    barcodes = sorted({row.barcode for row in rows if row.pending})
    tubes = {tube.barcode: tube for tube in
             Tube.objects.select_for_update(of=("self",)).filter(barcode__one_of=barcodes).order_by("barcode")}
    _open_batch_tubes(actor, rows, tubes)
    for row in (row for row in rows if row.pending):
        tube = tubes[row.barcode]
        if tube.round_id != row.round.pk or tube.site_id != row.site.pk:
            row.refuse(_("条码 %(barcode)s 已于 %(when)s 在其他轮次或采样点开管使用") % {
                "barcode": tube.barcode, "when": moment(tube.opened_at)})
        else:
            row.tube = tube


def _first_samples(rows: list[_Row]) -> dict:
    pending = [row for row in rows if row.pending]
    firsts = (Sample.objects.filter(round_id__one_of={row.round.pk for row in pending},
                                    person_id__one_of={row.person_id for row in pending}, void=False, resample=False)
              .order_by().values_list("round_id", "person_id", "taken_at", "site__name"))
    return {(round_id, person_id): (taken_at, site) for round_id, person_id, taken_at, site in firsts}


def _open_tasks(rows: list[_Row]) -> dict:
    singles = [row for row in rows if row.pending and row.tube.pool_size == 1]
    if not singles:
        return {}
    tasks = ResampleTask.objects.filter(status=ResampleTask.Status.OPEN,
                                        round_id__one_of={row.round.pk for row in singles},
                                        person_id__one_of={row.person_id for row in singles})
    return {(round_id, person_id): pk for pk, round_id, person_id in tasks.values_list("pk", "round_id", "person_id")}


def _room_left(tube: Tube, room: dict) -> int:
    if tube.pk not in room:
        room[tube.pk] = tube.pool_size - tube.sample_count if tube.status == Tube.Status.OPEN else 0
    return room[tube.pk]


def _refuse_second_samples(rows: list[_Row]) -> None:
    """Room in the tube, then once per round and person, the batch included; an open 单管复核 task lets a
    single tube take them again."""
    firsts, tasks, seen, room = _first_samples(rows), _open_tasks(rows), set(), {}
    for row in (row for row in rows if row.pending):
        key = (row.round.pk, row.person_id)
        if _room_left(row.tube, room) <= 0:
            row.refuse(tube_closed(row.tube).message)
            continue
        if row.tube.pool_size == 1 and tasks.get(key):
            row.task_id = tasks.pop(key)
        elif key in firsts:
            taken_at, site = firsts[key]
            row.refuse(_("本轮已于 %(when)s 在%(site)s采样,不能重复采样") % {"when": moment(taken_at), "site": site})
            continue
        elif key in seen:
            row.refuse(_("同一批次中重复登记了此人"))
            continue
        seen.add(key)
        room[row.tube.pk] -= 1


_SAMPLE_COLUMNS = ("round_id", "tube_id", "community_id", "person_id", "household_id", "site_id", "sampler_id",
                   "taken_at", "door_to_door", "resample", "void", "client_id", "created_at")


def _sample_values(actor, row: _Row, now: datetime.datetime) -> tuple:
    return (row.round.pk, row.tube.pk, row.round.community_id, row.person_id, row.household_id, row.site.pk,
            actor.pk, row.taken_at, bool(row.raw.get("door_to_door")), row.task_id is not None, False, row.client_id,
            now)


def _insert_one_by_one(actor, rows: list[_Row], now: datetime.datetime) -> None:
    """The slow path after a concurrent writer took a client_id or a person: each row in its own savepoint."""
    for row in rows:
        try:
            with transaction.atomic():
                insert_rows(Sample, _SAMPLE_COLUMNS, [_sample_values(actor, row, now)])
        except IntegrityError:
            if Sample.objects.filter(client_id=row.client_id).exists():
                row.status, row.message = "duplicate", _("已登记过")
            else:
                row.refuse(_("本轮已采样,不能重复采样"))


def _insert_samples(actor, rows: list[_Row]) -> list[_Row]:
    """The batch's valid rows in one COPY (PostgreSQL) or one executemany; the rows stored."""
    pending, now = [row for row in rows if row.pending], timezone.now()
    try:
        with transaction.atomic():
            insert_rows(Sample, _SAMPLE_COLUMNS, [_sample_values(actor, row, now) for row in pending])
    except IntegrityError:
        _insert_one_by_one(actor, pending, now)
    for row in pending:
        if row.pending:
            row.status = "stored"
    return [row for row in pending if row.status == "stored"]


def _count_stored(actor, stored: list[_Row]) -> None:
    """Each tube's count and, at its pool size, its closing as of its last swab: two UPDATE … FROM VALUES."""
    tubes, last_taken = {}, {}
    for row in stored:
        tube = tubes.setdefault(row.tube.pk, row.tube)
        tube.sample_count += 1
        last_taken[tube.pk] = max(last_taken.get(tube.pk, row.taken_at), row.taken_at)
    closed = [tube for tube in tubes.values() if tube.sample_count >= tube.pool_size]
    for tube in closed:
        tube.status, tube.closed_at = Tube.Status.CLOSED, last_taken[tube.pk]
    update_rows(Tube, "id", ["sample_count"], [(tube.pk, tube.sample_count) for tube in tubes.values()
                                               if tube.status == Tube.Status.OPEN])
    update_rows(Tube, "id", ["sample_count", "status", "closed_at"],
                [(tube.pk, tube.sample_count, tube.status, tube.closed_at) for tube in closed])
    _record_tube_events(actor, audit.Action.UPDATE, ["status"], closed)


def _finish_tasks(stored: list[_Row]) -> None:
    done = {row.client_id: row.task_id for row in stored if row.task_id}
    if not done:
        return
    samples = Sample.objects.filter(client_id__one_of=list(done)).values_list("client_id", "pk")
    ResampleTask.objects.bulk_update([
        ResampleTask(pk=done[client_id], status=ResampleTask.Status.DONE, sample_id=pk, updated_at=timezone.now())
        for client_id, pk in samples], ["status", "sample", "updated_at"])


def _batch_statement() -> str:
    """Store a whole batch when every row is plainly allowed, and nothing otherwise: one statement.

    Each row must name a person of its round's community who has no sample in the round yet and appears
    once in the batch, a client_id never stored, and a pooled tube (single tubes, where 单管复核 goes, take
    the full path) of its round and site, open with room for all the batch's rows in it, or a barcode
    never used (opened at the round and site of its first row). Then the samples are stored, the tubes
    counted and closed at their pool size, and the tubes opened or closed audited. Answers whether all
    held, the samples stored, the tubes counted or opened, and the tubes the batch names.

    Persons, tubes and earlier samples are each looked up by a lateral subquery with LIMIT, which the
    planner keeps as one index probe per row: as joins, it read whole tables under PostgreSQL's default
    page costs (64-70 ms for a thousand rows against 27-31). The tubes are locked in barcode order, as
    the full path locks them, and new tubes and samples are inserted in barcode and person order, so two
    devices' batches wait for each other rather than deadlock.
    """
    return (f"WITH {_batch_rows_sql()}, {_batch_tubes_sql()}, {_batch_verdict_sql()}, {_batch_writes_sql()}"
            " SELECT (SELECT ok FROM verdict), (SELECT count(*) FROM stored), (SELECT count(*) FROM filled),"
            " (SELECT count(*) FROM tubes)")


def _batch_rows_sql() -> str:
    """`batch`, the arrays as numbered rows; `named`, each with its round's community and pool size and the
    person its id or ID number names in that community (NULL when none)."""
    r = {n: rawsql.column(TestRound, n) for n in ("id", "community", "pool_size")}
    p = {n: rawsql.column(Person, n) for n in ("id", "community", "household", "id_type", "id_number")}

    def person(condition: str) -> str:
        return (f"(SELECT {p['id']} AS id, {p['household']} AS household_id FROM {rawsql.table(Person)}"
                f" WHERE {condition} AND {p['community']} = r.{r['community']} LIMIT 1)")

    by_pk = person(f"{p['id']} = b.person_pk")
    by_number = person(f"b.person_pk IS NULL AND {p['id_type']} = %(id_type)s AND {p['id_number']} = b.id_number")
    return ("batch AS (SELECT * FROM unnest(%(client_ids)s::uuid[], %(rounds)s::bigint[], %(sites)s::bigint[],"
            " %(barcodes)s::text[], %(persons)s::bigint[], %(id_numbers)s::text[], %(taken_ats)s::timestamptz[],"
            " %(door_to_doors)s::boolean[]) WITH ORDINALITY"
            " AS b(client_id, round_id, site_id, barcode, person_pk, id_number, taken_at, door_to_door, n)),"
            f" named AS (SELECT b.*, r.{r['community']} AS community_id, r.{r['pool_size']} AS pool_size,"
            " COALESCE(by_pk.id, by_number.id) AS person_id,"
            " COALESCE(by_pk.household_id, by_number.household_id) AS household_id"
            f" FROM batch b JOIN {rawsql.table(TestRound)} r ON r.{r['id']} = b.round_id"
            f" LEFT JOIN LATERAL {by_pk} by_pk ON true"
            f" LEFT JOIN LATERAL {by_number} by_number ON true)")


def _batch_tubes_sql() -> str:
    """`locked`, the batch's tubes that exist, locked; `tubes`, those and the ones to open, each with the
    rows the batch adds to it and the last of their swab times."""
    t = {n: rawsql.column(Tube, n) for n in (
        "id", "barcode", "round", "site", "community", "pool_size", "sample_count", "status")}
    selected = ", ".join(f"t.{t[name]} AS {alias}" for name, alias in (
        ("id", "id"), ("barcode", "barcode"), ("round", "round_id"), ("site", "site_id"),
        ("community", "community_id"), ("pool_size", "pool_size"), ("sample_count", "sample_count"),
        ("status", "status")))
    return (f"locked AS (SELECT {selected} FROM unnest(%(tube_barcodes)s::text[]) wanted(barcode)"
            f" JOIN LATERAL (SELECT * FROM {rawsql.table(Tube)} WHERE {t['barcode']} = wanted.barcode LIMIT 1) t"
            f" ON true ORDER BY t.{t['barcode']} FOR UPDATE OF t),"
            " per_tube AS (SELECT barcode, count(*) AS added, max(taken_at) AS last_taken, min(n) AS first"
            " FROM named GROUP BY barcode),"
            " tubes AS (SELECT l.id, pt.barcode, l.round_id, l.site_id, l.community_id, l.pool_size, l.sample_count,"
            " l.status, pt.added, pt.last_taken FROM per_tube pt JOIN locked l ON l.barcode = pt.barcode"
            " UNION ALL SELECT NULL, pt.barcode, nm.round_id, nm.site_id, nm.community_id, nm.pool_size, 0,"
            " %(open)s, pt.added, pt.last_taken FROM per_tube pt JOIN named nm ON nm.n = pt.first"
            " WHERE NOT EXISTS (SELECT 1 FROM locked l WHERE l.barcode = pt.barcode))")


def _batch_verdict_sql() -> str:
    """`verdict`: whether every row is allowed (see `_batch_statement`)."""
    s = {n: rawsql.column(Sample, n) for n in ("client_id", "round", "person", "void", "resample")}
    sample = f"SELECT 1 AS one FROM {rawsql.table(Sample)} s WHERE"
    return ("checked AS (SELECT nm.person_id IS NOT NULL AND tb.round_id = nm.round_id AND tb.site_id = nm.site_id"
            " AND tb.status = %(open)s AND tb.pool_size > 1 AND tb.sample_count + tb.added <= tb.pool_size"
            " AND replay.one IS NULL AND earlier.one IS NULL AS allowed,"
            " count(*) OVER (PARTITION BY nm.round_id, nm.person_id) AS times,"
            " count(*) OVER (PARTITION BY nm.client_id) AS sent FROM named nm JOIN tubes tb ON tb.barcode = nm.barcode"
            f" LEFT JOIN LATERAL ({sample} s.{s['client_id']} = nm.client_id LIMIT 1) replay ON true"
            f" LEFT JOIN LATERAL ({sample} s.{s['round']} = nm.round_id AND s.{s['person']} = nm.person_id"
            f" AND s.{s['void']} = false AND s.{s['resample']} = false LIMIT 1) earlier ON true),"
            " verdict AS (SELECT count(*) = %(size)s AND bool_and(allowed AND times = 1 AND sent = 1) AS ok"
            " FROM checked)")


def _batch_writes_sql() -> str:
    """`opened` and `counted` tubes (together `filled`), `stored` samples and the audit events: each writes
    only when the verdict holds."""
    t = {n: rawsql.column(Tube, n) for n in (
        "id", "round", "community", "site", "barcode", "pool_size", "sample_count", "status", "result", "opened_by",
        "opened_at", "closed_at")}
    tube_table, full = rawsql.table(Tube), "added >= pool_size"
    opened_columns = ", ".join(t[n] for n in ("round", "community", "site", "barcode", "pool_size", "sample_count",
                                              "status", "result", "opened_by", "opened_at", "closed_at"))
    reached = f"t.{t['sample_count']} + tb.added >= t.{t['pool_size']}"
    returned = {"id": "id", "barcode": "barcode", "community": "community_id", "status": "status"}
    audited = {event: audit.insert_select_sql(event=event, object_id="CAST(tube.id AS text)",
                                              community="tube.community_id", object_repr="tube.barcode", source=source)
               for event, source in (("opened", "opened tube"),
                                     ("closed", "filled tube WHERE tube.status = %(closed)s"))}
    return (f"opened AS (INSERT INTO {tube_table} ({opened_columns})"
            " SELECT round_id, community_id, site_id, barcode, pool_size, added,"
            f" CASE WHEN {full} THEN %(closed)s ELSE %(open)s END, '', %(sampler)s, %(created_at)s,"
            f" CASE WHEN {full} THEN last_taken END FROM tubes WHERE id IS NULL AND (SELECT ok FROM verdict)"
            " ORDER BY barcode ON CONFLICT DO NOTHING"
            f" RETURNING {', '.join(f'{t[name]} AS {alias}' for name, alias in returned.items())}),"
            f" counted AS (UPDATE {tube_table} t SET {t['sample_count']} = t.{t['sample_count']} + tb.added,"
            f" {t['status']} = CASE WHEN {reached} THEN %(closed)s ELSE t.{t['status']} END,"
            f" {t['closed_at']} = CASE WHEN {reached} THEN tb.last_taken ELSE t.{t['closed_at']} END"
            f" FROM tubes tb WHERE t.{t['id']} = tb.id AND t.{t['id']} = ANY(ARRAY(SELECT id FROM locked))"
            " AND (SELECT ok FROM verdict)"
            f" RETURNING {', '.join(f't.{t[name]} AS {alias}' for name, alias in returned.items())}),"
            " filled AS (SELECT * FROM counted UNION ALL SELECT * FROM opened),"
            f" stored AS (INSERT INTO {rawsql.table(Sample)}"
            f" ({', '.join(rawsql.column(Sample, n) for n in _SAMPLE_COLUMNS)})"
            " SELECT nm.round_id, tube.id, nm.community_id, nm.person_id, nm.household_id, nm.site_id, %(sampler)s,"
            " nm.taken_at, nm.door_to_door, false, false, nm.client_id, %(created_at)s"
            " FROM named nm JOIN filled tube ON tube.barcode = nm.barcode ORDER BY nm.person_id RETURNING 1),"
            f" audited_opened AS ({audited['opened']}), audited_closed AS ({audited['closed']})")


def _batch_arrays(actor, rows: list[dict], now: datetime.datetime) -> dict | None:
    """The batch as `_batch_statement`'s arrays, or None when a row, a round or a site needs the full path to
    explain a refusal."""
    try:
        named = {(raw.get("round_id"), raw.get("site_id")) for raw in rows}
    except TypeError:
        return None
    pairs = {pair: (_int_or_none(pair[0]), _int_or_none(pair[1])) for pair in named}
    rounds, _sites, refusals = _rounds_and_sites(actor, set(pairs.values()))
    if any(refusals.values()):
        return None
    read_code, arrays = personal_code_reader(), {name: [] for name in (
        "client_ids", "rounds", "sites", "barcodes", "persons", "id_numbers", "taken_ats", "door_to_doors")}
    try:
        for raw in rows:
            round_id, site_id = pairs[raw.get("round_id"), raw.get("site_id")]
            kind, person, code_community = person_named(raw.get("person_id"), raw.get("code"), raw.get("id_number"),
                                                         read_code)
            if code_community not in (None, rounds[round_id].community_id):
                return None
            arrays["client_ids"].append(clean_client_id(raw.get("client_id")))
            arrays["rounds"].append(round_id)
            arrays["sites"].append(site_id)
            arrays["barcodes"].append(clean_barcode(raw.get("tube"), field="tube"))
            arrays["persons"].append(person if kind == "pk" else None)
            arrays["id_numbers"].append(person if kind == "id" else None)
            arrays["taken_ats"].append(clean_taken_at(raw.get("taken_at"), now))
            arrays["door_to_doors"].append(bool(raw.get("door_to_door")))
    except DomainError:
        return None
    return arrays


class _NotAtOnce(Exception):
    """The batch statement found everything allowed but could not store it all (a writer in between)."""


def _stored_at_once(actor, rows: list[dict], now: datetime.datetime) -> list[dict] | None:
    """The everyday batch of a device catching up, every row allowed, stored by `_batch_statement` on PostgreSQL:
    each row's answer "stored". None, having stored nothing, when any row needs the full path (a replay, a
    refusal, a race with another writer) or the database is SQLite."""
    if connection.vendor != "postgresql" or not rows:
        return None
    arrays = _batch_arrays(actor, rows, now)
    if arrays is None:
        return None
    params = {**arrays, "tube_barcodes": list(dict.fromkeys(arrays["barcodes"])), "size": len(rows),
              "id_type": IdType.RESIDENT_ID, "open": Tube.Status.OPEN,
              "closed": Tube.Status.CLOSED, "sampler": actor.pk, "created_at": now,
              **audit.insert_select_params(actor=actor, object_type="tube", object_repr="", events={
                  "opened": (audit.Action.CREATE, ["barcode"]), "closed": (audit.Action.UPDATE, ["status"])})}
    try:
        with transaction.atomic():
            ok, stored, filled, tubes = rawsql.fetch_one(_batch_statement(), params)
            if ok and (stored, filled) != (len(rows), tubes):
                raise _NotAtOnce
    except (_NotAtOnce, IntegrityError):
        return None
    if not ok:
        return None
    return [{"client_id": str(client_id), "status": "stored", "message": ""} for client_id in arrays["client_ids"]]


def samples_register(*, actor, rows: list[dict]) -> list[dict]:
    """A site device catching up: each row answered stored / duplicate / refused; a replay stores nothing twice.

    Rows carry client_id, round_id, site_id, tube (barcode), code | id_number | person_id, taken_at,
    door_to_door. On PostgreSQL a batch whose every row is plainly allowed is stored by one statement
    (`_stored_at_once`). Otherwise, row by row: persons, stored client ids and earlier samples are read in
    bulk, unknown tubes are opened, the batch's tubes are locked, and the valid rows are inserted at once.
    """
    require_sampling_staff(actor)
    if len(rows) > BATCH_LIMIT:
        raise DomainError(_("每批最多 %(n)s 条") % {"n": BATCH_LIMIT}, code="batch_too_large")
    now = timezone.now()
    at_once = _stored_at_once(actor, rows, now)
    if at_once is not None:
        return at_once
    batch = [_parse_row(raw, now) for raw in rows]
    _mark_replays(batch)
    _attach_rounds_and_sites(actor, batch)
    _attach_persons(batch)
    with transaction.atomic():
        _attach_tubes(actor, batch)
        _refuse_second_samples(batch)
        stored = _insert_samples(actor, batch)
        _count_stored(actor, stored)
        _finish_tasks(stored)
    return [row.answer() for row in batch]
