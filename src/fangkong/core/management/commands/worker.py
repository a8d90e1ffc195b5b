"""`fangkong worker`: run the background tasks queued in the database (django-tasks' db_worker).

Before it takes its first task it puts right what a dead worker left behind (a task left
running is queued again or failed with the reason, see fangkong.core.tasks), and while it runs
it beats every few seconds and looks again every minute. Ctrl-C (SIGINT) or SIGTERM lets the
task in hand finish, then stops; a second one stops at once and the task fails as interrupted.
"""

import signal
import threading

from django.db import DatabaseError, connection
from django_tasks_db.management.commands import db_worker

from fangkong.core import tasks

SWEEP_EVERY_BEATS = 6  # look for cut-off tasks about once a minute
STOP_SIGNALS = [signal.SIGINT, signal.SIGTERM, *([signal.SIGQUIT] if hasattr(signal, "SIGQUIT") else [])]


class Heartbeat(threading.Thread):
    """Beats for the worker while it runs a task, and looks for the tasks of dead workers."""

    def __init__(self, worker_id: str):
        super().__init__(name="fangkong-worker-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.stopped = threading.Event()

    def run(self) -> None:
        beats = 0
        try:
            while not self.stopped.wait(tasks.BEAT_SECONDS):
                beats += 1
                try:
                    tasks.worker_beat(self.worker_id)
                    if beats % SWEEP_EVERY_BEATS == 0:
                        tasks.recover_interrupted_tasks()
                except DatabaseError:
                    tasks.logger.warning("worker %s could not beat this time", self.worker_id, exc_info=True)
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join()


class Command(db_worker.Command):
    help = "运行后台任务(台账导入等):与网站并行运行,Ctrl-C 在当前任务完成后停止"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(reload=False)

    def handle(self, *args, worker_id: str, **options):
        previous_handlers = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
        tasks.worker_register(worker_id)
        heartbeat = Heartbeat(worker_id)
        try:
            counts = tasks.recover_interrupted_tasks()
            if any(counts.values()):
                self.stdout.write(f"上次中断的任务:重新排队 {counts['requeued']} 个,标记失败 {counts['failed']} 个")
            heartbeat.start()
            super().handle(*args, worker_id=worker_id, **options)
        finally:
            if heartbeat.is_alive():
                heartbeat.stop()
            tasks.worker_unregister(worker_id)
            for signum, handler in previous_handlers.items():
                signal.signal(signum, handler)
