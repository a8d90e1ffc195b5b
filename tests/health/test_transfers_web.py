"""Transfer pages and API: the day's list, scheduling with people picked by search, the crew's steps, scope."""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from fangkong.health.models import Case, Destination, Transfer
from fangkong.health.services import transfer_pick_up, transfer_schedule
from tests.clients import signed_in
from tests.health.factories import CaseFactory, earlier_today, later
from tests.people.factories import PersonFactory

API = "/api/v1"


@pytest.fixture
def planned(staff_a, person_a, hotel):
    return transfer_schedule(actor=staff_a, destination_kind=hotel.kind, people=[person_a], destination=hotel,
                             window_start=earlier_today(1), window_end=later(1), vehicle="川A·12345")


def post_json(client, url, body):
    return client.post(url, json.dumps(body, default=str), content_type="application/json")


def local_input(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


# Pages

def test_the_days_list_shows_transfers_by_status_with_passengers_and_counts(staff_a, planned):
    page = signed_in(staff_a).get(reverse("health:transfers"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "待转运(1)" in html and "张三" in html and "川A·12345" in html
    assert f'data-day="{timezone.localdate():%Y-%m-%d}"' in html


def test_another_community_does_not_see_the_transfer(staff_b, planned):
    client = signed_in(staff_b)
    assert "张三" not in client.get(reverse("health:transfers")).content.decode()
    assert client.get(reverse("health:transfer_detail", args=[planned.pk])).status_code == 404
    assert client.post(reverse("health:transfer_pick_up", args=[planned.pk])).status_code == 404


def test_the_picker_finds_people_and_keeps_those_already_picked(staff_a, person_a, household_a):
    spouse = PersonFactory(household=household_a, name="王五")
    page = signed_in(staff_a).get(reverse("health:transfer_create"), {"q": "王", "people": [person_a.pk]},
                                  HTTP_HX_REQUEST="true")
    html = page.content.decode()
    assert f'value="{person_a.pk}" checked' in html and f'value="{spouse.pk}">' in html
    assert "<html" not in html


def test_scheduling_two_people_from_the_form(staff_a, person_a, household_a, hotel):
    spouse = PersonFactory(household=household_a, name="王五")
    page = signed_in(staff_a).post(reverse("health:transfer_create"), {
        "destination_kind": hotel.kind, "destination": hotel.pk, "window_start": local_input(later(1)),
        "window_end": local_input(later(2)), "vehicle": "川A·1", "people": [person_a.pk, spouse.pk]})
    transfer = Transfer.objects.get()
    assert page.status_code == 302 and page.url == reverse("health:transfer_detail", args=[transfer.pk])
    assert sorted(transfer.passengers.values_list("person__name", flat=True)) == ["张三", "王五"]


def test_scheduling_nobody_says_so(staff_a, hotel):
    page = signed_in(staff_a).post(reverse("health:transfer_create"), {
        "destination_kind": hotel.kind, "window_start": local_input(later(1)), "window_end": local_input(later(2))})
    assert page.status_code == 400 and "请选择转运人员" in page.content.decode()


def test_the_crew_marks_picked_up_then_arrived_and_an_early_arrival_time_is_refused(staff_a, person_a, planned):
    client = signed_in(staff_a)
    picked = later(-0.5)
    client.post(reverse("health:transfer_pick_up", args=[planned.pk]), {"pick_up-at": local_input(picked)})
    page = client.post(reverse("health:transfer_arrive", args=[planned.pk]), {"arrive-at": local_input(later(-1))})
    assert page.status_code == 400 and "送达时间早于接走时间" in page.content.decode()
    assert client.post(reverse("health:transfer_arrive", args=[planned.pk]), {"arrive-at": ""}).status_code == 302
    planned.refresh_from_db()
    assert planned.status == Transfer.Status.ARRIVED


def test_the_site_page_lists_its_people_masked(staff_a, person_a, planned, hotel):
    html = signed_in(staff_a).get(reverse("health:destination_detail", args=[hotel.pk])).content.decode()
    assert "张三" in html and "138****1234" in html and person_a.id_number not in html


def test_community_staff_register_a_site_on_the_destinations_page(staff_a, street):
    page = signed_in(staff_a).post(reverse("health:destinations"), {
        "street": street.pk, "name": "市公卫中心", "kind": Destination.Kind.HOSPITAL, "capacity": "40"})
    assert page.status_code == 302 and Destination.objects.get().name == "市公卫中心"


# API

def test_api_schedules_picks_up_and_arrives_moving_the_case(staff_a, person_a, hotel):
    case = CaseFactory(person=person_a)
    client = signed_in(staff_a)
    created = post_json(client, f"{API}/transfers", {
        "destination_kind": "central_quarantine", "person_ids": [person_a.pk], "destination_id": hotel.pk,
        "window_start": later(-1).isoformat(), "window_end": later(1).isoformat()})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["passengers"][0]["phone"] == "138****1234" and body["passengers"][0]["case_id"] == case.pk
    pk = body["id"]
    assert post_json(client, f"{API}/transfers/{pk}/pick-up", {}).json()["status"] == "picked_up"
    assert post_json(client, f"{API}/transfers/{pk}/arrive", {}).json()["status"] == "arrived"
    again = post_json(client, f"{API}/transfers/{pk}/arrive", {})
    assert again.status_code == 409 and "请勿重复提交" in again.json()["error"]["message"]
    case.refresh_from_db()
    assert (case.status, case.location) == (Case.Status.IN_CENTRAL_QUARANTINE, "锦江宾馆")


def test_api_arrival_before_pick_up_is_a_clear_400(staff_a, planned):
    client = signed_in(staff_a)
    post_json(client, f"{API}/transfers/{planned.pk}/pick-up", {"at": later(-0.5).isoformat()})
    answer = post_json(client, f"{API}/transfers/{planned.pk}/arrive", {"at": later(-1).isoformat()})
    assert answer.status_code == 400 and "arrived_at" in answer.json()["error"]["fields"]


def test_api_scope_outside_is_404_everywhere(staff_b, person_a, planned, hotel):
    client = signed_in(staff_b)
    assert client.get(f"{API}/transfers/{planned.pk}").status_code == 404
    assert post_json(client, f"{API}/transfers/{planned.pk}/pick-up", {}).status_code == 404
    assert post_json(client, f"{API}/transfers/{planned.pk}/cancel", {"reason": "x"}).status_code == 404
    assert client.get(f"{API}/transfers").json()["count"] == 0
    assert client.get(f"{API}/destinations/{hotel.pk}/roster").json()["count"] == 0
    refused = post_json(client, f"{API}/transfers", {
        "destination_kind": "central_quarantine", "person_ids": [person_a.pk],
        "window_start": later(-1).isoformat(), "window_end": later(1).isoformat()})
    assert refused.status_code == 404 and "person_ids" in refused.json()["error"]["fields"]


def test_api_wrong_ids_and_bad_windows(staff_a, planned):
    client = signed_in(staff_a)
    assert client.get(f"{API}/transfers/999999").status_code == 404
    assert client.get(f"{API}/transfers/abc").status_code in (400, 404)
    bad = post_json(client, f"{API}/transfers", {
        "destination_kind": "central_quarantine", "person_ids": [], "window_start": later(2).isoformat(),
        "window_end": later(1).isoformat()})
    assert bad.status_code == 400


def test_api_counts_and_roster(staff_a, person_a, planned, hotel):
    client = signed_in(staff_a)
    transfer_pick_up(actor=staff_a, transfer=planned)
    today = timezone.localdate()
    counts = client.get(f"{API}/transfers/counts", {"start": today.isoformat(), "end": today.isoformat()}).json()
    assert counts == [{"day": today.isoformat(), "planned": 1, "picked_up": 1, "arrived": 0}]
    roster = client.get(f"{API}/destinations/{hotel.pk}/roster").json()
    assert roster["items"][0]["person_name"] == "张三" and roster["items"][0]["status"] == "picked_up"
    too_long = client.get(f"{API}/transfers/counts", {"start": "2020-01-01", "end": today.isoformat()})
    assert too_long.status_code == 400


def test_api_destinations_are_kept_by_street_admins_and_seen_by_every_staff_member(street_admin, medic, grid_member_a):
    created = post_json(signed_in(street_admin), f"{API}/destinations",
                        {"name": "国博方舱", "kind": "makeshift_hospital", "capacity": 2000})
    assert created.status_code == 201 and created.json()["expected"] == 0
    refused = post_json(signed_in(medic), f"{API}/destinations",
                        {"street_id": created.json()["street_id"], "name": "另一处", "kind": "hospital"})
    assert refused.status_code == 403
    assert signed_in(grid_member_a).get(f"{API}/destinations").json()[0]["name"] == "国博方舱"


def test_community_staff_register_a_destination_of_their_own_street_without_naming_it(staff_a, street):
    created = post_json(signed_in(staff_a), f"{API}/destinations",
                        {"name": "锦江宾馆二部", "kind": "central_quarantine"})
    assert created.status_code == 201 and created.json()["street_id"] == street.pk
    elsewhere = post_json(signed_in(staff_a), f"{API}/destinations",
                          {"street_id": street.pk + 1000, "name": "外街道", "kind": "hospital"})
    assert elsewhere.status_code == 404 and "street_id" in elsewhere.json()["error"]["fields"]


def test_a_grid_account_sees_only_its_own_passengers_and_no_case_outside_its_grid(staff_a, grid_member_a, person_a,
                                                                                   person_a_other_grid, hotel):
    # Given a transfer of 张三 (grid A) with someone of another grid of the community, for that person's case
    outsider = person_a_other_grid
    case = CaseFactory(person=outsider)
    transfer = transfer_schedule(actor=staff_a, destination_kind=hotel.kind, people=[person_a, outsider],
                                 destination=hotel, window_start=later(-1), window_end=later(1), case=case)
    client = signed_in(grid_member_a)

    # Then the grid member's pages and API name 张三 only, and no case
    listed = client.get(reverse("health:transfers")).content.decode()
    detail = client.get(reverse("health:transfer_detail", args=[transfer.pk])).content.decode()
    api = client.get(f"{API}/transfers/{transfer.pk}").json()
    assert "张三" in listed and "张三" in detail
    assert "王外网格" not in listed and "王外网格" not in detail
    assert [p["person_name"] for p in api["passengers"]] == ["张三"] and api["case_id"] == case.pk
    detail = signed_in(staff_a).get(f"{API}/transfers/{transfer.pk}").json()
    assert [p["person_name"] for p in detail["passengers"]] == ["张三", "王外网格"]
