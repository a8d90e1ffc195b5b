"""Which households a zone holds and which zones hold a household.

A zone stores its place down to its own level, so a zone covers a household when every
level it names matches the household's own ids.
"""

from django.db.models import Q

from fangkong.places.models import Building, Compound, Household, Unit
from fangkong.zones.models import PlaceKind, Zone


def place_fields(place) -> dict:
    """Zone fields for a household, unit, building or compound: its kind, its ids and its key."""
    if isinstance(place, Household):
        kind, ids = PlaceKind.HOUSEHOLD, {"compound_id": place.compound_id, "building_id": place.building_id,
                                          "unit_id": place.unit_id, "household_id": place.pk}
    elif isinstance(place, Unit):
        kind, ids = PlaceKind.UNIT, {"compound_id": place.building.compound_id, "building_id": place.building_id,
                                     "unit_id": place.pk, "household_id": None}
    elif isinstance(place, Building):
        kind, ids = PlaceKind.BUILDING, {"compound_id": place.compound_id, "building_id": place.pk,
                                         "unit_id": None, "household_id": None}
    elif isinstance(place, Compound):
        kind, ids = PlaceKind.COMPOUND, {"compound_id": place.pk, "building_id": None, "unit_id": None,
                                         "household_id": None}
    else:
        raise TypeError(f"not a zone place: {place!r}")
    return {"place_kind": kind, "place_key": f"{kind}:{place.pk}", **ids}


def covers(zone: Zone, household: Household) -> bool:
    """The row-by-row reading of `covering_place`: whether the zone holds this household."""
    return zone.compound_id == household.compound_id and all(
        getattr(zone, field) in (None, own) for field, own in (
            ("building_id", household.building_id), ("unit_id", household.unit_id), ("household_id", household.pk)))


def place_of(zone: Zone):
    """The household, unit, building or compound the zone is drawn on."""
    return zone.household or zone.unit or zone.building or zone.compound


def households_in(zone: Zone):
    """The households inside the zone (not yet scoped: callers scope or already hold the zone)."""
    filters = {"compound_id": zone.compound_id}
    for field in ("building_id", "unit_id"):
        if getattr(zone, field) is not None:
            filters[field] = getattr(zone, field)
    if zone.household_id is not None:
        filters["id"] = zone.household_id
    return Household.objects.filter(**filters)


def covering_place(place) -> Q:
    """Zones drawn on the place itself or on a place around it (the compound around a building, ...)."""
    fields = place_fields(place)
    condition = Q(compound_id=fields["compound_id"])
    for field in ("building_id", "unit_id", "household_id"):
        condition &= Q(**{f"{field[:-3]}__isnull": True}) | Q(**{field: fields[field]})
    return condition
