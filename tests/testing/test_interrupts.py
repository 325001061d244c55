"""The interrupt suite stops its writers promptly, and shows the threads of one that hangs."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from archivist import Repository
from archivist.testing import interrupts as safety
from archivist.testing.interrupts import interrupt_saves


@pytest.fixture
def url(repo_path: Path) -> str:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("model", {"i": -1}, handler="json")
    repository.save()
    return str(repo_path)


@pytest.fixture(params=["ignored", "blocked"])
def deaf_to_ctrl_c(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run the test as a shell runs a background job: SIGINT ignored (or blocked)."""
    if request.param == "ignored":
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
    else:
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT])
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def test_ctrl_c_stops_the_writer_of_a_run_started_in_the_background(
    url: str, deaf_to_ctrl_c: None
) -> None:
    """An ignored or blocked SIGINT is inherited across exec: the writer still takes Ctrl-C."""
    report = interrupt_saves(url, {}, signal.SIGINT, 2, seed=1)
    assert report.stops == 2
    assert len(report.exit_seconds) == 2
    assert all(code != 0 for code in report.exit_codes), report  # stopped, never finished


HUNG_WRITER = """
import signal, threading, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
def stuck_in_the_save():
    time.sleep(3600)
threading.Thread(target=stuck_in_the_save, name="stuck", daemon=True).start()
print("ready", flush=True)
stuck_in_the_save()
"""


def test_a_writer_that_does_not_exit_fails_with_its_threads(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(safety, "_WRITER", HUNG_WRITER)
    monkeypatch.setattr(safety, "STOP_DEADLINE", 1.0)
    with pytest.raises(AssertionError, match="did not exit within 1 s of SIGINT") as caught:
        interrupt_saves(url, {}, signal.SIGINT, 1, window=(0.0, 0.0))
    assert caught.value.args[0].count("stuck_in_the_save") == 2  # both threads' stacks


def test_a_writer_that_never_gets_ready_fails_with_its_threads(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(safety, "_WRITER", HUNG_WRITER.replace('print("ready", flush=True)', ""))
    monkeypatch.setattr(safety, "START_DEADLINE", 1.0)
    with pytest.raises(AssertionError, match="was not ready within 1 s") as caught:
        interrupt_saves(url, {}, signal.SIGINT, 1)
    assert "stuck_in_the_save" in caught.value.args[0]


LOSES_THE_FIRST_CTRL_C = """
import signal, time, weakref
signal.signal(signal.SIGINT, signal.default_int_handler)

def dropped(reference):  # Python ignores an exception raised in a weakref callback
    print("ready", flush=True)
    time.sleep(30)  # the first Ctrl-C lands here

class Cached:
    pass

entry = Cached()
reference = weakref.ref(entry, dropped)
del entry
while True:
    time.sleep(0.01)
"""


def test_a_ctrl_c_that_python_lost_is_sent_again_and_counted(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(safety, "_WRITER", LOSES_THE_FIRST_CTRL_C)
    monkeypatch.setattr(safety, "STOP_DEADLINE", 10.0)
    report = interrupt_saves(url, {}, signal.SIGINT, 1, window=(0.0, 0.0))
    assert report.lost_interrupts == 1
    assert report.exit_seconds[0] < 10
