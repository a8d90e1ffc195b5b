"""The care API: people inside, tasks, checks once a day, medical exceptions; 404 outside scope on every path."""

import pytest

from fangkong.zones import services
from fangkong.zones.models import CareCheck, CareTask, MedicalException
from tests.clients import signed_in
from tests.people.factories import PersonFactory
from tests.places.factories import HouseholdFactory, UnitFactory
from tests.zones.factories import ZoneFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"


def send(client, method: str, url: str, body=None):
    return getattr(client, method)(f"{API}{url}", body, content_type="application/json")


@pytest.fixture
def zone(unit_a, household_a, person_a, staff_a):
    PersonFactory(household=household_a, name="王透析", tags=["dialysis"], phone="13912345678")
    zone = ZoneFactory(place=unit_a)
    services.care_tasks_sync(actor=staff_a, zone=zone)
    return zone


@pytest.fixture
def task(zone):
    return CareTask.objects.get(zone=zone)


def test_people_inside_come_masked_with_the_vulnerable_first(zone, grid_member_a):
    response = send(signed_in(grid_member_a), "get", f"/zones/{zone.pk}/people")

    assert response.status_code == 200
    [household] = response.json()
    assert household["address"] == "3-2-301" and household["vulnerable"] is True
    first, second = household["members"]
    assert first["name"] == "王透析" and first["needs"] == ["dialysis"] and first["task_id"] is not None
    assert first["phone"] == "139****5678" and "*" in first["id_number"]
    assert second["name"] == "张三" and second["task_id"] is None


def test_a_check_posted_twice_is_one_check(task, medic):
    client = signed_in(medic)

    first = send(client, "post", f"/care-tasks/{task.pk}/checks", {"outcome": "not_reached"})
    second = send(client, "post", f"/care-tasks/{task.pk}/checks", {"outcome": "well"})

    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert CareCheck.objects.get().outcome == "well"
    tasks = send(client, "get", f"/zones/{task.zone_id}/care-tasks").json()
    assert tasks[0]["today"]["outcome"] == "well" and tasks[0]["needs"] == ["dialysis"]


@pytest.mark.parametrize("body,field", [
    ({"outcome": "fine"}, "outcome"),
    ({"outcome": "needs_help"}, "note"),
    ({}, "outcome"),
    ({"outcome": "well", "day": "tomorrow"}, "day"),
])
def test_bad_checks_get_a_clear_400_naming_the_field(task, staff_a, body, field):
    response = send(signed_in(staff_a), "post", f"/care-tasks/{task.pk}/checks", body)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not CareCheck.objects.exists()


def test_a_medical_exception_is_recorded_and_listed_with_who_allowed_it(zone, volunteer):
    patient = zone_patient(zone)
    client = signed_in(volunteer)

    response = send(client, "post", f"/zones/{zone.pk}/exceptions",
                    {"person_id": patient.pk, "need": "dialysis", "destination": "市第一医院"})

    assert response.status_code == 201
    assert response.json()["allowed_by"] == "volunteer_a" and response.json()["need_label"] == "透析"
    listed = send(client, "get", f"/zones/{zone.pk}/exceptions").json()
    assert [row["person_name"] for row in listed] == ["王透析"]


def zone_patient(zone):
    return CareTask.objects.get(zone=zone).person


def test_an_exception_for_someone_outside_the_zone_or_an_unknown_need_is_400(zone, building_a, staff_a):
    neighbour = PersonFactory(household=HouseholdFactory(unit=UnitFactory(building=building_a, number="1")))
    client = signed_in(staff_a)

    outside = send(client, "post", f"/zones/{zone.pk}/exceptions", {"person_id": neighbour.pk, "need": "medicine"})
    unknown = send(client, "post", f"/zones/{zone.pk}/exceptions",
                   {"person_id": zone_patient(zone).pk, "need": "haircut"})

    assert outside.status_code == 400 and "person" in outside.json()["error"]["fields"]
    assert unknown.status_code == 400 and "need" in unknown.json()["error"]["fields"]
    assert not MedicalException.objects.exists()


def test_wrong_ids_are_404(zone, staff_a):
    client = signed_in(staff_a)

    assert send(client, "get", "/zones/999999/people").status_code == 404
    assert send(client, "post", "/care-tasks/999999/checks", {"outcome": "well"}).status_code == 404
    missing_person = send(client, "post", f"/zones/{zone.pk}/exceptions", {"person_id": 999999, "need": "dialysis"})
    assert missing_person.status_code == 404 and "person_id" in missing_person.json()["error"]["fields"]


def test_a_task_is_assigned_to_a_grid_member_of_the_household(task, staff_a, grid_member_a, grid_member_b):
    client = signed_in(staff_a)

    response = send(client, "post", f"/care-tasks/{task.pk}/assign", {"assignee_id": grid_member_a.pk})
    other = send(client, "post", f"/care-tasks/{task.pk}/assign", {"assignee_id": grid_member_b.pk})

    assert response.status_code == 200 and response.json()["assignee"] == "grid_a"
    assert other.status_code == 404


def test_a_stopped_task_cannot_be_assigned(task, staff_a, grid_member_a):
    services.zone_lift(actor=staff_a, zone=task.zone, override_reason="全员转运")

    response = send(signed_in(staff_a), "post", f"/care-tasks/{task.pk}/assign", {"assignee_id": grid_member_a.pk})

    assert response.status_code == 409
    task.refresh_from_db()
    assert task.assignee is None


SCOPED = [
    ("get", "/zones/{z}/people", None),
    ("get", "/zones/{z}/care-tasks", None),
    ("get", "/zones/{z}/exceptions", None),
    ("post", "/zones/{z}/exceptions", {"person_id": "{p}", "need": "dialysis"}),
    ("post", "/care-tasks/{t}/checks", {"outcome": "well"}),
    ("post", "/care-tasks/{t}/assign", {"assignee_id": None}),
]


@pytest.mark.parametrize("who", ["grid_member_b", "staff_b"])
@pytest.mark.parametrize("method,url,body", SCOPED)
def test_community_a_care_is_404_to_community_b(request, task, who, method, url, body):
    client = signed_in(request.getfixturevalue(who))
    if body and body.get("person_id") == "{p}":
        body = {**body, "person_id": task.person_id}

    response = send(client, method, url.format(z=task.zone_id, t=task.pk), body)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not CareCheck.objects.exists() and not MedicalException.objects.exists()
