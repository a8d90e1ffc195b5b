"""Rounds, exemptions, sampling sites and door-to-door rosters: the rules community staff rely on."""

import datetime

import pytest

from fangkong.core.errors import Conflict, DomainError, NotAllowed
from fangkong.core.models import AuditEvent
from fangkong.testing import services
from fangkong.testing.models import SamplingSite, TestRound
from fangkong.testing.queries import expected_people
from tests.people.factories import PersonFactory
from tests.places.factories import HouseholdFactory
from tests.testing.factories import SamplingSiteFactory
from tests.zones.factories import ZoneFactory

DAY = datetime.date(2022, 4, 10)


def _round(actor, community, **kwargs):
    return services.test_round_create(actor=actor, community=community, name="第一轮全员核酸", on=DAY, **kwargs)


def test_community_staff_create_a_round_of_one_grid(staff_a, community_a, grid_a):
    # When community staff create a round of grid A, 20 people per tube
    round = _round(staff_a, community_a, pool_size=20, grids=[grid_a])

    # Then it is open, names its grid and is audited
    assert round.status == TestRound.Status.OPEN
    assert list(round.grids.all()) == [grid_a]
    assert AuditEvent.objects.filter(object_type="testround", object_id=str(round.pk), action="create").exists()


@pytest.mark.parametrize("pool_size", [0, 3, 15, 50])
def test_a_pool_size_other_than_1_5_10_20_is_refused(staff_a, community_a, pool_size):
    with pytest.raises(DomainError) as err:
        _round(staff_a, community_a, pool_size=pool_size)
    assert "pool_size" in err.value.fields


def test_grids_of_another_community_are_refused(admin, community_a, grid_b):
    with pytest.raises(DomainError) as err:
        _round(admin, community_a, grids=[grid_b])
    assert "春雨社区" in err.value.fields["grids"]


def test_a_zone_of_another_community_is_refused(admin, community_a, household_b):
    zone = ZoneFactory(place=household_b.unit)
    with pytest.raises(DomainError) as err:
        _round(admin, community_a, kind=TestRound.Kind.ZONE, zone=zone)
    assert "zone" in err.value.fields


def test_a_zone_round_needs_its_zone_and_a_key_groups_round_its_tags(staff_a, community_a):
    with pytest.raises(DomainError) as err:
        _round(staff_a, community_a, kind=TestRound.Kind.ZONE)
    assert "zone" in err.value.fields
    with pytest.raises(DomainError) as err:
        _round(staff_a, community_a, kind=TestRound.Kind.KEY_GROUPS, key_tags=["no_such_tag"])
    assert "key_tags" in err.value.fields


def test_grid_members_and_medics_may_not_create_rounds(grid_member_a, medic, community_a):
    for actor in (grid_member_a, medic):
        with pytest.raises(NotAllowed):
            _round(actor, community_a)


def test_another_communitys_staff_cannot_reach_the_community(staff_b, community_a):
    from django.http import Http404

    with pytest.raises(Http404):
        _round(staff_b, community_a)


def test_an_exemption_takes_a_person_out_and_removing_it_brings_them_back(staff_a, community_a, person_a):
    # Given an open round
    round = _round(staff_a, community_a)
    assert person_a in expected_people(round)

    # When person A is exempted as away
    exemption = services.round_exemption_add(actor=staff_a, round=round, person=person_a, reason="away", note="出差")

    # Then the round no longer expects them, and the exemption names who decided it
    assert person_a not in expected_people(round)
    assert exemption.recorded_by == staff_a
    # And removing it brings them back
    services.round_exemption_remove(actor=staff_a, exemption=exemption)
    assert person_a in expected_people(round)
    assert AuditEvent.objects.filter(object_type="roundexemption", action="delete").exists()


def test_an_exemption_twice_or_for_someone_outside_the_round_is_refused(staff_a, community_a, grid_a, person_a):
    round = _round(staff_a, community_a)
    services.round_exemption_add(actor=staff_a, round=round, person=person_a, reason="away")
    with pytest.raises(Conflict):
        services.round_exemption_add(actor=staff_a, round=round, person=person_a, reason="in_hospital")

    outsider = PersonFactory(household=None, community=community_a)
    with pytest.raises(DomainError) as err:
        services.round_exemption_add(actor=staff_a, round=round, person=outsider, reason="away")
    assert "person" in err.value.fields


def test_a_reason_the_round_does_not_exempt_is_refused(staff_a, community_a, person_a):
    round = _round(staff_a, community_a, exempt_away=False)
    with pytest.raises(DomainError) as err:
        services.round_exemption_add(actor=staff_a, round=round, person=person_a, reason="away")
    assert "reason" in err.value.fields
    with pytest.raises(DomainError) as err:
        services.round_exemption_add(actor=staff_a, round=round, person=person_a, reason="other")
    assert "note" in err.value.fields


def test_a_closed_round_takes_no_more_exemptions(staff_a, community_a, person_a):
    round = _round(staff_a, community_a)
    services.test_round_close(actor=staff_a, round=round)

    with pytest.raises(Conflict) as err:
        services.round_exemption_add(actor=staff_a, round=round, person=person_a, reason="away")
    assert err.value.code == "round_closed"
    with pytest.raises(Conflict):
        services.test_round_close(actor=staff_a, round=round)


def test_a_site_with_hours_and_a_team_of_people_covering_the_community(staff_a, community_a, medic, grid_member_a):
    site = services.sampling_site_create(actor=staff_a, community=community_a, name="社区广场采样点",
                                         address="广场东侧", opens_at=datetime.time(6), closes_at=datetime.time(11),
                                         team=[medic, grid_member_a])

    assert set(site.team.all()) == {medic, grid_member_a}
    assert site.kind == SamplingSite.Kind.FIXED


def test_team_members_who_do_not_cover_the_community_are_refused(staff_a, community_a, grid_member_b, resident):
    for outsider in (grid_member_b, resident):
        with pytest.raises(DomainError) as err:
            services.sampling_site_create(actor=staff_a, community=community_a, name="广场", team=[outsider])
        assert "team" in err.value.fields


def test_bad_hours_a_duplicate_name_and_a_roster_on_a_fixed_site_are_refused(staff_a, community_a, household_a):
    with pytest.raises(DomainError) as err:
        services.sampling_site_create(actor=staff_a, community=community_a, name="广场",
                                      opens_at=datetime.time(11), closes_at=datetime.time(6))
    assert "closes_at" in err.value.fields
    services.sampling_site_create(actor=staff_a, community=community_a, name="广场")
    with pytest.raises(Conflict):
        services.sampling_site_create(actor=staff_a, community=community_a, name=" 广场 ")
    with pytest.raises(DomainError) as err:
        services.sampling_site_create(actor=staff_a, community=community_a, name="二号", roster=[household_a])
    assert "roster" in err.value.fields


def test_a_door_to_door_roster_from_a_sealed_unit(staff_a, community_a, unit_a, household_a):
    # Given a sealed unit with two households and a door-to-door team
    HouseholdFactory(unit=unit_a, room="302")
    elsewhere = HouseholdFactory(community=community_a)
    zone = ZoneFactory(place=unit_a)
    team = services.sampling_site_create(actor=staff_a, community=community_a, name="上门一队",
                                         kind=SamplingSite.Kind.DOOR_TO_DOOR, roster=[elsewhere])

    # When the roster is filled from the zone, twice
    added = services.site_roster_from_zone(actor=staff_a, site=team, zone=zone)
    again = services.site_roster_from_zone(actor=staff_a, site=team, zone=zone)

    # Then both households of the unit are on it once, beside the one already there
    assert (added, again) == (2, 0)
    assert {h.room for h in team.roster.all()} == {"301", "302", elsewhere.room}


def test_updating_a_site_changes_its_team_and_can_deactivate_it(staff_a, community_a, medic):
    site = SamplingSiteFactory(community=community_a, name="旧名")
    services.sampling_site_update(actor=staff_a, site=site, name="新名", kind="fixed", team=[medic], active=False)

    site.refresh_from_db()
    assert (site.name, site.active, list(site.team.all())) == ("新名", False, [medic])

