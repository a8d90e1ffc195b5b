"""The sampling API: tubes, single and batch registrations by site devices, 404 outside scope."""

import uuid

import pytest

from fangkong.accounts.services import token_create
from fangkong.people.codes import personal_code
from fangkong.testing.models import Sample, Tube
from tests.clients import signed_in
from tests.people.factories import PersonFactory
from tests.testing.factories import SamplingSiteFactory, TubeFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"


def send(client, url: str, body=None, **headers):
    return client.post(f"{API}{url}", body, content_type="application/json", **headers)


def _sample(round, site, tube, **person):
    return {"client_id": str(uuid.uuid4()), "round_id": round.pk, "site_id": site.pk, "tube": tube, **person}


def test_a_device_registers_by_code_opening_the_tube_and_a_retry_lands_once(medic, round_a, site_a, person_a):
    client = signed_in(medic)
    body = _sample(round_a, site_a, "api-1", code=personal_code(person_a), door_to_door=True)
    first = send(client, "/samples", body)
    again = send(client, "/samples", body)
    assert first.status_code == 201, first.json()
    assert first.json()["tube"] == "API-1" and first.json()["person_name"] == "张三"
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert Sample.objects.count() == 1 and Sample.objects.get().door_to_door


def test_a_bearer_token_registers_by_id_number(medic, round_a, site_a, person_a, client):
    token = token_create(actor=medic, user=medic, label="采样点平板")
    response = send(client, "/samples", _sample(round_a, site_a, "T-1", id_number=person_a.id_number),
                    HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 201, response.json()
    assert Sample.objects.get().sampler == medic


def test_a_second_sample_in_the_round_is_409(medic, round_a, site_a, person_a):
    client = signed_in(medic)
    send(client, "/samples", _sample(round_a, site_a, "A1", person_id=person_a.pk))
    twice = send(client, "/samples", _sample(round_a, site_a, "A2", person_id=person_a.pk))
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_sampled"


def test_tubes_open_show_undo_and_close(medic, round_a, site_a, household_a):
    client = signed_in(medic)
    opened = send(client, "/tubes", {"round_id": round_a.pk, "site_id": site_a.pk, "barcode": "t-9"})
    assert opened.status_code == 201 and opened.json()["barcode"] == "T-9"
    tube_id = opened.json()["id"]
    first, second = PersonFactory.create_batch(2, household=household_a)
    for person in (first, second):
        send(client, "/samples", _sample(round_a, site_a, "T-9", person_id=person.pk))
    shown = client.get(f"{API}/tubes/{tube_id}").json()
    assert [s["person_id"] for s in shown["samples"]] == [first.pk, second.pk]
    assert "*" in shown["samples"][0]["person_id_number"]
    undone = send(client, f"/tubes/{tube_id}/undo").json()
    assert undone["sample_count"] == 1
    closed = send(client, f"/tubes/{tube_id}/close").json()
    assert closed["status"] == "closed"
    used = send(client, "/tubes", {"round_id": round_a.pk, "site_id": site_a.pk, "barcode": "T-9"})
    assert used.status_code == 409 and "春雨广场" in used.json()["error"]["message"]


def test_a_grid_account_on_the_sites_team_works_with_the_tubes_it_opens(grid_member_a, round_a, site_a,
                                                                         person_a_other_grid):
    site_a.team.add(grid_member_a)
    client = signed_in(grid_member_a)

    opened = send(client, "/tubes", {"round_id": round_a.pk, "site_id": site_a.pk, "barcode": "g-1"})
    assert opened.status_code == 201, opened.json()
    tube_id = opened.json()["id"]
    send(client, "/samples", _sample(round_a, site_a, "G-1", code=personal_code(person_a_other_grid)))

    shown = client.get(f"{API}/tubes/{tube_id}").json()
    assert [s["person_id"] for s in shown["samples"]] == [person_a_other_grid.pk]
    assert send(client, f"/tubes/{tube_id}/undo").json()["sample_count"] == 0
    send(client, "/samples", _sample(round_a, site_a, "G-1", code=personal_code(person_a_other_grid)))
    assert send(client, f"/tubes/{tube_id}/close").json()["status"] == "closed"


def test_a_grid_account_not_on_the_team_does_not_see_its_tubes(grid_member_a, medic, round_a, site_a):
    tube = TubeFactory(round=round_a, site=site_a, barcode="M-1", opened_by=medic)
    SamplingSiteFactory(community=round_a.community, name="另一采样点").team.add(grid_member_a)
    assert signed_in(grid_member_a).get(f"{API}/tubes/{tube.pk}").status_code == 404


def test_a_batch_is_answered_row_by_row_and_a_replay_stores_nothing(medic, round_a, site_a, household_a):
    people = PersonFactory.create_batch(4, household=household_a)
    rows = [_sample(round_a, site_a, "BATCH-1", person_id=person.pk) for person in people]
    client = signed_in(medic)
    first = send(client, "/samples/batch", rows)
    replay = send(client, "/samples/batch", rows)
    assert first.status_code == 200, first.json()
    assert [row["status"] for row in first.json()] == ["stored"] * 4
    assert [row["status"] for row in replay.json()] == ["duplicate"] * 4
    assert Tube.objects.get().sample_count == 4 and Sample.objects.count() == 4


def test_an_id_number_typed_into_the_code_field_is_taken_alike_one_by_one_and_in_a_batch(medic, round_a, site_a,
                                                                                         household_a):
    first, second = PersonFactory.create_batch(2, household=household_a)
    client = signed_in(medic)

    single = send(client, "/samples", _sample(round_a, site_a, "C-1", code=first.id_number))
    batch = send(client, "/samples/batch", [_sample(round_a, site_a, "C-1", code=second.id_number)])

    assert single.status_code == 201, single.json()
    assert batch.json()[0]["status"] == "stored", batch.json()
    assert set(Sample.objects.values_list("person_id", flat=True)) == {first.pk, second.pk}


def test_outside_scope_is_404(staff_b, grid_member_b, round_a, site_a, person_a, medic):
    tube = TubeFactory(round=round_a, site=site_a, barcode="S-1", opened_by=medic)
    for user in (staff_b, grid_member_b):
        client = signed_in(user)
        registered = send(client, "/samples", _sample(round_a, site_a, "S-1", person_id=person_a.pk))
        assert registered.status_code == 404 and "round_id" in registered.json()["error"]["fields"]
        assert client.get(f"{API}/tubes/{tube.pk}").status_code == 404
        assert send(client, f"/tubes/{tube.pk}/close").status_code == 404
        assert send(client, f"/tubes/{tube.pk}/undo").status_code == 404
        rows = send(client, "/samples/batch", [_sample(round_a, site_a, "S-1", person_id=person_a.pk)]).json()
        assert rows[0]["status"] == "refused"
    assert not Sample.objects.exists()


def test_a_resident_may_not_register(resident, round_a, site_a, person_a):
    response = send(signed_in(resident), "/samples", _sample(round_a, site_a, "R-1", person_id=person_a.pk))
    assert response.status_code in (401, 403)


def test_malformed_registrations_are_400_naming_the_field_and_store_nothing(medic, round_a, site_a, person_a):
    client = signed_in(medic)
    bad_id = send(client, "/samples", {**_sample(round_a, site_a, "bad-1", person_id=person_a.pk), "round_id": "abc"})
    bad_uuid = send(client, "/samples", {**_sample(round_a, site_a, "bad-1", person_id=person_a.pk),
                                         "client_id": "x"})
    bad_batch = send(client, "/samples/batch", [{"client_id": "x", "round_id": round_a.pk}])
    not_json = client.post(f"{API}/samples", "{", content_type="application/json")
    batch_not_json = client.post(f"{API}/samples/batch", "[{", content_type="application/json")
    batch_not_a_list = send(client, "/samples/batch", {"client_id": "x"})
    answers = (bad_id, bad_uuid, bad_batch, not_json, batch_not_json, batch_not_a_list)
    assert [r.status_code for r in answers] == [400] * 6
    assert "round_id" in bad_id.json()["error"]["fields"] and "client_id" in bad_uuid.json()["error"]["fields"]
    assert {"site_id", "tube"} <= set(bad_batch.json()["error"]["fields"])
    assert [r.json()["error"]["code"] for r in (not_json, batch_not_json, batch_not_a_list)] == [
        "malformed", "malformed", "invalid"]
    assert not Sample.objects.exists() and not Tube.objects.exists()
