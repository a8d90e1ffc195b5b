"""A grid member on a phone: opens "my follow-ups", calls the person at the top, records that the
facts are verified, and sees the colour turn green with the change in the person's colour history."""

import pytest
from playwright.sync_api import expect

from fangkong.screening import services

pytestmark = pytest.mark.browser


def test_grid_member_records_a_call_and_the_colour_follows(phone_page, live_server, sign_in, staff_a, grid_member_a,
                                                           person_a):
    follow_up = services.follow_up_open(actor=staff_a, person=person_a, reason="外地返回:四川省成都市武侯区")
    services.follow_up_assign(actor=staff_a, follow_up=follow_up, responsible=grid_member_a)
    page = phone_page
    sign_in(page, "grid_a")

    page.goto(f"{live_server.url}/screening/follow-ups/")
    yellow = page.get_by_test_id("group-yellow")
    expect(yellow).to_contain_text("张三")
    expect(yellow).to_contain_text("外地返回:四川省成都市武侯区")
    expect(yellow).to_contain_text("由我负责")
    yellow.get_by_role("link", name="张三").click()

    form = page.get_by_test_id("contact-form")
    form.get_by_label("电话联系").check()
    form.get_by_label("信息已核实").select_option("true")
    form.get_by_label("情况说明").fill("本人已在家,行程已核实")
    form.get_by_role("button", name="保存").click()

    expect(page.locator("h1 .color-badge")).to_have_text("绿色")
    expect(page.get_by_test_id("color-history")).to_contain_text("电话联系:本人已在家,行程已核实")
    page.goto(f"{live_server.url}/screening/follow-ups/")
    expect(page.get_by_test_id("group-green")).to_contain_text("张三")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
