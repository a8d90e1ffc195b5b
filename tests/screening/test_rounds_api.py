"""The screening-round API: start, progress, visits and lists; 404 outside scope, 400 naming the field."""

import pytest

from fangkong.people.models import Person
from fangkong.screening import services
from fangkong.screening.models import FollowUp, HouseholdVisit
from tests.clients import send, signed_in
from tests.people.factories import resident_id
from tests.places.factories import HouseholdFactory

API = "/api/v1"



@pytest.fixture
def round_a(staff_a, community_a):
    return services.screening_round_start(actor=staff_a, community=community_a)


def test_staff_start_a_round_and_read_its_progress(staff_a, community_a, grid_a, household_a, unit_a):
    HouseholdFactory(unit=unit_a, room="302")
    client = signed_in(staff_a)
    # When community staff start a round of grid A
    started = send(client, "post", "/screening-rounds", {"community_id": community_a.pk, "grid_ids": [grid_a.pk]})
    assert started.status_code == 201, started.content
    body = started.json()
    assert (body["name"], body["number"], body["grid_ids"]) == ("第1轮排查", 1, [grid_a.pk])
    # And a grid member records a door visit
    round_id = body["id"]
    visit = send(client, "post", f"/screening-rounds/{round_id}/visits",
                 {"household_id": household_a.pk, "method": "door", "people_present": 2})
    assert visit.status_code == 201, visit.content
    assert visit.json()["pass_number"] == 1
    # Then the round's progress shows one of two households done
    detail = send(client, "get", f"/screening-rounds/{round_id}").json()
    assert detail["progress"] == [{"grid_id": grid_a.pk, "grid_name": "第一网格", "total": 2, "done": 1,
                                   "not_reached": 0, "pending": 1}]
    assert detail["totals"]["done"] == 1
    assert send(client, "get", "/screening-rounds").json()["count"] == 1


def test_not_reached_list_for_the_next_pass(staff_a, round_a, household_a, unit_a):
    other = HouseholdFactory(unit=unit_a, room="302")
    client = signed_in(staff_a)
    send(client, "post", f"/screening-rounds/{round_a.pk}/visits", {"household_id": other.pk, "method": "not_reached"})
    rows = send(client, "get", f"/screening-rounds/{round_a.pk}/households?status=not_reached").json()
    assert rows["count"] == 1
    assert rows["items"][0]["address"] == "3-2-302"
    assert (rows["items"][0]["status"], rows["items"][0]["latest_pass"]) == ("not_reached", 1)
    pending = send(client, "get", f"/screening-rounds/{round_a.pk}/households?status=pending").json()
    assert [row["address"] for row in pending["items"]] == ["3-2-301"]
    assert send(client, "get", f"/screening-rounds/{round_a.pk}/households?status=lost").status_code == 400


def test_new_persons_found_by_api_are_registered_and_followed(grid_member_a, round_a, household_a):
    body = {"household_id": household_a.pk, "method": "door", "anomalies": ["risk_area_arrival"],
            "new_persons": [{"name": "王五", "id_number": resident_id(401), "phone": "13900002222"}]}
    answer = send(signed_in(grid_member_a), "post", f"/screening-rounds/{round_a.pk}/visits", body)
    assert answer.status_code == 201, answer.content
    person = Person.objects.get(name="王五")
    assert person.household == household_a
    assert FollowUp.objects.get(person=person).reason == "入户排查发现"


def test_grid_member_of_grid_b_gets_404_on_grid_a_household(grid_member_b, round_a, household_a):
    answer = send(signed_in(grid_member_b), "post", f"/screening-rounds/{round_a.pk}/visits",
                  {"household_id": household_a.pk, "method": "door"})
    assert answer.status_code == 404
    assert not HouseholdVisit.objects.exists()


def test_staff_of_another_community_get_404_on_the_round(staff_b, round_a, household_a):
    client = signed_in(staff_b)
    assert send(client, "get", f"/screening-rounds/{round_a.pk}").status_code == 404
    assert send(client, "get", f"/screening-rounds/{round_a.pk}/households").status_code == 404
    assert send(client, "post", f"/screening-rounds/{round_a.pk}/close").status_code == 404
    assert send(client, "get", "/screening-rounds").json()["count"] == 0


def test_grid_member_may_not_start_or_close_rounds(grid_member_a, community_a, round_a):
    client = signed_in(grid_member_a)
    assert send(client, "post", "/screening-rounds", {"community_id": community_a.pk}).status_code == 403
    assert send(client, "post", f"/screening-rounds/{round_a.pk}/close").status_code == 403


@pytest.mark.parametrize("body, field", [
    ({"method": "knock"}, "method"),
    ({"method": "door", "anomalies": ["zombie"]}, "anomalies"),
    ({"method": "door", "people_present": 500}, "people_present"),
    ({"method": "door", "new_persons": [{"name": "王五", "id_number": "110101199001011234"}]}, "new_persons"),
])
def test_bad_visits_are_400_and_write_nothing(grid_member_a, round_a, household_a, body, field):
    answer = send(signed_in(grid_member_a), "post", f"/screening-rounds/{round_a.pk}/visits",
                  {"household_id": household_a.pk, **body})
    assert answer.status_code == 400
    assert field in answer.json()["error"]["fields"]
    assert not HouseholdVisit.objects.exists()
    assert not Person.objects.filter(name="王五").exists()


def test_closed_round_answers_409(staff_a, round_a, household_a):
    client = signed_in(staff_a)
    assert send(client, "post", f"/screening-rounds/{round_a.pk}/close").json()["closed_at"]
    answer = send(client, "post", f"/screening-rounds/{round_a.pk}/visits", {"household_id": household_a.pk,
                                                                             "method": "door"})
    assert answer.status_code == 409
    assert "已经结束" in answer.json()["error"]["message"]
