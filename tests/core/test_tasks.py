"""The task API: tasks queued in the database once their transaction commits, run by `fangkong worker`,
and never left running when a worker dies in the middle of one."""

import datetime
import io
import os
import socket
import subprocess
import time

import pytest
from django.core.management import call_command
from django.db import OperationalError, transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from fangkong.core import tasks
from fangkong.core.management.commands import worker as worker_command
from fangkong.core.models import TaskWorker
from fangkong.core.tasks import enqueue
from tests.core.sample_tasks import note, note_once


@pytest.fixture
def queued(settings, transactional_db):
    """Tasks go to the database queue, as in production."""
    settings.FANGKONG_TASKS_EAGER = False


@pytest.fixture
def notes(tmp_path):
    return tmp_path / "notes.txt"


def lines(path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def run_worker(*args) -> str:
    out = io.StringIO()
    call_command("worker", "--batch", "--no-startup-delay", *args, stdout=out)
    return out.getvalue()


def left_running(declared, worker_id: str = "gone-worker", attempts: int = 1, **kwargs) -> DBTaskResult:
    """A task a worker had taken when it died."""
    result = DBTaskResult.objects.get(id=declared.enqueue(**kwargs).id)
    result.status, result.started_at = TaskResultStatus.RUNNING, timezone.now()
    result.worker_ids = [f"{worker_id}-{n}" for n in range(1, attempts)] + [worker_id]
    result.save()
    return result


def test_a_task_is_queued_only_when_its_transaction_commits(queued, notes):
    with transaction.atomic():
        enqueue(note, path=str(notes), text="kept")
        assert not DBTaskResult.objects.exists()  # the caller's rows are not visible to a worker yet

    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue(note, path=str(notes), text="rolled back")
        raise RuntimeError

    queued_texts = [result.args_kwargs["kwargs"]["text"] for result in DBTaskResult.objects.all()]
    assert queued_texts == ["kept"] and lines(notes) == []


def test_the_worker_runs_what_is_queued_and_records_the_outcome(queued, notes):
    enqueue(note, path=str(notes), text="hello")

    run_worker()

    result = DBTaskResult.objects.get()
    assert result.status == TaskResultStatus.SUCCESSFUL and result.return_value == "hello"
    assert lines(notes) == ["hello"]
    assert not TaskWorker.objects.exists()  # a worker that stopped takes its beat with it


def test_eager_tasks_run_at_once_without_a_worker(settings, db, notes):
    settings.FANGKONG_TASKS_EAGER = True

    enqueue(note, path=str(notes), text="now")

    assert lines(notes) == ["now"] and not DBTaskResult.objects.exists()


def test_a_task_arguments_must_be_json(queued, notes):
    with pytest.raises(TypeError), transaction.atomic():
        enqueue(note, path=notes, text="a Path is not JSON")


def test_a_task_cut_off_by_a_dead_worker_is_run_again_when_a_worker_starts(queued, notes):
    # Given a rerunnable task its worker had taken when it died (no beat left behind)
    result = left_running(note, path=str(notes), text="again")

    # When a worker starts
    output = run_worker()

    # Then the task runs again, to the end, and the dead worker's attempt is counted
    result.refresh_from_db()
    assert result.status == TaskResultStatus.SUCCESSFUL and lines(notes) == ["again"]
    assert len(result.worker_ids) == 2 and "重新排队 1 个" in output


def test_a_task_that_must_not_run_twice_is_failed_with_the_reason(queued, notes):
    result = left_running(note_once, path=str(notes), text="maybe sent already")

    output = run_worker()

    result.refresh_from_db()
    assert result.status == TaskResultStatus.FAILED and "任务在运行中被中断(服务重启)" in result.traceback
    assert result.exception_class_path == "fangkong.core.tasks.TaskInterrupted"
    assert lines(notes) == [] and "标记失败 1 个" in output


def test_a_task_cut_off_again_and_again_is_given_up(queued, notes):
    result = left_running(note, attempts=tasks.MAX_ATTEMPTS, path=str(notes), text="kills its worker")

    run_worker()

    result.refresh_from_db()
    assert result.status == TaskResultStatus.FAILED and lines(notes) == []


def test_the_task_of_a_worker_whose_process_runs_is_left_to_it_however_long_since_its_beat(queued, notes):
    # A long import on SQLite holds the write lock, and with it the worker's beat
    long_ago = timezone.now() - tasks.DEAD_AFTER * 5
    TaskWorker.objects.create(worker_id="busy", hostname=socket.gethostname(), pid=os.getpid(),
                              started_at=timezone.now(), seen_at=long_ago)
    result = left_running(note, worker_id="busy", path=str(notes), text="in hand")

    run_worker()

    result.refresh_from_db()
    assert result.status == TaskResultStatus.RUNNING and TaskWorker.objects.filter(worker_id="busy").exists()


def test_a_worker_whose_pid_now_names_a_newer_process_is_dead(queued, notes):
    # Given a worker registered before this machine's processes of today (its pid reused since)
    started = timezone.now() - datetime.timedelta(days=30)
    TaskWorker.objects.create(worker_id="before-reboot", hostname=socket.gethostname(), pid=os.getpid(),
                              started_at=started, seen_at=timezone.now())
    result = left_running(note, worker_id="before-reboot", path=str(notes), text="recovered")

    assert tasks.recover_interrupted_tasks() == {"requeued": 1, "failed": 0}
    result.refresh_from_db()
    assert result.status == TaskResultStatus.READY


def test_a_worker_whose_beat_stopped_is_dead_even_on_another_machine(queued, notes):
    long_ago = timezone.now() - tasks.DEAD_AFTER - datetime.timedelta(seconds=1)
    TaskWorker.objects.create(worker_id="far", hostname="another-machine", pid=1, started_at=long_ago, seen_at=long_ago)
    result = left_running(note, worker_id="far", path=str(notes), text="recovered")

    counts = tasks.recover_interrupted_tasks()

    result.refresh_from_db()
    assert counts == {"requeued": 1, "failed": 0} and result.status == TaskResultStatus.READY
    assert not TaskWorker.objects.filter(worker_id="far").exists()


def test_a_worker_on_this_machine_whose_process_is_gone_is_dead_at_once(queued, notes):
    TaskWorker.objects.create(worker_id="crashed", hostname=socket.gethostname(), pid=_a_pid_not_running(),
                              started_at=timezone.now(), seen_at=timezone.now())
    result = left_running(note, worker_id="crashed", path=str(notes), text="recovered")

    assert tasks.recover_interrupted_tasks() == {"requeued": 1, "failed": 0}
    result.refresh_from_db()
    assert result.status == TaskResultStatus.READY


def _a_pid_not_running() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _status_while_beating(result) -> str | None:
    """The task's status, or None while the heartbeat's sweep holds SQLite's table lock (it is read again)."""
    try:
        return DBTaskResult.objects.get(pk=result.pk).status
    except OperationalError:
        return None


def test_a_running_worker_beats_and_looks_for_cut_off_tasks_while_it_runs(queued, notes, monkeypatch):
    monkeypatch.setattr(tasks, "BEAT_SECONDS", 0.05)
    monkeypatch.setattr(worker_command, "SWEEP_EVERY_BEATS", 2)
    registered = tasks.worker_register("this-one")
    result = left_running(note, worker_id="died-meanwhile", path=str(notes), text="recovered")

    heartbeat = worker_command.Heartbeat("this-one")
    heartbeat.start()
    try:
        deadline = time.monotonic() + 10
        while _status_while_beating(result) != TaskResultStatus.READY and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        heartbeat.stop()

    assert DBTaskResult.objects.get(pk=result.pk).status == TaskResultStatus.READY
    assert TaskWorker.objects.get(worker_id="this-one").seen_at > registered.seen_at
