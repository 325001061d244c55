"""A multi-file save writes its files concurrently, and cleans up like a sequential one."""

from __future__ import annotations

import _thread
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, ClassVar

import pytest

from archivist import Handler, Repository
from archivist._commit.journal import JournalEntry, SaveJournal
from archivist._io.parallel import MAX_WORKERS, SaveCancelledError, write_all
from archivist.errors import SerializationError
from archivist.stores import ManifestStore
from archivist.testing.fixtures import registered


class Gate(Handler):
    """Writes its value's text once every writer of the test reached the gate."""

    alias: ClassVar[str] = "gate"
    suffix: ClassVar[str] = "txt"
    binary: ClassVar[bool] = True
    barrier: ClassVar[threading.Barrier | None] = None
    cancelled: ClassVar[list[str]] = []
    #: Set once the "slow" write is in flight.
    slow_started: ClassVar[threading.Event] = threading.Event()

    def write(self, value: Any, stream: IO[Any], **kwargs: Any) -> None:
        if value in ("fail", "interrupt"):
            # the long write is in flight before this one breaks the save
            assert Gate.slow_started.wait(timeout=60)
            if value == "fail":
                raise ValueError("cannot write this one")
            _thread.interrupt_main()  # Ctrl-C, delivered to the main thread
            return
        if value == "slow":  # a long write: stopped when the save gives up, never finished
            Gate.slow_started.set()
            deadline = time.monotonic() + 60
            try:
                while time.monotonic() < deadline:
                    stream.write(b"x" * 1024)
                    time.sleep(0.01)
            except SaveCancelledError:
                Gate.cancelled.append(value)
                raise
            return
        if Gate.barrier is not None:
            Gate.barrier.wait(timeout=10)
        stream.write(str(value).encode())

    def read(self, stream: IO[Any], **kwargs: Any) -> Any:
        return stream.read().decode()


@pytest.fixture(autouse=True)
def gate() -> Iterator[type[Gate]]:
    Gate.barrier = None
    Gate.cancelled = []
    Gate.slow_started = threading.Event()
    with registered(Gate):
        yield Gate


@pytest.fixture
def ctrl_c() -> Iterator[None]:
    """Let ``_thread.interrupt_main`` raise KeyboardInterrupt, as Ctrl-C in a terminal does.

    It does nothing while SIGINT is ignored, as it is in a test run started as a shell's
    background job.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def files(repo_path: Path) -> set[str]:
    return {
        str(p.relative_to(repo_path.parent))
        for p in repo_path.parent.rglob("*")
        if p.is_file() and not p.name.endswith(".lock")
    }


def test_the_files_of_a_save_are_written_concurrently(repo_path: Path) -> None:
    Gate.barrier = threading.Barrier(4)  # a sequential save would wait here forever
    repository = Repository(repo_path, mode="w")
    for i in range(12):
        repository.log_artifact(name=f"n{i % 3}", value=f"v{i}", handler="gate")
    repository.save()
    reader = Repository(repo_path, mode="r")
    for name in ("n0", "n1", "n2"):  # numbered in the order they were logged
        assert [reader.load_artifact(name, version=v) for v in reader.versions(name)] == [
            f"v{i}" for i in range(12) if f"n{i % 3}" == name
        ]
    assert reader.verify().checked == 12


@pytest.mark.parametrize("bad", ["fail", "interrupt"])
def test_a_failed_or_interrupted_concurrent_save_leaves_nothing(
    repo_path: Path, bad: str, ctrl_c: None
) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact(name="kept", value="k", handler="gate")
    repository.save()
    before = files(repo_path)
    repository.log_artifact(name="slow", value="slow", handler="gate")  # first: in flight
    for i in range(30):
        repository.log_artifact(name=f"n{i % 5}", value=bad if i == 7 else i, handler="gate")
    expected = KeyboardInterrupt if bad == "interrupt" else SerializationError
    with pytest.raises(expected):
        repository.save()
    assert files(repo_path) == before  # every written file removed, the journal too
    assert Gate.cancelled == ["slow"]  # the long write in flight was stopped
    assert Repository(repo_path, mode="r").versions("kept") == [0]
    assert not [t for t in threading.enumerate() if t.name.startswith("archivist-save")]


def test_write_all_keeps_order_and_undoes_on_failure() -> None:
    undone: list[list[int]] = []

    def write(item: int, stop: threading.Event | None) -> int:
        assert stop is not None
        if item == 40:
            raise RuntimeError("boom")
        time.sleep(0.001 * (item % 3))
        return item * 10

    assert write_all(range(30), write, undone.append, 8) == [i * 10 for i in range(30)]
    assert undone == []
    with pytest.raises(RuntimeError, match="boom"):
        write_all(range(60), write, undone.append, MAX_WORKERS)
    assert len(undone) == 1 and 400 not in undone[0]
    assert undone[0] == sorted(undone[0]) and all(r % 10 == 0 for r in undone[0])

    calls: list[threading.Event | None] = []
    assert write_all([1], lambda i, stop: calls.append(stop) or i, undone.append, 8) == [1]
    assert calls == [None]  # one file: written in the calling thread


def test_journal_names_added_from_many_threads_never_clash(repo_path: Path) -> None:
    store = ManifestStore(str(repo_path))
    journal = SaveJournal.begin(store, [JournalEntry("a", "a0.json", auto=True)])
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        write_all(
            list(range(64)),
            lambda i, stop: journal.add(JournalEntry("a", f"a{i + 1}.json", auto=True)),
            lambda done: None,
            MAX_WORKERS,
        )
    finally:
        sys.setswitchinterval(previous)
    assert len(set(store.list_journals())) == 65
    assert len(journal.entries) == 65
    journal.close()
    assert store.list_journals() == []


def test_ctrl_c_while_a_writer_thread_starts_still_waits_for_it_and_undoes_its_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl-C lands in ``Thread.start`` after the thread began writing: its file is undone."""
    writing = threading.Event()
    completed: list[int] = []
    undone: list[int] = []

    def write(item: int, stop: threading.Event | None) -> int:
        writing.set()
        time.sleep(0.3)  # in flight when the Ctrl-C arrives
        completed.append(item)
        return item

    start = threading.Thread.start

    def start_then_ctrl_c(thread: threading.Thread) -> None:
        start(thread)
        if thread.name.startswith("archivist-save"):
            assert writing.wait(timeout=30)
            raise KeyboardInterrupt  # as a SIGINT during start()'s wait for the thread

    monkeypatch.setattr(threading.Thread, "start", start_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        write_all(list(range(8)), write, undone.extend, 4)
    monkeypatch.undo()
    assert not [t for t in threading.enumerate() if t.name.startswith("archivist-save")]
    assert completed and sorted(undone) == sorted(completed)
