"""The places API: each role works inside its scope, and sees nothing (404) outside it."""

import pytest

from fangkong.core.models import AuditEvent
from fangkong.places.models import Household, Venue
from tests.clients import signed_in
from tests.places.factories import HouseholdFactory, UnitFactory, VenueFactory

API = "/api/v1"

DETAIL_URLS = [
    "/communities/{community_a.id}",
    "/grids/{grid_a.id}",
    "/compounds/{compound_a.id}",
    "/buildings/{building_a.id}",
    "/households/{household_a.id}",
    "/venues/{venue_a.id}",
]

LIST_URLS = [
    ("/communities", "community_a"),
    ("/grids", "grid_a"),
    ("/compounds", "compound_a"),
    ("/buildings", "building_a"),
    ("/households", "household_a"),
    ("/venues", "venue_a"),
]



def post(client, url, body):
    return client.post(f"{API}{url}", body, content_type="application/json")


def patch(client, url, body):
    return client.patch(f"{API}{url}", body, content_type="application/json")


def ids(response) -> set:
    assert response.status_code == 200
    return {item["id"] for item in response.json()["items"]}


@pytest.fixture
def venue_a(community_a, grid_a):
    return VenueFactory(community=community_a, grid=grid_a, name="驰誉便利店", contact_phone="13912345678")


@pytest.fixture
def side_a(community_a, grid_a, compound_a, building_a, household_a, venue_a, household_b):
    return {"community_a": community_a, "grid_a": grid_a, "compound_a": compound_a, "building_a": building_a,
            "household_a": household_a, "venue_a": venue_a}


@pytest.mark.parametrize("url", DETAIL_URLS)
@pytest.mark.parametrize("who", ["staff_a", "grid_member_a", "street_admin", "admin"])
def test_staff_of_community_a_open_its_places(request, side_a, url, who):
    response = signed_in(request.getfixturevalue(who)).get(API + url.format(**side_a))
    assert response.status_code == 200


@pytest.mark.parametrize("url", DETAIL_URLS)
@pytest.mark.parametrize("who", ["staff_b", "grid_member_b"])
def test_staff_of_community_b_get_404_for_places_of_a(request, side_a, url, who):
    # given a place of community A
    # when staff of community B ask for it
    response = signed_in(request.getfixturevalue(who)).get(API + url.format(**side_a))
    # then it does not exist for them
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("url,key", LIST_URLS)
@pytest.mark.parametrize("who", ["staff_b", "grid_member_b"])
def test_lists_of_community_b_staff_hold_no_row_of_a(request, side_a, url, key, who):
    listed = ids(signed_in(request.getfixturevalue(who)).get(f"{API}{url}"))
    assert side_a[key].id not in listed


@pytest.mark.parametrize("url,key", LIST_URLS)
def test_lists_of_community_a_staff_hold_its_rows_with_a_count(staff_a, side_a, url, key):
    response = signed_in(staff_a).get(f"{API}{url}")
    assert side_a[key].id in ids(response)
    assert response.json()["count"] == len(response.json()["items"])


def test_lists_page_with_limit_and_offset(staff_a, building_a):
    # given a building with 12 rooms
    unit = UnitFactory(building=building_a, number="1")
    for n in range(12):
        HouseholdFactory(unit=unit, room=str(101 + n))
    # when the second page of 5 is asked for
    body = signed_in(staff_a).get(f"{API}/households?building={building_a.id}&limit=5&offset=5").json()
    # then 5 rows and the full count
    assert body["count"] == 12
    assert [h["room"] for h in body["items"]] == ["106", "107", "108", "109", "110"]


def test_households_filter_by_unit(staff_a, household_a, unit_a, building_a):
    other_unit = building_a.units.create(number="9", community=building_a.community, grid=building_a.grid)
    response = signed_in(staff_a).get(f"{API}/households?unit={unit_a.id}")
    assert ids(response) == {household_a.id}
    assert response.json()["items"][0]["shorthand"] == "3-2-301"
    assert ids(signed_in(staff_a).get(f"{API}/households?unit={other_unit.id}")) == set()


def test_community_staff_create_a_grid_and_the_audit_says_api(staff_a, community_a):
    response = post(signed_in(staff_a), "/grids", {"community_id": community_a.id, "name": "第二网格"})
    assert response.status_code == 201
    assert response.json()["name"] == "第二网格"
    event = AuditEvent.objects.get(object_type="grid", object_id=str(response.json()["id"]))
    assert (event.action, event.via, event.client_address) == ("create", "api", "127.0.0.1")


def test_a_duplicate_grid_name_is_400_naming_the_field(staff_a, grid_a, community_a):
    response = post(signed_in(staff_a), "/grids", {"community_id": community_a.id, "name": grid_a.name})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "duplicate"
    assert "name" in response.json()["error"]["fields"]


def test_creating_in_a_community_outside_scope_is_404(staff_b, community_a):
    response = post(signed_in(staff_b), "/compounds", {"community_id": community_a.id, "name": "新小区"})
    assert response.status_code == 404
    assert response.json()["error"]["fields"] == {"community_id": "不存在或不在您的管辖范围内"}


def test_staff_create_a_compound_then_a_building_then_households(staff_a, community_a, grid_a):
    client = signed_in(staff_a)
    compound = post(client, "/compounds", {"community_id": community_a.id, "name": "新苑", "address": "中专路1号"})
    assert compound.status_code == 201
    building = post(client, "/buildings", {"compound_id": compound.json()["id"], "grid_id": grid_a.id,
                                           "number": "5号楼"})
    assert building.status_code == 201
    assert building.json()["number"] == "5"
    household = post(client, "/households", {"building_id": building.json()["id"], "unit": "1单元", "room": "101室"})
    assert household.status_code == 201
    assert household.json()["shorthand"] == "5-1-101"


def test_staff_generate_a_buildings_households(staff_a, building_a):
    # given building 3
    # when staff generate 6 floors × 2 units × 4 rooms per floor
    response = post(signed_in(staff_a), f"/buildings/{building_a.id}/generate",
                    {"floors": 6, "units": 2, "rooms_per_floor": 4})
    # then 48 households exist
    assert response.status_code == 201
    assert response.json() == {"created": 48}
    assert Household.objects.filter(building=building_a).count() == 48


def test_generating_too_many_floors_is_400_naming_the_field(staff_a, building_a):
    response = post(signed_in(staff_a), f"/buildings/{building_a.id}/generate",
                    {"floors": 99, "units": 2, "rooms_per_floor": 4})
    assert response.status_code == 400
    assert "floors" in response.json()["error"]["fields"]


def test_generating_in_a_building_outside_scope_is_404(staff_b, building_a):
    response = post(signed_in(staff_b), f"/buildings/{building_a.id}/generate",
                    {"floors": 1, "units": 1, "rooms_per_floor": 1})
    assert response.status_code == 404
    assert not Household.objects.filter(building=building_a).exists()


def test_staff_renumber_a_building(staff_a, building_a):
    response = patch(signed_in(staff_a), f"/buildings/{building_a.id}", {"number": "4栋"})
    assert response.status_code == 200
    assert response.json()["number"] == "4"
    assert response.json()["grid_id"] == building_a.grid_id


def test_updating_a_building_outside_scope_is_404(staff_b, building_a):
    response = patch(signed_in(staff_b), f"/buildings/{building_a.id}", {"number": "9"})
    assert response.status_code == 404
    building_a.refresh_from_db()
    assert building_a.number == "3"


def test_a_grid_member_may_not_create_households(grid_member_a, building_a):
    response = post(signed_in(grid_member_a), "/households", {"building_id": building_a.id, "unit": "1", "room": "101"})
    assert response.status_code == 403


def test_venue_list_and_detail_mask_the_contact_phone(staff_a, venue_a):
    client = signed_in(staff_a)
    listed = client.get(f"{API}/venues").json()["items"]
    assert listed[0]["contact_phone"] == "139****5678"
    assert "13912345678" not in client.get(f"{API}/venues").content.decode()
    assert client.get(f"{API}/venues/{venue_a.id}").json()["contact_phone"] == "139****5678"


def test_venue_writes_answer_with_the_contact_phone_masked(staff_a, community_a, venue_a):
    client = signed_in(staff_a)
    created = post(client, "/venues", {"community_id": community_a.id, "name": "红星驾校", "kind": "driving_school",
                                       "contact_phone": "13700001111"})
    assert created.json()["contact_phone"] == "137****1111"
    assert patch(client, f"/venues/{venue_a.id}", {"notes": "午休"}).json()["contact_phone"] == "139****5678"
    assert Venue.objects.get(pk=created.json()["id"]).contact_phone == "13700001111"


@pytest.mark.parametrize("query, field", [("kind=casino", "kind"), ("status=busy", "status")])
def test_an_unknown_venue_filter_is_400_naming_it(staff_a, venue_a, query, field):
    response = signed_in(staff_a).get(f"{API}/venues?{query}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["fields"]) == ("invalid", {field: "取值不正确"})


def test_staff_create_a_venue_and_close_it(staff_a, community_a, grid_a):
    client = signed_in(staff_a)
    created = post(client, "/venues", {"community_id": community_a.id, "grid_id": grid_a.id, "name": "红星驾校",
                                       "kind": "driving_school"})
    assert created.status_code == 201
    assert created.json()["status"] == "open"
    closed = patch(client, f"/venues/{created.json()['id']}", {"status": "closed", "notes": "疫情期间停业"})
    assert closed.status_code == 200
    assert Venue.objects.get(pk=created.json()["id"]).status == Venue.Status.CLOSED
    assert ids(client.get(f"{API}/venues?status=closed")) == {created.json()["id"]}


def test_an_unknown_venue_kind_is_400_in_chinese(staff_a, community_a):
    response = post(signed_in(staff_a), "/venues", {"community_id": community_a.id, "name": "某处", "kind": "casino"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"kind": "场所类型不正确"}


def test_updating_a_venue_outside_scope_is_404(staff_b, venue_a):
    response = patch(signed_in(staff_b), f"/venues/{venue_a.id}", {"status": "closed"})
    assert response.status_code == 404
    venue_a.refresh_from_db()
    assert venue_a.status == Venue.Status.OPEN


def test_staff_rename_a_grid_and_the_audit_names_the_field(staff_a, grid_a):
    response = patch(signed_in(staff_a), f"/grids/{grid_a.id}", {"name": "东区网格"})
    assert response.status_code == 200
    assert response.json()["name"] == "东区网格"
    event = AuditEvent.objects.get(action="update", object_type="grid")
    assert (event.via, event.fields) == ("api", ["name"])


def test_renaming_a_grid_to_a_taken_name_is_400_in_chinese(staff_a, grid_a, community_a):
    other = post(signed_in(staff_a), "/grids", {"community_id": community_a.id, "name": "第二网格"}).json()
    response = patch(signed_in(staff_a), f"/grids/{other['id']}", {"name": grid_a.name})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "duplicate"
    assert response.json()["error"]["fields"] == {"name": "该社区已有同名网格"}


def test_a_compound_patch_changes_only_the_given_fields(staff_a, compound_a):
    response = patch(signed_in(staff_a), f"/compounds/{compound_a.id}", {"address": "中专路 1 号"})
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["address"]) == ("驰誉小区", "中专路 1 号")
    renamed = patch(signed_in(staff_a), f"/compounds/{compound_a.id}", {"name": "驰誉花园"})
    assert (renamed.json()["name"], renamed.json()["address"]) == ("驰誉花园", "中专路 1 号")
    audited = AuditEvent.objects.filter(object_type="compound").order_by("id")
    assert [event.fields for event in audited] == [["address"], ["name"]]


def test_an_empty_compound_patch_writes_nothing(staff_a, compound_a):
    response = patch(signed_in(staff_a), f"/compounds/{compound_a.id}", {})
    assert response.status_code == 200
    assert not AuditEvent.objects.filter(action="update").exists()


def test_a_household_patch_renumbers_and_keeps_the_notes(staff_a, household_a):
    client = signed_in(staff_a)
    assert patch(client, f"/households/{household_a.id}", {"notes": "独居老人"}).status_code == 200
    response = patch(client, f"/households/{household_a.id}", {"room": "302室"})
    assert response.status_code == 200
    assert (response.json()["shorthand"], response.json()["notes"]) == ("3-2-302", "独居老人")


def test_a_room_taken_in_the_unit_is_400_naming_the_field(staff_a, household_a, building_a):
    taken = post(signed_in(staff_a), "/households", {"building_id": building_a.id, "unit": "2", "room": "302"})
    response = patch(signed_in(staff_a), f"/households/{taken.json()['id']}", {"room": "301"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"room": "3号楼2单元已有 301 室"}


@pytest.mark.parametrize("url, body", [("/grids/{grid_a.id}", {"name": "别处"}),
                                       ("/compounds/{compound_a.id}", {"name": "别处"}),
                                       ("/households/{household_a.id}", {"room": "999"})])
def test_updating_places_outside_scope_is_404(staff_b, side_a, url, body):
    response = patch(signed_in(staff_b), url.format(**side_a), body)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not AuditEvent.objects.filter(action="update").exists()


@pytest.mark.parametrize("url, body", [("/grids/{grid_a.id}", {"name": "别处"}),
                                       ("/compounds/{compound_a.id}", {"name": "别处"}),
                                       ("/households/{household_a.id}", {"room": "999"})])
def test_grid_members_may_not_update_places(grid_member_a, side_a, url, body):
    response = patch(signed_in(grid_member_a), url.format(**side_a), body)
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="update").exists()


HUGE_ID = "99999999999999999999"


@pytest.mark.parametrize("url, field", [
    (f"/buildings?compound={HUGE_ID}", "compound"),
    (f"/buildings?grid={HUGE_ID}", "grid"),
    (f"/households?building={HUGE_ID}", "building"),
    (f"/households?unit={HUGE_ID}", "unit"),
    (f"/grids?community={HUGE_ID}", "community"),
    (f"/compounds?community={HUGE_ID}", "community"),
    (f"/venues?community={HUGE_ID}", "community"),
    (f"/communities/{HUGE_ID}", "community_id"),
    (f"/grids/{HUGE_ID}", "grid_id"),
    (f"/compounds/{HUGE_ID}", "compound_id"),
    (f"/buildings/{HUGE_ID}", "building_id"),
    (f"/households/{HUGE_ID}", "household_id"),
    (f"/venues/{HUGE_ID}", "venue_id"),
    ("/buildings/0", "building_id"),
])
def test_an_id_too_large_for_the_database_is_400_naming_it(staff_a, url, field):
    response = signed_in(staff_a).get(f"{API}{url}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]


@pytest.mark.parametrize("url, body, field", [
    ("/grids", {"community_id": HUGE_ID, "name": "第九网格"}, "community_id"),
    ("/households", {"building_id": HUGE_ID, "unit": "1", "room": "101"}, "building_id"),
    ("/venues", {"community_id": 1, "grid_id": HUGE_ID, "name": "某处", "kind": "shop"}, "grid_id"),
])
def test_a_body_naming_an_id_too_large_for_the_database_is_400(staff_a, url, body, field):
    response = post(signed_in(staff_a), url, {k: int(v) if v == HUGE_ID else v for k, v in body.items()})
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
