"""Scoped reads of the place tree."""

from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404

from fangkong.places.models import Building, Community, Compound, Grid, Household, Street, Unit, Venue


def _narrowed(rows, **filters):
    """Apply only the filters that were given (a list page's empty filter means 'all')."""
    return rows.filter(**{field: value for field, value in filters.items() if value not in (None, "")})


def streets_for(actor):
    return Street.objects.in_scope(actor)


def communities_for(actor):
    return Community.objects.in_scope(actor).select_related("street")


def grids_for(actor, *, community=None):
    return _narrowed(Grid.objects.in_scope(actor).select_related("community"), community=community)


def compounds_for(actor, *, community=None):
    return _narrowed(Compound.objects.in_scope(actor).select_related("community"), community=community)


def buildings_for(actor, *, compound=None, grid=None):
    return _narrowed(Building.objects.in_scope(actor).select_related("compound", "grid", "community"),
                     compound=compound, grid=grid)


def households_for(actor, *, building=None, unit=None):
    return _narrowed(Household.objects.in_scope(actor).select_related("building", "unit", "compound", "community"),
                     building=building, unit=unit)


def venues_for(actor, *, community=None, kind="", status=""):
    return _narrowed(Venue.objects.in_scope(actor).select_related("community", "grid", "compound"),
                     community=community, kind=kind, status=status)


def get_street_for(actor, pk) -> Street:
    return get_object_or_404(streets_for(actor), pk=pk)


def get_community_for(actor, pk) -> Community:
    return get_object_or_404(communities_for(actor), pk=pk)


def get_grid_for(actor, pk) -> Grid:
    return get_object_or_404(grids_for(actor), pk=pk)


def get_compound_for(actor, pk) -> Compound:
    return get_object_or_404(compounds_for(actor), pk=pk)


def get_building_for(actor, pk) -> Building:
    return get_object_or_404(buildings_for(actor), pk=pk)


def get_household_for(actor, pk) -> Household:
    return get_object_or_404(households_for(actor), pk=pk)


def get_venue_for(actor, pk) -> Venue:
    return get_object_or_404(venues_for(actor), pk=pk)


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


def household_rooms(actor, unit: Unit):
    return Household.objects.in_scope(actor).filter(unit=unit).annotate(person_count=Count("members")).order_by("room")
