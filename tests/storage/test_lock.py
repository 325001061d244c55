"""The lock file of a local manifest: waited for in the kernel, re-entrant per thread, and
Ctrl-C or a timeout while taking it never leaves it taken."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from archivist._backends import _lock
from archivist._backends._lock import FileLock
from archivist.errors import ConflictError


@contextmanager
def held_elsewhere(path: str) -> Iterator[threading.Event]:
    """Hold the lock on another thread until the yielded event is set (or the block ends)."""
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with FileLock(path):
            taken.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(10)
    try:
        yield release
    finally:
        release.set()
        thread.join(10)


def _lowest_free_descriptor() -> int:
    """A descriptor left open takes the lowest free number: this one moves."""
    fd = os.dup(2)
    os.close(fd)
    return fd


@pytest.mark.parametrize("when", ["taken", "waiting"])
def test_ctrl_c_while_locking_leaves_no_lock_and_no_descriptor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    path = str(tmp_path / ".repository.json.lock")
    holder = held_elsewhere(path) if when == "waiting" else None
    if holder is not None:
        holder.__enter__()
    try_lock = _lock._try_lock

    def then_ctrl_c(fd: int) -> bool:
        try_lock(fd)  # taken, or refused while the holder has it
        raise KeyboardInterrupt  # as a SIGINT landing right after the call

    before = _lowest_free_descriptor()
    monkeypatch.setattr(_lock, "_try_lock", then_ctrl_c)
    with pytest.raises(KeyboardInterrupt), FileLock(path):
        pass
    monkeypatch.undo()
    assert _lowest_free_descriptor() == before
    if holder is not None:
        holder.__exit__(None, None, None)
    with FileLock(path, timeout=0.5):  # free again: no ConflictError
        pass


def test_a_waiter_sleeps_in_the_kernel_instead_of_polling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / ".repository.json.lock")
    tries: list[int] = []
    try_lock = _lock._try_lock

    def counted(fd: int) -> bool:
        tries.append(fd)
        return try_lock(fd)

    with held_elsewhere(path) as release:
        monkeypatch.setattr(_lock, "_try_lock", counted)
        threading.Timer(0.3, release.set).start()
        with FileLock(path, timeout=10):
            pass
    assert len(tries) == 1  # one try, then woken by the release: no polling loop


def test_a_timeout_raises_and_the_late_lock_is_given_back(tmp_path: Path) -> None:
    path = str(tmp_path / ".repository.json.lock")
    before = _lowest_free_descriptor()
    with (
        held_elsewhere(path),
        pytest.raises(ConflictError, match=r"within 0\.2 s"),
        FileLock(path, timeout=0.2),
    ):
        pass
    # the abandoned waiter got the lock when the holder let go, and let it go at once
    with FileLock(path, timeout=2):
        pass
    deadline = time.monotonic() + 5
    while _lowest_free_descriptor() != before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _lowest_free_descriptor() == before


def test_ctrl_c_while_waiting_in_the_kernel_leaves_no_lock(tmp_path: Path) -> None:
    path = str(tmp_path / ".repository.json.lock")
    before = _lowest_free_descriptor()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with held_elsewhere(path):
            main = threading.main_thread().ident
            assert main is not None
            threading.Timer(0.2, signal.pthread_kill, (main, signal.SIGINT)).start()
            with pytest.raises(KeyboardInterrupt), FileLock(path, timeout=10):
                pass
    finally:
        signal.signal(signal.SIGINT, previous)
    with FileLock(path, timeout=2):  # the waiter gave back the lock it got late
        pass
    deadline = time.monotonic() + 5
    while _lowest_free_descriptor() != before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _lowest_free_descriptor() == before


def test_the_lock_is_reentrant_in_its_thread_and_excludes_other_threads(tmp_path: Path) -> None:
    path = str(tmp_path / ".repository.json.lock")
    got_it: list[float] = []
    with FileLock(path):
        with FileLock(path, timeout=0.1):  # the same thread passes through
            pass

        def other() -> None:
            with FileLock(path, timeout=5):
                got_it.append(time.monotonic())

        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.2)
        assert not got_it  # still held: leaving the inner block did not release it
        released = time.monotonic()
    thread.join(10)
    assert got_it and got_it[0] >= released
