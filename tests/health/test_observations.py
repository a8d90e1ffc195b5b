"""The observation's life: start, extension, release, early end, transfer; one active per person; the colour."""

import datetime

import pytest
from django.http import Http404
from django.utils import timezone

from fangkong.core.errors import Conflict, DomainError
from fangkong.core.models import AuditEvent
from fangkong.health import services
from fangkong.health.models import Observation, ObservationChange
from fangkong.screening import services as screening
from fangkong.screening.models import FollowUp
from tests.health.factories import ObservationFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
DAY = datetime.timedelta(days=1)


def start(actor, person, **extra):
    return services.observation_start(actor=actor, person=person, kind="home_quarantine", reason="arrival", **extra)


def test_start_records_the_team_a_change_and_an_audit_event(staff_a, medic, volunteer, person_a):
    observation = start(staff_a, person_a, team={"medic": medic, "volunteer": volunteer, "family_contact_name": "张母",
                                                 "family_contact_phone": "139 0000 1111"})

    assert observation.status == Observation.Status.ACTIVE
    assert observation.planned_end_on == TODAY() + 14 * DAY
    assert observation.household == person_a.household
    assert (observation.medic, observation.volunteer) == (medic, volunteer)
    assert observation.family_contact_phone == "13900001111"
    assert observation.changes.get().kind == ObservationChange.Kind.START
    assert AuditEvent.objects.filter(object_type="observation", object_id=str(observation.pk), action="create").exists()


def test_one_active_observation_per_person_names_the_existing_one(staff_a, person_a):
    first = start(staff_a, person_a)

    with pytest.raises(Conflict) as err:
        start(staff_a, person_a)

    assert "该人员已在隔离观察中" in err.value.message
    assert str(first.pk) in err.value.message
    assert Observation.objects.filter(person=person_a).count() == 1


def test_the_database_refuses_a_second_active_observation_that_slipped_past_the_check(staff_a, person_a, monkeypatch):
    """Two starts at the same moment: both pass the existence check, the constraint keeps one."""
    ObservationFactory(person=person_a)
    monkeypatch.setattr(Observation.objects, "active", lambda: Observation.objects.none())

    with pytest.raises(Conflict):
        start(staff_a, person_a)

    assert Observation.objects.filter(person=person_a).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_starts_at_once_leave_one_active_observation(staff_a, person_a, race):
    outcomes = race(lambda: start(staff_a, person_a), lambda: start(staff_a, person_a))

    assert [outcome.ok for outcome in outcomes].count(True) == 1
    assert Observation.objects.filter(person=person_a, status="active").count() == 1


def test_start_more_than_a_day_ahead_is_refused(staff_a, person_a):
    with pytest.raises(DomainError) as err:
        start(staff_a, person_a, starts_on=TODAY() + 2 * DAY)
    assert "starts_on" in err.value.fields
    assert start(staff_a, person_a, starts_on=TODAY() + DAY).starts_on == TODAY() + DAY


def test_team_members_must_cover_the_person(staff_a, staff_b, person_a):
    with pytest.raises(DomainError) as err:
        start(staff_a, person_a, team={"cadre": staff_b})
    assert "cadre" in err.value.fields
    assert not Observation.objects.exists()


def test_staff_of_another_community_cannot_start_one(staff_b, person_a):
    with pytest.raises(Http404):
        start(staff_b, person_a)


def test_extension_moves_the_planned_end_and_is_logged(staff_a, person_a):
    observation = start(staff_a, person_a)

    services.observation_extend(actor=staff_a, observation=observation, days=7, reason="同住人阳性")
    services.observation_extend(actor=staff_a, observation=observation, until=TODAY() + 30 * DAY, reason="再延长")

    observation.refresh_from_db()
    assert observation.planned_end_on == TODAY() + 30 * DAY
    notes = list(observation.changes.filter(kind="extend").values_list("note", "planned_end_on"))
    assert notes == [("同住人阳性", TODAY() + 21 * DAY), ("再延长", TODAY() + 30 * DAY)]
    with pytest.raises(DomainError):
        services.observation_extend(actor=staff_a, observation=observation, until=TODAY(), reason="缩短")


def test_release_before_the_planned_end_needs_an_early_end_with_a_reason(staff_a, person_a):
    observation = start(staff_a, person_a, starts_on=TODAY() - 3 * DAY)

    with pytest.raises(DomainError) as err:
        services.observation_release(actor=staff_a, observation=observation)
    assert err.value.code == "too_early"
    with pytest.raises(DomainError):
        services.observation_end_early(actor=staff_a, observation=observation, reason=" ")

    services.observation_end_early(actor=staff_a, observation=observation, reason="核酸阴性,经专班批准")
    observation.refresh_from_db()
    assert observation.status == Observation.Status.ENDED_EARLY
    assert observation.ended_on == TODAY()
    assert observation.end_reason == "核酸阴性,经专班批准"


def test_release_at_the_planned_end(staff_a, person_a):
    observation = start(staff_a, person_a, starts_on=TODAY() - 14 * DAY)

    services.observation_release(actor=staff_a, observation=observation)

    observation.refresh_from_db()
    assert observation.status == Observation.Status.RELEASED
    assert observation.changes.last().kind == ObservationChange.Kind.RELEASE
    with pytest.raises(Conflict):
        services.observation_release(actor=staff_a, observation=observation)


def test_transfer_starts_central_quarantine_with_the_remaining_days(staff_a, medic, person_a):
    observation = start(staff_a, person_a, starts_on=TODAY() - 4 * DAY, team={"medic": medic})

    central = services.observation_transfer(actor=staff_a, observation=observation, site="区集中隔离点一号")

    observation.refresh_from_db()
    assert observation.status == Observation.Status.TRANSFERRED
    assert observation.transferred_to == central
    assert central.kind == "central_quarantine"
    assert central.status == Observation.Status.ACTIVE
    assert central.planned_end_on == TODAY() + 10 * DAY
    assert central.site == "区集中隔离点一号"
    assert central.medic == medic


def test_someone_under_observation_who_is_followed_later_is_blue_once_verified(staff_a, person_a):
    """Given an observation started before anyone follows the person, a list answer later colours them blue."""
    start(staff_a, person_a)

    follow_up = screening.follow_up_set_facts(actor=staff_a, person=person_a, reason="核查名单", reached=True,
                                              verified=True)

    assert follow_up.under_observation and follow_up.risk_color == "blue"


def test_a_transfer_to_central_quarantine_keeps_the_person_under_observation(staff_a, person_a):
    screening.follow_up_set_facts(actor=staff_a, person=person_a, reason="电话核实", reached=True, verified=True)
    observation = start(staff_a, person_a)

    services.observation_transfer(actor=staff_a, observation=observation, site="区集中隔离点一号")

    assert FollowUp.objects.get(person=person_a).risk_color == "blue"


def test_colour_turns_blue_on_start_and_leaves_blue_on_release(staff_a, person_a):
    """Given a verified arrival under follow-up, observation makes them blue; released they are no longer blue."""
    screening.follow_up_open(actor=staff_a, person=person_a, reason="外地返回")
    screening.follow_up_set_facts(actor=staff_a, person=person_a, reason="电话核实", reached=True, verified=True)

    observation = start(staff_a, person_a, starts_on=TODAY() - 14 * DAY)

    assert FollowUp.objects.get(person=person_a).risk_color == "blue"

    services.observation_release(actor=staff_a, observation=observation)
    assert FollowUp.objects.get(person=person_a).risk_color != "blue"
