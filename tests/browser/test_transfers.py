"""A transfer crew on a 360 px phone: the day's transfers, 已接走, then 已送达, in real Chromium."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from fangkong.health.models import Case, Transfer
from fangkong.health.services import transfer_schedule
from tests.health.factories import CaseFactory, DestinationFactory

pytestmark = pytest.mark.browser


def test_a_crew_marks_a_case_picked_up_then_arrived_on_a_phone(phone_page, live_server, sign_in, staff_a, person_a,
                                                                 street):
    # Given a case of 张三 scheduled for the makeshift hospital this hour
    case = CaseFactory(person=person_a)
    cabin = DestinationFactory(street=street, name="国博方舱")
    now = timezone.now()
    transfer = transfer_schedule(actor=staff_a, destination_kind=cabin.kind, people=[person_a], destination=cabin,
                                 case=case, window_start=now - datetime.timedelta(minutes=30),
                                 window_end=now + datetime.timedelta(hours=1), vehicle="川A·12345")
    page = phone_page
    sign_in(page, "staff_a")

    # When the crew opens the day's transfers, 张三 waits under 待转运 and the page fits the phone
    page.goto(f"{live_server.url}/health/transfers/")
    planned = page.locator("section[data-status=planned]")
    expect(planned).to_contain_text("张三")
    expect(planned).to_contain_text("川A·12345")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # And marks him picked up now
    planned.get_by_role("link", name="国博方舱").click()
    page.get_by_role("button", name="已接走").click()
    expect(page.get_by_test_id("status")).to_have_text("已接走")
    expect(page.get_by_test_id("picked-up-at")).not_to_have_text("-")

    # Then arrived
    page.get_by_role("button", name="已送达").click()
    expect(page.get_by_test_id("status")).to_have_text("已送达")

    # And the day's list shows him arrived; the case is in the makeshift hospital
    page.goto(f"{live_server.url}/health/transfers/")
    expect(page.locator("section[data-status=arrived]")).to_contain_text("张三")
    expect(page.locator("section[data-status=planned]")).to_have_count(0)
    transfer.refresh_from_db()
    case.refresh_from_db()
    assert transfer.status == Transfer.Status.ARRIVED
    assert (case.status, case.location) == (Case.Status.IN_CENTRAL_QUARANTINE, "国博方舱")
