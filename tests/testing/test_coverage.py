"""Coverage of a round: who is expected, who is sampled, who is still to be knocked on."""


import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.testing import queries
from tests.people.factories import PersonFactory
from tests.places.factories import BuildingFactory, HouseholdFactory, UnitFactory
from tests.testing.factories import (
    SampleFactory,
    SamplingSiteFactory,
    TubeFactory,
)


def _counts(row):
    return row.expected, row.sampled, row.untested


def test_totals_leave_out_exemptions_infants_and_other_communities(town, staff_a):
    # Given the hand-built community, when staff of community A open the round's coverage
    coverage = queries.round_coverage(staff_a, town["round"])

    # then 6 are expected (not the infant, not the away neighbour, not 李四), 3 sampled, 3 untested
    assert _counts(coverage.total) == (6, 3, 3)
    assert coverage.total.percent == 50


def test_counts_by_grid_building_and_unit(town, staff_a, grid_a):
    coverage = queries.round_coverage(staff_a, town["round"])

    assert [(row.name, *_counts(row)) for row in coverage.grids] == [("第一网格", 4, 2, 2), ("第二网格", 2, 1, 1)]
    buildings = coverage.grids[0].children
    assert [(row.id, *_counts(row)) for row in buildings] == [(town["building_3"].pk, 3, 2, 1),
                                                               (town["building_5"].pk, 1, 0, 1)]
    assert [(row.name, *_counts(row)) for row in buildings[0].children] == [("2", 3, 2, 1)]


def test_the_untested_list_names_exactly_those_not_sampled(town, staff_a):
    # The voided sample sends 王五 back; the re-sampled 张三 is not listed; the exempted and the infant are not due.
    names = [person.name for person in queries.untested_people(staff_a, town["round"])]
    assert sorted(names) == sorted(["王五", "孙七", "郑十"])

    households = queries.untested_households(staff_a, town["round"], town["building_3"])
    assert [(household.room, [p.name for p in people]) for household, people in households] == [("302", ["王五"])]


def test_coverage_says_how_many_are_left_out_and_why(town, staff_a, staff_b):
    # The infant 小宝 is under the round's age limit and 周八 is away (exempted by hand)
    coverage = queries.round_coverage(staff_a, town["round"])
    assert coverage.left_out == {"infant": 1, "away": 1}
    assert coverage.left_out_labelled == [("婴幼儿", 1), ("外出", 1)]
    # Staff of another community see nobody of community A left out
    assert queries.left_out_counts(staff_b, town["round"]) == {}


def test_a_grid_member_sees_only_their_grid(town, grid_member_a):
    coverage = queries.round_coverage(grid_member_a, town["round"])

    assert _counts(coverage.total) == (4, 2, 2)
    assert [row.name for row in coverage.grids] == ["第一网格"]


def test_the_number_of_queries_does_not_grow_with_the_round(town, staff_a, grid_a):
    # Given the fixture, count the queries of one coverage (the actor's scope already known)
    queries.round_coverage(staff_a, town["round"])
    with CaptureQueriesContext(connection) as small:
        queries.round_coverage(staff_a, town["round"])
    # when the community grows by three buildings of two units and six households each, half of them sampled
    tube = TubeFactory(round=town["round"], site=SamplingSiteFactory(community=grid_a.community), pool_size=20)
    for number in ("7", "8", "10"):
        building = BuildingFactory(compound=town["building_3"].compound, grid=grid_a, community=grid_a.community,
                                   number=number)
        units = [UnitFactory(building=building, number="1"), UnitFactory(building=building, number="2")]
        for room in range(6):
            person = PersonFactory(household=HouseholdFactory(unit=units[room % 2], room=f"{room + 1}01"))
            if room % 2:
                SampleFactory(tube=tube, person=person)
    with CaptureQueriesContext(connection) as large:
        coverage = queries.round_coverage(staff_a, town["round"])

    # then the same number of queries answers it, and buildings come in walking order (3, 5, 7, 8, 10)
    assert len(large) == len(small) <= 10
    assert _counts(coverage.total) == (24, 12, 12)
    assert [row.name.split()[-1] for row in coverage.grids[0].children] == [
        "3号楼", "5号楼", "7号楼", "8号楼", "10号楼"]


def test_a_building_of_another_community_is_not_found(town, staff_a, household_b):
    from django.http import Http404

    with pytest.raises(Http404):
        queries.get_round_building_for(staff_a, town["round"], household_b.building_id)
