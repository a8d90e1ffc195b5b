"""Place pages: the tree, buildings and rooms, the generator, venues and grids, each within scope."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fangkong.core.models import AuditEvent
from fangkong.places.models import Building, Compound, Grid, Household, Venue
from tests.places.factories import CompoundFactory, GridFactory, HouseholdFactory, UnitFactory, VenueFactory

pytestmark = pytest.mark.django_db

HUGE_ID = "99999999999999999999"


def test_community_tree_shows_compounds_buildings_and_unit_counts(client, staff_a, person_a):
    client.force_login(staff_a)
    response = client.get(reverse("places:tree"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "驰誉小区" in page and "3号楼" in page
    assert "2单元 · 1 户 · 1 人" in page


def test_street_admin_picks_a_community_first(client, street_admin, community_a, community_b):
    client.force_login(street_admin)
    page = client.get(reverse("places:tree")).content.decode()
    assert "春雨社区" in page and "安国路社区" in page
    assert client.get(reverse("places:tree"), {"community": community_b.pk}).status_code == 200


def test_tree_of_a_community_outside_scope_is_404(client, staff_b, community_a):
    client.force_login(staff_b)
    assert client.get(reverse("places:tree"), {"community": community_a.pk}).status_code == 404
    assert client.get(reverse("places:tree"), {"community": "x"}).status_code == 404


def test_building_detail_lists_rooms_with_person_counts(client, grid_member_a, building_a, person_a):
    client.force_login(grid_member_a)
    page = client.get(reverse("places:building", args=[building_a.pk])).content.decode()
    assert "301" in page and "1 人" in page


@pytest.mark.parametrize("who", ["staff_b", "grid_member_b"])
def test_building_outside_scope_is_404(client, request, who, building_a):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("places:building", args=[building_a.pk])).status_code == 404


def test_editing_a_building_outside_scope_is_404(client, staff_b, building_a):
    client.force_login(staff_b)
    assert client.get(reverse("places:building_edit", args=[building_a.pk])).status_code == 404


@pytest.mark.parametrize("who", ["grid_member_a", "grid_member_b"])
def test_grid_members_may_not_edit_buildings_wherever_they_are(client, request, who, building_a):
    # A role that may not edit places is refused before any lookup: 403 in scope and out of it
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("places:building_edit", args=[building_a.pk])).status_code == 403


def test_building_rooms_take_the_same_queries_for_one_unit_or_five(client, staff_a, building_a, household_a):
    client.force_login(staff_a)
    url = reverse("places:building", args=[building_a.pk])
    with CaptureQueriesContext(connection) as one_unit:
        client.get(url)
    for number in range(3, 7):
        HouseholdFactory(unit=UnitFactory(building=building_a, number=str(number)), room="101")
    with CaptureQueriesContext(connection) as five_units:
        page = client.get(url).content.decode()
    assert page.count("单元</h2>") == 5
    assert len(five_units) == len(one_unit)


@pytest.mark.parametrize("url", [f"/places/buildings/{HUGE_ID}/", f"/places/buildings/{HUGE_ID}/edit/",
                                 f"/places/households/{HUGE_ID}/edit/", f"/places/grids/{HUGE_ID}/edit/",
                                 f"/places/venues/{HUGE_ID}/edit/", f"/places/compounds/{HUGE_ID}/edit/",
                                 f"/places/?community={HUGE_ID}", f"/places/compounds/new/?community={HUGE_ID}",
                                 f"/places/buildings/new/?community={HUGE_ID}", "/places/buildings/0/"])
def test_an_id_too_large_for_the_database_is_404(client, staff_a, url):
    client.force_login(staff_a)
    response = client.get(url)
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_staff_creates_a_compound_and_a_building(client, staff_a, community_a, grid_a):
    client.force_login(staff_a)
    url = reverse("places:compound_create") + f"?community={community_a.pk}"
    assert client.post(url, {"name": "新华小区", "address": "中专路 1 号"}).status_code == 302
    compound = Compound.objects.get(name="新华小区")
    url = reverse("places:building_create") + f"?community={community_a.pk}"
    response = client.post(url, {"compound": compound.pk, "grid": grid_a.pk, "number": "5号楼"})
    building = Building.objects.get(compound=compound)
    assert building.number == "5"
    assert response["Location"] == reverse("places:building", args=[building.pk])


def test_duplicate_building_number_is_a_form_error(client, staff_a, building_a, grid_a):
    client.force_login(staff_a)
    url = reverse("places:building_create") + f"?community={building_a.community_id}"
    response = client.post(url, {"compound": building_a.compound_id, "grid": grid_a.pk, "number": "3"})
    assert response.status_code == 200
    assert "该小区已有 3 号楼" in response.content.decode()


def test_staff_edits_a_building(client, staff_a, building_a, grid_a):
    client.force_login(staff_a)
    client.post(reverse("places:building_edit", args=[building_a.pk]), {"number": "3A", "grid": grid_a.pk})
    building_a.refresh_from_db()
    assert building_a.number == "3A"


def test_generator_creates_floors_times_units_times_rooms(client, staff_a, building_a):
    # Given a building with no rooms yet, when staff asks for 6 floors × 2 units × 4 rooms per floor
    client.force_login(staff_a)
    response = client.post(reverse("places:building_generate", args=[building_a.pk]),
                           {"floors": 6, "units": 2, "rooms_per_floor": 4}, follow=True)
    # Then 48 households exist, numbered 101 … 604
    assert Household.objects.filter(building=building_a).count() == 48
    assert "已生成 48 户" in response.content.decode()
    assert Household.objects.filter(building=building_a, unit__number="2", room="604").exists()


def test_generator_rejects_zero_floors(client, staff_a, building_a):
    client.force_login(staff_a)
    response = client.post(reverse("places:building_generate", args=[building_a.pk]),
                           {"floors": 0, "units": 2, "rooms_per_floor": 4})
    assert response.status_code == 200
    assert Household.objects.filter(building=building_a).count() == 0


def test_grid_member_may_not_generate_households(client, grid_member_a, building_a):
    client.force_login(grid_member_a)
    response = client.post(reverse("places:building_generate", args=[building_a.pk]),
                           {"floors": 1, "units": 1, "rooms_per_floor": 1})
    assert response.status_code == 403
    assert not Household.objects.filter(building=building_a).exists()


def test_staff_adds_one_household(client, staff_a, building_a):
    client.force_login(staff_a)
    client.post(reverse("places:household_create", args=[building_a.pk]), {"unit_number": "1单元", "room": "502室"})
    assert Household.objects.filter(building=building_a, unit__number="1", room="502").exists()


def test_venue_list_filters_by_kind_and_status_within_scope(client, staff_a, community_a, community_b):
    VenueFactory(community=community_a, name="驰誉驾校", kind=Venue.Kind.DRIVING_SCHOOL, status=Venue.Status.CLOSED)
    VenueFactory(community=community_a, name="便民超市", kind=Venue.Kind.SHOP)
    VenueFactory(community=community_b, name="安国路商铺", kind=Venue.Kind.SHOP)
    client.force_login(staff_a)
    names = lambda **q: [v.name for v in client.get(reverse("places:venues"), q).context["page"]]  # noqa: E731
    assert sorted(names()) == ["便民超市", "驰誉驾校"]
    assert names(kind="driving_school") == ["驰誉驾校"]
    assert names(status="open") == ["便民超市"]


def test_staff_creates_and_edits_a_venue(client, staff_a, community_a):
    client.force_login(staff_a)
    client.post(reverse("places:venue_create"), {"community": community_a.pk, "name": "中心医院住院部",
                                                 "kind": "hospital_ward", "status": "limited"})
    venue = Venue.objects.get(name="中心医院住院部")
    client.post(reverse("places:venue_edit", args=[venue.pk]), {"name": "中心医院住院部", "kind": "hospital_ward",
                                                                "status": "closed"})
    venue.refresh_from_db()
    assert venue.status == "closed"


def test_venue_of_another_community_cannot_be_edited(client, staff_b, community_a):
    venue = VenueFactory(community=community_a)
    client.force_login(staff_b)
    assert client.get(reverse("places:venue_edit", args=[venue.pk])).status_code == 404


def test_grids_page_lists_the_grids_in_scope(client, grid_member_a, grid_a, grid_b):
    client.force_login(grid_member_a)
    grids = list(client.get(reverse("places:grids")).context["page"])
    assert grids == [grid_a]


def test_grids_page_by_fifty(client, staff_a, community_a):
    GridFactory.create_batch(51, community=community_a)
    client.force_login(staff_a)
    first = client.get(reverse("places:grids")).context["page"]
    assert len(first) == 50 and first.paginator.num_pages == 2
    second = client.get(reverse("places:grids"), {"page": 2})
    assert len(second.context["page"]) == 1
    assert "第 2 / 2 页,共 51 条" in second.content.decode()


def test_venues_page_by_fifty_keeping_the_filter(client, staff_a, community_a):
    VenueFactory.create_batch(51, community=community_a, kind=Venue.Kind.SHOP)
    VenueFactory(community=community_a, kind=Venue.Kind.MARKET)
    client.force_login(staff_a)
    first = client.get(reverse("places:venues"), {"kind": "shop"})
    assert len(first.context["page"]) == 50 and first.context["page"].paginator.count == 51
    assert "?kind=shop&amp;page=2" in first.content.decode()
    assert len(client.get(reverse("places:venues"), {"kind": "shop", "page": 2}).context["page"]) == 1


def test_staff_create_a_grid_from_the_grids_page(client, staff_a, community_a):
    # Given community staff on the grids page
    client.force_login(staff_a)
    page = client.get(reverse("places:grids")).content.decode()
    assert reverse("places:grid_create") in page
    # When they fill in the new grid form
    response = client.post(reverse("places:grid_create"), {"community": community_a.pk, "name": "第三网格"})
    # Then the grid exists and they are back on the grids page
    assert response["Location"] == reverse("places:grids")
    assert Grid.objects.filter(community=community_a, name="第三网格").exists()


def test_a_grid_in_a_community_outside_scope_cannot_be_created(client, staff_b, community_a):
    client.force_login(staff_b)
    response = client.post(reverse("places:grid_create"), {"community": community_a.pk, "name": "第三网格"})
    assert response.status_code == 200
    assert "community" in response.context["form"].errors
    assert not Grid.objects.filter(name="第三网格").exists()


def test_staff_rename_a_grid_and_the_change_is_audited(client, staff_a, grid_a):
    client.force_login(staff_a)
    assert reverse("places:grid_edit", args=[grid_a.pk]) in client.get(reverse("places:grids")).content.decode()
    response = client.post(reverse("places:grid_edit", args=[grid_a.pk]), {"name": "东区网格"})
    assert response["Location"] == reverse("places:grids")
    grid_a.refresh_from_db()
    assert grid_a.name == "东区网格"
    event = AuditEvent.objects.get(action="update", object_type="grid")
    assert (event.via, event.fields) == ("web", ["name"])


def test_a_duplicate_grid_name_is_a_chinese_field_error(client, staff_a, grid_a, community_a):
    other = GridFactory(community=community_a, name="第二网格")
    client.force_login(staff_a)
    response = client.post(reverse("places:grid_edit", args=[other.pk]), {"name": grid_a.name})
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["该社区已有同名网格"]
    assert "修改网格 · 第二网格" in response.content.decode()


def test_grid_members_see_no_edit_links_and_may_not_edit_grids(client, grid_member_a, grid_a):
    client.force_login(grid_member_a)
    page = client.get(reverse("places:grids")).content.decode()
    assert reverse("places:grid_edit", args=[grid_a.pk]) not in page
    assert reverse("places:grid_create") not in page
    assert client.get(reverse("places:grid_create")).status_code == 403
    assert client.post(reverse("places:grid_edit", args=[grid_a.pk]), {"name": "x"}).status_code == 403


@pytest.mark.parametrize("url_name, key", [("grid_edit", "grid_a"), ("compound_edit", "compound_a"),
                                           ("household_edit", "household_a")])
def test_places_of_another_community_cannot_be_edited(client, request, staff_b, url_name, key):
    place = request.getfixturevalue(key)
    client.force_login(staff_b)
    url = reverse(f"places:{url_name}", args=[place.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "别处", "room": "999"}).status_code == 404
    assert not AuditEvent.objects.filter(action="update").exists()


def test_staff_edit_a_compound_from_the_tree(client, staff_a, compound_a, community_a):
    client.force_login(staff_a)
    url = reverse("places:compound_edit", args=[compound_a.pk])
    assert url in client.get(reverse("places:tree")).content.decode()
    response = client.post(url, {"name": "驰誉小区", "address": "中专路 1 号"})
    assert response["Location"] == f"{reverse('places:tree')}?community={community_a.pk}"
    compound_a.refresh_from_db()
    assert compound_a.address == "中专路 1 号"
    assert AuditEvent.objects.get(action="update", object_type="compound").fields == ["address"]


def test_a_duplicate_compound_name_is_a_form_error(client, staff_a, compound_a, community_a):
    other = CompoundFactory(community=community_a, name="新华小区")
    client.force_login(staff_a)
    response = client.post(reverse("places:compound_edit", args=[other.pk]), {"name": "驰誉小区"})
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["该社区已有同名小区"]


def test_grid_members_may_not_edit_compounds_or_households(client, grid_member_a, compound_a, household_a):
    client.force_login(grid_member_a)
    tree_page = client.get(reverse("places:tree")).content.decode()
    assert reverse("places:compound_edit", args=[compound_a.pk]) not in tree_page
    assert client.post(reverse("places:compound_edit", args=[compound_a.pk]), {"name": "x"}).status_code == 403
    assert client.post(reverse("places:household_edit", args=[household_a.pk]), {"room": "999"}).status_code == 403
    assert Household.objects.get(pk=household_a.pk).room == "301"


def test_staff_renumber_a_household_from_the_building_page(client, staff_a, household_a, building_a):
    client.force_login(staff_a)
    url = reverse("places:household_edit", args=[household_a.pk])
    assert url in client.get(reverse("places:building", args=[building_a.pk])).content.decode()
    response = client.post(url, {"room": "302室", "notes": "独居老人"})
    assert response["Location"] == reverse("places:building", args=[building_a.pk])
    household_a.refresh_from_db()
    assert (household_a.room, household_a.notes) == ("302", "独居老人")
    assert AuditEvent.objects.get(action="update", object_type="household").fields == ["notes", "room"]


def test_a_room_taken_in_the_same_unit_is_a_form_error(client, staff_a, household_a, unit_a):
    other = HouseholdFactory(unit=unit_a, room="302")
    client.force_login(staff_a)
    response = client.post(reverse("places:household_edit", args=[other.pk]), {"room": "301"})
    assert response.status_code == 200
    assert response.context["form"].errors["room"] == ["3号楼2单元已有 301 室"]
