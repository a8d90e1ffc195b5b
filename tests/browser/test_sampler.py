"""A medic fills a five-person tube from a 360 px phone, in real Chromium (pool sizes are 1, 5, 10 or 20)."""

import pytest
from playwright.sync_api import expect

from fangkong.people.codes import personal_code
from fangkong.testing.models import Sample, Tube
from tests.people.factories import PersonFactory
from tests.testing.factories import SamplingSiteFactory, TestRoundFactory

pytestmark = pytest.mark.browser


def test_a_medic_fills_a_tube_by_typed_code_id_number_and_roster_and_it_closes_at_pool_size(
        phone_page, live_server, sign_in_as, medic, community_a, person_a, household_a):
    # Given a round of five people per tube, a site, 张三 and four more people of room 301
    round_ = TestRoundFactory(community=community_a, pool_size=5, name="第3轮全员核酸")
    site = SamplingSiteFactory(community=community_a, name="春雨广场")
    neighbour = PersonFactory(household=household_a, name="王芳")
    family = [PersonFactory(household=household_a, name=name) for name in ("李一", "李二", "李三")]
    page = phone_page
    sign_in_as(page, medic)

    # When the medic chooses the site and types a new tube's barcode
    page.goto(f"{live_server.url}/testing/rounds/{round_.pk}/scan/")
    page.select_option("#scan-site", str(site.pk))
    page.fill("#tube-barcode-input", "tb-0001")
    page.press("#tube-barcode-input", "Enter")
    expect(page.locator("#tube-barcode")).to_have_text("TB-0001")
    expect(page.locator("#tube-count")).to_have_text("0/5")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # And types 张三's personal code text, then 王芳's ID number
    page.fill("#person-text", personal_code(person_a))
    page.press("#person-text", "Enter")
    expect(page.locator("#tube-people")).to_contain_text("张三")
    expect(page.locator("#tube-count")).to_have_text("1/5")
    page.fill("#person-text", neighbour.id_number)
    page.press("#person-text", "Enter")
    expect(page.locator("#tube-count")).to_have_text("2/5")

    # And picks the other three from room 301's roster, one tap each, 张三 shown as sampled
    page.fill("#roster-room", "301")
    expect(page.locator("#roster")).to_contain_text("张三 · 已采")
    for count, person in enumerate(family, start=3):
        page.locator(f".roster-person[data-person='{person.pk}']").click()
        if count < 5:
            expect(page.locator("#tube-count")).to_have_text(f"{count}/5")
            expect(page.locator(f".roster-person[data-person='{person.pk}']")).to_contain_text("已采")

    # Then the tube closes itself at five and the page is ready for the next tube
    expect(page.locator("#tube-closed")).to_contain_text("TB-0001")
    expect(page.locator("#tube-barcode-input")).to_be_visible()
    tube = Tube.objects.get(barcode="TB-0001")
    assert (tube.sample_count, tube.status) == (5, Tube.Status.CLOSED)
    assert set(Sample.objects.values_list("person__name", flat=True)) == {"张三", "王芳", "李一", "李二", "李三"}
    assert Sample.objects.filter(sampler=medic, site=site).count() == 5
