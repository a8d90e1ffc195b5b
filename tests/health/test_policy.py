"""Observation days per street and kind, from an effective date; a new policy moves active observations."""

import datetime

import pytest
from django.utils import timezone

from fangkong.core.errors import DomainError, NotAllowed
from fangkong.health import services
from fangkong.health.models import ObservationChange, ObservationKind
from fangkong.health.queries import observation_days
from fangkong.health.services import observation_policy_set

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
DAY = datetime.timedelta(days=1)


def test_defaults_apply_when_a_street_has_no_policy(street):
    assert observation_days(street, ObservationKind.HOME_QUARANTINE, TODAY()) == 14
    assert observation_days(street, ObservationKind.CENTRAL_QUARANTINE, TODAY()) == 14
    assert observation_days(street, ObservationKind.HOME_MONITORING, TODAY()) == 7


def test_the_policy_in_effect_on_the_start_date_decides(street, street_admin):
    observation_policy_set(actor=street_admin, street=street, kind="home_quarantine", days=21,
                           effective_from=TODAY() - 10 * DAY)
    observation_policy_set(actor=street_admin, street=street, kind="home_quarantine", days=7,
                           effective_from=TODAY() + 5 * DAY)

    assert observation_days(street, "home_quarantine", TODAY() - 20 * DAY) == 14
    assert observation_days(street, "home_quarantine", TODAY()) == 21
    assert observation_days(street, "home_quarantine", TODAY() + 5 * DAY) == 7


def test_a_new_start_takes_its_planned_end_from_the_policy(street, street_admin, staff_a, person_a):
    observation_policy_set(actor=street_admin, street=street, kind="home_quarantine", days=21,
                           effective_from=TODAY() - DAY)

    observation = services.observation_start(actor=staff_a, person=person_a, kind="home_quarantine", reason="arrival")

    assert observation.planned_end_on == TODAY() + 21 * DAY


def test_policy_change_recomputes_active_observations_started_since(street, street_admin, staff_a, person_a,
                                                                     household_a):
    """Given observations started before and after the effective date, when the days change, only the later move."""
    from tests.people.factories import PersonFactory

    earlier_person = PersonFactory(household=household_a)
    earlier = services.observation_start(actor=staff_a, person=earlier_person, kind="home_quarantine", reason="arrival",
                                         starts_on=TODAY() - 5 * DAY)
    later = services.observation_start(actor=staff_a, person=person_a, kind="home_quarantine", reason="arrival")
    services.observation_extend(actor=staff_a, observation=later, days=2, reason="复查未出结果")

    observation_policy_set(actor=street_admin, street=street, kind="home_quarantine", days=21,
                           effective_from=TODAY() - DAY)

    later.refresh_from_db()
    earlier.refresh_from_db()
    assert later.planned_end_on == TODAY() + 23 * DAY
    assert earlier.planned_end_on == TODAY() + 9 * DAY
    change = later.changes.filter(kind=ObservationChange.Kind.EXTEND, note="政策调整").get()
    assert change.planned_end_on == TODAY() + 23 * DAY
    assert not earlier.changes.filter(note="政策调整").exists()


def test_only_street_admins_set_policies_and_days_stay_within_1_to_60(street, street_admin, staff_a):
    with pytest.raises(NotAllowed):
        observation_policy_set(actor=staff_a, street=street, kind="home_quarantine", days=10, effective_from=TODAY())
    with pytest.raises(DomainError) as err:
        observation_policy_set(actor=street_admin, street=street, kind="home_quarantine", days=61,
                               effective_from=TODAY())
    assert "days" in err.value.fields
