"""A check at or above 37.3 °C or with a symptom raises an alert to the team, handled once."""

import pytest

from fangkong.core.errors import Conflict, DomainError
from fangkong.health import queries, services
from fangkong.health.models import HealthAlert
from tests.health.factories import ObservationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def observation(person_a, medic):
    return ObservationFactory(person=person_a, medic=medic)


def record(actor, observation, temperature, symptoms=()):
    return services.health_check_record(actor=actor, observation=observation, temperature=temperature,
                                        symptoms=list(symptoms), reporter="staff_phone")


def test_37_2_is_normal_and_37_3_raises_an_alert(medic, observation):
    normal = record(medic, observation, "37.2")
    fever = record(medic, observation, "37.3")

    assert not normal.abnormal
    assert fever.abnormal
    assert HealthAlert.objects.get().check_record == fever


def test_a_symptom_alone_raises_an_alert_naming_it(medic, observation):
    check = record(medic, observation, "36.6", ["cough"])
    assert check.alert.reason == "体温 36.6℃,咳嗽"


def test_the_alert_reason_reads_temperature_and_symptoms(medic, observation):
    check = record(medic, observation, "37.8", ["cough", "fatigue"])
    assert check.alert.reason == "体温 37.8℃,咳嗽,乏力"


def test_the_team_sees_its_alerts_and_others_in_scope_see_them_too(medic, staff_a, staff_b, observation):
    record(medic, observation, "38.0")

    assert queries.my_alerts(medic).count() == 1
    assert queries.my_alerts(staff_a).count() == 0
    assert queries.alerts_for(staff_a).count() == 1
    assert queries.alerts_for(staff_b).count() == 0


def test_handling_an_alert_needs_a_note_and_happens_once(medic, staff_a, observation):
    alert = record(medic, observation, "38.5").alert

    with pytest.raises(DomainError):
        services.health_alert_handle(actor=medic, alert=alert, note="")
    services.health_alert_handle(actor=medic, alert=alert, note="已电话联系,送发热门诊")
    with pytest.raises(Conflict):
        services.health_alert_handle(actor=staff_a, alert=alert, note="重复处理")

    alert.refresh_from_db()
    assert alert.handled_by == medic
    assert alert.handling_note == "已电话联系,送发热门诊"
    assert queries.alerts_for(staff_a).count() == 0
    assert list(queries.alerts_for(staff_a, handled=True)) == [alert]
