"""The one way to run work in the background (imports, report snapshots, notices).

A task is a module-level function declared with `background_task` and queued with `enqueue`:
the queue is a database table (django-tasks' database backend), and `fangkong worker`, a
process of its own beside the web server, runs what it holds. So no broker is needed, and a
long import neither holds up a request nor dies with a web worker.

- Arguments must be JSON: pass ids, never rows or file contents (store an upload first).
- A task is queued when the caller's transaction commits, so the worker sees the rows it is
  handed, and nothing is queued for a transaction that rolled back.
- With settings.FANGKONG_TASKS_EAGER the task runs at once, in the caller's process and
  transaction (tests, scripts); no worker is needed.
- A worker that dies mid-task (killed, machine restarted) leaves its task RUNNING; the next
  worker to look (at its start, then every minute) finds it, by the worker's process being gone
  from this machine or by its beats (TaskWorker) having stopped, and either queues it again, when
  the task says a rerun is safe, or marks it FAILED with the reason. A task is never left running.

For work whose progress and outcome a person follows in the console, see fangkong.core.jobs.
"""

import datetime
import logging
import os
import socket
from collections.abc import Callable
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_tasks import task
from django_tasks.base import Task, TaskResultStatus
from django_tasks.utils import normalize_json
from django_tasks_db.models import DBTaskResult

from fangkong.core.models import TaskWorker

logger = logging.getLogger("fangkong.tasks")

EAGER_BACKEND = "immediate"
# A worker beats this often; one of another machine silent for DEAD_AFTER is taken for dead.
BEAT_SECONDS = 10
DEAD_AFTER = datetime.timedelta(seconds=120)
# /proc gives a process's start to the clock tick and the boot time to the second.
PROCESS_CLOCK_SLACK = datetime.timedelta(seconds=2)
# A task cut off this many times is not tried again: it may be what kills its worker.
MAX_ATTEMPTS = 3

_rerunnable: dict[str, bool] = {}


class TaskInterrupted(Exception):
    """Recorded as the error of a task whose run was cut off and that is not run again."""


def interrupted_reason() -> str:
    return _("任务在运行中被中断(服务重启)")


def background_task(*, rerun_if_interrupted: bool) -> Callable[[Callable], Task]:
    """Declare a background task.

    rerun_if_interrupted: whether a run cut off by a restart may simply start again from the
    beginning; true only for work that lands whole or not at all and does nothing twice.
    """

    def declare(function: Callable) -> Task:
        declared = task(function)
        _rerunnable[declared.module_path] = rerun_if_interrupted
        return declared

    return declare


def enqueue(declared: Task, **kwargs) -> None:
    """Queue `declared(**kwargs)` once the current transaction commits (at once outside one)."""
    normalize_json(kwargs)  # arguments that are not JSON fail here, in the caller, not after its commit
    if settings.FANGKONG_TASKS_EAGER:
        declared.using(backend=EAGER_BACKEND).enqueue(**kwargs)
    else:
        transaction.on_commit(partial(declared.enqueue, **kwargs))


# The worker's side: its beats, and what it does about tasks a dead worker left behind.

def worker_register(worker_id: str) -> TaskWorker:
    now = timezone.now()
    worker, _created = TaskWorker.objects.update_or_create(
        worker_id=worker_id, defaults={"hostname": socket.gethostname()[:255], "pid": os.getpid(),
                                       "started_at": now, "seen_at": now})
    return worker


def worker_beat(worker_id: str) -> None:
    TaskWorker.objects.filter(worker_id=worker_id).update(seen_at=timezone.now())


def worker_unregister(worker_id: str) -> None:
    TaskWorker.objects.filter(worker_id=worker_id).delete()


def _process_started_at(pid: int) -> datetime.datetime | None:
    """When process `pid` of this machine started (Linux /proc); None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
    except (OSError, StopIteration, ValueError):
        return None
    ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22, starttime, in clock ticks since boot
    return datetime.datetime.fromtimestamp(boot + ticks / os.sysconf("SC_CLK_TCK"), tz=datetime.UTC)


def _alive(worker: TaskWorker, now: datetime.datetime) -> bool:
    """A worker of this machine lives while its very process does: its pid, started before the
    worker registered (not a later process given the same pid, after a reboot say), however long a
    task keeps it from beating. A worker of another machine lives while it beats."""
    if worker.hostname == socket.gethostname()[:255] and Path("/proc/stat").exists():
        started = _process_started_at(worker.pid)
        return started is not None and started <= worker.started_at + PROCESS_CLOCK_SLACK
    return worker.seen_at >= now - DEAD_AFTER


def _may_rerun(result) -> bool:
    from fangkong.core.jobs import job_of_task  # jobs build on this module

    job_model = job_of_task(result)
    if job_model is not None:
        rerunnable = job_model.rerun_if_interrupted
    else:
        try:
            import_string(result.task_path)  # declaring the task registers whether it may rerun
        except ImportError:
            return False
        rerunnable = _rerunnable.get(result.task_path, False)
    return rerunnable and len(result.worker_ids) < MAX_ATTEMPTS


def recover_interrupted_tasks() -> dict[str, int]:
    """Queue again, or fail with the reason, every task left RUNNING by a worker that is gone.

    Returns how many were queued again ("requeued") and how many failed ("failed").
    """
    from fangkong.core.jobs import job_after_interruption  # jobs build on this module

    counts = {"requeued": 0, "failed": 0}
    with transaction.atomic():
        now = timezone.now()
        workers = list(TaskWorker.objects.select_for_update())
        alive = {worker.worker_id for worker in workers if _alive(worker, now)}
        for result in DBTaskResult.objects.running().select_for_update(skip_locked=True):
            if result.worker_ids and result.worker_ids[-1] in alive:
                continue
            rerun = _may_rerun(result)
            if rerun:
                result.status, result.started_at = TaskResultStatus.READY, None
                result.save(update_fields=["status", "started_at"])
            else:
                result.set_failed(TaskInterrupted(interrupted_reason()))
            job_after_interruption(result, rerun=rerun)
            counts["requeued" if rerun else "failed"] += 1
            logger.warning("task %s (%s) was cut off; %s", result.id, result.task_path,
                           "queued again" if rerun else "marked failed")
        TaskWorker.objects.filter(worker_id__in=[w.worker_id for w in workers if w.worker_id not in alive]).delete()
    return counts
