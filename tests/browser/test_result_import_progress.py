"""A lab result file through the worker, as staff see it in real Chromium: the upload on /testing/results/
leads to the import's page, which waits in the queue and, once the worker has run the import, shows the
counts and the positive tube's people without a reload."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from fangkong.testing.models import Tube
from tests.people.factories import PersonFactory
from tests.testing.factories import SampleFactory, TubeFactory
from tests.testing.factories import TestRoundFactory as RoundFactory

pytestmark = pytest.mark.browser


def test_the_import_page_follows_the_worker_until_the_counts(page, live_server, sign_in, staff_a, community_a,
                                                            household_a, tmp_path, settings):
    settings.FANGKONG_TASKS_EAGER = False  # the upload waits in the queue for the worker
    tube = TubeFactory(round=RoundFactory(community=community_a, pool_size=10), barcode="P0001", sample_count=2,
                       status=Tube.Status.CLOSED)
    for name in ("王一", "王二"):
        SampleFactory(tube=tube, person=PersonFactory(household=household_a, name=name))
    results = tmp_path / "检测结果.csv"
    results.write_text("条码,结果,报告时间\nP0001,阳性,2022-04-04 06:30\nNOPE1,阴性,2022-04-04 06:31\n",
                       encoding="utf-8")
    sign_in(page, "staff_a")

    # When staff upload the lab's file, the import's page says it waits for the worker
    page.goto(f"{live_server.url}/testing/results/")
    page.set_input_files("input[type=file]", str(results))
    page.get_by_role("button", name="导入").click()
    expect(page.get_by_test_id("import-progress")).to_contain_text("排队等待后台处理")
    import_url = page.url

    # Then, once the worker has run it, the page shows the counts and the positive tube on its own
    call_command("worker", "--batch", "--no-startup-delay", stdout=io.StringIO())
    expect(page.get_by_test_id("import-done")).to_contain_text("导入 2 行,阳性 1 管,未知条码 1 个")
    expect(page.locator(".positive-tube")).to_contain_text("王一")
    assert page.url == import_url
