"""`fangkong worker` as a process of its own: it runs what is queued, stops on a signal, and a worker
started after one was killed in the middle of a task runs that task again.

These tests start real processes on a throwaway SQLite database of their own (a test database in
memory is out of another process's reach); the queue's SQL is tested on both databases in-process
(tests/core/test_tasks.py).
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RESULTS = "django_tasks_database_dbtaskresult"


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory):
    """A data directory with a migrated database of its own."""
    path = tmp_path_factory.mktemp("worker-var")
    fangkong(path, "migrate", "--noinput", timeout=300)
    return path


def env_for(var_dir: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FANGKONG_")}
    env.update(FANGKONG_VAR_DIR=str(var_dir), FANGKONG_DATABASE_URL=f"sqlite:///{var_dir / 'fangkong.sqlite3'}",
               PYTHONPATH=os.pathsep.join([str(REPO / "src"), str(REPO)]), DJANGO_SETTINGS_MODULE="fangkong.settings")
    return env


def fangkong(var_dir: Path, *args, timeout: float = 60) -> str:
    done = subprocess.run([sys.executable, "-m", "fangkong.cli", *args], env=env_for(var_dir), cwd=var_dir,
                          capture_output=True, text=True, timeout=timeout, check=True)
    return done.stdout


def start_worker(var_dir: Path, log: Path) -> subprocess.Popen:
    with log.open("a") as out:
        command = [sys.executable, "-m", "fangkong.cli", "worker", "--no-startup-delay", "--interval", "0.2"]
        return subprocess.Popen(command, env=env_for(var_dir), cwd=var_dir, stdout=out, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen, signum=signal.SIGTERM) -> int:
    if process.poll() is None:
        os.kill(process.pid, signum)
    return process.wait(timeout=30)


def enqueue(var_dir: Path, task: str, **kwargs) -> str:
    code = ("import json\nfrom fangkong.core.tasks import enqueue\nfrom tests.core import sample_tasks\n"
            f"enqueue(sample_tasks.{task}, **json.loads({json.dumps(json.dumps(kwargs))}))")
    fangkong(var_dir, "shell", "-c", code)
    with sqlite3.connect(var_dir / "fangkong.sqlite3") as db:
        return db.execute(f"SELECT id FROM {RESULTS} ORDER BY enqueued_at DESC LIMIT 1").fetchone()[0]


def result_of(var_dir: Path, result_id: str) -> tuple[str, list]:
    with sqlite3.connect(var_dir / "fangkong.sqlite3") as db:
        query = f"SELECT status, worker_ids FROM {RESULTS} WHERE id = ?"
        status, worker_ids = db.execute(query, [result_id]).fetchone()
    return status, json.loads(worker_ids)


def wait_for(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def test_the_worker_process_runs_a_queued_task_and_stops_on_sigterm(var_dir, tmp_path):
    notes = tmp_path / "notes.txt"
    result_id = enqueue(var_dir, "note", path=str(notes), text="from the queue")
    worker = start_worker(var_dir, tmp_path / "worker.log")
    try:
        wait_for(lambda: result_of(var_dir, result_id)[0] == "SUCCESSFUL")
    finally:
        code = stop(worker)

    assert notes.read_text() == "from the queue\n" and code == 0


def test_a_task_cut_off_by_a_killed_worker_is_run_again_by_the_next(var_dir, tmp_path):
    # Given a worker in the middle of a long task
    attempts, go = tmp_path / "attempts.txt", tmp_path / "go"
    result_id = enqueue(var_dir, "note_then_wait", path=str(attempts), go=str(go), seconds=60)
    first = start_worker(var_dir, tmp_path / "worker.log")
    try:
        wait_for(attempts.exists)
    finally:
        # When the worker is killed (a power cut, an out-of-memory kill: nothing runs after it)
        stop(first, signal.SIGKILL)
    assert result_of(var_dir, result_id)[0] == "RUNNING"

    # Then the next worker, on its start, runs the task again to its end
    go.touch()
    second = start_worker(var_dir, tmp_path / "worker.log")
    try:
        wait_for(lambda: result_of(var_dir, result_id)[0] == "SUCCESSFUL")
    finally:
        stop(second)
    status, worker_ids = result_of(var_dir, result_id)
    assert attempts.read_text().splitlines() == ["attempt", "attempt"] and len(worker_ids) == 2
    assert "重新排队 1 个" in (tmp_path / "worker.log").read_text()
