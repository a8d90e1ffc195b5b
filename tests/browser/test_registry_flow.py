"""The registry as a community worker uses it, in real Chromium: sign in, import the ledger,
find 张三 by typing "zs", see the masked ID, reveal it, and find the reveal in the audit log."""

import pytest
from playwright.sync_api import expect

from fangkong.core.masking import mask_id_number
from tests.people.factories import resident_id
from tests.people.ledger_files import ledger_xlsx, person_row

pytestmark = pytest.mark.browser

ZHANG_SAN_ID = resident_id(7)


@pytest.fixture
def ledger(tmp_path, household_a):
    rows = [person_row(1, name="张三", id_number=ZHANG_SAN_ID, phone="13800001234", tags="重症慢病"),
            person_row(2, name="李梅", relationship="配偶"),
            person_row(3, name="王强", room="302")]
    return ledger_xlsx(tmp_path / "春雨社区人口台账.xlsx", rows)


def _import(page, live_server, ledger):
    page.goto(f"{live_server.url}/people/ledger/")
    page.set_input_files("input[type=file]", str(ledger))
    page.get_by_role("button", name="预览").click()
    expect(page.get_by_test_id("import-report")).to_contain_text("预览通过")
    page.get_by_test_id("commit-preview").click()
    expect(page.get_by_test_id("import-report")).to_contain_text("导入完成")
    expect(page.get_by_test_id("import-report")).to_contain_text("3")


def test_staff_imports_finds_reveals_and_audits(page, live_server, sign_in, staff_a, ledger, tmp_path):
    # Given community staff signed in, when they import the ledger
    sign_in(page, "staff_a")
    _import(page, live_server, ledger)

    # When they type "zs" in the people list's search box (live search, no submit)
    page.goto(f"{live_server.url}/people/")
    page.fill("input[name=q]", "zs")
    row = page.locator("#results tbody tr", has_text="张三")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    # Then 张三 is found with the ID masked, and what was typed stays out of the address bar and history
    assert page.url == f"{live_server.url}/people/"
    expect(row).to_contain_text(mask_id_number(ZHANG_SAN_ID))
    expect(row).to_contain_text("重症慢病")
    assert ZHANG_SAN_ID not in page.content()
    page.screenshot(path=tmp_path / "people-1280.png", full_page=True)

    # When they open 张三 and click 查看完整信息
    row.get_by_role("link", name="张三").click()
    expect(page.get_by_test_id("id-number")).to_have_text(mask_id_number(ZHANG_SAN_ID))
    page.screenshot(path=tmp_path / "detail-1280.png", full_page=True)
    page.get_by_role("button", name="查看完整信息").click()
    # Then the full ID appears in place
    expect(page.get_by_test_id("id-number")).to_have_text(ZHANG_SAN_ID)
    expect(page.get_by_test_id("phone")).to_have_text("13800001234")

    # And the audit log shows who revealed whom
    page.get_by_role("link", name="审计日志").click()
    page.select_option("select[name=action]", "reveal")
    page.get_by_role("button", name="筛选").click()
    event = page.locator("tbody tr", has_text="张三")
    expect(event).to_contain_text("查看完整信息")
    expect(event).to_contain_text("staff_a")
    page.goto(f"{live_server.url}/")
    expect(page.locator(".stat", has_text="人数")).to_contain_text("3")
    page.screenshot(path=tmp_path / "home-1280.png", full_page=True)


def test_people_list_fits_a_phone(phone_page, live_server, sign_in, staff_a, person_a, tmp_path):
    # Given a staff member on a 360 × 740 phone
    page = phone_page
    sign_in(page, "staff_a")
    page.screenshot(path=tmp_path / "home-360.png", full_page=True)
    # When they open the people list
    page.goto(f"{live_server.url}/people/")
    row = page.locator("#results tbody tr", has_text="张三")
    # Then each person is a stacked card with labelled, masked values and nothing overflows sideways
    expect(row).to_contain_text(person_a.masked_id_number)
    assert row.bounding_box()["width"] <= 360
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    expect(page.locator("#results thead")).to_be_hidden()
    label = row.locator("td.mono").first.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"证件号码"'
    page.screenshot(path=tmp_path / "people-360.png", full_page=True)
    page.goto(f"{live_server.url}/people/{person_a.pk}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=tmp_path / "detail-360.png", full_page=True)


def test_staff_register_a_person_by_typing_the_address(page, live_server, sign_in, staff_a, household_a):
    # Given community staff on the new person form
    sign_in(page, "staff_a")
    page.goto(f"{live_server.url}/people/new/")
    # When they fill it in, typing the room as 3-2-301
    page.fill("input[name=name]", "赵六")
    page.fill("input[name=id_number]", resident_id(901))
    page.fill("input[name=address]", "3-2-301")
    page.get_by_role("button", name="保存").click()
    # Then the person's page shows that household
    expect(page.locator("main")).to_contain_text("驰誉小区 3-2-301")
