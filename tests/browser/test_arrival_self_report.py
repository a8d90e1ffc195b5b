"""A resident who just arrived scans the poster on a 360 px phone, registers with a companion, signs, and is done."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from fangkong.accounts.models import Role, User
from fangkong.screening import queries
from fangkong.screening.models import Arrival, FollowUp
from tests.people.factories import resident_id

pytestmark = pytest.mark.browser

SENT = []


class KeepingSender:
    """Keeps each code sent, so the test types what the resident would read in the SMS."""

    def send_code(self, phone, code):
        SENT.append((phone, code))


@pytest.fixture(autouse=True)
def sender(settings):
    settings.FANGKONG_SMS_SENDER = "tests.browser.test_arrival_self_report.KeepingSender"
    SENT.clear()


def test_resident_registers_an_arrival_from_the_poster(phone_page, live_server, community_a, household_a):
    page = phone_page
    url = live_server.url + reverse("screening:arrival_self_report", args=[queries.poster_token(community_a)])

    # Given the page the poster's QR code opens, when the resident asks for a code and types it
    page.goto(url)
    page.fill("input[name=phone]", "13912345678")
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_text("验证码已发送")).to_be_visible()
    page.fill("input[name=code]", SENT[-1][1])
    page.get_by_role("button", name="下一步").click()

    # Then the form opens; they fill it in, adding a companion row
    page.fill("input[name=name]", "赵敏")
    page.fill("input[name=id_number]", resident_id(71))
    page.fill("input[name=origin]", "武昌")
    expect(page.locator("#division-options option").first).to_have_attribute("value", "湖北省武汉市武昌区 420106")
    page.fill("input[name=origin]", "湖北省武汉市武昌区 420106")
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    page.fill("input[name=arrived_on]", yesterday.isoformat())
    page.select_option("select[name=travel_mode]", "train")
    page.fill("input[name=travel_number]", "G72")
    page.fill("input[name=building]", "3")
    page.fill("input[name=unit]", "2")
    page.fill("input[name=room]", "301")
    page.fill("input[name=companion_name]", "赵小敏")
    page.fill("input[name=companion_id_number]", resident_id(72))
    page.fill("input[name=companion_relationship]", "子女")

    # When they submit without signing, they are told to sign
    page.get_by_role("button", name="提交登记").click()
    expect(page.get_by_text("请阅读并勾选告知书")).to_be_visible()
    assert page.input_value("input[name=companion_name]") == "赵小敏"

    # When they tick the notice and the commitment and submit
    page.check("input[name=notice_acknowledged]")
    page.check("input[name=commitment_signed]")
    page.get_by_role("button", name="提交登记").click()

    # Then they see the confirmation, with a link to report temperatures, and the page fits the phone
    expect(page.get_by_test_id("arrival-done")).to_contain_text("登记成功")
    expect(page.get_by_test_id("arrival-done")).to_contain_text("赵小敏")
    expect(page.get_by_role("link", name="报告今天的体温")).to_have_attribute("href", "/health/me/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # And the arrivals, the follow-ups and the resident account exist
    lead = Arrival.objects.get(person__name="赵敏")
    assert lead.notice_acknowledged_at and lead.commitment_signed_at and lead.travel_number == "G72"
    assert FollowUp.objects.filter(person__name__in=["赵敏", "赵小敏"]).count() == 2
    assert User.objects.get(phone="13912345678", role=Role.RESIDENT).person == lead.person
