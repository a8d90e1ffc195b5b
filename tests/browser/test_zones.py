"""A sealed unit proposed by a positive case, accepted with a 24-hour guard from its page, in real Chromium."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from fangkong.volunteers.models import Post
from fangkong.zones import services
from fangkong.zones.models import Level, Zone
from tests.health.factories import CaseFactory

pytestmark = pytest.mark.browser


def test_staff_accepts_a_proposed_zone_with_guard_and_sees_its_unlock_date(page, live_server, sign_in, staff_a,
                                                                          person_a, unit_a):
    # Given a case confirmed two days ago proposed its unit as a sealed zone
    case = CaseFactory(person=person_a, confirmed_at=timezone.now() - datetime.timedelta(days=2))
    zone = services.zone_propose(actor=staff_a, level=Level.SEALED, place=unit_a, case=case, reason="阳性病例")
    unlock_on = (timezone.localdate(case.confirmed_at) + datetime.timedelta(days=14)).isoformat()

    # When community staff open the zone list, then the proposal waiting first
    sign_in(page, "staff_a")
    page.goto(f"{live_server.url}/zones/")
    expect(page.get_by_test_id("proposals")).to_contain_text("驰誉小区3号楼2单元")
    page.get_by_test_id("proposals").get_by_role("link", name="驰誉小区3号楼2单元").click()
    expect(page.get_by_test_id("zone-status")).to_have_text("待确认")

    # And accept it with a 24-hour guard and its rules
    form = page.get_by_test_id("accept-form")
    form.get_by_label("设24小时值守岗").check()
    form.get_by_label("管控要求").fill("足不出户,上门服务")
    form.get_by_role("button", name="接受").click()

    # Then the zone is active with its unlock date, and the list shows it among the active zones
    expect(page.get_by_test_id("zone-status")).to_have_text("生效中")
    expect(page.get_by_test_id("unlock-on")).to_contain_text(unlock_on)
    expect(page.get_by_test_id("history")).to_contain_text("生效")
    page.goto(f"{live_server.url}/zones/")
    expect(page.get_by_test_id("active").get_by_test_id("unlock-on")).to_have_text(unlock_on)
    zone.refresh_from_db()
    assert zone.status == Zone.Status.ACTIVE and zone.guarded
    assert Post.objects.filter(zone=zone, status=Post.Status.OPEN).count() == 1
