"""Requests that need not hold up the caller: sent together, or after it moved on.

On an object store every request the caller waits for costs a round trip. Two kinds need
not be waited for one after another:

* requests that do not depend on each other (:func:`run_together`: the conditional-write
  probe's two refused writes; a save's journal, its file and the read of its kept digests)
  are sent at once, each on a worker thread, and the caller waits for the slowest;
* clean-up whose outcome the caller does not need (:func:`defer`: deleting the probe
  object, or a committed save's journal) is sent on a worker thread while the caller
  returns; the probe object's deletion waits for the next such clean-up (or the
  process's exit), so that it never takes a connection from the save that follows. Such
  clean-up must be safe to lose: a process that dies first leaves the object behind, as a
  crash would.

The worker threads belong to one pool, made on first use; the interpreter waits for the
pool's queued work before it exits (as :mod:`concurrent.futures` does), so a short process
still deletes what it deferred. :func:`wait_deferred` waits for it earlier.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["defer", "run_together", "submit", "wait_deferred"]

_log = logging.getLogger("archivist.storage")
_T = TypeVar("_T")

#: Worker threads of the pool: enough for a save's few concurrent requests.
WORKERS = 8
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_deferred: set[Future[Any]] = set()
_idle: list[tuple[Callable[[], object], str]] = []


@atexit.register
def _flush_idle() -> None:
    """Run the idle clean-up nothing took along, in this thread, at the process's exit."""
    with _pool_lock:
        batch, _idle[:] = list(_idle), []
    for call, what in batch:
        try:
            call()
        except Exception as exc:
            _log.debug("%s failed: %s", what, exc)


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="archivist-requests")
        return _pool


def submit(call: Callable[[], _T]) -> Future[_T]:
    """Start ``call`` on a worker thread; its future returns or raises what it did.

    Parameters
    ----------
    call : Callable
        A request (or a few, one after another).

    Returns
    -------
    concurrent.futures.Future
        Its outcome. Once the interpreter is shutting down, ``call`` runs in this thread.
    """
    try:
        return _executor().submit(call)
    except RuntimeError:  # the interpreter is shutting down (a save in an atexit handler)
        future: Future[_T] = Future()
        try:
            future.set_result(call())
        except BaseException as exc:
            future.set_exception(exc)
        return future


def run_together(*calls: Callable[[], Any]) -> list[Any]:
    """Run ``calls`` at once (the first on this thread) and return their results in order.

    Every call finishes before this returns or raises; then the first call's error (in
    argument order) is raised, so nothing is left running behind the caller's back.

    Parameters
    ----------
    *calls : Callable
        Requests that do not depend on each other.

    Returns
    -------
    list
        Their results.
    """
    if len(calls) <= 1:
        return [call() for call in calls]
    outcomes: list[tuple[bool, Any]] = [(False, None)] * len(calls)

    def run(i: int) -> None:
        try:
            outcomes[i] = (True, calls[i]())
        except BaseException as exc:
            outcomes[i] = (False, exc)

    # threads of their own, not the pool: a call already on a pool thread (a journal
    # write that probes first) may run together without waiting for a free worker
    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(1, len(calls))]
    for thread in threads:
        thread.start()
    try:
        run(0)
    finally:
        for thread in threads:
            thread.join()
    for ok, value in outcomes:
        if not ok:
            raise value
    return [value for _, value in outcomes]


def defer(call: Callable[[], object], what: str, *, idle: bool = False) -> None:
    """Run ``call`` on a worker thread and return at once; a failure is only logged.

    Parameters
    ----------
    call : Callable
        Clean-up that is safe to lose (a process that dies first leaves it undone).
    what : str
        What it does, for the log.
    idle : bool, optional
        Wait for the next clean-up that is not idle (or the process's exit, or
        :func:`wait_deferred`) and go with it, instead of taking a connection from the
        requests the caller is about to send (the probe object's deletion, just before
        a save's journal and files go at once).
    """
    if idle:
        with _pool_lock:
            _idle.append((call, what))
        return
    with _pool_lock:
        batch, _idle[:] = [*_idle, (call, what)], []

    def run() -> None:
        for each, about in batch:
            try:
                each()
            except Exception as exc:  # best effort, as the same clean-up in the caller's thread
                _log.debug("%s failed: %s", about, exc)

    future = submit(run)
    with _pool_lock:
        _deferred.add(future)
    future.add_done_callback(_forget)


def _forget(future: Future[Any]) -> None:
    with _pool_lock:
        _deferred.discard(future)


def wait_deferred() -> None:
    """Wait until everything :func:`defer` was given so far has finished (idle ones too)."""
    with _pool_lock:
        idle = bool(_idle)
    if idle:
        defer(lambda: None, "nothing")
    with _pool_lock:
        pending = list(_deferred)
    for future in pending:
        future.exception()
