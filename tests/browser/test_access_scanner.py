"""A guard's scanner at the gate keeps working offline and the server holds each passage once, in real Chromium.

The scanner is opened online (its service worker keeps the page and its rules snapshot), the network goes,
the page is reopened from the cache, codes are typed and decided from the snapshot, marked offline and
queued; the network comes back and the queue is sent, once even when the first answer is lost on the way.
"""

import uuid

import pytest
from playwright.sync_api import expect

from fangkong.access import services
from fangkong.access.models import Passage
from fangkong.people.codes import personal_code
from tests.access.factories import CheckpointFactory, PassFactory
from tests.people.factories import PersonFactory

pytestmark = pytest.mark.browser


def _wait_until_cached(page, timeout_ms: int = 10_000) -> None:
    for _ in range(timeout_ms // 200):
        if page.evaluate("caches.match(location.href, {ignoreVary: true}).then(Boolean)"):
            return
        page.wait_for_timeout(200)
    raise AssertionError("the scanner page was not cached by its service worker")


def test_a_guard_scans_offline_and_every_passage_reaches_the_server_once(
        phone_page, live_server, sign_in_as, volunteer, compound_a, household_a, person_a):
    # Given 驰誉小区 under closed management, a household pass of two exits per three days, and three members
    gate = CheckpointFactory(community=compound_a.community, compound=compound_a, name="驰誉小区东门",
                             pass_required=True)
    north = CheckpointFactory(community=compound_a.community, compound=compound_a, name="驰誉小区北门",
                              pass_required=True)
    PassFactory(household=household_a, quota_exits=2, quota_days=3)
    son = PersonFactory(household=household_a, name="张小一")
    daughter = PersonFactory(household=household_a, name="张小二")
    page = phone_page
    sign_in_as(page, volunteer)

    # When the guard opens the scanner online and scans 张三's personal code by typing it
    page.goto(f"{live_server.url}/access/checkpoints/{gate.pk}/scan/")
    expect(page.locator("#snapshot-status")).to_contain_text("规则更新于")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.fill("#scan-code", personal_code(person_a))
    page.press("#scan-code", "Enter")
    expect(page.locator("#verdict")).to_contain_text("放行 · 出 · 本期第 1 次,共 2 次")
    expect(page.locator("#verdict")).to_contain_text("张三")
    _wait_until_cached(page)

    # And the network goes; the scanner is reopened from its cache
    page.context.set_offline(True)
    page.reload()
    expect(page.locator("#net")).to_have_text("离线")

    # Then 张小一 goes out on the household's last exit, decided from the snapshot and queued
    page.fill("#scan-code", personal_code(son))
    page.press("#scan-code", "Enter")
    expect(page.locator("#verdict")).to_contain_text("放行 · 出 · 本期第 2 次,共 2 次")
    expect(page.locator("#verdict")).to_contain_text("离线判定")
    # and 张小二 after him is persuaded back, and a forged code refused, all three waiting to be sent
    page.fill("#scan-code", personal_code(daughter))
    page.press("#scan-code", "Enter")
    expect(page.locator("#verdict")).to_contain_text("劝返 · 出 · 本期外出次数已用完")
    page.fill("#scan-code", "FK1:1.1:abc:forged")
    page.press("#scan-code", "Enter")
    expect(page.locator("#verdict")).to_contain_text("不予通行")
    expect(page.locator("#queue-count")).to_have_text("待上传 3 条")
    assert Passage.objects.count() == 1

    # Meanwhile the north gate, online, lets 张小二 out on that same last exit
    services.passage_register(actor=volunteer, checkpoint=north, client_id=uuid.uuid4(), direction="out",
                              code=personal_code(daughter))

    # When the network comes back and the first answer of the batch is lost on the way
    lost = {"count": 0}

    def lose_first_answer(route):
        if lost["count"] == 0:
            lost["count"] += 1
            route.fetch()      # the server stores the batch ...
            route.abort()      # ... and the scanner never hears of it, so it sends it again
        else:
            route.continue_()

    page.route("**/api/v1/passages/batch", lose_first_answer)
    page.context.set_offline(False)

    # Then the queue empties, the conflict is shown to the guard, and the server holds each passage once
    expect(page.locator("#queue-count")).to_have_text("待上传 0 条", timeout=30_000)
    expect(page.locator("#conflict-list")).to_contain_text("本期外出次数已用完")
    assert lost["count"] == 1
    at_gate = Passage.objects.filter(checkpoint=gate)
    assert at_gate.count() == 4 and at_gate.values("client_id").distinct().count() == 4
    assert at_gate.filter(offline=True).count() == 3
    son_out = at_gate.get(person=son)
    assert son_out.result == "allowed" and son_out.conflict and "本期外出次数已用完" in son_out.conflict_note
    assert at_gate.get(person=daughter).result == "persuaded_back"
    assert at_gate.get(person=None).reason == "code_forged"
