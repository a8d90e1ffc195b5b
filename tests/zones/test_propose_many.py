"""Proposing controlled zones on the households of a positive pooled tube at once."""

import pytest

from fangkong.core.models import AuditEvent
from fangkong.places.models import Household
from fangkong.zones import services
from fangkong.zones.models import Level, Zone, ZoneEvent
from tests.places.factories import BuildingFactory, HouseholdFactory, UnitFactory
from tests.zones.factories import ZoneFactory, ZonePolicyFactory

pytestmark = pytest.mark.django_db


def _loaded(*households):
    return list(Household.objects.filter(pk__in=[h.pk for h in households])
                .select_related("unit__building", "compound").order_by("pk"))


def test_households_no_zone_holds_get_the_proposals_zone_propose_would_make(staff_a, unit_a, street):
    # Given a street whose controlled zones unlock after 10 days and one negative round
    ZonePolicyFactory(street=street, days_without_positive=10)
    first, second, alone = (HouseholdFactory(unit=unit_a, room=room) for room in ("401", "402", "403"))

    zones, notes = services.zones_propose_for_households(actor=staff_a, level=Level.CONTROLLED,
                                                          households=_loaded(first, second), reason="混管阳性 T1")
    one_by_one = services.zone_propose(actor=staff_a, level=Level.CONTROLLED, place=alone, reason="混管阳性 T1")

    # Then each household has a proposal like the one zone_propose makes, with its event and audit line
    assert notes == [] and len(zones) == 2
    fields = ("level", "status", "reason", "unlock_on", "last_positive_on", "negative_rounds_done", "place_kind",
              "compound_id", "building_id", "unit_id", "community_id", "proposed_by_id")
    for zone in Zone.objects.filter(pk__in=[z.pk for z in zones]):
        assert [getattr(zone, f) for f in fields] == [getattr(one_by_one, f) for f in fields]
    assert sorted(Zone.objects.filter(pk__in=[z.pk for z in zones]).values_list("household_id", flat=True)) == [
        first.pk, second.pk]
    assert ZoneEvent.objects.filter(zone__in=zones, kind=ZoneEvent.Kind.PROPOSED, note="混管阳性 T1").count() == 2
    labels = set(AuditEvent.objects.filter(object_type="zone", action="create").values_list("object_repr", flat=True))
    assert labels == {str(zone) for zone in zones} | {str(one_by_one)} and len(labels) == 3


def test_a_household_a_live_zone_already_holds_is_left_to_zone_propose(staff_a, unit_a, household_a):
    sealed_unit = ZoneFactory(place=unit_a, level=Level.SEALED)
    neighbour = HouseholdFactory(unit=unit_a, room="502")

    zones, notes = services.zones_propose_for_households(actor=staff_a, level=Level.CONTROLLED,
                                                          households=_loaded(household_a, neighbour))

    assert [zone.pk for zone in zones] == [sealed_unit.pk, sealed_unit.pk] and notes == []
    assert Zone.objects.count() == 1


def test_a_household_outside_the_actors_scope_is_a_note_and_gets_no_zone(staff_a, household_a, household_b):
    zones, notes = services.zones_propose_for_households(actor=staff_a, level=Level.CONTROLLED,
                                                          households=_loaded(household_a, household_b))
    assert [zone.household_id for zone in zones] == [household_a.pk]
    assert [household.pk for household, _message in notes] == [household_b.pk]
    assert not Zone.objects.filter(household=household_b).exists()


def test_a_zone_on_the_next_unit_or_building_does_not_hold_the_household(staff_a, unit_a, household_a, compound_a):
    next_unit = UnitFactory(building=unit_a.building, number="9")
    next_building = BuildingFactory(compound=compound_a, grid=unit_a.building.grid, community=compound_a.community,
                                    number="9")
    ZoneFactory(place=next_unit)
    ZoneFactory(place=next_building, level=Level.CONTROLLED)

    zones, notes = services.zones_propose_for_households(actor=staff_a, level=Level.CONTROLLED,
                                                          households=_loaded(household_a))

    assert notes == [] and [(zone.household_id, zone.status) for zone in zones] == [
        (household_a.pk, Zone.Status.PROPOSED)]
