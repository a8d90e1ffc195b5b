"""The health API: lifecycle, idempotent checks, alerts, policies; 404 outside scope on every path."""

import uuid

import pytest
from django.utils import timezone

from fangkong.health.models import HealthCheck, Observation
from tests.clients import send, signed_in
from tests.health.factories import HealthCheckFactory, ObservationFactory
from tests.people.factories import PersonFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"



@pytest.fixture
def observed(person_a, medic):
    observation = ObservationFactory(person=person_a, medic=medic, family_contact_phone="13900001111")
    alert_check = HealthCheckFactory(observation=observation, temperature="38.1", abnormal=True)
    observation.alerts.create(check_record=alert_check, community=observation.community,
                              household=observation.household, reason="体温 38.1℃")
    return observation


SCOPED = [
    ("get", "/observations/{o}", None),
    ("get", "/observations/{o}/checks", None),
    ("post", "/observations/{o}/checks", {"temperature": "36.5", "reporter": "staff_phone"}),
    ("post", "/observations/{o}/extend", {"days": 3, "reason": "延长"}),
    ("post", "/observations/{o}/release", {"early": True, "reason": "提前"}),
    ("post", "/observations/{o}/end-early", {"reason": "提前"}),
    ("post", "/observations/{o}/transfer", {"site": "隔离点"}),
    ("post", "/health-alerts/{a}/handle", {"note": "已处理"}),
]


@pytest.mark.parametrize("who", ["grid_member_b", "staff_b"])
@pytest.mark.parametrize("method,url,body", SCOPED)
def test_community_a_observations_checks_and_alerts_are_404_to_community_b(request, observed, who, method, url, body):
    alert = observed.alerts.get()
    client = signed_in(request.getfixturevalue(who))

    response = send(client, method, url.format(o=observed.pk, a=alert.pk), body)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    observed.refresh_from_db()
    assert observed.status == "active"
    assert HealthCheck.objects.count() == 1


@pytest.mark.parametrize("who", ["grid_member_b", "staff_b"])
def test_lists_of_community_b_hold_nothing_of_a(request, observed, who):
    client = signed_in(request.getfixturevalue(who))
    for url in ("/observations", "/health-alerts", "/health-checks/pending"):
        assert send(client, "get", url).json() == {"items": [], "count": 0}


def test_start_by_api_then_the_detail_masks_the_family_phone(staff_a, medic, person_a):
    client = signed_in(staff_a)
    response = send(client, "post", "/observations", {
        "person_id": person_a.pk, "kind": "home_quarantine", "reason": "arrival", "medic_id": medic.pk,
        "family_contact_name": "张母", "family_contact_phone": "13900001111"})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["medic_id"] == medic.pk
    assert body["family_contact_phone"] == "139****1111"
    assert body["planned_end_on"] == str(timezone.localdate() + timezone.timedelta(days=14))
    again = send(client, "post", "/observations", {"person_id": person_a.pk, "kind": "home_quarantine",
                                                   "reason": "arrival"})
    assert again.status_code == 409
    assert "该人员已在隔离观察中" in again.json()["error"]["message"]


def test_a_person_outside_scope_cannot_be_observed(staff_b, person_a):
    response = send(signed_in(staff_b), "post", "/observations",
                    {"person_id": person_a.pk, "kind": "home_quarantine", "reason": "arrival"})
    assert response.status_code == 404
    assert response.json()["error"]["fields"] == {"person_id": "不存在或不在您的管辖范围内"}


def test_a_check_posted_twice_with_one_client_id_lands_once(medic, observed):
    client = signed_in(medic)
    body = {"temperature": "37.6", "symptoms": ["cough"], "reporter": "staff_door", "client_id": str(uuid.uuid4())}

    first = send(client, "post", f"/observations/{observed.pk}/checks", body)
    second = send(client, "post", f"/observations/{observed.pk}/checks", body)

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["abnormal"] is True
    assert HealthCheck.objects.filter(client_id=body["client_id"]).count() == 1


def test_a_check_of_45_degrees_is_400_on_temperature(medic, observed):
    response = send(signed_in(medic), "post", f"/observations/{observed.pk}/checks",
                    {"temperature": "45", "reporter": "staff_door"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["temperature"] == "体温 45.0℃ 不在合理范围(34–42℃)"


def test_a_resident_posts_checks_for_their_household_only(resident, observed, person_b, household_a):
    other = ObservationFactory(person=person_b)
    client = signed_in(resident)

    own = send(client, "post", f"/observations/{observed.pk}/checks", {"temperature": "36.4"})
    foreign = send(client, "post", f"/observations/{other.pk}/checks", {"temperature": "36.4"})

    assert own.status_code == 201
    assert own.json()["reporter"] == "self"
    assert foreign.status_code == 404
    assert send(client, "get", "/observations").status_code == 403


def test_alerts_are_listed_open_first_and_handled(medic, observed):
    client = signed_in(medic)
    alert = observed.alerts.get()

    assert [a["id"] for a in send(client, "get", "/health-alerts?mine=true").json()["items"]] == [alert.pk]
    handled = send(client, "post", f"/health-alerts/{alert.pk}/handle", {"note": "已送发热门诊"})
    assert handled.status_code == 200
    assert handled.json()["handling_note"] == "已送发热门诊"
    assert send(client, "get", "/health-alerts").json()["count"] == 0
    assert send(client, "post", f"/health-alerts/{alert.pk}/handle", {"note": "again"}).status_code == 409


def test_lifecycle_over_the_api(staff_a, person_a):
    observation = ObservationFactory(person=person_a, starts_on=timezone.localdate() - timezone.timedelta(days=3))
    client = signed_in(staff_a)

    too_early = send(client, "post", f"/observations/{observation.pk}/release", {})
    extended = send(client, "post", f"/observations/{observation.pk}/extend", {"days": 2, "reason": "复查"})
    transferred = send(client, "post", f"/observations/{observation.pk}/transfer", {"site": "区集中隔离点"})

    assert too_early.status_code == 400
    assert extended.json()["planned_end_on"] == str(observation.planned_end_on + timezone.timedelta(days=2))
    assert transferred.json()["kind"] == "central_quarantine"
    assert Observation.objects.get(pk=observation.pk).status == "transferred"


def test_pending_lists_who_has_not_reported_in_the_window(grid_member_a, person_a, household_a):
    waiting = ObservationFactory(person=PersonFactory(household=household_a))
    HealthCheckFactory(observation=ObservationFactory(person=person_a))
    items = send(signed_in(grid_member_a), "get", "/health-checks/pending").json()["items"]
    assert [item["observation_id"] for item in items] == [waiting.pk]


def test_policies_are_set_by_the_street_admin(street_admin, staff_a, street):
    body = {"kind": "home_monitoring", "days": 10, "effective_from": str(timezone.localdate())}
    refused = send(signed_in(staff_a), "post", "/observation-policies", {**body, "street_id": street.pk})
    assert refused.status_code == 403
    created = send(signed_in(street_admin), "post", "/observation-policies", body)
    assert created.status_code == 201
    assert send(signed_in(street_admin), "get", "/observation-policies").json()[0]["days"] == 10
