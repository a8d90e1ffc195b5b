"""The facts a passage is decided on, read in bulk: one scan at a gate, or ten thousand a scanner synced.

Who the code names (in the checkpoint's community), the zones around their home, a medical
exception of the day, their passes with the exits already counted in each scan's quota period, and
a recent negative test where the gate asks one. Every lookup takes the whole batch at once, so a
batch costs a handful of queries whatever its size. `rules.decide` then decides each scan.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from fangkong.access.codes import Scanned
from fangkong.access.models import Checkpoint, Direction, Pass, Passage, Reason, Result
from fangkong.access.rules import GateRules, PassFacts, ScanFacts, quota_period
from fangkong.people.models import IdType, Person
from fangkong.places.models import Household
from fangkong.testing.models import Result as TestResult
from fangkong.testing.models import Sample
from fangkong.zones.models import LEVEL_RANK, MedicalException, Movement, Zone


@dataclass
class Visitor:
    name: str
    phone: str = ""
    id_number: str = ""
    reason: str = ""


@dataclass(frozen=True)
class GateRef:
    """A gate as the everyday scan names it, without its row: its id and community."""

    pk: int
    community_id: int


@dataclass
class Scan:
    """One passage on its way to a decision. `scanned` is None for a visitor; who it names is filled by `resolve`."""

    checkpoint: Checkpoint | GateRef
    direction: str
    at: datetime.datetime
    temperature: Decimal | None = None
    scanned: Scanned | None = None
    visitor: Visitor | None = None
    person_id: int | None = None
    household_id: int | None = None
    person_name: str = ""
    shown_pass_id: int | None = None
    problem: str = ""

    @property
    def needs_pass(self) -> bool:
        """Whether the decision may count an exit against a pass: the rows to lock first."""
        return (self.direction == Direction.OUT and not self.problem and self.visitor is None
                and (self.checkpoint.pass_required or self.shown_pass_id is not None))


def _resolve_passes(scans: list[Scan]) -> None:
    shown = {scan.scanned.pass_id for scan in scans
             if scan.scanned and scan.scanned.kind == "pass" and not scan.problem}
    found = {p.pk: p for p in Pass.objects.filter(pk__one_of=list(shown)).select_related("person")} if shown else {}
    for scan in scans:
        if not scan.scanned or scan.scanned.kind != "pass" or scan.problem:
            continue
        pass_ = found.get(scan.scanned.pass_id)
        if pass_ is None:
            scan.problem = Reason.CODE_FORGED
            continue
        scan.shown_pass_id, scan.household_id = pass_.pk, pass_.household_id
        if pass_.person is not None:
            scan.person_id, scan.person_name = pass_.person_id, pass_.person.name
            scan.household_id = pass_.person.household_id or pass_.household_id


def _resolve_persons(scans: list[Scan]) -> None:
    named = [scan for scan in scans
             if scan.scanned and scan.scanned.kind in ("person", "id_number") and not scan.problem]
    pks = [scan.scanned.person_id for scan in named if scan.scanned.kind == "person"]
    numbers = [scan.scanned.id_number for scan in named if scan.scanned.kind == "id_number"]
    if not named:
        return
    rows = Person.objects.filter(
        Q(pk__one_of=pks) | Q(id_type=IdType.RESIDENT_ID, id_number__one_of=numbers)).values_list(
        "pk", "id_number", "community_id", "household_id", "name")
    by_pk, by_number = {}, {}
    for row in rows:
        by_pk[row[0]] = by_number[row[1]] = row
    for scan in named:
        key = scan.scanned.person_id if scan.scanned.kind == "person" else scan.scanned.id_number
        row = (by_pk if scan.scanned.kind == "person" else by_number).get(key)
        if row is None or row[2] != scan.checkpoint.community_id:
            scan.problem = Reason.UNKNOWN_PERSON
            continue
        scan.person_id, scan.household_id, scan.person_name = row[0], row[3], row[4]


def _check_communities(scans: list[Scan]) -> None:
    for scan in scans:
        scanned = scan.scanned
        if scanned is None or scan.problem:
            continue
        if scanned.problem:
            scan.problem = scanned.problem
        elif scanned.community_id is not None and scanned.community_id != scan.checkpoint.community_id:
            scan.problem = Reason.CODE_ELSEWHERE


def resolve(scans: list[Scan]) -> None:
    """Who each scan names: the person and household, or the problem of its code."""
    _check_communities(scans)
    _resolve_passes(scans)
    _resolve_persons(scans)


def movements(household_ids: set[int]) -> dict[int, str]:
    """Each household's movement status: the level of the strictest active zone around it (as
    `zones.queries.movement_of_person` decides for one person), for many households in two queries.

    A zone is stored down to its own level, so the zones around a household are the ones keyed by its
    compound, its building, its unit or itself: four lookups per household, whatever the number of zones.
    """
    if not household_ids:
        return {}
    households = list(Household.objects.filter(pk__one_of=list(household_ids)).order_by().values_list(
        "pk", "compound_id", "building_id", "unit_id"))
    zones = (Zone.objects.active().filter(compound_id__one_of=list({h[1] for h in households})).order_by()
             .values_list("compound_id", "building_id", "unit_id", "household_id", "level"))
    strictest: dict[tuple, str] = {}
    for *place, level in zones:
        key = tuple(place)
        if LEVEL_RANK[level] > LEVEL_RANK.get(strictest.get(key), 0):
            strictest[key] = level
    status = {}
    for pk, compound, building, unit in households:
        around = [strictest.get(key) for key in ((compound, None, None, None), (compound, building, None, None),
                                                  (compound, building, unit, None), (compound, building, unit, pk))]
        levels = [level for level in around if level]
        status[pk] = max(levels, key=LEVEL_RANK.get) if levels else Movement.FREE
    return status


def _local_day(moment: datetime.datetime) -> datetime.date:
    return timezone.localdate(moment)


def _strict(status: dict[int, str], scan: Scan) -> bool:
    """Going out from a sealed or controlled zone: where a medical exception or a medical pass decides."""
    return (scan.direction == Direction.OUT and scan.visitor is None and not scan.problem
            and status.get(scan.household_id) in (Movement.SEALED, Movement.CONTROLLED))


def _medical_exceptions(scans: list[Scan]) -> set[tuple[int, datetime.date]]:
    wanted = [scan for scan in scans if scan.person_id]
    if not wanted:
        return set()
    rows = MedicalException.objects.filter(person_id__one_of=[scan.person_id for scan in wanted],
                                           valid_on__in={_local_day(scan.at) for scan in wanted})
    return set(rows.values_list("person_id", "valid_on"))


def _candidate_passes(shown: set[int], wanting: list[Scan], medical: list[Scan], lock: bool) -> list[Pass]:
    """The passes shown; the unrevoked ones of each person and household of `wanting` (exits that need a pass);
    the medical passes of `medical`. Locked in id order when `lock` (inside the caller's transaction)."""
    condition = Q(pk__one_of=list(shown)) if shown else Q(pk__in=[])
    if wanting:
        persons = [scan.person_id for scan in wanting if scan.person_id]
        households = [scan.household_id for scan in wanting if scan.household_id]
        condition |= Q(revoked_at__isnull=True, valid_until__gt=min(scan.at for scan in wanting)) & (
            Q(person_id__one_of=persons) | Q(household_id__one_of=households, person__isnull=True))
    if medical:
        condition |= Q(kind=Pass.Kind.MEDICAL, revoked_at__isnull=True,
                       person_id__one_of=[scan.person_id for scan in medical])
    rows = Pass.objects.filter(condition).order_by("pk")
    return list(rows.select_for_update() if lock else rows)


def _exits_counted(passes: list[Pass], scans: list[Scan]) -> dict[int, list[datetime.datetime]]:
    """The allowed exits already stored through each pass with a quota, from the earliest period a scan falls in."""
    quota = [p for p in passes if p.has_quota]
    if not quota or not scans:
        return {}
    starts = [quota_period(p.valid_from, p.quota_days, scan.at)[0] for p in quota for scan in scans]
    rows = (Passage.objects.filter(used_pass_id__one_of=[p.pk for p in quota], occurred_at__gte=min(starts),
                                   direction=Direction.OUT, result=Result.ALLOWED)
            .order_by().values_list("used_pass_id", "occurred_at"))
    counted: dict[int, list] = {}
    for pass_id, at in rows:
        counted.setdefault(pass_id, []).append(at)
    return counted


def pass_facts(pass_: Pass, at: datetime.datetime, exits: list[datetime.datetime]) -> PassFacts:
    used = 0
    if pass_.has_quota:
        begins, ends = quota_period(pass_.valid_from, pass_.quota_days, at)
        used = sum(1 for moment in exits if begins <= moment < ends)
    return PassFacts(pk=pass_.pk, kind=pass_.kind, valid_from=pass_.valid_from, valid_until=pass_.valid_until,
                     revoked=pass_.revoked_at is not None, quota_exits=pass_.quota_exits, quota_days=pass_.quota_days,
                     used=used)


def _tested(scans: list[Scan]) -> set[int]:
    """The scans (by id()) whose person's latest resulted sample within the gate's hours before it is negative."""
    wanting = [scan for scan in scans if scan.person_id and scan.direction == Direction.OUT
               and scan.checkpoint.test_within_hours]
    if not wanting:
        return set()
    since = min(scan.at - datetime.timedelta(hours=scan.checkpoint.test_within_hours) for scan in wanting)
    samples = (Sample.objects.filter(person_id__one_of=[scan.person_id for scan in wanting], void=False,
                                     taken_at__gte=since).exclude(tube__result="")
               .order_by().values_list("person_id", "taken_at", "tube__result"))
    by_person: dict[int, list] = {}
    for person_id, taken_at, result in samples:
        by_person.setdefault(person_id, []).append((taken_at, result))
    tested = set()
    for scan in wanting:
        window = scan.at - datetime.timedelta(hours=scan.checkpoint.test_within_hours)
        taken = sorted(s for s in by_person.get(scan.person_id, []) if window <= s[0] <= scan.at)
        if taken and taken[-1][1] == TestResult.NEGATIVE:
            tested.add(id(scan))
    return tested


class Gathered:
    """The facts of a batch of resolved scans. `facts(scan)` for each in turn; `count_exit` after an allowed exit
    through a pass with a quota, so a later scan of the same batch sees it used."""

    def __init__(self, scans: list[Scan], *, lock: bool = False):
        live = [scan for scan in scans if not scan.problem]
        self.status = movements({scan.household_id for scan in live if scan.household_id})
        strict = [scan for scan in live if _strict(self.status, scan)]
        wanting = [scan for scan in live if scan.needs_pass]
        shown = {scan.shown_pass_id for scan in live if scan.shown_pass_id}
        self.exceptions = _medical_exceptions(strict)
        self.passes = _candidate_passes(shown, wanting, strict, lock) if (shown or wanting or strict) else []
        self.counted = _exits_counted(self.passes, wanting)
        self.tested = _tested(live)
        self.gates: dict[int, GateRules] = {}

    def passes_of(self, scan: Scan) -> list[Pass]:
        if scan.shown_pass_id:
            return [p for p in self.passes if p.pk == scan.shown_pass_id]
        if not scan.needs_pass:
            return [p for p in self.passes if p.kind == Pass.Kind.MEDICAL and p.person_id == scan.person_id]
        return [p for p in self.passes if p.revoked_at is None and (
            (scan.person_id and p.person_id == scan.person_id)
            or (scan.household_id and p.person_id is None and p.household_id == scan.household_id))]

    def _gate(self, checkpoint: Checkpoint) -> GateRules:
        if checkpoint.pk not in self.gates:
            self.gates[checkpoint.pk] = GateRules.of(checkpoint)
        return self.gates[checkpoint.pk]

    def facts(self, scan: Scan) -> ScanFacts:
        own = self.passes_of(scan) if not scan.problem else []
        return ScanFacts(
            gate=self._gate(scan.checkpoint), direction=scan.direction, at=scan.at, temperature=scan.temperature,
            visitor=scan.visitor is not None, code_problem=scan.problem,
            movement=self.status.get(scan.household_id, Movement.FREE),
            medical_exception=(scan.person_id, _local_day(scan.at)) in self.exceptions,
            passes=tuple(pass_facts(p, scan.at, self.counted.get(p.pk, [])) for p in own),
            pass_shown=scan.shown_pass_id is not None, tested_negative=id(scan) in self.tested)

    def count_exit(self, pass_id: int, at: datetime.datetime) -> None:
        self.counted.setdefault(pass_id, []).append(at)


# ---------------------------------------------------------------------------
# A gate's rules, remembered per process for the everyday scan
# ---------------------------------------------------------------------------

_GATES: dict[int, tuple] = {}


def remembered_gate(checkpoint_id: int) -> tuple[GateRules, int, datetime.datetime] | None:
    """The gate's rules, community and version (its updated_at), read once per process and kept.

    For `services.passage_register_at_once`, whose one statement stores a scan only while the gate's row is
    still at that version: a gate changed in the meantime makes it store nothing, and the full path decides.
    """
    remembered = _GATES.get(checkpoint_id)
    if remembered is None:
        gate = Checkpoint.objects.filter(pk=checkpoint_id).first()
        if gate is None:
            return None
        remembered = _GATES[checkpoint_id] = (GateRules.of(gate), gate.community_id, gate.updated_at)
    return remembered


def forget_gate(checkpoint_id: int) -> None:
    _GATES.pop(checkpoint_id, None)
