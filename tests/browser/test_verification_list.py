"""A list at night, in real Chromium: community staff import it, see it matched with a countdown,
answer a row inline, and download the answered list in the layout it came in."""

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from fangkong.core.masking import mask_id_number
from fangkong.screening.models import VerificationItem
from tests.people.factories import resident_id
from tests.screening.list_files import HEADER, list_row, list_xlsx

pytestmark = pytest.mark.browser


def test_staff_import_answer_and_export_a_list(page, live_server, sign_in, staff_a, person_a, tmp_path):
    # Given a list naming 张三 and a stranger
    path = tmp_path / "核查名单.xlsx"
    path.write_bytes(list_xlsx([list_row(1, name="张三", id_number=person_a.id_number),
                                list_row(2, name="路人", id_number=resident_id(90))]))
    sign_in(page, "staff_a")

    # When staff import it with four hours to answer
    page.goto(f"{live_server.url}/screening/lists/import/")
    page.set_input_files("input[name=file]", str(path))
    page.fill("input[name=title]", "夜间推送名单")
    page.fill("input[name=hours]", "4")
    page.get_by_role("button", name="导入并匹配").click()

    # Then the list shows matched rows, masked IDs and a running countdown
    expect(page.locator(".messages")).to_contain_text("已导入 2 行,匹配到 1 人")
    row = page.get_by_test_id("line-3")
    expect(row).to_contain_text(mask_id_number(person_a.id_number))
    expect(row.get_by_test_id("match")).to_have_text("身份证号一致")
    expect(page.get_by_test_id("countdown")).to_contain_text("剩余 3 小时")
    assert person_a.id_number not in page.content()

    # When they answer 张三's row inline
    row.locator("select[name=answer]").select_option("present_verified")
    row.locator("input[name=note]").fill("电话核实,在家")
    row.get_by_role("button", name="保存").click()
    # Then the row is redrawn in place with who answered, without leaving the page
    expect(page.get_by_test_id("line-3").get_by_test_id("answered")).to_contain_text("staff_a")
    assert VerificationItem.objects.get(line=3).answer == "present_verified"

    # When they export the answered list
    with page.expect_download() as download:
        page.get_by_test_id("export-xlsx").click()
    assert download.value.suggested_filename.startswith("夜间推送名单-核查结果-")
    assert download.value.suggested_filename.endswith(".xlsx")
    with open(download.value.path(), "rb") as exported:
        rows = list(load_workbook(exported).active.iter_rows(values_only=True))
    # Then it has the received columns in order, then the answers
    assert list(rows[0]) == [*HEADER, "核查结果", "情况说明", "核查人", "核查时间", "匹配方式", "所属网格"]
    assert rows[1][3] == person_a.id_number and rows[1][7:9] == ("在本辖区,已核实", "电话核实,在家")

    # And the lists page shows the progress
    page.goto(f"{live_server.url}/screening/lists/")
    expect(page.get_by_test_id("progress")).to_have_text("1/2")
