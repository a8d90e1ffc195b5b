"""The one way to run work in the background (imports, report snapshots, notices).

In the web process a task runs in a daemon thread, started once the caller's transaction has
committed so the task sees the rows it was handed. With settings.FANGKONG_TASKS_EAGER the task
runs inline, which keeps tests deterministic.
"""

import logging
import threading

from django.conf import settings
from django.db import connection, transaction

logger = logging.getLogger("fangkong.tasks")


def run_in_background(fn, *args, **kwargs) -> None:
    """Run fn(*args, **kwargs) outside the request; exceptions are logged, never raised to the caller."""
    if settings.FANGKONG_TASKS_EAGER:
        _run(fn, args, kwargs, close_connection=False)
        return
    thread = threading.Thread(target=_run, args=(fn, args, kwargs), kwargs={"close_connection": True},
                              name=f"fangkong-task-{getattr(fn, '__name__', 'task')}", daemon=True)
    transaction.on_commit(thread.start)


def _run(fn, args, kwargs, *, close_connection: bool) -> None:
    try:
        fn(*args, **kwargs)
    except Exception:
        logger.exception("background task %s failed", getattr(fn, "__name__", fn))
    finally:
        if close_connection:
            connection.close()
