"""The resident's page: every observed household member, one submit per person or for all, resubmits land once."""

import pytest

from fangkong.health.models import HealthAlert, HealthCheck
from tests.clients import signed_in
from tests.health.factories import ObservationFactory
from tests.people.factories import PersonFactory

pytestmark = pytest.mark.django_db



@pytest.fixture
def family(person_a, household_a):
    grandmother = PersonFactory(household=household_a, name="王奶奶", phone="")
    return ObservationFactory(person=person_a), ObservationFactory(person=grandmother)


def form_of(response, observation) -> dict:
    client_id = response.context["rows"][[o for o, _ in response.context["rows"]].index(observation)][1]["client_id"]
    return {f"o{observation.pk}-client_id": client_id.value()}


def test_the_page_lists_every_observed_member_with_a_decimal_keypad(resident, family):
    response = signed_in(resident).get("/health/me/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "张三" in html and "王奶奶" in html
    assert 'inputmode="decimal"' in html
    assert "上午待报" in html or "今天上午已报" in html


def test_one_submit_for_all_records_each_member_and_a_resubmit_lands_once(resident, family):
    client = signed_in(resident)
    page = client.get("/health/me/")
    me, grandmother = family
    body = {**form_of(page, me), **form_of(page, grandmother), f"o{me.pk}-temperature": "36.5",
            f"o{grandmother.pk}-temperature": "38.0", f"o{grandmother.pk}-symptoms": ["cough"]}

    first = client.post("/health/me/", body)
    again = client.post("/health/me/", body)

    assert first.status_code == again.status_code == 302
    assert HealthCheck.objects.count() == 2
    assert HealthAlert.objects.get().observation == grandmother


def test_a_bad_temperature_is_shown_on_its_member(resident, family):
    client = signed_in(resident)
    me, _grandmother = family
    response = client.post("/health/me/", {f"o{me.pk}-temperature": "45", "only": str(me.pk)})
    assert response.status_code == 400
    assert "体温 45.0℃ 不在合理范围(34–42℃)" in response.content.decode()
    assert not HealthCheck.objects.exists()


def test_staff_are_sent_to_the_console(staff_a):
    response = signed_in(staff_a).get("/health/me/")
    assert response.status_code == 302
    assert response["Location"] == "/health/observations/"


def test_a_resident_is_kept_out_of_the_console(resident):
    assert signed_in(resident).get("/health/observations/").status_code == 302
