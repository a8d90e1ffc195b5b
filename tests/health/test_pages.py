"""Console pages: list with missed checks and alert badges, start form, detail actions, pending list, alerts."""

import pytest
from django.utils import timezone

from fangkong.health.models import HealthCheck, Observation
from tests.clients import signed_in
from tests.health.factories import HealthCheckFactory, ObservationFactory

pytestmark = pytest.mark.django_db



def test_every_page_renders_for_staff_in_scope(staff_a, person_a):
    observation = ObservationFactory(person=person_a)
    client = signed_in(staff_a)
    for url in ("/health/observations/", f"/health/observations/{observation.pk}/", "/health/checks/pending/",
                "/health/alerts/", "/health/policies/", f"/health/observations/new/?person={person_a.pk}"):
        assert client.get(url).status_code == 200, url


def test_pages_of_another_community_are_404(staff_b, person_a):
    observation = ObservationFactory(person=person_a)
    client = signed_in(staff_b)
    assert client.get(f"/health/observations/{observation.pk}/").status_code == 404
    assert client.get(f"/health/observations/new/?person={person_a.pk}").status_code == 404
    assert "张三" not in client.get("/health/checks/pending/").content.decode()


def test_start_form_creates_the_observation(staff_a, medic, person_a):
    response = signed_in(staff_a).post(f"/health/observations/new/?person={person_a.pk}",
                                       {"kind": "home_quarantine", "reason": "arrival", "medic": medic.pk})
    observation = Observation.objects.get(person=person_a)
    assert response["Location"] == f"/health/observations/{observation.pk}/"
    assert observation.medic == medic


def test_early_end_without_reason_shows_the_error(staff_a, person_a):
    observation = ObservationFactory(person=person_a)
    response = signed_in(staff_a).post(f"/health/observations/{observation.pk}/release/", {})
    assert response.status_code == 400
    assert "未到计划解除日期" in response.content.decode()


def test_the_pending_quick_form_records_a_check_inline(medic, person_a):
    observation = ObservationFactory(person=person_a)
    client = signed_in(medic)
    assert "张三" in client.get("/health/checks/pending/").content.decode()

    response = client.post(f"/health/observations/{observation.pk}/quick-check/",
                           {f"o{observation.pk}-temperature": "36.8", f"o{observation.pk}-reporter": "staff_door"},
                           HTTP_HX_REQUEST="true")

    assert "已记录 36.8℃" in response.content.decode()
    assert HealthCheck.objects.get().reporter == "staff_door"


def test_the_list_shows_missed_checks_and_open_alerts(staff_a, person_a):
    observation = ObservationFactory(person=person_a, starts_on=timezone.localdate() - timezone.timedelta(days=2))
    check = HealthCheckFactory(observation=observation, temperature="38.2", abnormal=True)
    observation.alerts.create(check_record=check, community=observation.community, reason="体温 38.2℃")

    response = signed_in(staff_a).get("/health/observations/")

    listed = response.context["page"].object_list[0]
    assert listed.missed_checks >= 3
    assert listed.open_alerts == 1
