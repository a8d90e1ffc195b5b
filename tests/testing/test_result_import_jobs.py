"""A lab's result file uploaded in the console or queued through the API is imported by the worker: the
import's page shows lines read / checked / written, then the counts and positive tubes, or the reason it
failed. The results and every positive tube's chain land together or not at all, so a job cut off by a
restart runs again and stores nothing twice."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from fangkong.core import audit, tasks
from fangkong.core.jobs import Progress
from fangkong.core.models import AuditEvent
from fangkong.testing import services
from fangkong.testing.models import LabResult, ResampleTask, ResultImport, Tube
from fangkong.testing.services import results as result_services
from tests.clients import signed_in
from tests.people.factories import PersonFactory
from tests.testing.factories import SampleFactory, TubeFactory
from tests.testing.factories import TestRoundFactory as RoundFactory

API = "/api/v1"
FILE = "条码,结果,报告时间\nP0001,阳性,2022-04-04 06:30\nN0001,阴性,2022-04-04 06:31\nZZZ9,阴性,2022-04-04 06:32\n"


@pytest.fixture
def queued(settings, transactional_db):
    """Imports go to the database queue and wait for a worker, as in production."""
    settings.FANGKONG_TASKS_EAGER = False


@pytest.fixture
def tubes(community_a, household_a):
    """A pooled tube of two people (P0001) and a tube of one (N0001), both closed."""
    round = RoundFactory(community=community_a, pool_size=10)
    pooled = TubeFactory(round=round, barcode="P0001", sample_count=2, status=Tube.Status.CLOSED)
    for name in ("王一", "王二"):
        SampleFactory(tube=pooled, person=PersonFactory(household=household_a, name=name))
    single = TubeFactory(round=round, barcode="N0001", sample_count=1, status=Tube.Status.CLOSED)
    SampleFactory(tube=single, person=PersonFactory(household=household_a, name="王三"))
    return pooled, single


def result_file(text: str = FILE, name: str = "检测结果.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode())


def run_worker() -> None:
    call_command("worker", "--batch", "--no-startup-delay", stdout=io.StringIO())


def cut_off(job: ResultImport, *, attempts: int = 1) -> None:
    """The worker that had taken the job died in the middle of it."""
    result = DBTaskResult.objects.get(args_kwargs__kwargs__job_id=job.pk,
                                      args_kwargs__kwargs__model="testing.resultimport")
    result.status, result.started_at = TaskResultStatus.RUNNING, timezone.now()
    result.worker_ids = [f"dead-{n}" for n in range(attempts)]
    result.save()
    ResultImport.objects.filter(pk=job.pk).update(status=ResultImport.Status.RUNNING, total=3, rows_read=3)


# The console -----------------------------------------------------------------------------------

def test_an_uploaded_file_waits_for_the_worker_then_shows_counts_and_positive_tubes(client, staff_a, community_a,
                                                                                  tubes, queued):
    client.force_login(staff_a)
    # when staff upload the lab's file, they land on the import's page, which says it waits
    response = client.post(reverse("testing:results"), {"community": community_a.pk, "file": result_file()})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "排队等待后台处理" in page and not LabResult.objects.exists()

    # then once the worker has run it, the page shows the counts, the unknown tube and the positive's people
    run_worker()
    page = client.get(response["Location"]).content.decode()
    assert "导入 3 行,阳性 1 管,未知条码 1 个" in page and "ZZZ9" in page and "王一" in page
    job = ResultImport.objects.get()
    assert job.status == ResultImport.Status.DONE and job.upload is None
    assert job.rows_read == job.rows_checked == job.rows_written == job.total == 3
    assert ResampleTask.objects.filter(tube=tubes[0]).count() == 2


def test_the_page_shows_lines_read_checked_and_written_and_polls_while_running(client, staff_a, community_a):
    job = ResultImport.objects.create(community=community_a, actor=staff_a, file_name="r.csv",
                                      status=ResultImport.Status.RUNNING, total=2500, rows_read=2500,
                                      rows_checked=2500, rows_written=1000)
    client.force_login(staff_a)

    page = client.get(reverse("testing:result_import", args=[job.pk])).content.decode()
    progress = client.get(reverse("testing:result_import", args=[job.pk]),
                          headers={"HX-Request": "true"}).content.decode()

    assert ">2500 / 2500<" in page and ">1000 / 2500<" in page
    assert 'hx-trigger="every 2s"' in progress and ">1000 / 2500<" in progress and "<h1>" not in progress
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page


# The work --------------------------------------------------------------------------------------

def test_progress_counts_lines_read_checked_then_written_a_positive_once_its_chain_ran(staff_a, community_a, tubes):
    # given a file of 2,500 lines, one positive
    text = "条码,结果\nP0001,阳性\n" + "".join(f"X{n:05d},阴性\n" for n in range(2499))
    job = ResultImport.objects.create(community=community_a, actor=staff_a, file_name="r.csv",
                                      upload=text.encode(), status=ResultImport.Status.RUNNING)
    heard = []

    def progress(step, rows, total=None):
        heard.append((step, rows, ResampleTask.objects.count()))

    # when the worker's function runs it
    services.result_import_work(job, progress)

    # then the lines read come every thousand, then all checked, then written: the positive line last,
    # once its re-sampling tasks exist
    assert [rows for step, rows, _tasks in heard if step == "read"] == [1000, 2000, 2500]
    assert [rows for step, rows, _tasks in heard if step == "checked"] == [2500]
    written = [(rows, tasks) for step, rows, tasks in heard if step == "written"]
    assert written == [(2499, 0), (2500, 2)]
    job.refresh_from_db()
    assert (job.rows, job.positives, len(job.unknown_tubes), job.upload) == (2500, 1, 2499, None)


def test_a_bad_file_fails_the_job_naming_each_line_and_stores_nothing(staff_a, community_a, tubes):
    job = services.lab_results_import_start(actor=staff_a, community=community_a,
                                            uploaded_file=result_file("条码,结果\nP0001,阳\nN0001,阴性,\n,阴性\n"))

    job.refresh_from_db()
    assert job.status == ResultImport.Status.FAILED and job.finished_at and job.upload is None
    assert "第 2 行" in job.error and "第 4 行" in job.error and "未导入任何结果" in job.error
    assert not LabResult.objects.exists() and not ResampleTask.objects.exists()
    assert Tube.objects.get(pk=tubes[0].pk).result == ""


def test_a_chain_that_breaks_takes_every_result_of_the_file_back_with_it(staff_a, community_a, tubes, monkeypatch):
    # given a file whose positive tube's chain breaks
    def broken_chain(*, actor, tube):
        raise RuntimeError("zone service down")

    monkeypatch.setattr(result_services, "positive_tube_chain", broken_chain)

    job = services.lab_results_import_start(actor=staff_a, community=community_a, uploaded_file=result_file())

    # then the job failed and no result landed, not even the negative one
    job.refresh_from_db()
    assert job.status == ResultImport.Status.FAILED and "系统管理员" in job.error
    assert not LabResult.objects.exists()
    assert Tube.objects.get(pk=tubes[1].pk).status == Tube.Status.CLOSED


def test_the_same_file_again_as_a_new_job_stores_nothing_twice(staff_a, community_a, tubes):
    services.lab_results_import_start(actor=staff_a, community=community_a, uploaded_file=result_file())
    again = services.lab_results_import_start(actor=staff_a, community=community_a, uploaded_file=result_file())

    again.refresh_from_db()
    assert again.status == ResultImport.Status.DONE and again.positives == 0
    assert LabResult.objects.count() == 2 and ResampleTask.objects.count() == 2


# Cut off by a restart ----------------------------------------------------------------------------

def test_a_job_cut_off_before_its_results_landed_runs_again_and_lands_once(staff_a, community_a, tubes, queued):
    job = services.lab_results_import_start(actor=staff_a, community=community_a, uploaded_file=result_file())
    cut_off(job)

    run_worker()

    job.refresh_from_db()
    assert job.status == ResultImport.Status.DONE and job.positives == 1
    assert LabResult.objects.count() == 2 and ResampleTask.objects.count() == 2


def test_a_job_cut_off_after_its_results_landed_stores_nothing_twice(staff_a, community_a, tubes, queued):
    # given a job whose results and chains landed, but whose worker died before the job said so
    job = services.lab_results_import_start(actor=staff_a, community=community_a, uploaded_file=result_file())
    services.result_import_work(ResultImport.objects.get(pk=job.pk), lambda *args: None)
    cut_off(job)

    # when a worker starts, the job runs again
    run_worker()

    # then it ends reporting what landed the first time, and nothing is there twice
    job.refresh_from_db()
    assert job.status == ResultImport.Status.DONE
    assert (job.rows, job.positives, job.unknown_tubes, job.rows_written) == (3, 1, ["ZZZ9"], 3)
    assert LabResult.objects.count() == 2 and ResampleTask.objects.count() == 2
    assert AuditEvent.objects.filter(action=audit.Action.IMPORT, object_id=str(job.pk)).count() == 1


def test_a_job_cut_off_too_often_fails_with_the_reason_on_its_page(client, staff_a, community_a, tubes, queued):
    job = services.lab_results_import_start(actor=staff_a, community=community_a, uploaded_file=result_file())
    cut_off(job, attempts=tasks.MAX_ATTEMPTS)

    run_worker()

    job.refresh_from_db()
    assert job.status == ResultImport.Status.FAILED and job.upload is None
    client.force_login(staff_a)
    page = client.get(reverse("testing:result_import", args=[job.pk])).content.decode()
    assert "任务在运行中被中断(服务重启)" in page
    assert not LabResult.objects.exists()


# The API ---------------------------------------------------------------------------------------

def test_a_file_queued_through_the_api_is_202_then_polled_to_its_counts(staff_a, tubes, queued):
    client = signed_in(staff_a)
    response = client.post(f"{API}/lab-results/import-jobs", {"file": result_file()})
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] == "queued" and body["rows_written"] == 0

    run_worker()

    polled = client.get(f"{API}/lab-results/import-jobs/{body['id']}").json()
    assert (polled["status"], polled["percent"], polled["rows_read"], polled["rows_written"]) == ("done", 100, 3, 3)
    assert (polled["rows"], polled["positives"], polled["unknown_tubes"]) == (3, 1, ["ZZZ9"])
    assert polled["imported_by"] == "staff_a"


def test_a_bad_file_queued_through_the_api_ends_failed_with_the_lines(staff_a, tubes):
    client = signed_in(staff_a)
    job = client.post(f"{API}/lab-results/import-jobs", {"file": result_file("条码,结果\nP0001,阳\n")}).json()

    polled = client.get(f"{API}/lab-results/import-jobs/{job['id']}").json()
    assert polled["status"] == "failed" and "第 2 行" in polled["error"]


def test_another_communitys_import_job_is_404(staff_a, staff_b, tubes):
    job = signed_in(staff_a).post(f"{API}/lab-results/import-jobs", {"file": result_file()}).json()

    assert signed_in(staff_b).get(f"{API}/lab-results/import-jobs/{job['id']}").status_code == 404


def test_the_api_refuses_a_job_without_a_file_a_file_too_large_or_a_foreign_community(staff_a, community_b, tubes,
                                                                                       settings):
    client = signed_in(staff_a)
    assert client.post(f"{API}/lab-results/import-jobs", {}).status_code in (400, 422)
    foreign = client.post(f"{API}/lab-results/import-jobs", {"file": result_file(), "community_id": community_b.pk})
    assert foreign.status_code == 404 and "community_id" in foreign.json()["error"]["fields"]
    settings.LEDGER_MAX_BYTES = 10
    too_large = client.post(f"{API}/lab-results/import-jobs", {"file": result_file()})
    assert too_large.status_code == 400 and "file" in too_large.json()["error"]["fields"]
    assert not ResultImport.objects.exists()


def test_a_grid_member_may_not_queue_or_read_import_jobs(grid_member_a, staff_a, tubes):
    job = signed_in(staff_a).post(f"{API}/lab-results/import-jobs", {"file": result_file()}).json()
    client = signed_in(grid_member_a)
    assert client.post(f"{API}/lab-results/import-jobs", {"file": result_file()}).status_code == 403
    assert client.get(f"{API}/lab-results/import-jobs/{job['id']}").status_code == 403


def test_progress_reaches_the_console_on_postgresql_after_results_point_at_the_job(staff_a, community_a, tubes,
                                                                                  transactional_db):
    # given a running import whose transaction has already inserted results pointing at it
    job = ResultImport.objects.create(community=community_a, actor=staff_a, status=ResultImport.Status.RUNNING)
    progress = Progress(job)
    console = connections.create_connection(DEFAULT_DB_ALIAS)  # what the web process sees
    try:
        with transaction.atomic():
            LabResult.objects.create(tube=tubes[1], community=community_a, result="negative",
                                     reported_at=timezone.now(), source=job)
            # when the work reports lines written
            progress("written", 1000, 1000)

            # then the console sees them before the commit on PostgreSQL (on SQLite at the end of the job)
            with console.cursor() as cursor:
                cursor.execute(f"SELECT rows_written FROM {ResultImport._meta.db_table} WHERE id = %s", [job.pk])
                seen = cursor.fetchone()[0]
    finally:
        progress.close()
        console.close()
    assert seen == (1000 if connection.vendor == "postgresql" else 0)
