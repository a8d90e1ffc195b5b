"""The zone API: list, detail with the countdown, draw, accept, change, lift, rounds, policies, movement;
404 outside scope."""

import datetime
import json

import pytest
from django.utils import timezone

from fangkong.zones import services
from fangkong.zones.models import Level, Zone, ZonePolicy
from tests.clients import signed_in
from tests.health.factories import CaseFactory
from tests.zones.factories import ZoneFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"
DAY = datetime.timedelta(days=1)


def post(client, path, body):
    return client.post(f"{API}{path}", json.dumps(body), content_type="application/json")


def test_the_list_filters_by_status_and_shows_the_countdown(staff_a, unit_a, compound_a):
    ZoneFactory(place=unit_a, started_at=timezone.now() - 4 * DAY)
    ZoneFactory(place=compound_a, level=Level.PRECAUTION, status=Zone.Status.LIFTED)
    client = signed_in(staff_a)
    zone = Zone.objects.get(place_key=f"unit:{unit_a.pk}")
    services.zone_round_record(actor=staff_a, zone=zone, on=timezone.localdate(), negative=True)

    answer = client.get(f"{API}/zones", {"status": "active"}).json()

    assert answer["count"] == 1
    item = answer["items"][0]
    assert item["place_label"] == "驰誉小区3号楼2单元"
    assert item["days_left"] == 10 and item["rounds_needed"] == 2 and item["negative_rounds_done"] == 1
    assert item["may_unlock"] is False
    assert client.get(f"{API}/zones", {"status": "ended"}).json()["count"] == 1


def test_a_zone_past_its_date_with_its_rounds_done_may_be_unlocked(staff_a, unit_a):
    # Given a controlled unit drawn 15 days ago (14 days, one negative round needed), its round done yesterday
    ZoneFactory(place=unit_a, level=Level.CONTROLLED, started_at=timezone.now() - 15 * DAY)
    zone = Zone.objects.get(place_key=f"unit:{unit_a.pk}")
    services.zone_round_record(actor=staff_a, zone=zone, on=timezone.localdate() - DAY, negative=True)

    item = signed_in(staff_a).get(f"{API}/zones", {"status": "active"}).json()["items"][0]

    assert (item["days_left"], item["rounds_needed"], item["may_unlock"]) == (0, 1, True)


def test_draw_accept_change_and_lift_through_the_api(staff_a, unit_a, building_a, person_a):
    client = signed_in(staff_a)
    drawn = post(client, "/zones", {"level": "controlled", "place_kind": "unit", "place_id": unit_a.pk,
                                    "reason": "密接所在单元"})
    assert drawn.status_code == 201
    zone_id = drawn.json()["id"]

    changed = post(client, f"/zones/{zone_id}/change", {"reason": "同楼新增阳性", "level": "sealed",
                                                        "place_kind": "building", "place_id": building_a.pk})
    assert changed.status_code == 200
    new = changed.json()
    assert new["supersedes_id"] == zone_id and new["level"] == "sealed" and new["place_kind"] == "building"

    early = post(client, f"/zones/{new['id']}/lift", {})
    assert early.status_code == 400 and "还需" in early.json()["error"]["message"]
    lifted = post(client, f"/zones/{new['id']}/lift", {"override_reason": "区指挥部同意"})
    assert lifted.json()["status"] == "lifted" and lifted.json()["lifted_by_override"] is True
    assert [e["kind"] for e in lifted.json()["history"]][-2:] == ["override", "lifted"]


def test_accepting_an_accepted_zone_is_409(staff_a, street_admin, unit_a, person_a):
    zone = services.zone_propose(actor=staff_a, level=Level.SEALED, place=unit_a, case=CaseFactory(person=person_a))
    assert post(signed_in(staff_a), f"/zones/{zone.pk}/accept", {"guarded": True}).status_code == 200

    again = post(signed_in(street_admin), f"/zones/{zone.pk}/accept", {})

    assert again.status_code == 409 and "staff_a" in again.json()["error"]["message"]


def test_rounds_and_detail(medic, unit_a):
    zone = ZoneFactory(place=unit_a, started_at=timezone.now() - DAY)
    client = signed_in(medic)

    answer = post(client, f"/zones/{zone.pk}/rounds", {"on": timezone.localdate().isoformat(), "negative": True})
    twice = post(client, f"/zones/{zone.pk}/rounds", {"on": timezone.localdate().isoformat(), "negative": True})

    assert answer.status_code == 201 and answer.json()["rounds"][0]["negative"] is True
    assert twice.status_code == 400 and "on" in twice.json()["error"]["fields"]
    assert client.get(f"{API}/zones/{zone.pk}").json()["negative_rounds_done"] == 1


def test_a_grid_member_may_not_draw(grid_member_a, unit_a):
    answer = post(signed_in(grid_member_a), "/zones", {"level": "sealed", "place_kind": "unit", "place_id": unit_a.pk,
                                                       "reason": "x"})
    assert answer.status_code == 403


def test_policies_through_the_api(street_admin):
    client = signed_in(street_admin)
    answer = post(client, "/zone-policies", {"level": "sealed", "days_without_positive": 10, "negative_rounds": 3,
                                             "effective_from": timezone.localdate().isoformat()})

    assert answer.status_code == 201
    assert ZonePolicy.objects.get().negative_rounds == 3
    assert client.get(f"{API}/zone-policies").json()["items"][0]["days_without_positive"] == 10
    bad = post(client, "/zone-policies", {"level": "sealed", "days_without_positive": 0, "negative_rounds": 3,
                                          "effective_from": timezone.localdate().isoformat()})
    assert bad.status_code == 400


def test_a_persons_movement(staff_a, person_a, building_a):
    ZoneFactory(place=building_a, level=Level.CONTROLLED)

    answer = signed_in(staff_a).get(f"{API}/persons/{person_a.pk}/movement").json()

    assert answer["movement"] == "controlled" and answer["label"] == "管控:人不出区"
    assert answer["zones"][0]["place_label"] == "驰誉小区3号楼"


@pytest.mark.parametrize("outsider", ["staff_b", "grid_member_b"])
def test_every_zone_endpoint_is_404_outside_scope(request, outsider, unit_a, person_a):
    zone = ZoneFactory(place=unit_a)
    client = signed_in(request.getfixturevalue(outsider))
    today = timezone.localdate().isoformat()

    answers = [
        client.get(f"{API}/zones/{zone.pk}"),
        post(client, f"/zones/{zone.pk}/accept", {}),
        post(client, f"/zones/{zone.pk}/dismiss", {"reason": "x"}),
        post(client, f"/zones/{zone.pk}/change", {"reason": "x", "level": "controlled"}),
        post(client, f"/zones/{zone.pk}/lift", {"override_reason": "x"}),
        post(client, f"/zones/{zone.pk}/rounds", {"on": today, "negative": True}),
        post(client, "/zones", {"level": "sealed", "place_kind": "unit", "place_id": unit_a.pk, "reason": "x"}),
        client.get(f"{API}/persons/{person_a.pk}/movement"),
    ]

    assert [a.status_code for a in answers] == [404] * len(answers)
    assert client.get(f"{API}/zones").json()["count"] == 0
    zone.refresh_from_db()
    assert zone.status == Zone.Status.ACTIVE


def test_a_zone_narrowed_to_a_grid_lists_to_its_grid_member_only_the_cases_of_their_grid(
        staff_a, grid_member_a, person_a, person_a_other_grid, compound_a, building_a):
    zone = ZoneFactory(place=compound_a)
    own, other = CaseFactory(person=person_a), CaseFactory(person=person_a_other_grid)
    zone.cases.add(own, other)
    narrowed = services.zone_change(actor=staff_a, zone=zone, reason="缩小范围", place=building_a)

    answer = signed_in(grid_member_a).get(f"{API}/zones/{narrowed.pk}").json()

    assert answer["case_ids"] == [own.pk]
    assert signed_in(staff_a).get(f"{API}/zones/{narrowed.pk}").json()["case_ids"] == [own.pk, other.pk]


def test_the_zone_that_replaced_one_is_named_only_to_those_who_see_it(
        staff_a, grid_member_a, compound_a, building_a, person_a_other_grid):
    zone = ZoneFactory(place=compound_a)
    narrowed = services.zone_change(actor=staff_a, zone=zone, reason="缩小范围",
                                    place=person_a_other_grid.household.building)

    assert signed_in(staff_a).get(f"{API}/zones/{zone.pk}").json()["superseded_by_id"] == narrowed.pk
    assert signed_in(grid_member_a).get(f"{API}/zones/{zone.pk}").json()["superseded_by_id"] is None
