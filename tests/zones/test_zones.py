"""Zones: proposals from cases, acceptance, drawing, changes, rounds, lifting and the unlock policy."""

import datetime

import pytest
from django.db import connection
from django.http import Http404
from django.utils import timezone

from fangkong.core.errors import Conflict, DomainError, NotAllowed
from fangkong.core.models import AuditEvent
from fangkong.volunteers.models import Post
from fangkong.zones import queries, services
from fangkong.zones.models import Level, Movement, Zone, ZoneEvent
from fangkong.zones.unlock import UnlockRule
from tests.health.factories import CaseFactory
from tests.people.factories import PersonFactory
from tests.places.factories import BuildingFactory
from tests.zones.factories import ZoneFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
TODAY = timezone.localdate


def days_ago(n: int) -> datetime.datetime:
    return timezone.now() - n * DAY


def events(zone, kind=None):
    rows = ZoneEvent.objects.filter(zone=zone)
    return list(rows.filter(kind=kind) if kind else rows)


def propose(actor, place, level=Level.SEALED, case=None):
    return services.zone_propose(actor=actor, level=level, place=place, case=case, reason="阳性病例")


# Proposals

def test_a_case_proposes_a_sealed_unit_counting_fourteen_days_from_its_confirmation(grid_member_a, person_a, unit_a):
    case = CaseFactory(person=person_a, confirmed_at=days_ago(2))

    zone = propose(grid_member_a, unit_a, case=case)

    assert zone.status == Zone.Status.PROPOSED
    assert zone.place_label == "驰誉小区3号楼2单元"
    assert list(zone.cases.all()) == [case]
    assert zone.unlock_on == TODAY() - 2 * DAY + 14 * DAY
    assert [e.kind for e in events(zone)] == [ZoneEvent.Kind.PROPOSED]
    assert AuditEvent.objects.filter(object_type="zone", action="create").count() == 1


def test_a_stricter_zone_around_takes_the_case_instead_of_a_new_proposal(staff_a, person_a, unit_a, building_a,
                                                                         household_a):
    building_zone = ZoneFactory(place=building_a, level=Level.SEALED, started_at=days_ago(5))
    case = CaseFactory(person=person_a, confirmed_at=days_ago(1))

    zone = propose(staff_a, household_a, level=Level.CONTROLLED, case=case)

    assert zone == building_zone
    assert Zone.objects.count() == 1
    zone.refresh_from_db()
    assert zone.unlock_on == TODAY() - DAY + 14 * DAY
    assert events(zone, ZoneEvent.Kind.POSITIVE)[0].unlock_on == zone.unlock_on


def test_a_less_strict_proposal_on_the_place_is_raised(staff_a, unit_a):
    controlled = propose(staff_a, unit_a, level=Level.CONTROLLED)

    sealed = propose(staff_a, unit_a, level=Level.SEALED)

    assert sealed.pk == controlled.pk
    assert Zone.objects.get().level == Level.SEALED


def test_a_less_strict_active_zone_stays_and_gets_a_proposal_to_raise_it(staff_a, unit_a):
    active = ZoneFactory(place=unit_a, level=Level.CONTROLLED)

    zone = propose(staff_a, unit_a, level=Level.SEALED)

    assert zone.pk == active.pk
    zone.refresh_from_db()
    assert zone.level == Level.CONTROLLED and zone.status == Zone.Status.ACTIVE
    assert events(zone, ZoneEvent.Kind.PROPOSED)[0].note == "建议升级为封控区"


def test_a_positive_inside_resets_the_countdown_of_every_zone_around_it(staff_a, person_a, unit_a, building_a,
                                                                       household_b):
    unit_zone = ZoneFactory(place=unit_a, level=Level.SEALED, started_at=days_ago(10))
    building_zone = ZoneFactory(place=building_a, level=Level.CONTROLLED, started_at=days_ago(10))
    elsewhere = ZoneFactory(place=household_b, started_at=days_ago(10))
    case = CaseFactory(person=person_a, confirmed_at=timezone.now())

    zones = services.zone_note_positive(actor=staff_a, case=case)

    assert {zone.pk for zone in zones} == {unit_zone.pk, building_zone.pk}
    for zone in (unit_zone, building_zone):
        zone.refresh_from_db()
        assert zone.unlock_on == TODAY() + 14 * DAY
        assert zone.last_positive_on == TODAY()
        assert events(zone, ZoneEvent.Kind.POSITIVE)[0].unlock_on == TODAY() + 14 * DAY
    assert not elsewhere.cases.exists()


def test_proposing_on_a_place_outside_scope_is_404(staff_b, unit_a):
    with pytest.raises(Http404):
        propose(staff_b, unit_a)


def test_wrong_level_words_are_refused(staff_a, unit_a, person_a):
    with pytest.raises(DomainError) as err:
        propose(staff_a, unit_a, level="locked")
    assert "level" in err.value.fields
    with pytest.raises(DomainError) as err:
        propose(staff_a, person_a)
    assert "place" in err.value.fields


# Accepting and dismissing

def test_accepting_with_guard_activates_once_opens_a_post_and_cares_for_the_vulnerable(staff_a, unit_a, household_a):
    PersonFactory(household=household_a, name="王奶奶", tags=["dialysis"])
    zone = propose(staff_a, unit_a)

    services.zone_accept(actor=staff_a, zone=zone, guarded=True, rules="足不出户,上门服务")

    zone.refresh_from_db()
    assert zone.status == Zone.Status.ACTIVE and zone.activated_by == staff_a
    assert zone.rules == "足不出户,上门服务"
    assert len(events(zone, ZoneEvent.Kind.ACTIVATED)) == 1
    assert Post.objects.filter(zone=zone, status=Post.Status.OPEN).count() == 1
    assert zone.care_tasks.filter(active=True).count() == 1


def test_accepting_twice_names_who_accepted_and_when(staff_a, street_admin, unit_a):
    zone = propose(staff_a, unit_a)
    services.zone_accept(actor=staff_a, zone=zone)

    with pytest.raises(Conflict) as err:
        services.zone_accept(actor=street_admin, zone=zone)

    assert "staff_a" in err.value.message
    assert len(events(zone, ZoneEvent.Kind.ACTIVATED)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_staff_accepting_at_once_make_one_active_zone(staff_a, street_admin, unit_a, race):
    zone = propose(staff_a, unit_a)

    outcomes = race(lambda: services.zone_accept(actor=staff_a, zone=zone),
                    lambda: services.zone_accept(actor=street_admin, zone=zone))

    kinds = [outcome.kind for outcome in outcomes]
    assert kinds.count("ok") == 1
    if connection.vendor == "postgresql":
        assert kinds.count("already_active") == 1
    assert Zone.objects.filter(status=Zone.Status.ACTIVE).count() == 1
    assert ZoneEvent.objects.filter(kind=ZoneEvent.Kind.ACTIVATED).count() == 1


def test_only_community_staff_and_street_admins_accept(grid_member_a, medic, unit_a, staff_a):
    zone = propose(staff_a, unit_a)
    for actor in (grid_member_a, medic):
        with pytest.raises(NotAllowed):
            services.zone_accept(actor=actor, zone=zone)
    assert Zone.objects.get().status == Zone.Status.PROPOSED


def test_accepting_outside_scope_is_404(staff_a, staff_b, unit_a):
    zone = propose(staff_a, unit_a)
    with pytest.raises(Http404):
        services.zone_accept(actor=staff_b, zone=zone)


def test_a_dismissed_proposal_needs_a_reason_and_cannot_be_accepted_after(staff_a, unit_a):
    zone = propose(staff_a, unit_a)
    with pytest.raises(DomainError) as err:
        services.zone_dismiss(actor=staff_a, zone=zone, reason=" ")
    assert "reason" in err.value.fields

    services.zone_dismiss(actor=staff_a, zone=zone, reason="已整户转运")

    with pytest.raises(DomainError) as err:
        services.zone_accept(actor=staff_a, zone=zone)
    assert err.value.code == "not_proposed"
    assert Zone.objects.get().status == Zone.Status.DISMISSED


# Drawing and changing

def test_drawing_under_a_stricter_zone_is_refused_unless_overridden(staff_a, building_a, unit_a):
    ZoneFactory(place=building_a, level=Level.SEALED)

    with pytest.raises(DomainError) as err:
        services.zone_draw(actor=staff_a, level=Level.CONTROLLED, place=unit_a, reason="密接所在单元")
    assert "place" in err.value.fields

    zone = services.zone_draw(actor=staff_a, level=Level.CONTROLLED, place=unit_a, reason="密接所在单元",
                              override_reason="单元内需单独管理")
    assert zone.status == Zone.Status.ACTIVE
    assert events(zone, ZoneEvent.Kind.OVERRIDE)[0].note == "单元内需单独管理"


def test_grid_members_may_not_draw(grid_member_a, unit_a):
    with pytest.raises(NotAllowed):
        services.zone_draw(actor=grid_member_a, level=Level.SEALED, place=unit_a, reason="x")


def test_escalation_to_the_building_keeps_the_cases_and_the_history(staff_a, person_a, unit_a, building_a):
    zone = propose(staff_a, unit_a, case=CaseFactory(person=person_a, confirmed_at=days_ago(3)))
    services.zone_accept(actor=staff_a, zone=zone, guarded=True)

    wider = services.zone_change(actor=staff_a, zone=zone, reason="同楼新增阳性", place=building_a)

    zone.refresh_from_db()
    assert zone.status == Zone.Status.SUPERSEDED
    assert wider.supersedes == zone and wider.status == Zone.Status.ACTIVE
    assert wider.place_label == "驰誉小区3号楼" and wider.level == Level.SEALED
    assert list(wider.cases.all()) == list(zone.cases.all())
    assert wider.unlock_on == TODAY() - 3 * DAY + 14 * DAY
    assert events(zone, ZoneEvent.Kind.ESCALATED) and events(wider, ZoneEvent.Kind.ESCALATED)
    assert Post.objects.get(zone=zone).status == Post.Status.CLOSED
    assert Post.objects.get(zone=wider).status == Post.Status.OPEN
    assert queries.zone_chain(staff_a, wider) == [zone, wider]


def test_the_chain_names_only_the_zones_in_the_actors_scope(staff_a, grid_member_a, person_a_other_grid,
                                                           compound_a):
    # Given a sealed building of the second grid, widened to the whole compound (which grid A's member sees)
    building = person_a_other_grid.household.building
    zone = services.zone_draw(actor=staff_a, level=Level.SEALED, place=building, reason="阳性")
    wider = services.zone_change(actor=staff_a, zone=zone, reason="小区内多栋阳性", place=compound_a)

    # Then staff of the community see both, and grid A's member only the compound's zone, with no chain to show
    assert queries.zone_chain(staff_a, wider) == [zone, wider]
    assert queries.zone_chain(grid_member_a, wider) == []


def test_de_escalation_to_a_looser_level_on_the_same_place_keeps_its_rounds(staff_a, unit_a):
    zone = services.zone_draw(actor=staff_a, level=Level.SEALED, place=unit_a, reason="阳性")
    services.zone_round_record(actor=staff_a, zone=zone, on=TODAY(), negative=True)

    looser = services.zone_change(actor=staff_a, zone=zone, reason="连续阴性", level=Level.CONTROLLED)

    assert looser.level == Level.CONTROLLED and looser.place_key == zone.place_key
    assert looser.rounds.count() == 1
    assert events(looser, ZoneEvent.Kind.DE_ESCALATED)


def test_a_change_to_an_unrelated_place_or_no_change_is_refused(staff_a, unit_a, compound_a, grid_a):
    zone = ZoneFactory(place=unit_a)
    with pytest.raises(DomainError) as err:
        services.zone_change(actor=staff_a, zone=zone, reason="同楼新增阳性")
    assert err.value.code == "unchanged"
    next_door = BuildingFactory(compound=compound_a, grid=grid_a, community=compound_a.community, number="5")

    with pytest.raises(DomainError) as err:
        services.zone_change(actor=staff_a, zone=zone, reason="同楼新增阳性", place=next_door)

    assert err.value.code == "unrelated_place"
    zone.refresh_from_db()
    assert zone.status == Zone.Status.ACTIVE


# Rounds and lifting

def test_rounds_in_the_future_or_twice_a_day_are_refused(staff_a, unit_a):
    zone = ZoneFactory(place=unit_a, started_at=days_ago(3))
    with pytest.raises(DomainError) as err:
        services.zone_round_record(actor=staff_a, zone=zone, on=TODAY() + DAY, negative=True)
    assert "on" in err.value.fields
    services.zone_round_record(actor=staff_a, zone=zone, on=TODAY(), negative=True)
    with pytest.raises(DomainError) as err:
        services.zone_round_record(actor=staff_a, zone=zone, on=TODAY(), negative=True)
    assert err.value.code == "round_twice"


def test_a_positive_round_restarts_the_countdown(medic, unit_a):
    zone = ZoneFactory(place=unit_a, started_at=days_ago(10))
    services.zone_round_record(actor=medic, zone=zone, on=TODAY() - 5 * DAY, negative=True)

    services.zone_round_record(actor=medic, zone=zone, on=TODAY() - DAY, negative=False)

    zone.refresh_from_db()
    assert zone.unlock_on == TODAY() - DAY + 14 * DAY
    assert zone.negative_rounds_done == 0


def test_lifting_early_says_what_is_missing_and_an_override_is_logged(staff_a, unit_a):
    zone = ZoneFactory(place=unit_a, started_at=days_ago(10))

    with pytest.raises(DomainError) as err:
        services.zone_lift(actor=staff_a, zone=zone)
    assert "还需 4 天" in err.value.message and "还需 2 轮阴性" in err.value.message

    services.zone_lift(actor=staff_a, zone=zone, override_reason="整栋转运完毕,区指挥部同意")

    zone.refresh_from_db()
    assert zone.status == Zone.Status.LIFTED and zone.lifted_by_override
    assert events(zone, ZoneEvent.Kind.OVERRIDE)[0].note == "整栋转运完毕,区指挥部同意"
    assert events(zone, ZoneEvent.Kind.LIFTED)


def test_a_zone_that_meets_its_criteria_lifts_and_stops_its_posts_and_care(staff_a, unit_a, household_a):
    PersonFactory(household=household_a, tags=["pregnant"])
    zone = services.zone_draw(actor=staff_a, level=Level.SEALED, place=unit_a, reason="阳性", guarded=True)
    Zone.objects.filter(pk=zone.pk).update(started_at=days_ago(15))
    for n in (3, 1):
        services.zone_round_record(actor=staff_a, zone=zone, on=TODAY() - n * DAY, negative=True)

    services.zone_lift(actor=staff_a, zone=zone, note="期满解封")

    zone.refresh_from_db()
    assert zone.status == Zone.Status.LIFTED and not zone.lifted_by_override
    assert not zone.care_tasks.filter(active=True).exists()
    assert not Post.objects.filter(zone=zone, status=Post.Status.OPEN).exists()


# Policies

def test_a_policy_change_moves_the_unlock_dates_of_live_zones(street_admin, street, unit_a):
    zone = ZoneFactory(place=unit_a, started_at=days_ago(2))
    services.zone_round_record(actor=street_admin, zone=zone, on=TODAY(), negative=True)
    zone.refresh_from_db()
    assert zone.unlock_on == TODAY() - 2 * DAY + 14 * DAY

    services.zone_policy_set(actor=street_admin, street=street, level=Level.SEALED, days_without_positive=7,
                             negative_rounds=1, effective_from=TODAY() - 30 * DAY)

    zone.refresh_from_db()
    assert zone.unlock_on == TODAY() - 2 * DAY + 7 * DAY
    assert events(zone, ZoneEvent.Kind.POLICY)[0].unlock_on == zone.unlock_on
    assert services.zone_rule(street, Level.SEALED, TODAY()).days_without_positive == 7
    assert services.zone_rule(street, Level.CONTROLLED, TODAY()).days_without_positive == 14


def test_a_zone_counts_down_by_the_policy_in_force_on_its_countdown_day(street_admin, street, unit_a):
    # Given a unit sealed 2 days ago, a policy from 10 days ago and a stricter one from tomorrow on
    zone = ZoneFactory(place=unit_a, started_at=days_ago(2))
    for days, rounds, effective_from in ((7, 1, TODAY() - 10 * DAY), (20, 3, TODAY() + DAY)):
        services.zone_policy_set(actor=street_admin, street=street, level=Level.SEALED, days_without_positive=days,
                                 negative_rounds=rounds, effective_from=effective_from)

    # then the zone's date and the rounds its list row asks for follow the policy in force on the day it started
    zone.refresh_from_db()
    assert zone.unlock_on == TODAY() - 2 * DAY + 7 * DAY
    assert queries.zones_for(street_admin).get(pk=zone.pk).rounds_needed == 1
    # and a countdown starting tomorrow would follow the newer one
    assert services.zone_rule(street, Level.SEALED, TODAY() + DAY) == UnlockRule(20, 3)


def test_policy_numbers_are_checked_and_grid_members_may_not_set_them(street_admin, grid_member_a, street):
    with pytest.raises(DomainError) as err:
        services.zone_policy_set(actor=street_admin, street=street, level=Level.SEALED, days_without_positive=0,
                                 negative_rounds=1, effective_from=TODAY())
    assert "days_without_positive" in err.value.fields
    with pytest.raises(NotAllowed):
        services.zone_policy_set(actor=grid_member_a, street=street, level=Level.SEALED, days_without_positive=7,
                                 negative_rounds=1, effective_from=TODAY())


# Movement

def test_movement_follows_the_strictest_active_zone_around_home(staff_a, person_a, unit_a, building_a, compound_a):
    assert queries.movement_of_person(person_a).movement == Movement.FREE
    ZoneFactory(place=compound_a, level=Level.PRECAUTION)
    ZoneFactory(place=building_a, level=Level.CONTROLLED)
    propose(staff_a, unit_a, level=Level.SEALED)

    status = queries.movement_of_person(person_a)

    assert status.movement == Movement.CONTROLLED
    assert status.zone.place_label == "驰誉小区3号楼"
    assert len(status.zones) == 3


def test_movement_outside_scope_is_404(staff_b, person_a):
    with pytest.raises(Http404):
        queries.movement_for(staff_b, person_a)
