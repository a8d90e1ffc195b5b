"""The rounds and sites pages read a fixed number of queries, however many rows they list."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.clients import signed_in
from tests.people.factories import PersonFactory
from tests.places.factories import BuildingFactory, HouseholdFactory, UnitFactory
from tests.testing.factories import RoundExemptionFactory, SamplingSiteFactory, TestRoundFactory
from tests.zones.factories import ZoneFactory

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _new_households(compound, grid, count: int) -> list:
    """Households each in a building and unit of its own, so nothing is shared between their labels."""
    return [HouseholdFactory(unit=UnitFactory(building=BuildingFactory(compound=compound, grid=grid,
                                                                       community=grid.community)))
            for _ in range(count)]


def test_the_rounds_list_with_zone_rounds(staff_a, community_a, compound_a, grid_a):
    def add_zone_rounds(count):
        for household in _new_households(compound_a, grid_a, count):
            TestRoundFactory(community=community_a, kind="zone", zone=ZoneFactory(place=household))

    client = signed_in(staff_a)
    add_zone_rounds(2)
    few = _queries(client, reverse("testing:rounds"))
    add_zone_rounds(4)
    assert _queries(client, reverse("testing:rounds")) == few


def test_the_round_page_with_its_exemptions(staff_a, community_a, compound_a, grid_a):
    round = TestRoundFactory(community=community_a)

    def exempt(count):
        for household in _new_households(compound_a, grid_a, count):
            RoundExemptionFactory(round=round, community=community_a, person=PersonFactory(household=household),
                                  recorded_by=staff_a)

    client = signed_in(staff_a)
    exempt(2)
    few = _queries(client, reverse("testing:round_detail", args=[round.pk]))
    exempt(4)
    assert _queries(client, reverse("testing:round_detail", args=[round.pk])) == few


def test_the_site_page_with_its_roster(staff_a, community_a, compound_a, grid_a):
    site = SamplingSiteFactory(community=community_a, kind="door_to_door")
    client = signed_in(staff_a)
    site.roster.add(*_new_households(compound_a, grid_a, 2))
    few = _queries(client, reverse("testing:site_edit", args=[site.pk]))
    site.roster.add(*_new_households(compound_a, grid_a, 4))
    page = client.get(reverse("testing:site_edit", args=[site.pk])).content.decode()
    assert _queries(client, reverse("testing:site_edit", args=[site.pk])) == few
    assert "6 户" in page
