"""A community worker records a positive from the person page in real Chromium, sees on the case page
what followed (the household's close contacts under observation, the proposed zones) and accepts
the proposed sealed unit from there."""

import pytest
from playwright.sync_api import expect

from fangkong.zones.models import Zone
from tests.people.factories import PersonFactory

pytestmark = pytest.mark.browser


def test_recording_a_positive_and_accepting_its_proposed_sealed_unit(page, live_server, sign_in, staff_a, person_a,
                                                                      household_a):
    # Given 张三 lives in 3号楼2单元301 with 王芳
    PersonFactory(household=household_a, name="王芳")
    sign_in(page, "staff_a")

    # When the worker opens 张三's page and records the positive
    page.goto(f"{live_server.url}/people/{person_a.pk}/")
    page.get_by_role("link", name="登记阳性").click()
    page.get_by_label("临床分型").select_option("mild")
    page.get_by_label("目前所在").fill("家中")
    page.get_by_role("button", name="登记").click()

    # Then the case page lists 王芳 as a close contact in central quarantine
    expect(page.get_by_test_id("case-status")).to_have_text("已发现待转运")
    contacts = page.get_by_test_id("contacts")
    expect(contacts).to_contain_text("王芳")
    expect(contacts).to_contain_text("集中隔离")
    # and the unit proposed as sealed, the building as controlled, both awaiting confirmation
    zones = page.get_by_test_id("case-zones")
    expect(zones).to_contain_text("3号楼2单元 封控区")
    expect(zones).to_contain_text("3号楼 管控区")
    expect(zones).to_contain_text("待确认")
    # and the timeline tells what was done
    expect(page.get_by_test_id("timeline")).to_contain_text("安排转运至方舱医院")

    # When the worker follows the sealed unit's link and accepts it with a 24-hour guard
    zones.get_by_role("link", name="3号楼2单元 封控区").click()
    page.get_by_test_id("accept-form").get_by_label("设24小时值守岗").check()
    page.get_by_test_id("accept-form").get_by_role("button", name="接受").click()

    # Then the zone is in force, and the case page shows it so
    expect(page.get_by_test_id("zone-status")).to_have_text("生效中")
    page.get_by_role("link", name="张三").click()
    expect(page.get_by_test_id("case-zones").get_by_role("listitem").filter(has_text="封控区")).to_contain_text("生效中")
    assert Zone.objects.get(level="sealed", unit=household_a.unit).status == Zone.Status.ACTIVE
