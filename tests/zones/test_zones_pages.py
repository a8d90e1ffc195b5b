"""The zone pages: proposals first, accepting and lifting from the page, drawing by hand, policies, movement."""

import datetime

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fangkong.zones import services
from fangkong.zones.models import Level, Zone, ZonePolicy
from tests.clients import signed_in
from tests.health.factories import CaseFactory
from tests.places.factories import HouseholdFactory
from tests.zones.factories import ZoneFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def test_the_list_shows_proposals_first_then_active_zones_with_their_unlock_date(staff_a, person_a, unit_a,
                                                                                  compound_a):
    services.zone_propose(actor=staff_a, level=Level.SEALED, place=unit_a, case=CaseFactory(person=person_a),
                          reason="阳性病例")
    ZoneFactory(place=compound_a, level=Level.PRECAUTION, unlock_on=timezone.localdate() + 3 * DAY)

    page = signed_in(staff_a).get(reverse("zones:list"))

    html = page.content.decode()
    assert page.status_code == 200
    assert html.index("待确认") < html.index("生效中")
    assert "驰誉小区3号楼2单元" in html and "接受" in html and "不采纳" in html
    assert page.context["active"][0].days_left == 3


def test_the_list_keeps_its_queries_constant(staff_a, compound_a, building_a, unit_a, household_a,
                                             django_assert_max_num_queries):
    ZoneFactory(place=compound_a, level=Level.PRECAUTION)
    ZoneFactory(place=building_a, level=Level.CONTROLLED)
    ZoneFactory(place=household_a, level=Level.SEALED)
    client = signed_in(staff_a)
    client.get(reverse("zones:list"))

    with django_assert_max_num_queries(12):
        page = client.get(reverse("zones:list"))

    assert len(page.context["active"]) == 3


def test_staff_of_another_community_get_404_on_the_zone(staff_b, grid_member_b, unit_a):
    zone = ZoneFactory(place=unit_a)
    for user in (staff_b, grid_member_b):
        assert signed_in(user).get(reverse("zones:detail", args=[zone.pk])).status_code == 404
        assert signed_in(user).post(reverse("zones:lift", args=[zone.pk]), {"override_reason": "x"}).status_code == 404
    assert zone.pk not in [z.pk for z in signed_in(staff_b).get(reverse("zones:list")).context["active"]]


def test_accepting_from_the_page_with_guard_makes_the_zone_active(staff_a, unit_a):
    zone = services.zone_propose(actor=staff_a, level=Level.SEALED, place=unit_a, reason="阳性病例")

    answer = signed_in(staff_a).post(reverse("zones:accept", args=[zone.pk]), {"guarded": "on", "rules": "足不出户"})

    assert answer.status_code == 302
    zone.refresh_from_db()
    assert zone.status == Zone.Status.ACTIVE and zone.guarded
    page = signed_in(staff_a).get(answer.url)
    assert "生效中" in page.content.decode()


def test_lifting_early_from_the_page_shows_what_is_missing(staff_a, unit_a):
    zone = ZoneFactory(place=unit_a, started_at=timezone.now() - 10 * DAY)

    answer = signed_in(staff_a).post(reverse("zones:lift", args=[zone.pk]), {"note": ""})

    assert answer.status_code == 400
    assert "还需 4 天" in answer.content.decode()
    zone.refresh_from_db()
    assert zone.status == Zone.Status.ACTIVE


def test_a_grid_member_sees_the_zone_but_not_the_buttons_to_accept(grid_member_a, staff_a, unit_a):
    zone = services.zone_propose(actor=staff_a, level=Level.SEALED, place=unit_a)

    page = signed_in(grid_member_a).get(reverse("zones:detail", args=[zone.pk]))
    refused = signed_in(grid_member_a).post(reverse("zones:accept", args=[zone.pk]), {})

    assert page.status_code == 200 and 'data-testid="accept-form"' not in page.content.decode()
    assert refused.status_code == 403
    zone.refresh_from_db()
    assert zone.status == Zone.Status.PROPOSED


def test_drawing_a_building_by_its_number(staff_a, compound_a, building_a):
    answer = signed_in(staff_a).post(reverse("zones:draw"), {
        "level": Level.CONTROLLED, "compound": compound_a.pk, "building": "3号楼", "reason": "楼内密接较多"})

    assert answer.status_code == 302
    zone = Zone.objects.get()
    assert zone.building == building_a and zone.unit is None and zone.status == Zone.Status.ACTIVE


def test_drawing_names_a_missing_building(staff_a, compound_a, building_a):
    answer = signed_in(staff_a).post(reverse("zones:draw"), {
        "level": Level.SEALED, "compound": compound_a.pk, "building": "8", "reason": "x"})

    assert answer.status_code == 400
    assert "该小区没有这个楼号" in answer.content.decode()
    assert not Zone.objects.exists()


def test_escalating_from_the_page_opens_the_new_zone(staff_a, unit_a, building_a):
    zone = ZoneFactory(place=unit_a)

    answer = signed_in(staff_a).post(reverse("zones:change", args=[zone.pk]), {
        "level": Level.SEALED, "place": f"building:{building_a.pk}", "reason": "同楼新增阳性"})

    new = Zone.objects.get(supersedes=zone)
    assert answer.status_code == 302 and answer.url == reverse("zones:detail", args=[new.pk])


def test_recording_a_round_from_the_page(medic, unit_a):
    zone = ZoneFactory(place=unit_a, started_at=timezone.now() - 2 * DAY)

    answer = signed_in(medic).post(reverse("zones:round", args=[zone.pk]),
                                   {"on": timezone.localdate().isoformat(), "negative": "1"})

    assert answer.status_code == 302
    assert zone.rounds.get().negative


def test_a_street_admin_sets_the_policy_on_the_page(street_admin):
    answer = signed_in(street_admin).post(reverse("zones:policies"), {
        "level": Level.SEALED, "days_without_positive": 7, "negative_rounds": 2,
        "effective_from": timezone.localdate().isoformat()})

    assert answer.status_code == 302
    assert ZonePolicy.objects.get().days_without_positive == 7
    assert "7" in signed_in(street_admin).get(reverse("zones:policies")).content.decode()


def test_the_movement_tag_names_the_status_and_the_zones_around_home(person_a, building_a):
    ZoneFactory(place=building_a, level=Level.CONTROLLED)

    html = Template("{% load zones_movement %}{% person_movement person %}").render(Context({"person": person_a}))

    assert "管控:人不出区" in html
    assert "驰誉小区3号楼" in html


def test_a_zone_narrowed_to_a_grid_shows_its_grid_member_only_the_cases_of_their_grid(
        staff_a, grid_member_a, person_a, person_a_other_grid, compound_a, building_a):
    zone = ZoneFactory(place=compound_a)
    zone.cases.add(CaseFactory(person=person_a), CaseFactory(person=person_a_other_grid))
    narrowed = services.zone_change(actor=staff_a, zone=zone, reason="缩小范围", place=building_a)

    page = signed_in(grid_member_a).get(reverse("zones:detail", args=[narrowed.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "张三" in html and "王外网格" not in html
    assert "王外网格" in signed_in(staff_a).get(reverse("zones:detail", args=[narrowed.pk])).content.decode()


def test_the_zone_page_keeps_its_queries_constant_as_the_unit_grows(staff_a, unit_a, household_a):
    zone = ZoneFactory(place=unit_a)
    client = signed_in(staff_a)

    def queries_of_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            page = client.get(reverse("zones:detail", args=[zone.pk]))
        assert page.status_code == 200 and "3号楼2单元301" in page.content.decode()
        return len(captured)

    one = queries_of_page()
    for room in ("302", "401", "402"):
        HouseholdFactory(unit=unit_a, room=room)

    assert queries_of_page() == one


def test_only_managers_of_an_active_zone_get_the_change_form(staff_a, grid_member_a, unit_a):
    active = ZoneFactory(place=unit_a)
    lifted = ZoneFactory(place=unit_a, status=Zone.Status.LIFTED, place_key="unit:lifted")

    assert signed_in(staff_a).get(reverse("zones:detail", args=[active.pk])).context["change_form"] is not None
    assert signed_in(grid_member_a).get(reverse("zones:detail", args=[active.pk])).context["change_form"] is None
    assert signed_in(staff_a).get(reverse("zones:detail", args=[lifted.pk])).context["change_form"] is None


def test_a_grid_member_opens_a_zone_on_their_compound_but_not_a_building_zone_of_another_grid(
        grid_member_a, grid_member_b, compound_a, building_a, person_a_other_grid):
    compound_zone = ZoneFactory(place=compound_a, level=Level.PRECAUTION)
    other_building_zone = ZoneFactory(place=person_a_other_grid.household.building, level=Level.CONTROLLED)
    client = signed_in(grid_member_a)

    assert client.get(reverse("zones:detail", args=[compound_zone.pk])).status_code == 200
    assert client.get(reverse("zones:care", args=[compound_zone.pk])).status_code == 200
    assert [zone.pk for zone in client.get(reverse("zones:list")).context["active"]] == [compound_zone.pk]
    assert client.get(reverse("zones:detail", args=[other_building_zone.pk])).status_code == 404
    assert signed_in(grid_member_b).get(reverse("zones:detail", args=[compound_zone.pk])).status_code == 404
