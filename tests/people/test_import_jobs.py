"""A ledger uploaded in the console is imported by the worker, not by the web process: the job page
says it waits, shows rows read / checked / written as the worker goes, and ends with the report or
the reason it failed. A job cut off by a restart is imported again, and never left running."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from fangkong.core import tasks
from fangkong.core.jobs import Progress
from fangkong.core.models import AuditEvent
from fangkong.people.ledger_import import ledger_import
from fangkong.people.models import ImportJob, Person
from fangkong.people.services import ledger_import_job_start
from tests.clients import signed_in
from tests.people.factories import ImportJobFactory
from tests.people.ledger_files import ledger_csv, ledger_xlsx, person_row


@pytest.fixture
def queued(settings, transactional_db):
    """Imports go to the database queue and wait for a worker, as in production."""
    settings.FANGKONG_TASKS_EAGER = False


def run_worker() -> str:
    out = io.StringIO()
    call_command("worker", "--batch", "--no-startup-delay", stdout=out)
    return out.getvalue()


def upload(client, community, path, button="commit") -> str:
    response = client.post(reverse("people:import"), {"community": community.pk, button: "1",
                                                      "file": SimpleUploadedFile(path.name, path.read_bytes())})
    assert response.status_code == 302
    return response["Location"]


def cut_off(job: ImportJob, *, attempts: int = 1) -> DBTaskResult:
    """The worker that had taken the job died in the middle of it."""
    result = DBTaskResult.objects.get(args_kwargs__kwargs__job_id=job.pk)
    result.status, result.started_at = TaskResultStatus.RUNNING, timezone.now()
    result.worker_ids = [f"dead-{n}" for n in range(attempts)]
    result.save()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, total=3, rows_read=3, rows_checked=1)
    return result


@pytest.fixture
def ledger(tmp_path, household_a):
    return ledger_xlsx(tmp_path / "台账.xlsx", [person_row(1), person_row(2, room="302"), person_row(3, room="302")])


def test_an_uploaded_ledger_waits_for_the_worker_then_shows_its_report(client, staff_a, community_a, ledger, queued):
    client.force_login(staff_a)

    # When staff uploads a ledger, the web process only queues it
    job_url = upload(client, community_a, ledger)
    page = client.get(job_url).content.decode()
    assert "排队等待后台处理" in page and 'hx-trigger="every 2s"' in page
    assert not Person.objects.filter(name__startswith="居民").exists()

    # Then the worker imports it, and the page shows the report and stops polling
    run_worker()
    page = client.get(job_url).content.decode()
    assert "导入完成" in page and "hx-trigger" not in page
    assert Person.objects.filter(name__startswith="居民").count() == 3
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.DONE and job.upload is None and job.report["created"] == 3


def test_the_import_is_audited_as_done_by_the_uploader_from_the_console(client, staff_a, community_a, ledger, queued):
    client.force_login(staff_a)
    upload(client, community_a, ledger)

    run_worker()

    event = AuditEvent.objects.get(action=AuditEvent.Action.IMPORT)
    assert event.actor == staff_a and event.via == "web" and event.client_address == "127.0.0.1"


def test_a_preview_through_the_worker_keeps_its_file_for_the_commit(client, staff_a, community_a, ledger, queued):
    client.force_login(staff_a)
    upload(client, community_a, ledger, button="preview")
    run_worker()
    preview = ImportJob.objects.get()
    assert preview.status == ImportJob.Status.DONE and preview.upload is not None

    commit_url = client.post(reverse("people:import_job_commit", args=[preview.pk]))["Location"]
    run_worker()

    assert "导入完成" in client.get(commit_url).content.decode()
    assert Person.objects.filter(name__startswith="居民").count() == 3
    assert not ImportJob.objects.filter(upload__isnull=False).exists()


def test_a_failed_import_shows_why_on_its_page(client, staff_a, community_a, queued, household_a, tmp_path):
    client.force_login(staff_a)
    bad = tmp_path / "台账.xlsx"
    bad.write_bytes(b"not a spreadsheet")
    job_url = upload(client, community_a, bad)

    run_worker()

    page = client.get(job_url).content.decode()
    assert "导入失败" in page and "电子表格" in page and "hx-trigger" not in page
    assert ImportJob.objects.get().upload is None


def test_the_page_shows_rows_read_checked_and_written_out_of_the_total(client, staff_a, community_a, db):
    job = ImportJobFactory(community=community_a, actor=staff_a, status="running", total=2500, rows_read=2500,
                           rows_checked=1000)
    client.force_login(staff_a)

    page = client.get(reverse("people:import_job", args=[job.pk])).content.decode()
    progress = client.get(reverse("people:import_job", args=[job.pk]), headers={"HX-Request": "true"}).content.decode()

    assert ">2500 / 2500<" in page and ">1000 / 2500<" in page and ">0 / 2500<" in page
    assert 'hx-trigger="every 2s"' in progress and ">1000 / 2500<" in progress
    # without JavaScript the page reloads itself while the job runs
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page


def test_progress_is_written_every_thousand_rows_not_every_row(admin, community_a, household_a, tmp_path,
                                                               transactional_db):
    path = ledger_csv(tmp_path / "l.csv", [person_row(n) for n in range(1, 3001)])

    with CaptureQueriesContext(connection) as queries:
        job = ledger_import_job_start(actor=admin, community=community_a, file_name=path.name,
                                      data=path.read_bytes(), dry_run=True)

    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    progress_writes = [sql for sql in updates if ImportJob._meta.db_table in sql
                       and '"rows_checked"' in sql and '"status"' not in sql]
    assert len(progress_writes) == 4  # the rows read, then rows checked at 1000, 2000 and 3000
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.rows_read == job.rows_checked == job.total == 3000


def test_a_job_cut_off_by_a_restart_is_imported_again_and_lands_once(admin, community_a, ledger, queued):
    # Given an import whose worker died after the import had landed, but before the job said so
    job = ledger_import_job_start(actor=admin, community=community_a, file_name=ledger.name,
                                  data=ledger.read_bytes(), dry_run=False)
    ledger_import(actor=admin, community=community_a, file_name=ledger.name, data=ledger.read_bytes())
    cut_off(job)

    # When a worker starts
    run_worker()

    # Then the job runs again, finds the rows already there, and ends
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.report["unchanged"] == 3 and job.report["created"] == 0
    assert Person.objects.filter(name__startswith="居民").count() == 3


def test_a_job_cut_off_too_often_is_failed_with_the_reason_on_its_page(client, staff_a, community_a, ledger, queued):
    client.force_login(staff_a)
    job_url = upload(client, community_a, ledger)
    job = ImportJob.objects.get()
    cut_off(job, attempts=tasks.MAX_ATTEMPTS)

    run_worker()

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.upload is None and job.finished_at
    assert "任务在运行中被中断(服务重启)" in client.get(job_url).content.decode()
    assert not Person.objects.filter(name__startswith="居民").exists()


def test_progress_inside_the_import_transaction_reaches_the_console_on_postgresql(admin, community_a, transactional_db):
    # Given a running job whose work is inside its all-or-nothing transaction
    job = ImportJobFactory(community=community_a, actor=admin, status="running")
    progress = Progress(job)
    console = connections.create_connection(DEFAULT_DB_ALIAS)  # what the web process sees
    try:
        with transaction.atomic():
            # When the work reports rows written
            progress("written", 1000, 1000)

            # Then the console sees them before the commit on PostgreSQL; on SQLite, whose write
            # lock the transaction holds, they wait for the end of the job
            with console.cursor() as cursor:
                cursor.execute(f"SELECT rows_written FROM {ImportJob._meta.db_table} WHERE id = %s", [job.pk])
                seen = cursor.fetchone()[0]
    finally:
        progress.close()
        console.close()
    assert seen == (1000 if connection.vendor == "postgresql" else 0)


def test_a_large_ledger_goes_through_the_api_as_a_job_to_poll(staff_a, community_a, ledger, queued):
    client = signed_in(staff_a)

    response = client.post(f"/api/v1/communities/{community_a.pk}/ledger/import-jobs",
                           {"file": SimpleUploadedFile(ledger.name, ledger.read_bytes())})
    assert response.status_code == 202 and response.json()["status"] == "queued"
    job_url = f"/api/v1/ledger/import-jobs/{response.json()['id']}"

    run_worker()

    job = client.get(job_url).json()
    assert job["status"] == "done" and job["rows_written"] == job["total"] == 3 and job["percent"] == 100
    assert job["report"]["created"] == 3 and job["error"] == ""
    assert AuditEvent.objects.get(action=AuditEvent.Action.IMPORT).via == "api"


@pytest.mark.parametrize("who", ["staff_b", "grid_member_a"])
def test_an_import_job_is_404_outside_scope_or_role(request, staff_a, community_a, ledger, who):
    job = ledger_import_job_start(actor=staff_a, community=community_a, file_name=ledger.name,
                                  data=ledger.read_bytes(), dry_run=True)

    response = signed_in(request.getfixturevalue(who)).get(f"/api/v1/ledger/import-jobs/{job.pk}")

    assert response.status_code == 404


def test_a_job_queued_for_over_a_minute_says_to_check_the_worker(client, staff_a, community_a, db):
    waiting = ImportJobFactory(community=community_a, actor=staff_a)
    stuck = ImportJobFactory(community=community_a, actor=staff_a)
    ImportJob.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=2))
    client.force_login(staff_a)

    def page(job):
        return client.get(reverse("people:import_job", args=[job.pk])).content.decode()

    assert "fangkong worker" not in page(waiting)
    assert "已排队超过 1 分钟" in page(stuck) and "fangkong worker" in page(stuck)
