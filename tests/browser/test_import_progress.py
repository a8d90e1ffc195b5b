"""A ledger import through the worker, as staff see it in real Chromium: the job page waits in the
queue, and once the worker has run it the report replaces the progress without a reload."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from fangkong.people.services import ledger_import_job_start
from tests.people.ledger_files import ledger_xlsx, person_row

pytestmark = pytest.mark.browser


def test_the_job_page_follows_the_worker_until_the_report(page, live_server, sign_in, staff_a, household_a,
                                                         tmp_path, settings):
    settings.FANGKONG_TASKS_EAGER = False  # the upload waits in the queue for the worker
    ledger = ledger_xlsx(tmp_path / "台账.xlsx", [person_row(1), person_row(2, room="302")])
    sign_in(page, "staff_a")

    # When staff upload the ledger, the page says it waits for the worker
    page.goto(f"{live_server.url}/people/ledger/")
    page.set_input_files("input[type=file]", str(ledger))
    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_test_id("import-progress")).to_contain_text("排队等待后台处理")
    job_url = page.url

    # Then, once the worker has run it, the page shows the report on its own (HTMX polling)
    call_command("worker", "--batch", "--no-startup-delay", stdout=io.StringIO())
    expect(page.get_by_test_id("import-report")).to_contain_text("导入完成")
    assert page.url == job_url


def test_without_javascript_the_job_page_reloads_itself_until_the_report(browser, live_server, sign_in_as, staff_a,
                                                                        community_a, household_a, tmp_path,
                                                                        transactional_db, settings):
    settings.FANGKONG_TASKS_EAGER = False
    ledger = ledger_xlsx(tmp_path / "台账.xlsx", [person_row(1)])
    job = ledger_import_job_start(actor=staff_a, community=community_a, file_name=ledger.name,
                                  data=ledger.read_bytes(), dry_run=False)
    context = browser.new_context(java_script_enabled=False, locale="zh-CN")
    try:
        page = context.new_page()
        sign_in_as(page, staff_a)
        page.goto(f"{live_server.url}/people/ledger/jobs/{job.pk}/")
        expect(page.get_by_test_id("import-progress")).to_contain_text("排队等待后台处理")

        call_command("worker", "--batch", "--no-startup-delay", stdout=io.StringIO())

        expect(page.get_by_test_id("import-report")).to_contain_text("导入完成", timeout=10_000)
    finally:
        context.close()
