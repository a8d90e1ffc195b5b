"""Scoped reads of zones, the people inside them, their care and movement status."""

import datetime
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from fangkong.accounts.queries import staff_for
from fangkong.core.scope import ensure_in_scope, get_in_scope
from fangkong.people.models import VULNERABLE_TAGS, Person, Tag
from fangkong.places.models import Building, Community, Compound, Household, Unit
from fangkong.zones.models import (
    CareCheck,
    CareTask,
    MedicalException,
    Movement,
    PlaceKind,
    Zone,
    ZonePolicy,
)
from fangkong.zones.places import covering_place, households_in
from fangkong.zones.unlock import DEFAULT_NEGATIVE_ROUNDS, stored_status

# ---------------------------------------------------------------------------
# Zones and their unlock dates
# ---------------------------------------------------------------------------

_PLACE_RELATIONS = ("community", "compound", "building", "unit__building", "household__unit__building")
_STATUS_ORDER = models.Case(models.When(status=Zone.Status.PROPOSED, then=models.Value(0)),
                            models.When(status=Zone.Status.ACTIVE, then=models.Value(1)),
                            default=models.Value(2), output_field=models.IntegerField())
ENDED_STATUSES = (Zone.Status.LIFTED, Zone.Status.DISMISSED, Zone.Status.SUPERSEDED)


def _rounds_needed():
    """The negative rounds the policy in force on the zone's countdown day asks for (the default without one)."""
    policy = (ZonePolicy.objects.filter(street_id=OuterRef("community__street_id"), level=OuterRef("level"))
              .in_force_on(OuterRef("last_positive_on")).values("negative_rounds")[:1])
    default = models.Case(*[models.When(level=level, then=models.Value(n))
                            for level, n in DEFAULT_NEGATIVE_ROUNDS.items()], output_field=models.IntegerField())
    return Coalesce(models.Subquery(policy), default)


def zones_for(actor, *, status: str = "", level: str = ""):
    """Zones in scope: proposals first, then active ones by unlock date, then the ended ones newest first."""
    rows = Zone.objects.in_scope(actor)
    rows = rows.filter(status__in=ENDED_STATUSES) if status == "ended" else rows.narrowed(status=status)
    return (rows.narrowed(level=level).select_related(*_PLACE_RELATIONS)
            .annotate(rounds_needed=_rounds_needed(), status_order=_STATUS_ORDER)
            .order_by("status_order", "unlock_on", "-ended_at", "-id"))


def get_zone_for(actor, pk) -> Zone:
    rows = zones_for(actor).select_related("proposed_by", "activated_by", "ended_by", "supersedes")
    return with_unlock([get_in_scope(rows, pk)])[0]


def with_unlock(zones) -> list[Zone]:
    """Each zone gets days_left, rounds_missing and may_unlock (active, date reached, rounds done)."""
    today = timezone.localdate()
    zones = list(zones)
    for zone in zones:
        status = stored_status(zone)
        zone.days_left = status.days_left(today) if status else None
        zone.rounds_missing = max(getattr(zone, "rounds_needed", 0) - zone.negative_rounds_done, 0)
        zone.may_unlock = zone.status == Zone.Status.ACTIVE and status is not None and status.met(today)
    return zones


def zone_history(zone: Zone):
    return zone.events.select_related("by").order_by("created_at", "id")


def zone_rounds(zone: Zone):
    return zone.rounds.select_related("recorded_by").order_by("-on")


def zone_cases(actor, zone: Zone):
    """The zone's cases the actor sees: a zone narrowed to a grid keeps the cases of the wider zone it replaced.

    Read through the zone's own record of the positives health told it of (`Zone.cases`, filled by
    zone_propose and zone_note_positive), not through health's case list, which sits above zones.
    """
    return zone.cases.in_scope(actor).select_related("person").order_by("confirmed_at", "id")


def zone_chain(actor, zone: Zone) -> list[Zone]:
    """The zones this one replaced and the ones that replaced it, oldest first, as far as the actor's scope
    reaches: a zone outside it (another grid's building before a zone on the whole compound) is neither
    named nor linked."""
    zones = Zone.objects.in_scope(actor).select_related(*_PLACE_RELATIONS)

    def replaced_one(of: Zone) -> Zone | None:
        return zones.filter(pk=of.supersedes_id).first() if of.supersedes_id else None

    chain, earlier = [zone], replaced_one(zone)
    while earlier is not None:
        chain.insert(0, earlier)
        earlier = replaced_one(earlier)
    later = zones.filter(supersedes=zone).first()
    while later is not None:
        chain.append(later)
        later = zones.filter(supersedes=later).first()
    return chain if len(chain) > 1 else []


def successor_id(actor, zone: Zone) -> int | None:
    """The zone in scope that replaced this one by a change, if any."""
    return Zone.objects.in_scope(actor).filter(supersedes=zone).values_list("pk", flat=True).first()


def zone_counts(zone: Zone) -> dict:
    """The households and people inside the zone, in one query."""
    return households_in(zone).aggregate(households=models.Count("id", distinct=True),
                                         people=models.Count("members"))


def change_places(zone: Zone) -> list:
    """Where a zone may move: the places around it (escalation) and one level inside it (de-escalation)."""
    places = []
    if zone.household_id:
        places += [zone.unit, zone.building, zone.compound]
    elif zone.unit_id:
        places += [zone.building, zone.compound,
                   *Household.objects.filter(unit_id=zone.unit_id).select_related("unit__building").order_by("room")]
    elif zone.building_id:
        places += [zone.compound,
                   *Unit.objects.filter(building_id=zone.building_id).select_related("building").order_by("number")]
    else:
        places += list(Building.objects.filter(compound_id=zone.compound_id).order_by("number"))
    return places


def place_for(actor, kind: str, pk):
    """A household, unit, building or compound in the actor's scope by its kind and id (404 otherwise)."""
    models_by_kind = {PlaceKind.HOUSEHOLD: Household, PlaceKind.UNIT: Unit, PlaceKind.BUILDING: Building,
                      PlaceKind.COMPOUND: Compound}
    if kind not in models_by_kind:
        raise Http404
    return get_in_scope(models_by_kind[kind].objects.in_scope(actor), pk)


def policy_street_for(actor):
    """The street whose unlock policy the actor sets: their own street, else the street of their communities."""
    if actor.scope_street_id:
        return actor.scope_street
    community = Community.objects.in_scope(actor).select_related("street").order_by("id").first()
    return community.street if community is not None else None


def policies_for(actor):
    return (ZonePolicy.objects.in_scope(actor).select_related("street", "created_by")
            .order_by("level", "-effective_from"))


@dataclass(frozen=True)
class MovementStatus:
    """A person's movement status from the active zones around their home, for checkpoints to enforce."""

    movement: str
    zone: Zone | None
    zones: list
    exception: MedicalException | None

    @property
    def label(self) -> str:
        return Movement(self.movement).label


def movement_of_person(person: Person) -> MovementStatus:
    """The strictest active zone covering the person's household decides; a medical exception of today is shown."""
    zones = []
    if person.household_id is not None:
        household = Household.objects.get(pk=person.household_id)
        zones = list(Zone.objects.live().filter(covering_place(household)).select_related(*_PLACE_RELATIONS)
                     .order_by("status", "id"))
    active = [zone for zone in zones if zone.status == Zone.Status.ACTIVE]
    strictest = max(active, key=lambda zone: zone.rank, default=None)
    exception = (MedicalException.objects.filter(person=person, valid_on=timezone.localdate())
                 .select_related("allowed_by").first() if strictest is not None else None)
    movement = Movement(strictest.level) if strictest is not None else Movement.FREE
    return MovementStatus(movement=movement, zone=strictest, zones=zones, exception=exception)


def movement_for(actor, person: Person) -> MovementStatus:
    ensure_in_scope(actor, person)
    return movement_of_person(person)


# ---------------------------------------------------------------------------
# Care inside zones
# ---------------------------------------------------------------------------

_ZONE_PLACE = ("zone__compound", "zone__building", "zone__unit__building", "zone__household__unit__building")


def _natural(text: str) -> tuple:
    """"3" before "10": building, unit and room numbers sort as numbers when they are numbers."""
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


@dataclass
class PersonRow:
    """One person inside a zone: the vulnerable needs, masked numbers, the standing task and today's check."""

    person: Person
    needs: list[str]
    task: CareTask | None = None
    check: CareCheck | None = None
    cared_in: Zone | None = None

    @property
    def need_labels(self) -> list[str]:
        return [Tag(code).label for code in self.needs]

    @property
    def tag_labels(self) -> list[str]:
        return self.person.tag_labels()


@dataclass
class HouseholdRow:
    household: Household
    members: list[PersonRow] = field(default_factory=list)

    @property
    def vulnerable(self) -> bool:
        return any(member.needs for member in self.members)


@dataclass
class ZonePeople:
    households: list[HouseholdRow]

    @property
    def vulnerable(self) -> list[PersonRow]:
        return [member for row in self.households for member in row.members if member.needs]

    @property
    def people_count(self) -> int:
        return sum(len(row.members) for row in self.households)


def get_care_zone_for(actor, pk) -> Zone:
    """The zone whose care page or care endpoint is asked for; 404 outside the actor's scope."""
    zones = Zone.objects.in_scope(actor).select_related("community", "compound", "building", "unit__building",
                                                        "household__unit__building")
    return get_in_scope(zones, pk)


def _today_checks() -> Prefetch:
    today = timezone.localdate()
    return Prefetch("checks", queryset=CareCheck.objects.filter(day=today).select_related("checked_by"),
                    to_attr="day_checks")


def _with_day_check(tasks):
    return tasks.select_related("person", "household__building", "household__unit", "assignee").prefetch_related(
        _today_checks())


def care_tasks_of_zone(actor, zone: Zone):
    """The zone's active care tasks in scope, each with `day_checks` (today's check, if any)."""
    tasks = CareTask.objects.in_scope(actor).filter(zone=zone, active=True)
    return _with_day_check(tasks).prefetch_related("person__tags")


def _member_row(person: Person, tasks: dict[int, CareTask], elsewhere: dict[int, Zone]) -> PersonRow:
    needs = sorted(tag.tag for tag in person.tags.all() if tag.tag in VULNERABLE_TAGS)
    task = tasks.get(person.pk)
    check = task.day_checks[0] if task is not None and task.day_checks else None
    return PersonRow(person=person, needs=needs, task=task, check=check, cared_in=elsewhere.get(person.pk))


def _household_order(row: HouseholdRow) -> tuple:
    household = row.household
    return (not row.vulnerable, _natural(household.building.number), _natural(household.unit.number),
            _natural(household.room))


def zone_people(actor, zone: Zone) -> ZonePeople:
    """The households inside the zone with their members: households with vulnerable people first,
    then by building, unit and room; in a household the vulnerable members first. Six queries whatever the size.

    A vulnerable person whose daily check belongs to a stricter zone inside this one names that zone.
    """
    households = list(households_in(zone).in_scope(actor).select_related("compound", "building", "unit"))
    persons = (Person.objects.in_scope(actor).filter(household__in=[h.pk for h in households])
               .select_related("household__building", "household__unit").prefetch_related("tags"))
    tasks = {task.person_id: task for task in CareTask.objects.filter(zone=zone, active=True).select_related("assignee")
             .prefetch_related(_today_checks())}
    elsewhere = {task.person_id: task.zone for task in CareTask.objects.filter(
        person__household__in=[h.pk for h in households], active=True).exclude(zone=zone).select_related(*_ZONE_PLACE)}
    rows = {household.pk: HouseholdRow(household=household) for household in households}
    for person in persons.order_by("id"):
        rows[person.household_id].members.append(_member_row(person, tasks, elsewhere))
    for row in rows.values():
        row.members.sort(key=lambda member: not member.needs)
    return ZonePeople(households=sorted(rows.values(), key=_household_order))


def care_assignees(actor, zone: Zone):
    """Staff the actor may name to look in on people of the zone: those whose scope meets its community.

    The service still checks that the one chosen covers the person's household.
    """
    community = zone.community
    meets = (Q(scope_street_id=community.street_id) | Q(scope_communities=community)
             | Q(scope_grids__community=community))
    return staff_for(actor).filter(meets).distinct().order_by("role", "username")


def zone_residents(actor, zone: Zone):
    """The people living inside the zone, in scope: whom a medical exception may name."""
    return (Person.objects.in_scope(actor).filter(household__in=households_in(zone).values("pk"))
            .select_related("household__building", "household__unit").order_by("name", "id"))


def care_row_of_task(actor, task: CareTask) -> PersonRow:
    """The care page's row of one task after a check: the person, the needs and today's check."""
    tasks = CareTask.objects.in_scope(actor).filter(pk=task.pk)
    task = (_with_day_check(tasks).select_related("person__household__building", "person__household__unit")
            .prefetch_related("person__tags").get())
    return PersonRow(person=task.person, needs=task.needs, task=task,
                     check=task.day_checks[0] if task.day_checks else None)


def care_tasks_due(actor, day: datetime.date):
    """Active tasks in active zones in scope with no check on `day`, zone by zone, then building, unit, room."""
    checked = CareCheck.objects.filter(task=OuterRef("pk"), day=day)
    return (CareTask.objects.in_scope(actor).filter(active=True, zone__status=Zone.Status.ACTIVE)
            .exclude(Exists(checked))
            .select_related(*_ZONE_PLACE, "person", "household__building", "household__unit", "assignee")
            .prefetch_related("person__tags")
            .order_by("zone_id", "household__building__number", "household__unit__number", "household__room", "id"))


def get_care_task_for(actor, pk) -> CareTask:
    """A care task with its zone, person, address, assignee and today's check (`day_checks`); 404 outside scope."""
    tasks = _with_day_check(CareTask.objects.in_scope(actor)).select_related(*_ZONE_PLACE, "zone__community")
    return get_in_scope(tasks, pk)


def exceptions_of_zone(actor, zone: Zone):
    """The medical exceptions allowed in the zone, newest first, each with the person and who allowed it."""
    return (MedicalException.objects.in_scope(actor).filter(zone=zone)
            .select_related("person", "allowed_by").order_by("-allowed_at", "-id"))
