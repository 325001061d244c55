"""Requests sent together or deferred (``archivist._backends._background``)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from archivist._backends._background import defer, run_together, submit, wait_deferred


def test_calls_run_together_and_every_one_finishes_before_an_error() -> None:
    finished: list[str] = []

    def slow() -> str:
        time.sleep(0.2)
        finished.append("slow")
        return "slow"

    def failing() -> str:
        raise ValueError("refused")

    began = time.monotonic()
    assert run_together(slow, slow, lambda: "quick") == ["slow", "slow", "quick"]
    assert time.monotonic() - began < 0.35  # at once, not one after another
    with pytest.raises(ValueError, match="refused"):
        run_together(failing, slow)
    assert finished == ["slow"] * 3  # the slow call was not left running


def test_deferred_clean_up_runs_after_the_caller_returned() -> None:
    release = threading.Event()
    done: list[int] = []
    defer(lambda: (release.wait(5), done.append(1)), "a test's clean-up")
    assert done == []
    release.set()
    wait_deferred()
    assert done == [1]
    defer(lambda: done.append(2), "an idle clean-up", idle=True)
    assert done == [1]  # waits for the next clean-up
    wait_deferred()
    assert done == [1, 2]


def test_a_save_in_an_exit_handler_still_runs(tmp_path: Path) -> None:
    """Once the interpreter shuts down, the pool takes no work: calls run in the caller."""
    script = tmp_path / "late.py"
    script.write_text(
        "import atexit\n"
        "from archivist._backends._background import submit\n"
        "atexit.register(lambda: print('late', submit(lambda: 6 * 7).result()))\n"
    )
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "late 42", out.stderr
    assert submit(lambda: 1).result() == 1
