"""Tasks the tests of the queue queue: each leaves a line in a file, so a test (or a test's worker
process) can tell whether, and how often, it ran."""

import time
from pathlib import Path

from fangkong.core.tasks import background_task


@background_task(rerun_if_interrupted=True)
def note(path: str, text: str) -> str:
    with Path(path).open("a") as file:
        file.write(text + "\n")
    return text


@background_task(rerun_if_interrupted=False)
def note_once(path: str, text: str) -> str:
    """Work that must not run twice (say, a message sent out)."""
    return note.call(path, text)


@background_task(rerun_if_interrupted=True)
def note_then_wait(path: str, go: str, seconds: float) -> None:
    """Note the attempt, then wait until the file `go` exists (or `seconds` have passed)."""
    note.call(path, "attempt")
    deadline = time.monotonic() + seconds
    while not Path(go).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
