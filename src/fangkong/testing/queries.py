"""Scoped reads of mass testing: rounds, sites, tubes, samples, results, re-sampling tasks, coverage and figures."""

import datetime
import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from functools import cache

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q
from django.db.models.functions import TruncHour
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import Role, User
from fangkong.accounts.scope import community_in_scope_sql
from fangkong.core import rawsql
from fangkong.core.errors import DomainError
from fangkong.core.scope import get_in_scope, scope_of
from fangkong.health.models import Case
from fangkong.people.models import IdType, Person, PersonTag
from fangkong.people.queries import persons_for
from fangkong.places.models import Building, Grid, Household, Unit
from fangkong.places.queries import communities_for, get_building_for, get_household_for
from fangkong.testing.models import (
    AntigenReport,
    LabResult,
    ResampleTask,
    Result,
    ResultImport,
    RoundExemption,
    Sample,
    SamplingSite,
    TestRound,
    Tube,
    normalize_barcode,
)
from fangkong.testing.permissions import require_sampling_staff
from fangkong.testing.scans import not_of_community, person_named, unknown_person
from fangkong.zones.models import Zone
from fangkong.zones.places import covering_place, households_in
from fangkong.zones.queries import zones_for

# ---------------------------------------------------------------------------
# Rounds, sites and exemptions
# ---------------------------------------------------------------------------


def _months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` earlier (the month's last day when it is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def round_people(round: TestRound):
    """Everyone the round covers before any exemption: the households of its community, its grids or its zone,
    and for a key-groups round only the people carrying one of its tags. Not actor-scoped."""
    rows = Person.objects.filter(household__community_id=round.community_id)
    grid_ids = list(round.grids.values_list("id", flat=True))
    if grid_ids:
        rows = rows.filter(household__grid_id__in=grid_ids)
    if round.kind == TestRound.Kind.ZONE and round.zone_id:
        rows = rows.filter(household__in=households_in(round.zone))
    if round.kind == TestRound.Kind.KEY_GROUPS:
        tagged = PersonTag.objects.filter(tag__in=round.key_tags or []).values("person_id")
        rows = rows.filter(id__in=tagged)
    return rows


_HOSPITAL_STATUSES = (Case.Status.IN_HOSPITAL, Case.Status.IN_CENTRAL_QUARANTINE)


def _case_statuses(round: TestRound) -> list[str]:
    """The open case statuses that leave a person out of the round: every open case when the round exempts
    positives, the ones in hospital or central quarantine when it exempts people in hospital."""
    if round.exempt_positive:
        return list(Case.OPEN_STATUSES)
    return list(_HOSPITAL_STATUSES) if round.exempt_in_hospital else []


def _infant_cutoff(round: TestRound) -> datetime.date | None:
    """People born after this day are too young to be sampled in the round; None when nobody is."""
    return _months_before(round.on, round.infant_months) if round.infant_months else None


def expected_people(round: TestRound):
    """The people the round expects to sample: its people minus exemptions by hand, infants younger than
    `infant_months` on the round's day, and people with an open case (positive, or in hospital) by its flags.
    Not actor-scoped: callers scope."""
    rows = round_people(round).exclude(id__in=RoundExemption.objects.filter(round=round).values("person_id"))
    cutoff = _infant_cutoff(round)
    if cutoff is not None:
        rows = rows.exclude(birth_date__gt=cutoff)
    statuses = _case_statuses(round)
    if statuses:
        rows = rows.exclude(id__in=Case.objects.filter(status__in=statuses).values("person_id"))
    return rows


def exemption_reasons(round: TestRound, people=None) -> dict[int, str]:
    """Why each of the round's people (or of `people`, a queryset of them) is left out: person id →
    RoundExemption.Reason. People not in the result are expected."""
    rows = round_people(round) if people is None else people
    reasons: dict[int, str] = {}
    statuses = _case_statuses(round)
    if statuses:
        cases = Case.objects.filter(status__in=statuses, person__in=rows).values_list("person_id", "status")
        for person_id, status in cases:
            in_hospital = round.exempt_in_hospital and status in _HOSPITAL_STATUSES
            reasons[person_id] = RoundExemption.Reason.IN_HOSPITAL if in_hospital else RoundExemption.Reason.POSITIVE
    cutoff = _infant_cutoff(round)
    if cutoff is not None:
        for person_id in rows.filter(birth_date__gt=cutoff).values_list("id", flat=True):
            reasons[person_id] = RoundExemption.Reason.INFANT
    exemptions = RoundExemption.objects.filter(round=round, person__in=rows).values_list("person_id", "reason")
    for person_id, reason in exemptions:
        reasons[person_id] = reason
    return reasons


_ZONE_PLACES = ("zone__compound", "zone__building", "zone__unit__building", "zone__household__unit__building")


def rounds_for(actor, *, status=""):
    """The rounds in scope, with what a list shows of them: community, grids and the zone's place by name."""
    return TestRound.objects.in_scope(actor).select_related("community", "created_by", *_ZONE_PLACES) \
        .prefetch_related("grids").narrowed(status=status)


def get_round_for(actor, pk) -> TestRound:
    return get_in_scope(rounds_for(actor), pk)


def exemptions_of(actor, round: TestRound):
    """The round's exemptions by hand that the actor sees, with the person's address."""
    return RoundExemption.objects.in_scope(actor).filter(round=round).select_related(
        "person__household__unit__building", "recorded_by").order_by("person__household_id", "id")


def get_exemption_for(actor, pk, *, round: TestRound) -> RoundExemption:
    return get_in_scope(exemptions_of(actor, round), pk)


def sites_for(actor, *, include_inactive=True):
    rows = SamplingSite.objects.in_scope(actor).select_related("community").prefetch_related("team")
    return rows if include_inactive else rows.filter(active=True)


def get_site_for(actor, pk) -> SamplingSite:
    return get_in_scope(sites_for(actor), pk)


def team_candidates_for(actor, community=None):
    """Staff whose own scope reaches the community (or any community the actor sees): the people a site's
    team is picked from."""
    communities = communities_for(actor)
    if community is not None:
        communities = communities.filter(pk=community.pk)
    reach = (Q(scope_communities__in=communities) | Q(scope_grids__community__in=communities)
             | Q(scope_street__communities__in=communities))
    staff = User.objects.filter(reach, is_active=True).exclude(role__in=["", Role.RESIDENT]).values("pk")
    return User.objects.filter(pk__in=staff).order_by("role", "username")


def get_team_candidate_for(actor, pk):
    return get_in_scope(team_candidates_for(actor), pk)


def zones_for_rounds(actor, community=None):
    """The live zones a round or a door-to-door roster may be drawn from."""
    return zones_for(actor).filter(status__in=[Zone.Status.PROPOSED, Zone.Status.ACTIVE]).narrowed(
        community=community)


def find_round_person(round: TestRound, found):
    """The one person of the round among `found`, the registry search's answer (people.services.person_search,
    which audits a search by a whole ID or phone number); a clear error when nobody or several people match."""
    matches = list(found.filter(id__in=round_people(round).values("id"))[:2])
    if not matches:
        message = _("本轮筛查范围内没有找到此人")
        raise DomainError(message, fields={"who": message})
    if len(matches) > 1:
        message = _("找到多人,请输入完整证件号码")
        raise DomainError(message, fields={"who": message})
    return matches[0]


def household_card_for(actor, pk):
    """A household and its members, for the printable card of personal codes (404 outside scope)."""
    household = get_household_for(actor, pk)
    return household, list(persons_for(actor).filter(household=household).order_by("id"))


# ---------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------

def get_sampling_round_for(actor, pk) -> TestRound:
    """The round a sampler registers into: one plain query (the registration path stays lean)."""
    return get_in_scope(TestRound.objects.in_scope(actor), pk)


@cache
def registration_facts_sql(by: str) -> str:
    """The round, community, pool size and person a device's registration names, as one row only when the
    registration is plainly allowed: an open round the actor's scope holds whole, an active site of its
    community, a person of that community (by "id" or by ID number), and a personal code of that community.

    Not run alone: `services.sample_register_at_once` builds its one statement on it. Parameters: round, site,
    person, id_type, code_community (None when no personal code was read), open_round and `staff_scope_params`.
    """
    r = {n: rawsql.column(TestRound, n) for n in ("id", "community", "status", "pool_size")}
    s = {n: rawsql.column(SamplingSite, n) for n in ("id", "community", "active")}
    p = {n: rawsql.column(Person, n) for n in ("id", "community", "household", "name", "id_type", "id_number")}
    community = f"r.{r['community']}"
    named = (f"p.{p['id']} = %(person)s" if by == "id"
             else f"p.{p['id_type']} = %(id_type)s AND p.{p['id_number']} = %(person)s")
    return (f"SELECT r.{r['id']} AS round_id, {community} AS community_id, r.{r['pool_size']} AS pool_size,"
            f" p.{p['id']} AS person_id, p.{p['household']} AS household_id, p.{p['name']} AS person_name"
            f" FROM {rawsql.table(TestRound)} r"
            f" JOIN {rawsql.table(SamplingSite)} s ON s.{s['id']} = %(site)s AND s.{s['community']} = {community}"
            f" AND s.{s['active']}"
            f" JOIN {rawsql.table(Person)} p ON {named} AND p.{p['community']} = {community}"
            f" WHERE r.{r['id']} = %(round)s AND r.{r['status']} = %(open_round)s"
            f" AND {community} = COALESCE(%(code_community)s, {community})"
            f" AND {community_in_scope_sql(community)}")


def get_round_site_for(round: TestRound, pk) -> SamplingSite:
    """A site of the round's community: whoever sees the round sees its community's sites."""
    return get_in_scope(SamplingSite.objects.filter(community_id=round.community_id), pk)


def get_round_person(round: TestRound, pk) -> Person:
    """Someone of the round's community, picked from a household roster or named by id."""
    return get_in_scope(Person.objects.filter(community_id=round.community_id), pk)


def person_for_scan(actor, round: TestRound, text: str) -> Person:
    """Who a scanned personal code or a typed ID number names, among the people of the round's community.

    A sampler on a site's team samples anyone of the community, whatever grid the account covers.
    """
    require_sampling_staff(actor)
    kind, value, code_community = person_named(None, text, "")
    if code_community not in (None, round.community_id):
        raise not_of_community()
    named = {"pk": value} if kind == "pk" else {"id_type": IdType.RESIDENT_ID, "id_number": value}
    person = Person.objects.filter(community_id=round.community_id, **named).first()
    if person is None:
        raise unknown_person()
    return person


def round_sites(round: TestRound):
    return SamplingSite.objects.filter(community_id=round.community_id, active=True).order_by("kind", "name")


def tubes_for(actor):
    """The tubes of the actor's communities, and those of the sites whose team the actor is on: a grid account on
    a site's team samples anyone of the community, so it works with the tubes it opens there."""
    on_team = Tube.objects.filter(site__in=SamplingSite.objects.filter(team=actor).values("pk"),
                                  round__in=TestRound.objects.in_scope(actor).values("pk"))
    return (Tube.objects.in_scope(actor) | on_team).select_related("round", "site", "opened_by")


def get_tube_for(actor, pk) -> Tube:
    return get_in_scope(tubes_for(actor), pk)


def tube_samples(tube: Tube):
    """The people in a tube, in the order they were swabbed."""
    return tube.samples.select_related("person", "sampler").order_by("id")


def open_tubes_at(actor, round: TestRound, site: SamplingSite):
    """Tubes still open at a site, newest first: a sampler coming back to the page picks one up again."""
    return tubes_for(actor).filter(round=round, site=site, status=Tube.Status.OPEN).order_by("-opened_at")[:5]


def roster_households(round: TestRound, site: SamplingSite | None, room: str, *, limit: int = 12) -> list:
    """Households matching a room number (a door-to-door team's roster first), each with who is sampled."""
    households = Household.objects.filter(community_id=round.community_id).select_related("building", "unit")
    if site is not None and site.kind == SamplingSite.Kind.DOOR_TO_DOOR and site.roster.exists():
        households = households.filter(pk__in=site.roster.values("pk"))
    room = room.strip()
    if room:
        households = households.filter(room__startswith=room)
    households = list(households.order_by("building__number", "unit__number", "room")[:limit])
    members = Person.objects.filter(household__in=households).order_by("household_id", "id")
    sampled = set(Sample.objects.filter(round=round, void=False, person__household__in=households)
                  .values_list("person_id", flat=True))
    by_household = {}
    for person in members:
        person.sampled = person.pk in sampled
        by_household.setdefault(person.household_id, []).append(person)
    for household in households:
        household.roster = by_household.get(household.pk, [])
    return households


# ---------------------------------------------------------------------------
# Lab results and positive tubes
# ---------------------------------------------------------------------------


def result_imports_for(actor):
    """The imports without their kept files (a running one's page polls every two seconds)."""
    return ResultImport.objects.in_scope(actor).select_related("community", "actor").defer("upload")


def get_result_import_for(actor, pk) -> ResultImport:
    return get_in_scope(result_imports_for(actor), pk)


def positive_tubes_of_import(result_import: ResultImport, *, limit: int = 100) -> list[Tube]:
    """The tubes this import found positive, with their people, tasks and live zones on their households."""
    tubes = list(Tube.objects.filter(results__source=result_import, results__result=Result.POSITIVE)
                 .select_related("round").order_by("barcode")[:limit])
    for tube in tubes:
        tube.tasks = list(tube.resample_tasks.select_related(
            "person", "household__building", "household__unit", "household__compound", "grid").order_by("id"))
        tube.people = [sample.person for sample in tube.samples.filter(void=False).select_related("person")]
        households = {task.household_id: task.household for task in tube.tasks if task.household_id}
        tube.zones = sorted({zone for household in households.values()
                             for zone in Zone.objects.live().filter(covering_place(household))},
                            key=lambda zone: zone.pk)
    return tubes


def lab_tube_for(actor, barcode: str) -> Tube:
    """A tube by its barcode as a lab writes it ('a0001 ' is A0001); 404 when it is not one of the actor's."""
    return get_object_or_404(Tube.objects.in_scope(actor).select_related("round", "site"),
                             barcode=normalize_barcode(barcode))


def results_of_tube(tube: Tube):
    """Every result of the tube, oldest first; the current one is the latest nothing replaces."""
    return (LabResult.objects.filter(tube=tube).select_related("recorded_by", "source", "replaced_by")
            .order_by("created_at", "id"))


def get_lab_result_for(actor, pk) -> LabResult:
    return get_in_scope(LabResult.objects.in_scope(actor).select_related("tube"), pk)


def resample_tasks_for(actor, *, status=ResampleTask.Status.OPEN, grid=None, round=None):
    """Re-sampling tasks (单管复核): the actor's own grids first, then by grid, building, unit and room."""
    rows = (ResampleTask.objects.in_scope(actor).narrowed(status=status, grid=grid, round=round)
            .select_related("person", "household__building", "household__unit", "household__compound", "grid",
                            "tube", "round"))
    order = ["grid__name", "household__building__number", "household__unit__number", "household__room", "id"]
    mine = scope_of(actor).grid_ids
    if mine:
        rows = rows.annotate(mine=ExpressionWrapper(Q(grid_id__in=mine), output_field=BooleanField()))
        order.insert(0, "-mine")
    return rows.order_by(*order)


def resample_alert_count(actor) -> int:
    """Open re-sampling tasks the actor should see to: for a grid member, those of their grids."""
    return ResampleTask.objects.in_scope(actor).filter(status=ResampleTask.Status.OPEN).count()


# ---------------------------------------------------------------------------
# Coverage and figures
# ---------------------------------------------------------------------------


@dataclass
class CoverageRow:
    """Expected and sampled people of one grid, building or unit of a round; `children` one level down."""

    id: int | None
    name: str
    expected: int = 0
    sampled: int = 0
    order: tuple = ()
    children: list["CoverageRow"] = field(default_factory=list)

    def sort(self) -> None:
        """Children in walking order, all the way down."""
        self.children.sort(key=lambda row: (row.order, row.id or 0))
        for child in self.children:
            child.sort()

    @property
    def untested(self) -> int:
        return self.expected - self.sampled

    @property
    def percent(self) -> int:
        """Sampled share of the expected, rounded down so 99.6 % never reads as done."""
        return self.sampled * 100 // self.expected if self.expected else 100


@dataclass
class Coverage:
    """A round's coverage as the actor sees it: totals, grid → building → unit, and antigen self-tests."""

    total: CoverageRow
    grids: list[CoverageRow]
    antigen: dict[str, int]
    left_out: dict[str, int]

    @property
    def left_out_labelled(self) -> list[tuple[str, int]]:
        return [(RoundExemption.Reason(reason).label, count) for reason, count in self.left_out.items()]

    @property
    def antigen_total(self) -> int:
        return sum(self.antigen.values())


def _natural(text: str) -> tuple:
    """'3' before '10', numbers before names: the order one walks buildings, units and rooms."""
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def _sampled(round: TestRound):
    """Whether the outer person has a sample in the round that counts: voided samples (invalid tube) do not."""
    return Exists(Sample.objects.filter(round_id=round.pk, person_id=OuterRef("pk"), void=False))


def coverage_people(actor, round: TestRound):
    """The round's expected people the actor sees, each annotated `is_sampled`."""
    return expected_people(round).in_scope(actor).annotate(is_sampled=_sampled(round))


def _place_names(counts: list[dict]) -> tuple[dict, dict, dict]:
    """Name and walking order of the grids, buildings and units in the grouped counts: three queries."""
    grid_ids = {row["household__grid_id"] for row in counts}
    building_ids = {row["household__building_id"] for row in counts}
    unit_ids = {row["household__unit_id"] for row in counts}
    grids = {grid.pk: (grid.name, (grid.name,)) for grid in Grid.objects.filter(pk__in=grid_ids)}
    buildings = {building.pk: (f"{building.compound.name} {building}",
                               (building.compound.name, _natural(building.number)))
                 for building in Building.objects.filter(pk__in=building_ids).select_related("compound")}
    units = {unit.pk: (unit.number, _natural(unit.number)) for unit in Unit.objects.filter(pk__in=unit_ids)}
    return grids, buildings, units


def _child(parent: CoverageRow, index: dict, key: int, names: dict) -> CoverageRow:
    """The parent's row for `key`, made on first sight; `index` is keyed by (parent row, key)."""
    row = index.get((id(parent), key))
    if row is None:
        name, order = names.get(key, ("", ()))
        row = index[(id(parent), key)] = CoverageRow(id=key, name=name, order=order)
        parent.children.append(row)
    return row


def _coverage_tree(counts: list[dict]) -> CoverageRow:
    grids, buildings, units = _place_names(counts)
    total, index = CoverageRow(id=None, name=""), {}
    for entry in counts:
        grid = _child(total, index, entry["household__grid_id"], grids)
        building = _child(grid, index, entry["household__building_id"], buildings)
        unit = _child(building, index, entry["household__unit_id"], units)
        for row in (total, grid, building, unit):
            row.expected += entry["expected"]
            row.sampled += entry["sampled"]
    total.sort()
    return total


def antigen_counts(actor, round: TestRound) -> dict[str, int]:
    """People with an antigen self-test in the round, by their latest result: counted apart from samples."""
    reports = (AntigenReport.objects.in_scope(actor).filter(round_id=round.pk)
               .order_by("person_id", "-taken_at", "-id").values_list("person_id", "result"))
    latest = {}
    for person_id, result in reports:
        latest.setdefault(person_id, result)
    counts = {result: 0 for result in Result.values}
    for result in latest.values():
        counts[result] += 1
    return counts


def round_coverage(actor, round: TestRound) -> Coverage:
    """Expected, sampled and untested people by grid, building and unit.

    One grouped count over the expected people (each marked sampled by an EXISTS on the round's
    non-void samples), one for the round's grids, three for the place names, one for antigen reports
    and four for the people left out (`left_out_counts`): ten queries whether the round expects 252
    people or 100,000. A person sampled twice (a single-tube re-sample after a positive pool) is one
    person, counted once.
    """
    counts = list(coverage_people(actor, round).order_by()
                  .values("household__grid_id", "household__building_id", "household__unit_id")
                  .annotate(expected=Count("id"), sampled=Count("id", filter=Q(is_sampled=True))))
    total = _coverage_tree(counts)
    return Coverage(total=total, grids=total.children, antigen=antigen_counts(actor, round),
                    left_out=left_out_counts(actor, round))


def left_out_counts(actor, round: TestRound) -> dict[str, int]:
    """How many of the round's people the actor sees are left out of it, by RoundExemption.Reason in the
    reasons' order, reasons nobody has left out: so a grid member knows why a neighbour is not on the list."""
    counted = Counter(exemption_reasons(round, round_people(round).in_scope(actor)).values())
    return {reason: counted[reason] for reason in RoundExemption.Reason.values if counted[reason]}


def untested_people(actor, round: TestRound, *, building=None):
    """The expected people not yet sampled, in walking order: building, unit, room; phones are masked by the caller."""
    rows = coverage_people(actor, round).filter(is_sampled=False)
    if building is not None:
        rows = rows.filter(household__building_id=building.pk)
    return (rows.select_related("household__building__compound", "household__unit", "household__grid")
            .order_by("household__building__compound__name", "household__building__number",
                      "household__unit__number", "household__room", "name", "id"))


def untested_households(actor, round: TestRound, building) -> list[tuple]:
    """A building's untested people grouped by household, rooms in natural order: [(household, [people])]."""
    households: dict[int, tuple] = {}
    for person in untested_people(actor, round, building=building):
        households.setdefault(person.household_id, (person.household, []))[1].append(person)
    return sorted(households.values(), key=lambda pair: (_natural(pair[0].unit.number), _natural(pair[0].room)))


def get_round_building_for(actor, round: TestRound, pk) -> Building:
    """A building of the round's community in the actor's scope; 404 otherwise."""
    building = get_building_for(actor, pk)
    if building.community_id != round.community_id:
        raise Http404
    return building


@dataclass
class SiteHours:
    site: SamplingSite
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass
class Figures:
    """A round's figures for the daily report; durations are timedeltas, None when no tube has a result yet."""

    hours: list[datetime.datetime]
    sites: list[SiteHours]
    samples: int
    tubes: dict[str, int]
    turnaround_median: datetime.timedelta | None
    turnaround_p90: datetime.timedelta | None
    positive_tubes: int
    positive_people: int

    @property
    def median_minutes(self) -> int | None:
        return _minutes(self.turnaround_median)

    @property
    def p90_minutes(self) -> int | None:
        return _minutes(self.turnaround_p90)


def _minutes(duration: datetime.timedelta | None) -> int | None:
    return None if duration is None else round(duration.total_seconds() / 60)


def _samples_per_hour(round: TestRound) -> tuple[list, list[SiteHours]]:
    """Samples per site and local hour (every sample taken, voided ones too: they were swabbed)."""
    tz = timezone.get_current_timezone()
    counts = list(Sample.objects.filter(round_id=round.pk).order_by()
                  .annotate(hour=TruncHour("taken_at", tzinfo=tz)).values("site_id", "hour").annotate(n=Count("id")))
    hours = sorted({entry["hour"] for entry in counts})
    position = {hour: i for i, hour in enumerate(hours)}
    sites = {site.pk: SiteHours(site=site, counts=[0] * len(hours))
             for site in SamplingSite.objects.filter(pk__in={entry["site_id"] for entry in counts})}
    for entry in counts:
        sites[entry["site_id"]].counts[position[entry["hour"]]] += entry["n"]
    return hours, sorted(sites.values(), key=lambda row: (row.site.name, row.site.pk))


def _nearest_rank(ordered: list, share: float):
    """The nearest-rank percentile of an ascending list (p90: the value 90 % of tubes did not exceed)."""
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def _turnaround(round: TestRound) -> tuple:
    durations = sorted(resulted - closed for closed, resulted in
                       Tube.objects.filter(round_id=round.pk, closed_at__isnull=False, resulted_at__isnull=False)
                       .values_list("closed_at", "resulted_at"))
    if not durations:
        return None, None
    return statistics.median(durations), _nearest_rank(durations, 0.9)


def round_figures(round: TestRound) -> Figures:
    """Samples per hour per site, tubes by status, turnaround (closed → resulted) and positives; six queries.

    Figures are counts and durations without personal data, so they cover the whole round for anyone
    who may see the round.
    """
    hours, sites = _samples_per_hour(round)
    tubes = {status: 0 for status in Tube.Status.values}
    for entry in Tube.objects.filter(round_id=round.pk).order_by().values("status").annotate(n=Count("id")):
        tubes[entry["status"]] = entry["n"]
    median, p90 = _turnaround(round)
    positive = Tube.objects.filter(round_id=round.pk, result=Result.POSITIVE)
    people = (Sample.objects.filter(tube__in=positive, void=False).order_by()
              .aggregate(n=Count("person_id", distinct=True))["n"])
    return Figures(hours=hours, sites=sites, samples=sum(site.total for site in sites), tubes=tubes,
                   turnaround_median=median, turnaround_p90=p90, positive_tubes=positive.count(),
                   positive_people=people)


def household_antigen_reports(actor, *, limit: int = 20):
    """The latest antigen self-tests of the resident's household (a staff member's scope, for staff)."""
    return AntigenReport.objects.in_scope(actor).select_related("person").order_by("-taken_at", "-id")[:limit]


def latest_round_expecting(person: Person, day: datetime.date) -> TestRound | None:
    """The latest round of the person's community on `day` that expects them (where a self-test that day
    counts); None when no round does."""
    candidates = TestRound.objects.filter(community_id=person.household.community_id, on=day).order_by("-id")
    return next((candidate for candidate in candidates
                 if expected_people(candidate).filter(pk=person.pk).exists()), None)


def get_person_round(person: Person, pk) -> TestRound:
    """A round of the person's own community (a resident names it when reporting a self-test); 404 otherwise."""
    if person.household_id is None:
        raise Http404
    return get_in_scope(TestRound.objects.filter(community_id=person.household.community_id), pk)
