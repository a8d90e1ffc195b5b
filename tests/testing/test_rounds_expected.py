"""Who a round expects to sample: a hand-built community with every kind of exemption."""

import datetime

import pytest

from fangkong.health.models import Case
from fangkong.testing.models import TestRound
from fangkong.testing.queries import exemption_reasons, expected_people, round_people
from tests.health.factories import CaseFactory
from tests.people.factories import PersonFactory
from tests.places.factories import BuildingFactory, GridFactory, HouseholdFactory, UnitFactory
from tests.testing.factories import RoundExemptionFactory, TestRoundFactory
from tests.zones.factories import ZoneFactory

ROUND_DAY = datetime.date(2022, 4, 10)


@pytest.fixture
def town(community_a, grid_a, compound_a, building_a, unit_a, household_a, person_a, person_b):
    """Community A: grid A (unit 3-2 with rooms 301 and 302, unit 3-1 with room 101) and grid A2 (one room);
    person_b lives in community B."""
    other_unit = UnitFactory(building=building_a, number="1")
    neighbour = HouseholdFactory(unit=unit_a, room="302")
    downstairs = HouseholdFactory(unit=other_unit, room="101")
    grid_a2 = GridFactory(community=community_a, name="第二网格")
    far = HouseholdFactory(unit=UnitFactory(building=BuildingFactory(compound=compound_a, grid=grid_a2,
                                                                     community=community_a, number="9")))
    return {
        "adult": person_a,
        "infant": PersonFactory(household=household_a, name="小宝", birth_date=datetime.date(2020, 1, 1)),
        "toddler_old_enough": PersonFactory(household=household_a, name="大宝", birth_date=datetime.date(2019, 4, 9)),
        "neighbour": PersonFactory(household=neighbour, name="王五", tags=["dialysis"]),
        "positive": PersonFactory(household=neighbour, name="赵六"),
        "in_hospital": PersonFactory(household=downstairs, name="钱七"),
        "away": PersonFactory(household=downstairs, name="孙八", tags=["key_worker"]),
        "other_grid": PersonFactory(household=far, name="周九"),
        "other_community": person_b,
        "grid_a2": grid_a2,
        "grid_a": grid_a,
        "unit_a": unit_a,
    }


def _names(round):
    return set(expected_people(round).values_list("name", flat=True))


def _exempt(town, round):
    CaseFactory(person=town["positive"], status=Case.Status.FOUND)
    CaseFactory(person=town["in_hospital"], status=Case.Status.IN_HOSPITAL)
    RoundExemptionFactory(round=round, person=town["away"])


def test_everyone_round_expects_the_community_minus_infants_cases_and_exemptions(town, community_a):
    # Given an everyone-round on 10 April 2022 that exempts infants under 36 months, positives and people in hospital
    round = TestRoundFactory(community=community_a, on=ROUND_DAY)
    _exempt(town, round)

    # Then it expects everyone else in the community, the child who turned three the day before included
    assert _names(round) == {"张三", "大宝", "王五", "周九"}
    # And it can say why each of the others is left out
    reasons = exemption_reasons(round)
    assert reasons == {town["infant"].pk: "infant", town["positive"].pk: "positive",
                       town["in_hospital"].pk: "in_hospital", town["away"].pk: "away"}


def test_a_round_that_does_not_exempt_cases_expects_them(town, community_a):
    # Given a round that samples infants and positives alike
    round = TestRoundFactory(community=community_a, on=ROUND_DAY, infant_months=0, exempt_positive=False,
                             exempt_in_hospital=False)
    _exempt(town, round)

    # Then only the exemption by hand is left out
    assert _names(round) == {"张三", "小宝", "大宝", "王五", "赵六", "钱七", "周九"}


def test_exempting_only_people_in_hospital_keeps_positives_at_home(town, community_a):
    round = TestRoundFactory(community=community_a, on=ROUND_DAY, exempt_positive=False, exempt_in_hospital=True)
    _exempt(town, round)

    assert "赵六" in _names(round)
    assert "钱七" not in _names(round)
    only_them = round_people(round).filter(pk=town["in_hospital"].pk)
    assert exemption_reasons(round, only_them) == {town["in_hospital"].pk: "in_hospital"}


def test_a_closed_case_is_expected_again(town, community_a):
    round = TestRoundFactory(community=community_a, on=ROUND_DAY)
    CaseFactory(person=town["positive"], status=Case.Status.RECOVERED)

    assert "赵六" in _names(round)


def test_a_round_of_some_grids_expects_only_their_households(town, community_a):
    round = TestRoundFactory(community=community_a, on=ROUND_DAY)
    round.grids.set([town["grid_a2"]])

    assert _names(round) == {"周九"}


def test_a_zone_round_expects_only_the_households_inside_the_zone(town, community_a):
    # Given a sealed unit 3-2 and a round over that zone
    zone = ZoneFactory(place=town["unit_a"])
    round = TestRoundFactory(community=community_a, on=ROUND_DAY, kind=TestRound.Kind.ZONE, zone=zone)

    # Then it expects rooms 301 and 302 (less the infant) and nobody downstairs or in the other grid
    assert _names(round) == {"张三", "大宝", "王五", "赵六"}


def test_a_key_groups_round_expects_only_people_with_its_tags(town, community_a):
    round = TestRoundFactory(community=community_a, on=ROUND_DAY, kind=TestRound.Kind.KEY_GROUPS,
                             key_tags=["dialysis", "key_worker"])

    assert _names(round) == {"王五", "孙八"}
