"""Write the files of one save concurrently, with the clean-up of a sequential save.

A save of many versions to an object store is bounded by round trips when its files are
uploaded one after another. :func:`write_all` runs the writes on a few threads (as
many as the store allows, see
:attr:`~archivist.stores.AbstractRepositoryStore.write_concurrency`) and keeps the failure
semantics of the sequential loop: when any write fails, or the main thread is interrupted
(Ctrl-C), no further write starts, writes in flight are stopped at their next ``write()``
call (:class:`CancellableWriter`), and once every worker has finished, each file written
so far is removed (``undo``) before the first error is raised again.
"""

from __future__ import annotations

import io
import itertools
import threading
from collections.abc import Callable, Sequence
from typing import IO, Any, TypeVar, cast

__all__ = ["MAX_WORKERS", "CancellableWriter", "SaveCancelledError", "write_all"]

_T = TypeVar("_T")
_R = TypeVar("_R")

#: The most threads one save writes with (stores may allow fewer).
MAX_WORKERS = 16


class SaveCancelledError(Exception):
    """A write was stopped because another write of its save failed, or Ctrl-C was pressed."""


class CancellableWriter(io.BufferedIOBase):
    """Pass writes through to ``raw`` until ``stop`` is set, then refuse them.

    Parameters
    ----------
    raw : IO[bytes]
        The destination; it is not closed when this wrapper is.
    stop : threading.Event
        Set when the save gives up.
    """

    def __init__(self, raw: IO[bytes], stop: threading.Event) -> None:
        super().__init__()
        self._raw = raw
        self._stop = stop

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self._stop.is_set():
            raise SaveCancelledError("the save was cancelled")
        self._raw.write(data)
        return memoryview(data).nbytes

    def flush(self) -> None:
        if not self._raw.closed:  # closing this wrapper later must not touch a closed file
            self._raw.flush()


def write_all(
    items: Sequence[_T],
    write: Callable[[_T, threading.Event | None], _R],
    undo: Callable[[Sequence[_R]], None],
    workers: int,
) -> list[_R]:
    """Run ``write`` on every item, on up to ``workers`` threads; results in item order.

    Parameters
    ----------
    items : Sequence
        What to write (one file each).
    write : Callable
        Writes one item and returns its result. Run on a worker thread, it is given an
        event that is set when the save gives up, and should stop writing then (see
        :class:`CancellableWriter`); run in the calling thread, it is given ``None``.
    undo : Callable
        Removes what the given results wrote (best effort; it must not raise).
    workers : int
        The most writes in flight; ``1`` (or a single item) writes in the calling thread.

    Returns
    -------
    list
        The results of ``write``, in the order of ``items``.

    Raises
    ------
    BaseException
        The first failure of any write (or a ``KeyboardInterrupt`` of the calling thread),
        after every result written so far was undone.
    """
    workers = max(1, min(workers, MAX_WORKERS, len(items)))
    if workers == 1:
        done: list[_R] = []
        try:
            for item in items:
                done.append(write(item, None))
        except BaseException:
            undo(done)
            raise
        return done
    stop = threading.Event()
    results: list[_R | None] = [None] * len(items)
    written = [False] * len(items)
    errors: list[BaseException] = []  # in the order they happen (append is atomic)
    positions = itertools.count()  # next() on it is atomic: each position is taken once
    door = _Door()

    def run() -> None:
        # Each worker takes the next item until none is left or the save gives up: one
        # thread per worker, not one per item (a save of many small files would spend more
        # on handing items to threads than on writing them).
        if not door.enter():
            return  # the save gave up before this thread got going: it writes nothing
        try:
            while not stop.is_set():
                position = next(positions)
                if position >= len(items):
                    return
                results[position] = write(items[position], stop)
                written[position] = True
        except BaseException as exc:
            errors.append(exc)
            stop.set()  # no other write starts
        finally:
            door.leave()

    threads: list[threading.Thread] = []
    try:
        for index in range(workers):
            threads.append(threading.Thread(target=run, name=f"archivist-save-{index}"))
            threads[-1].start()
        for thread in threads:
            thread.join()
    except BaseException as exc:  # Ctrl-C, even inside start() once its thread is writing
        errors.insert(0, exc)
    if not errors:
        return _done(results, written)
    stop.set()  # writes not started never start; those in flight stop at their next write
    door.close_and_wait()
    for thread in threads:
        _join(thread)
    undo(_done(results, written))
    raise errors[0]


def _done(results: list[_R | None], written: list[bool]) -> list[_R]:
    """Return the results of the writes that completed, in item order."""
    return [cast("_R", result) for result, ok in zip(results, written, strict=True) if ok]


class _Door:
    """Count the worker threads at work; once closed, let none in and wait for those inside.

    A thread whose ``start()`` was interrupted by Ctrl-C cannot be joined, nor told apart
    from one that is about to run: so each thread enters before it writes, and a save that
    gives up closes the door and waits until every thread that entered has left. Then no
    write is in flight and none will start, and what was written can be undone.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._inside = 0
        self._closed = False

    def enter(self) -> bool:
        """Count the calling thread in; ``False`` once the door is closed."""
        with self._changed:
            if self._closed:
                return False
            self._inside += 1
            return True

    def leave(self) -> None:
        """Count the calling thread out."""
        with self._changed:
            self._inside -= 1
            self._changed.notify_all()

    def close_and_wait(self) -> None:
        """Let no thread in and wait until every thread inside left, through any Ctrl-C.

        The writes in flight stop at their next ``write()`` call (the caller set their
        stop event first), so the wait is short; a file written but not yet known could
        not be undone.
        """
        while True:
            try:
                with self._changed:
                    self._closed = True
                    while self._inside:
                        self._changed.wait()
                return
            except KeyboardInterrupt:
                continue


def _join(thread: threading.Thread) -> None:
    """Wait for a thread that has left the door (it is ending), through any Ctrl-C.

    A thread not started yet (Ctrl-C in its ``start()``) cannot be joined; the closed door
    keeps it from writing.
    """
    while thread.is_alive():
        try:
            thread.join()
        except KeyboardInterrupt:
            continue
