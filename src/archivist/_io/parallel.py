"""Write the files of one save concurrently, with the clean-up of a sequential save.

A save of many versions to an object store is bounded by round trips when its files are
uploaded one after another. :func:`write_all` runs the writes on a small thread pool (as
many threads as the store allows, see
:attr:`~archivist.stores.AbstractRepositoryStore.write_concurrency`) and keeps the failure
semantics of the sequential loop: when any write fails, or the main thread is interrupted
(Ctrl-C), no further write starts, writes in flight are stopped at their next ``write()``
call (:class:`CancellableWriter`), and once every worker has finished, each file written
so far is removed (``undo``) before the first error is raised again.
"""

from __future__ import annotations

import concurrent.futures
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
    positions = itertools.count()  # next() on it is atomic: each position is taken once

    def run() -> None:
        # Each worker takes the next item until none is left or the save gives up: one
        # task per worker, not one per item (a save of many small files would spend more
        # on handing items to threads than on writing them).
        while not stop.is_set():
            position = next(positions)
            if position >= len(items):
                return
            try:
                results[position] = write(items[position], stop)
            except BaseException:
                stop.set()  # no other write starts
                raise
            written[position] = True

    pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="archivist-save")
    try:
        futures = [pool.submit(run) for _ in range(workers)]
        for future in concurrent.futures.as_completed(futures):
            future.result()  # the first failure, in the order they happen, ends the save
    except BaseException:
        stop.set()
        _shutdown(pool)  # writes not started never start; those in flight stop
        undo(_done(results, written))
        raise
    _shutdown(pool)
    return _done(results, written)


def _done(results: list[_R | None], written: list[bool]) -> list[_R]:
    """Return the results of the writes that completed, in item order."""
    return [cast("_R", result) for result, ok in zip(results, written, strict=True) if ok]


def _shutdown(pool: concurrent.futures.ThreadPoolExecutor) -> None:
    """Cancel what has not started and wait for every worker, even through more Ctrl-C."""
    while True:
        try:
            pool.shutdown(wait=True, cancel_futures=True)
            return
        except KeyboardInterrupt:
            continue
