"""Health checks: range, symptoms, windows, idempotent client ids, who may report; not yet reported; missed checks."""

import datetime
import uuid

import pytest
from django.http import Http404
from django.utils import timezone

from fangkong.core.errors import DomainError
from fangkong.health import queries, services
from fangkong.health.models import HealthAlert, HealthCheck, Reporter
from tests.health.factories import HealthCheckFactory, ObservationFactory
from tests.people.factories import PersonFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@pytest.fixture
def observation(person_a):
    return ObservationFactory(person=person_a, starts_on=timezone.localdate() - 2 * DAY)


def record(actor, observation, temperature="36.6", **extra):
    extra.setdefault("reporter", Reporter.STAFF_DOOR)
    return services.health_check_record(actor=actor, observation=observation, temperature=temperature, **extra)


@pytest.mark.parametrize("temperature", ["45", "30", "33.9", "42.1"])
def test_a_temperature_outside_34_to_42_is_refused_on_the_field(medic, observation, temperature):
    with pytest.raises(DomainError) as err:
        record(medic, observation, temperature)
    assert "不在合理范围(34–42℃)" in err.value.fields["temperature"]
    assert not HealthCheck.objects.exists()


def test_the_message_names_the_temperature(medic, observation):
    with pytest.raises(DomainError) as err:
        record(medic, observation, "45")
    assert err.value.message == "体温 45.0℃ 不在合理范围(34–42℃)"


def test_the_window_follows_local_time(medic, observation):
    today = timezone.localdate()
    morning = record(medic, observation, taken_at=at(today - DAY, 11, 59))
    afternoon = record(medic, observation, taken_at=at(today - DAY, 12, 0))
    assert (morning.window, afternoon.window) == ("morning", "afternoon")
    assert morning.day == today - DAY


def test_the_same_client_id_twice_stores_once(medic, observation):
    client_id = uuid.uuid4()
    first = record(medic, observation, client_id=client_id)
    again = record(medic, observation, "37.9", client_id=str(client_id))
    assert again.pk == first.pk
    assert HealthCheck.objects.count() == 1
    assert not HealthAlert.objects.exists()


def test_a_client_id_that_is_no_uuid_is_refused_naming_it(medic, observation):
    with pytest.raises(DomainError) as err:
        record(medic, observation, client_id="12345")
    assert err.value.fields == {"client_id": "client_id 应为 UUID"}
    assert not HealthCheck.objects.exists()


def test_unknown_symptoms_and_staff_without_a_way_of_reporting_are_refused(medic, observation):
    with pytest.raises(DomainError) as err:
        record(medic, observation, symptoms=["headache_x"])
    assert "symptoms" in err.value.fields
    with pytest.raises(DomainError) as err:
        record(medic, observation, reporter=Reporter.SELF)
    assert "reporter" in err.value.fields


def test_only_an_active_observation_takes_checks(staff_a, medic, person_a):
    observation = services.observation_start(actor=staff_a, person=person_a, kind="home_quarantine", reason="arrival",
                                             starts_on=timezone.localdate() - 14 * DAY)
    services.observation_release(actor=staff_a, observation=observation)
    with pytest.raises(DomainError) as err:
        record(medic, observation)
    assert err.value.code == "not_active"
    with pytest.raises(DomainError):
        services.health_check_record(actor=medic, person=person_a, temperature="36.5", reporter="staff_phone")


def test_staff_outside_the_scope_get_404(staff_b, observation):
    with pytest.raises(Http404):
        record(staff_b, observation)


def test_a_resident_reports_for_a_household_member_without_a_phone(resident, person_a, household_a):
    """Grandmother has no phone: her grandson reports her temperature from his."""
    grandmother = PersonFactory(household=household_a, name="王奶奶", phone="")
    observation = ObservationFactory(person=grandmother)

    check = services.health_check_record(actor=resident, person=grandmother, temperature="36.4", reporter="staff_door")

    assert check.observation == observation
    assert check.reporter == Reporter.SELF
    assert check.recorded_by == resident


def test_a_resident_cannot_report_for_another_household(resident, person_b):
    observation = ObservationFactory(person=person_b)
    with pytest.raises(Http404):
        services.health_check_record(actor=resident, observation=observation, temperature="36.4")


def test_not_yet_reported_lists_active_observations_without_a_check_in_the_window(grid_member_a, person_a, household_a):
    today = timezone.localdate()
    reported = ObservationFactory(person=person_a)
    waiting = ObservationFactory(person=PersonFactory(household=household_a))
    ObservationFactory(person=PersonFactory(household=household_a), status="released")
    HealthCheckFactory(observation=reported, taken_at=at(today, 8))

    morning = list(queries.not_yet_reported(grid_member_a, today, "morning"))
    afternoon = list(queries.not_yet_reported(grid_member_a, today, "afternoon"))

    assert morning == [waiting]
    assert set(afternoon) == {reported, waiting}


def test_not_yet_reported_stays_in_scope(grid_member_b, person_a):
    ObservationFactory(person=person_a)
    assert not queries.not_yet_reported(grid_member_b, timezone.localdate(), "morning").exists()


def test_missed_checks_count_elapsed_windows_without_a_check(person_a):
    """Started three days ago: three whole days plus today's closed windows, minus windows with a check
    (two in one count once)."""
    today = timezone.localdate()
    observation = ObservationFactory(person=person_a, starts_on=today - 3 * DAY)
    HealthCheckFactory(observation=observation, taken_at=at(today - 3 * DAY, 8))
    HealthCheckFactory(observation=observation, taken_at=at(today - 3 * DAY, 9))
    HealthCheckFactory(observation=observation, taken_at=at(today - 2 * DAY, 15))

    assert queries.missed_checks(observation, at(today, 21)) == 8 - 2
    assert queries.missed_checks(observation, at(today, 13)) == 7 - 2
    assert queries.missed_checks(observation, at(today, 11)) == 6 - 2


def test_windows_closed_before_registration_are_not_missed(person_a):
    today = timezone.localdate()
    observation = ObservationFactory(person=person_a, starts_on=today)
    observation.created_at = at(today, 14)

    assert queries.missed_checks(observation, at(today, 13)) == 0
    assert queries.missed_checks(observation, at(today, 21)) == 1


def test_missed_checks_on_a_list_take_one_query(django_assert_num_queries, household_a):
    today = timezone.localdate()
    observations = [ObservationFactory(person=PersonFactory(household=household_a), starts_on=today - 5 * DAY)
                    for _ in range(5)]
    HealthCheckFactory(observation=observations[0], taken_at=at(today - DAY, 8))

    with django_assert_num_queries(1):
        counted = queries.with_check_counts(observations, at(today, 21))

    assert [o.missed_checks for o in counted] == [11, 12, 12, 12, 12]
