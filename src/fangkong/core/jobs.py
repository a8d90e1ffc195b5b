"""Jobs: background work a person follows in the console, with its progress and its outcome.

An app keeps a model that extends core.models.Job (status, rows read / checked / written out of
total, the error) with what its work needs (a community, a stored upload, a report), names the
work function on it, and queues a row:

    class ImportJob(Job):
        work = "fangkong.people.ledger_import.ledger_import_job_work"
        rerun_if_interrupted = True

    job = ImportJob.objects.create(actor=actor, origin=job_origin(actor), ...)
    job_enqueue(job)

The worker runs `work(job, progress)` with the actor restored as it was when the job was queued
(for the audit trail). The work calls `progress("read" | "checked" | "written", rows, total)` as
often as it likes; the row is written only every `Progress.every` rows of a step and at a step's
end. Returning a dict saves those fields with the status DONE; a DomainError fails the job with
its message; any other error fails it with a message for the administrator and is logged.
"""

import logging

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from fangkong.core.actors import bind_context, context_of
from fangkong.core.errors import DomainError
from fangkong.core.models import Job
from fangkong.core.tasks import background_task, enqueue, interrupted_reason

logger = logging.getLogger("fangkong.tasks")

POLL_SECONDS = 2  # how often a running job's page asks for its progress


def job_origin(actor) -> dict:
    """Where the actor acts from, kept on the job so the worker's audit events say the same."""
    context = context_of(actor)
    return {"via": context.via, "client_address": context.client_address, "cli_label": context.cli_label}


def job_enqueue(job: Job) -> None:
    """Queue the job's work to run in the worker once the current transaction commits."""
    enqueue(run_job, model=job._meta.label_lower, job_id=job.pk)


@background_task(rerun_if_interrupted=True)  # whether the job itself may rerun is its model's say
def run_job(model: str, job_id: int) -> None:
    job_model = apps.get_model(model)
    jobs = job_model.objects.filter(pk=job_id)
    now = timezone.now()
    started = jobs.filter(status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=now, updated_at=now, error="",
        rows_read=0, rows_checked=0, rows_written=0)
    if not started:
        return  # gone, or already finished
    job = jobs.get()
    if job.actor is not None:
        bind_context(job.actor, **{"via": "web", **job.origin})
    progress = Progress(job)
    try:
        fields = import_string(job_model.work)(job, progress) or {}
    except DomainError as err:
        _finish(jobs, failed=True, error=err.message)
    except Exception:
        logger.exception("job %s %s failed", model, job_id)
        _finish(jobs, failed=True, error=_("任务失败,请联系系统管理员"))
    except BaseException:  # the worker is being stopped in the middle of the run
        _finish(jobs, failed=True, error=interrupted_reason())
        raise
    else:
        _finish(jobs, failed=False, **progress.counts(), **fields)
    finally:
        progress.close()


def _finish(jobs, *, failed: bool, **fields) -> None:
    now = timezone.now()
    if failed:
        fields.update(dict.fromkeys(jobs.model.cleared_on_failure))
    jobs.update(status=Job.Status.FAILED if failed else Job.Status.DONE, finished_at=now, updated_at=now, **fields)


class Progress:
    """A running job's counts, written to its row every `every` rows of a step and at a step's end.

    Work that runs inside a transaction (an all-or-nothing import) still shows its progress on
    PostgreSQL: the counts go through a connection of their own, outside the transaction. On
    SQLite the transaction holds the one write lock, so there they wait for the end of the job.
    """

    every = 1000

    def __init__(self, job: Job):
        self.model, self.pk = type(job), job.pk
        self.total = job.total
        self.rows = dict.fromkeys(Job.STEPS, 0)
        self._written = dict.fromkeys(Job.STEPS, 0)
        self._side = None

    def __call__(self, step: str, rows: int, total: int | None = None) -> None:
        if step not in self.rows:
            raise ValueError(f"unknown step {step!r}")
        if total is not None:
            self.total = total
        self.rows[step] = rows
        step_done = self.total and rows >= self.total and rows != self._written[step]
        if rows - self._written[step] >= self.every or step_done:
            self._write()

    def counts(self) -> dict:
        return {"total": self.total, **{f"rows_{step}": rows for step, rows in self.rows.items()}}

    def _write(self) -> None:
        counts = {**self.counts(), "updated_at": timezone.now()}
        if not connection.in_atomic_block:
            self.model.objects.filter(pk=self.pk).update(**counts)
        elif connection.vendor == "postgresql":
            self._write_aside(counts)
        else:
            return
        self._written = dict(self.rows)

    def _write_aside(self, counts: dict) -> None:
        """Through a connection of its own; a row the work's own transaction has locked is skipped
        (waiting for it would wait for ourselves)."""
        if self._side is None:
            self._side = connections.create_connection(DEFAULT_DB_ALIAS)
        quote = self._side.ops.quote_name
        table, pk = quote(self.model._meta.db_table), quote(self.model._meta.pk.column)
        assignments = ", ".join(f"{quote(name)} = %s" for name in counts)
        sql = (f"UPDATE {table} SET {assignments}"
               f" WHERE {pk} IN (SELECT {pk} FROM {table} WHERE {pk} = %s FOR UPDATE SKIP LOCKED)")
        with self._side.cursor() as cursor:
            cursor.execute(sql, [*counts.values(), self.pk])

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None


def job_of_task(result) -> type[Job] | None:
    """The job model a queued task runs, if it is `run_job`."""
    if result.task_path != run_job.module_path:
        return None
    try:
        return apps.get_model(result.args_kwargs["kwargs"]["model"])
    except (KeyError, LookupError, TypeError):
        return None


def job_after_interruption(result, *, rerun: bool) -> None:
    """Put a cut-off job's row right: waiting for its rerun, or failed with the reason."""
    job_model = job_of_task(result)
    if job_model is None:
        return
    jobs = job_model.objects.filter(pk=result.args_kwargs["kwargs"].get("job_id"),
                                    status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
    if rerun:
        jobs.update(status=Job.Status.QUEUED, updated_at=timezone.now())
    else:
        _finish(jobs, failed=True, error=interrupted_reason())

