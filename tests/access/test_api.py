"""The checkpoint, pass and passage API: scans and batches from devices, scope, bad input."""

import datetime
import json
import uuid

import pytest
from django.utils import timezone

from fangkong.access import codes
from fangkong.access.models import Passage
from fangkong.people.codes import personal_code
from tests.access.factories import CheckpointFactory, PassFactory
from tests.clients import send, signed_in
from tests.people.factories import resident_id
from tests.zones.factories import ZoneFactory

pytestmark = pytest.mark.django_db


def scan_body(gate, code, direction="out", **more):
    return {"client_id": str(uuid.uuid4()), "checkpoint_id": gate.pk, "direction": direction, "code": code, **more}


def test_a_scan_is_answered_with_the_decision_and_a_retry_with_the_same_passage(gate_a, person_a, volunteer):
    client = signed_in(volunteer)
    body = scan_body(gate_a, personal_code(person_a), temperature="36.6")

    first = send(client, "post", "/passages", body)
    again = send(client, "post", "/passages", body)

    assert first.status_code == 201, first.content
    assert (first.json()["result"], first.json()["message"], first.json()["person_name"]) == (
        "allowed", "放行 · 出", "张三")
    assert again.status_code == 200 and again.json()["replayed"] and again.json()["id"] == first.json()["id"]
    assert Passage.objects.count() == 1


def test_a_sealed_residents_scan_is_answered_red_with_the_reason(gate_a, person_a, unit_a, volunteer):
    ZoneFactory(place=unit_a)

    answer = send(signed_in(volunteer), "post", "/passages", scan_body(gate_a, personal_code(person_a))).json()

    assert (answer["result"], answer["reason"], answer["reason_label"]) == ("refused", "zone_sealed", "封控区足不出户")


def test_a_household_pass_answer_says_which_exit_of_the_period_it_is(compound_a, household_a, volunteer):
    gate = CheckpointFactory(community=compound_a.community, compound=compound_a, pass_required=True)
    card = PassFactory(household=household_a, quota_exits=1, quota_days=3)

    answer = send(signed_in(volunteer), "post", "/passages", scan_body(gate, codes.pass_code(card))).json()

    assert (answer["quota_used"], answer["quota_total"], answer["pass_id"]) == (1, 1, card.pk)
    assert answer["message"] == "放行 · 出 · 本期第 1 次,共 1 次"


def test_a_visitor_is_registered_with_masked_details_in_the_answer(gate_a, volunteer):
    body = {"client_id": str(uuid.uuid4()), "checkpoint_id": gate_a.pk, "direction": "in", "plate": "蒙A12345",
            "visitor": {"name": "赵访客", "phone": "13900001111", "id_number": resident_id(9001), "reason": "送菜"}}

    answer = send(signed_in(volunteer), "post", "/passages", body).json()

    assert answer["visitor_phone"] == "139****1111"
    assert answer["visitor_id_number"] == resident_id(9001)[:3] + "*" * 11 + resident_id(9001)[-4:]
    assert Passage.objects.get().visitor_id_number == resident_id(9001)


@pytest.mark.parametrize(("change", "field"), [
    ({"checkpoint_id": None}, "checkpoint_id"),
    ({"client_id": "x"}, "client_id"),
    ({"direction": "up"}, "direction"),
    ({"temperature": "hot"}, "temperature"),
    ({"occurred_at": (timezone.now() + datetime.timedelta(days=2)).isoformat()}, "occurred_at"),
    ({"code": ""}, "code"),
])
def test_bad_input_gets_a_400_naming_the_field_and_stores_nothing(gate_a, person_a, volunteer, change, field):
    response = send(signed_in(volunteer), "post", "/passages", {**scan_body(gate_a, personal_code(person_a)), **change})

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not Passage.objects.exists()


def test_a_gate_outside_the_scope_is_404_naming_the_field(gate_a, person_a, staff_b):
    response = send(signed_in(staff_b), "post", "/passages", scan_body(gate_a, personal_code(person_a)))

    assert response.status_code == 404 and "checkpoint_id" in response.json()["error"]["fields"]


def test_a_malformed_body_is_a_clear_400(volunteer):
    response = signed_in(volunteer).post("/api/v1/passages/batch", "[{", content_type="application/json")

    assert response.status_code == 400 and response.json()["error"]["code"] == "malformed"


def test_a_batch_is_answered_row_by_row_and_its_replay_stores_nothing(gate_a, person_a, volunteer):
    client = signed_in(volunteer)
    rows = [scan_body(gate_a, personal_code(person_a), offline_result="allowed"),
            scan_body(gate_a, "FK1:forged", offline_result="allowed"),
            {**scan_body(gate_a, personal_code(person_a)), "direction": "sideways"}]

    first = client.post("/api/v1/passages/batch", json.dumps(rows), content_type="application/json")
    again = client.post("/api/v1/passages/batch", json.dumps(rows), content_type="application/json")

    assert [a["status"] for a in first.json()] == ["stored", "conflict", "invalid"]
    assert [a["status"] for a in again.json()] == ["duplicate", "duplicate", "invalid"]
    assert Passage.objects.count() == 2


def test_a_batch_row_of_the_wrong_shape_is_a_400_naming_where(volunteer):
    response = send(signed_in(volunteer), "post", "/passages/batch", [{"client_id": 12}])

    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


def test_staff_set_up_a_gate_and_a_volunteer_may_not(staff_a, volunteer, compound_a):
    body = {"community_id": compound_a.community_id, "name": "驰誉小区西门", "compound_id": compound_a.pk,
            "direction": "out", "pass_required": True, "test_within_hours": 72}

    created = send(signed_in(staff_a), "post", "/checkpoints", body)
    refused = send(signed_in(volunteer), "post", "/checkpoints", {**body, "name": "另一个门"})

    assert created.status_code == 201 and created.json()["place"] == "驰誉小区"
    assert refused.status_code == 403
    changed = send(signed_in(staff_a), "put", f"/checkpoints/{created.json()['id']}",
                   {"name": "驰誉小区西门", "direction": "both", "active": False})
    assert changed.json()["active"] is False and changed.json()["direction"] == "both"


def test_a_pass_is_issued_shown_with_its_quota_and_revoked(staff_a, household_a):
    client = signed_in(staff_a)
    until = (timezone.now() + datetime.timedelta(days=14)).isoformat()

    issued = send(client, "post", "/passes", {"kind": "shopping", "household_id": household_a.pk, "valid_until": until,
                                              "quota_exits": 2, "quota_days": 7})
    revoked = send(client, "post", f"/passes/{issued.json()['id']}/revoke", {"reason": "全户转运"})

    assert issued.status_code == 201 and (issued.json()["quota_left"], issued.json()["holder"]) == (2, "3号楼2单元301")
    assert revoked.json()["revoke_reason"] == "全户转运" and revoked.json()["revoked_at"]


def test_a_pass_with_bad_terms_is_a_400_naming_the_field(staff_a, household_a):
    response = send(signed_in(staff_a), "post", "/passes", {
        "kind": "shopping", "household_id": household_a.pk,
        "valid_until": (timezone.now() + datetime.timedelta(days=1)).isoformat(), "quota_exits": 1})

    assert response.status_code == 400 and "quota_days" in response.json()["error"]["fields"]


def test_a_resident_sees_their_households_pass_and_what_is_left(resident, household_a, person_a, compound_a, scan):
    closed_gate = CheckpointFactory(community=compound_a.community, compound=compound_a, pass_required=True)
    PassFactory(household=household_a, quota_exits=2, quota_days=3)
    scan(closed_gate, person_a)

    answer = send(signed_in(resident), "get", "/me/passes").json()

    assert [(p["kind"], p["quota_used"], p["quota_left"]) for p in answer] == [("shopping", 1, 1)]


def test_the_scanners_snapshot_holds_the_gates_rules_and_each_persons_status(gate_a, person_a, unit_a, household_a,
                                                                           volunteer):
    ZoneFactory(place=unit_a)
    card = PassFactory(household=household_a, quota_exits=1, quota_days=3)

    snapshot = send(signed_in(volunteer), "get", f"/checkpoints/{gate_a.pk}/snapshot").json()

    assert snapshot["checkpoint"]["id"] == gate_a.pk and snapshot["fever"] == "37.3"
    assert snapshot["people"][str(person_a.pk)] == {"household": household_a.pk, "name": "张*", "movement": "sealed",
                                                    "medical": False, "tested_until": None}
    assert snapshot["passes"][str(card.pk)]["quota_exits"] == 1


def test_residents_may_not_scan_as_guards(resident, gate_a, person_a):
    assert send(signed_in(resident), "post", "/passages", scan_body(gate_a, personal_code(person_a))).status_code == 403


@pytest.fixture
def passage_a(gate_a, person_a, scan):
    return scan(gate_a, person_a).passage


@pytest.fixture
def pass_a(household_a):
    return PassFactory(household=household_a)


@pytest.mark.parametrize("url", ["/checkpoints/{gate}", "/checkpoints/{gate}/snapshot", "/passes/{pass_}",
                                 "/passages/{passage}"])
def test_an_outsider_gets_404_for_every_row_of_another_community(staff_b, grid_member_b, gate_a, pass_a, passage_a,
                                                                   url):
    path = url.format(gate=gate_a.pk, pass_=pass_a.pk, passage=passage_a.pk)
    for outsider in (staff_b, grid_member_b):
        response = send(signed_in(outsider), "get", path)
        assert response.status_code == 404, (outsider, path)


@pytest.mark.parametrize("url", ["/checkpoints", "/passes", "/passages"])
def test_an_outsiders_lists_hold_nothing_of_another_community(staff_b, gate_a, pass_a, passage_a, url):
    assert send(signed_in(staff_b), "get", url).json() == {"items": [], "count": 0}


def test_a_grid_member_follows_the_passages_at_the_gate_of_their_compound_visitors_too(grid_member_a, building_a,
                                                                                        gate_a, volunteer):
    body = {"client_id": str(uuid.uuid4()), "checkpoint_id": gate_a.pk, "direction": "in",
            "visitor": {"name": "赵访客", "phone": "13900001111"}}
    send(signed_in(volunteer), "post", "/passages", body)

    listed = send(signed_in(grid_member_a), "get", f"/passages?checkpoint_id={gate_a.pk}").json()

    assert [p["visitor_name"] for p in listed["items"]] == ["赵访客"]
