"""A resident reports the temperatures of two household members from a 360 px phone, in real Chromium."""

import pytest
from playwright.sync_api import expect

from fangkong.health.models import HealthAlert, HealthCheck
from tests.health.factories import ObservationFactory
from tests.people.factories import PersonFactory

pytestmark = pytest.mark.browser


def test_a_resident_reports_for_two_household_members_and_a_fever_raises_an_alert(phone_page, live_server, sign_in_as,
                                                                                   resident, person_a, household_a):
    # Given 张三 and his grandmother (no phone) under home quarantine, and 张三 signed in on his phone
    grandmother = PersonFactory(household=household_a, name="王奶奶", phone="")
    ObservationFactory(person=person_a)
    grandmother_observation = ObservationFactory(person=grandmother)
    page = phone_page
    sign_in_as(page, resident)

    # When he opens the health page, both are there, each with a numeric keypad field
    page.goto(f"{live_server.url}/health/me/")
    me = page.get_by_test_id(f"member-{person_a.pk}")
    her = page.get_by_test_id(f"member-{grandmother.pk}")
    expect(me).to_contain_text("张三")
    expect(her).to_contain_text("王奶奶")
    expect(me.locator("input[inputmode=decimal]")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # And he types 36.5 for himself, 38.0 and a cough for her, and submits both at once
    me.locator("input[inputmode=decimal]").fill("36.5")
    her.locator("input[inputmode=decimal]").fill("38.0")
    her.get_by_label("咳嗽").check()
    page.get_by_test_id("submit-all").click()

    # Then the page thanks him and shows both as reported for this window
    expect(page.locator(".messages")).to_contain_text("已提交")
    expect(page.get_by_test_id(f"member-{grandmother.pk}")).to_contain_text("已报")
    assert HealthCheck.objects.count() == 2
    alert = HealthAlert.objects.get()
    assert alert.observation == grandmother_observation
    assert alert.reason == "体温 38.0℃,咳嗽"

