"""The hand-built community of the coverage tests, a fixture shared by tests/testing and the browser tests."""

import datetime

import pytest
from django.utils import timezone

from fangkong.testing.models import Result, Tube
from tests.people.factories import PersonFactory
from tests.places.factories import BuildingFactory, GridFactory, HouseholdFactory, UnitFactory
from tests.testing.factories import (
    RoundExemptionFactory,
    SampleFactory,
    SamplingSiteFactory,
    TestRoundFactory,
    TubeFactory,
)


@pytest.fixture
def town(community_a, grid_a, compound_a, building_a, unit_a, household_a, person_a, person_b):
    """Community A on the round's day.

    Grid A, building 3 unit 2: 301 张三 (pooled tube positive, then re-sampled alone) and an infant;
    302 王五 (tube invalid: sample voided) and 赵六 (sampled). Grid A, building 5: 101 孙七 (untested) and
    周八 (away: exempted by hand). Grid 2, building 1: 201 吴九 (sampled) and 郑十 (untested).
    李四 lives in community B and is sampled into the round by mistake.
    """
    round = TestRoundFactory(community=community_a, pool_size=10)
    site = SamplingSiteFactory(community=community_a, name="广场采样点")
    infant = PersonFactory(household=household_a, name="小宝",
                           birth_date=timezone.localdate() - datetime.timedelta(days=300))
    room_302 = HouseholdFactory(unit=unit_a, room="302")
    wang, zhao = PersonFactory(household=room_302, name="王五"), PersonFactory(household=room_302, name="赵六")
    building_5 = BuildingFactory(compound=compound_a, grid=grid_a, community=community_a, number="5")
    room_101 = HouseholdFactory(unit=UnitFactory(building=building_5, number="1"), room="101")
    sun, zhou = PersonFactory(household=room_101, name="孙七"), PersonFactory(household=room_101, name="周八")
    RoundExemptionFactory(round=round, person=zhou)
    grid_2 = GridFactory(community=community_a, name="第二网格")
    building_1 = BuildingFactory(compound=compound_a, grid=grid_2, community=community_a, number="1")
    room_201 = HouseholdFactory(unit=UnitFactory(building=building_1, number="1"), room="201")
    wu, zheng = PersonFactory(household=room_201, name="吴九"), PersonFactory(household=room_201, name="郑十")

    pooled = TubeFactory(round=round, site=site, status=Tube.Status.RESULTED, result=Result.POSITIVE)
    SampleFactory(tube=pooled, person=person_a)
    SampleFactory(tube=pooled, person=zhao)
    SampleFactory(tube=pooled, person=person_b)
    SampleFactory(tube=TubeFactory(round=round, site=site, pool_size=1), person=person_a, resample=True)
    invalid = TubeFactory(round=round, site=site, status=Tube.Status.RESULTED, result=Result.INVALID)
    SampleFactory(tube=invalid, person=wang, void=True)
    SampleFactory(tube=TubeFactory(round=round, site=site), person=wu)
    return {"round": round, "building_3": building_a, "building_5": building_5, "building_1": building_1,
            "grid_2": grid_2, "wang": wang, "sun": sun, "zheng": zheng, "infant": infant, "zhou": zhou}
