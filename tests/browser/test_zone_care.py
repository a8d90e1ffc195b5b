"""A grid member on a 360 px phone looks in on a dialysis patient inside a sealed unit, takes charge of her daily
check and lets her out for dialysis."""

import pytest
from playwright.sync_api import expect

from fangkong.zones import services
from fangkong.zones.models import CareCheck, CareTask, MedicalException, ZoneEvent
from tests.people.factories import PersonFactory
from tests.zones.factories import ZoneFactory

pytestmark = pytest.mark.browser


def test_a_grid_member_marks_a_dialysis_patient_well_and_records_a_medical_exception(
        phone_page, live_server, sign_in, grid_member_a, unit_a, household_a, person_a):
    # Given a sealed unit with 王阿姨, on dialysis, living with 张三, and her standing daily check
    patient = PersonFactory(household=household_a, name="王阿姨", tags=["dialysis"])
    zone = ZoneFactory(place=unit_a)
    services.care_tasks_sync(actor=grid_member_a, zone=zone)
    page = phone_page
    sign_in(page, "grid_a")

    # When the grid member opens the zone's care page on her phone
    page.goto(f"{live_server.url}/zones/{zone.pk}/care/")
    card = page.locator(f"#care-{patient.pk}")
    expect(card).to_contain_text("王阿姨")
    expect(card).to_contain_text("透析")
    expect(card.get_by_test_id("care-status")).to_contain_text("今日未查看")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # And taps 正常
    card.get_by_role("button", name="正常").tap()

    # Then the card shows her checked today, without leaving the page, and one check is stored
    expect(page.locator(f"#care-{patient.pk}").get_by_test_id("care-status")).to_contain_text("今日已查看:情况正常")
    assert page.url == f"{live_server.url}/zones/{zone.pk}/care/"
    assert CareCheck.objects.get().outcome == "well"

    # When she names herself as the one who looks in on 王阿姨 each day
    card = page.locator(f"#care-{patient.pk}")
    card.get_by_label("责任人").select_option(label="grid_a · 网格员")
    card.get_by_role("button", name="指派").tap()

    # Then the card says so, still on the same page
    expect(page.locator(f"#care-{patient.pk}").get_by_test_id("care-assignee")).to_contain_text("责任人 grid_a")
    assert CareTask.objects.get(person=patient).assignee == grid_member_a

    # When she records that 王阿姨 goes to hospital for dialysis
    form = page.get_by_test_id("exception-form")
    form.get_by_label("人员").select_option(label="王阿姨 3-2-301")
    form.get_by_label("就医需求").select_option("dialysis")
    form.get_by_label("前往").fill("市第一医院")
    form.get_by_role("button", name="登记就医例外").tap()

    # Then the exception is listed with who allowed it, and the zone's history holds it
    expect(page.locator(".messages")).to_contain_text("已登记就医例外")
    expect(page.get_by_test_id("exceptions")).to_contain_text("王阿姨 透析 → 市第一医院")
    expect(page.get_by_test_id("exceptions")).to_contain_text("grid_a 批准")
    assert MedicalException.objects.get().allowed_by == grid_member_a
    assert ZoneEvent.objects.filter(zone=zone, kind=ZoneEvent.Kind.EXCEPTION).count() == 1
