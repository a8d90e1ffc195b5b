"""Scoped reads of the place tree."""

from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from fangkong.core.errors import DomainError
from fangkong.core.scope import get_in_scope
from fangkong.places.models import Building, Community, Compound, Grid, Household, Street, Unit, Venue


def communities_for(actor):
    return Community.objects.in_scope(actor).select_related("street")


def grids_for(actor, *, community=None):
    return Grid.objects.in_scope(actor).select_related("community").narrowed(community=community)


def compounds_for(actor, *, community=None):
    return Compound.objects.in_scope(actor).select_related("community").narrowed(community=community)


def buildings_for(actor, *, compound=None, grid=None):
    return (Building.objects.in_scope(actor).select_related("compound", "grid", "community")
            .narrowed(compound=compound, grid=grid))


def households_for(actor, *, building=None, unit=None):
    return (Household.objects.in_scope(actor).select_related("building", "unit", "compound", "community")
            .narrowed(building=building, unit=unit))


def venues_for(actor, *, community=None, kind="", status=""):
    return (Venue.objects.in_scope(actor).select_related("community", "grid", "compound")
            .narrowed(community=community, kind=kind, status=status))


def streets_for(actor):
    return Street.objects.in_scope(actor).order_by("name")


def get_street_for(actor, pk) -> Street:
    return get_in_scope(streets_for(actor), pk)


def street_for_writing(actor, street_id=None) -> Street:
    """The street a street-wide setting is written for: the one named, else the actor's own or only street."""
    if street_id is None:
        street_id = actor.scope_street_id
    if street_id is None:
        streets = list(streets_for(actor)[:2])
        if len(streets) != 1:
            message = _("请指定街道")
            raise DomainError(message, fields={"street_id": message})
        return streets[0]
    return get_street_for(actor, street_id)


def get_community_for(actor, pk) -> Community:
    return get_in_scope(communities_for(actor), pk)


def get_grid_for(actor, pk) -> Grid:
    return get_in_scope(grids_for(actor), pk)


def get_compound_for(actor, pk) -> Compound:
    return get_in_scope(compounds_for(actor), pk)


def get_building_for(actor, pk) -> Building:
    return get_in_scope(buildings_for(actor), pk)


def get_household_for(actor, pk) -> Household:
    return get_in_scope(households_for(actor), pk)


def get_venue_for(actor, pk) -> Venue:
    return get_in_scope(venues_for(actor), pk)


def get_community_by_name_for(actor, name: str) -> Community:
    return get_object_or_404(communities_for(actor), name=name)


def community_tree(actor, community: Community) -> list[Compound]:
    """Compounds → buildings → units with household and person counts, within the actor's scope."""
    units = (Unit.objects.in_scope(actor).filter(community=community)
             .annotate(household_count=Count("households", distinct=True), person_count=Count("households__members"))
             .order_by("number"))
    buildings = (Building.objects.in_scope(actor).filter(community=community).select_related("grid")
                 .prefetch_related(Prefetch("units", queryset=units)).order_by("number"))
    return list(Compound.objects.in_scope(actor).filter(community=community)
                .prefetch_related(Prefetch("buildings", queryset=buildings)).order_by("name"))


def building_rooms(actor, building: Building) -> list[Unit]:
    """A building's units in scope, each with `rooms`: its households in scope with their person counts.

    Two queries whatever the number of units.
    """
    rooms = Household.objects.in_scope(actor).annotate(person_count=Count("members")).order_by("room")
    return list(Unit.objects.in_scope(actor).filter(building=building)
                .prefetch_related(Prefetch("households", queryset=rooms, to_attr="rooms")).order_by("number"))


def grids_with_building_counts(actor):
    return grids_for(actor).annotate(building_count=Count("buildings")).order_by("community__name", "name")


def find_household_for(actor, community: Community, compound: Compound | None, building_number: str,
                       unit_number: str, room: str) -> Household | None:
    """The household at 楼号-单元-房号 in a community (and compound, when given), within the actor's scope.

    The numbers are compared as stored, so callers normalise them first (places.numbers).
    None when there is no such household in scope; Household.MultipleObjectsReturned when several
    compounds of the community have that address and no compound was given.
    """
    rows = households_for(actor).filter(community=community, building__number=building_number,
                                        unit__number=unit_number, room=room)
    if compound is not None:
        rows = rows.filter(compound=compound)
    found = list(rows[:2])
    if len(found) > 1:
        raise Household.MultipleObjectsReturned(f"{building_number}-{unit_number}-{room}")
    return found[0] if found else None
