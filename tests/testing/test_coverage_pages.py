"""The coverage page, the door-knocking print and the coverage API; everything outside the scope is 404."""

import pytest

from fangkong.core.models import AuditEvent
from tests.clients import signed_in

API = "/api/v1/test-rounds"


def test_the_page_shows_totals_and_a_buildings_untested_households(town, staff_a):
    round, building = town["round"], town["building_3"]
    client = signed_in(staff_a)

    page = client.get(f"/testing/rounds/{round.pk}/coverage/?building={building.pk}")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<span class="num" data-testid="expected">6</span>' in html
    assert '<span class="num" data-testid="untested">3</span>' in html
    assert 'hx-trigger="every 10s"' in html
    assert "王五" in html and "孙七" not in html  # only building 3's untested
    assert "不计入应采人数:婴幼儿 1 人、外出 1 人" in html

    live = client.get(f"/testing/rounds/{round.pk}/coverage/", headers={"HX-Request": "true"})
    assert live.status_code == 200 and "<html" not in live.content.decode()
    assert 'data-testid="sampled">3<' in live.content.decode()


def test_the_print_list_of_one_building_masks_phones_and_is_logged(town, staff_a):
    round, sun = town["round"], town["sun"]
    sun.phone = "13912345678"
    sun.save()

    page = signed_in(staff_a).get(f"/testing/rounds/{round.pk}/coverage/buildings/{town['building_5'].pk}/print/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "孙七" in html and "13912345678" not in html and sun.masked_phone in html
    assert "周八" not in html  # away: exempted
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT, object_type="testround").count() == 1


@pytest.mark.parametrize("user", ["staff_b", "grid_member_b"])
def test_other_communities_get_404(town, user, request):
    client, round = signed_in(request.getfixturevalue(user)), town["round"]
    building = town["building_3"]
    assert client.get(f"/testing/rounds/{round.pk}/coverage/").status_code == 404
    assert client.get(f"/testing/rounds/{round.pk}/coverage/buildings/{building.pk}/print/").status_code == 404
    assert client.get(f"{API}/{round.pk}/coverage").status_code == 404
    assert client.get(f"{API}/{round.pk}/untested").status_code == 404


def test_a_building_of_another_community_is_404_on_the_round(town, staff_a, household_b, admin):
    round = town["round"]
    page = signed_in(staff_a).get(f"/testing/rounds/{round.pk}/coverage/?building={household_b.building_id}")
    assert page.status_code == 404
    response = signed_in(admin).get(f"{API}/{round.pk}/untested?building_id={household_b.building_id}")
    assert response.status_code == 404 and "building_id" in response.json()["error"]["fields"]


def test_the_api_gives_totals_by_grid_and_building(town, staff_a):
    body = signed_in(staff_a).get(f"{API}/{town['round'].pk}/coverage").json()

    assert (body["expected"], body["sampled"], body["untested"], body["percent"]) == (6, 3, 3, 50)
    assert [(g["name"], g["expected"], g["untested"]) for g in body["grids"]] == [
        ("第一网格", 4, 2), ("第二网格", 2, 1)]
    assert [(b["id"], b["untested"]) for b in body["grids"][0]["buildings"]] == [
        (town["building_3"].pk, 1), (town["building_5"].pk, 1)]
    assert body["grids"][0]["buildings"][0]["units"][0]["name"] == "2"
    assert body["antigen"] == {"negative": 0, "positive": 0, "invalid": 0}
    assert body["left_out"] == {"infant": 1, "away": 1}


def test_the_untested_api_pages_and_filters_by_building(town, staff_a, grid_member_a):
    client, round, wang = signed_in(staff_a), town["round"], town["wang"]
    wang.phone = "13700007777"
    wang.save()
    everyone = client.get(f"{API}/{round.pk}/untested?limit=2").json()
    assert everyone["count"] == 3 and len(everyone["items"]) == 2

    building = client.get(f"{API}/{round.pk}/untested?building_id={town['building_3'].pk}").json()
    assert [(p["name"], p["address"]) for p in building["items"]] == [("王五", "3-2-302")]
    assert building["items"][0]["phone"] == wang.masked_phone != "13700007777"

    mine = signed_in(grid_member_a).get(f"{API}/{round.pk}/untested").json()
    assert sorted(p["name"] for p in mine["items"]) == ["孙七", "王五"]
