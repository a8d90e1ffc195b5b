"""Scoped reads of zones, the people inside them, their care and movement status."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone

from fangkong.people.models import Person, Tag
from fangkong.places.models import Household
from fangkong.zones.models import VULNERABLE_TAGS, CareCheck, CareTask, MedicalException, Zone
from fangkong.zones.places import households_in


# ---------------------------------------------------------------------------
# Zones and their unlock dates
# ---------------------------------------------------------------------------


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
    zones = Zone.objects.in_scope(actor).select_related("compound", "building", "unit__building",
                                                        "household__unit__building")
    return get_object_or_404(zones, pk=pk)


def _today_checks(day: datetime.date) -> Prefetch:
    return Prefetch("checks", queryset=CareCheck.objects.filter(day=day).select_related("checked_by"),
                    to_attr="day_checks")


def _with_day_check(tasks, day: datetime.date):
    return tasks.select_related("person", "household__building", "household__unit", "assignee").prefetch_related(
        _today_checks(day))


def care_tasks_of_zone(actor, zone: Zone, day: datetime.date | None = None):
    """The zone's active care tasks in scope, each with `day_checks` (the day's check, if any)."""
    tasks = CareTask.objects.in_scope(actor).filter(zone=zone, active=True)
    return _with_day_check(tasks, day or timezone.localdate()).prefetch_related("person__tags")


def _member_row(person: Person, tasks: dict[int, CareTask]) -> PersonRow:
    needs = sorted(tag.tag for tag in person.tags.all() if tag.tag in VULNERABLE_TAGS)
    task = tasks.get(person.pk)
    check = task.day_checks[0] if task is not None and task.day_checks else None
    return PersonRow(person=person, needs=needs, task=task, check=check)


def _household_order(row: HouseholdRow) -> tuple:
    household = row.household
    return (not row.vulnerable, _natural(household.building.number), _natural(household.unit.number),
            _natural(household.room))


def zone_people(actor, zone: Zone, day: datetime.date | None = None) -> ZonePeople:
    """The households inside the zone with their members: households with vulnerable people first,
    then by building, unit and room; in a household the vulnerable members first. Five queries whatever the size.
    """
    households = list(households_in(zone).in_scope(actor).select_related("compound", "building", "unit"))
    persons = Person.objects.in_scope(actor).filter(household__in=[h.pk for h in households]).prefetch_related("tags")
    tasks = {task.person_id: task for task in
             CareTask.objects.filter(zone=zone, active=True).prefetch_related(_today_checks(day or timezone.localdate()))}
    rows = {household.pk: HouseholdRow(household=household) for household in households}
    for person in persons.order_by("id"):
        rows[person.household_id].members.append(_member_row(person, tasks))
    for row in rows.values():
        row.members.sort(key=lambda member: not member.needs)
    return ZonePeople(households=sorted(rows.values(), key=_household_order))


def zone_residents(actor, zone: Zone):
    """The people living inside the zone, in scope: whom a medical exception may name."""
    return Person.objects.in_scope(actor).filter(household__in=households_in(zone).values("pk")).order_by("name", "id")


def care_tasks_due(actor, day: datetime.date):
    """Active tasks in active zones in scope with no check on `day`, zone by zone, then building, unit, room."""
    checked = CareCheck.objects.filter(task=OuterRef("pk"), day=day)
    return (CareTask.objects.in_scope(actor).filter(active=True, zone__status=Zone.Status.ACTIVE)
            .exclude(Exists(checked))
            .select_related(*_ZONE_PLACE, "person", "household__building", "household__unit", "assignee")
            .prefetch_related("person__tags")
            .order_by("zone_id", "household__building__number", "household__unit__number", "household__room", "id"))


def get_care_task_for(actor, pk) -> CareTask:
    tasks = CareTask.objects.in_scope(actor).select_related(*_ZONE_PLACE, "person", "assignee")
    return get_object_or_404(tasks, pk=pk)


def exceptions_of_zone(actor, zone: Zone):
    """The medical exceptions allowed in the zone, newest first, each with the person and who allowed it."""
    return (MedicalException.objects.in_scope(actor).filter(zone=zone)
            .select_related("person", "allowed_by").order_by("-allowed_at", "-id"))
