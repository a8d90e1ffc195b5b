"""A screening round on a phone, in real Chromium: a grid member walks the household list, records a door
visit and a not-reached household inline, and sees the round's progress change (also live, by polling)."""

import pytest
from playwright.sync_api import expect

from fangkong.screening import services
from tests.places.factories import HouseholdFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def round_a(staff_a, community_a, household_a, unit_a):
    HouseholdFactory(unit=unit_a, room="302")
    HouseholdFactory(unit=unit_a, room="303")
    return services.screening_round_start(actor=staff_a, community=community_a)


def test_grid_member_records_visits_on_a_phone(phone_page, live_server, sign_in, grid_member_a, staff_a, round_a,
                                               unit_a, tmp_path):
    page = phone_page
    sign_in(page, "grid_a")
    # Given the round's page shows nothing done yet
    page.goto(f"{live_server.url}/screening/rounds/{round_a.pk}/")
    expect(page.get_by_test_id("total")).to_have_text("3")
    expect(page.get_by_test_id("done")).to_have_text("0")

    # When the grid member opens the households still to visit
    page.get_by_role("link", name="逐户登记").click()
    first = page.get_by_test_id("household-3-2-301")
    expect(first).to_be_visible()
    # And records a door visit with two people present
    first.get_by_label("在户人数").fill("2")
    first.get_by_role("button", name="入户").click()
    # Then the row itself comes back marked done
    expect(page.get_by_test_id("household-3-2-301").get_by_test_id("status")).to_have_text("已入户")
    # When nobody answers at 302
    page.get_by_test_id("household-3-2-302").get_by_role("button", name="未联系上").click()
    expect(page.get_by_test_id("household-3-2-302").get_by_test_id("status")).to_have_text("第1遍未联系上")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=tmp_path / "round-households-360.png", full_page=True)

    # Then the round's progress counts one done, one not reached, one pending
    page.goto(f"{live_server.url}/screening/rounds/{round_a.pk}/")
    expect(page.get_by_test_id("done")).to_have_text("1")
    expect(page.get_by_test_id("not-reached")).to_have_text("1")
    expect(page.get_by_test_id("pending")).to_have_text("1")

    # And when a colleague phones 303, the open page updates itself within the polling interval
    third = unit_a.households.get(room="303")
    services.household_visit_record(actor=staff_a, round=round_a, household=third, method="phone")
    expect(page.get_by_test_id("done")).to_have_text("2", timeout=15_000)
    expect(page.get_by_test_id("pending")).to_have_text("0")
    page.screenshot(path=tmp_path / "round-progress-360.png", full_page=True)
