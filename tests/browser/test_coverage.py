"""A community worker follows a round's coverage in real Chromium: totals, then one building's untested doors,
then the page picks up a new sample by itself."""

import pytest
from playwright.sync_api import expect

from tests.testing.factories import SampleFactory, TubeFactory
from tests.testing.town import town  # noqa: F401  (the hand-built community)

pytestmark = pytest.mark.browser


def test_staff_see_totals_and_a_buildings_untested_list(page, live_server, sign_in, staff_a, town):  # noqa: F811
    # Given staff of 春雨社区 signed in, when they open the round's coverage
    round = town["round"]
    sign_in(page, "staff_a")
    page.goto(f"{live_server.url}/testing/rounds/{round.pk}/coverage/")

    # then the totals: 6 expected, 3 sampled, 3 untested, 50 %
    expect(page.get_by_test_id("expected")).to_have_text("6")
    expect(page.get_by_test_id("sampled")).to_have_text("3")
    expect(page.get_by_test_id("untested")).to_have_text("3")
    expect(page.get_by_test_id("percent")).to_have_text("50%")
    # and who is not counted, and why: the infant under the age limit, the neighbour away
    expect(page.get_by_test_id("left-out")).to_have_text("不计入应采人数:婴幼儿 1 人、外出 1 人")

    # when they open building 3 from the table, its untested household is listed: 302 王五
    page.locator(f"tr[data-building='{town['building_3'].pk}'] td").first.get_by_role("link").click()
    untested = page.get_by_test_id("untested-list")
    expect(untested).to_contain_text("3-2-302")
    expect(untested).to_contain_text("王五")
    expect(untested).not_to_contain_text("孙七")

    # and when 王五 is swabbed at the site, the page shows it within the 10-second refresh
    SampleFactory(tube=TubeFactory(round=round, site=round.community.sampling_sites.first()), person=town["wang"])
    expect(page.get_by_test_id("sampled")).to_have_text("4", timeout=15_000)
    expect(untested).to_contain_text("本楼应采人员已全部采样")
