"""fsync on local disk: exactly the files and folders a save wrote, overlapped with writing.

A bulk save writes many small files. Flushing each one only after all of them are written
(one blocking ``fsync`` per file) would cost about as much again as writing them. Instead
the local backend hands each new file to :data:`SYNC_AHEAD` as soon as it is complete:
worker threads fsync it while the next files are being written (the kernel batches
concurrent fsyncs into few journal commits). When the save asks for its files to be durable
(:meth:`~archivist.storage.local.LocalBackend.sync`), it waits for those flushes, fsyncs
whatever was not handed over, and the folders. Nothing but the save's own files is flushed:
never ``os.sync()`` or ``syncfs``, which flush every user's writes.
"""

from __future__ import annotations

import concurrent.futures
import os
import queue
import threading
from collections.abc import Sequence

__all__ = ["SYNC_AHEAD", "SYNC_THREADS", "SyncAhead", "fsync_dir", "fsync_paths"]

#: The most threads that fsync new files and folders at once. The kernel batches concurrent
#: fsyncs into few journal commits, so a save of many files costs about as much as a few
#: fsyncs, and nothing but its own files is flushed.
SYNC_THREADS = 16

#: Past this many remembered flushes nobody asked about, the finished ones are forgotten
#: (a forgotten file is simply fsynced again when asked about: correct, only slower).
_FORGET_AT = 1 << 20


def fsync_path(path: str, folder: bool = False) -> None:
    """Make a file, or the renames and links in a folder, durable."""
    if folder:
        fsync_dir(path)
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: str) -> None:
    """Make the names in folder ``path`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_paths(files: Sequence[str], folders: Sequence[str]) -> None:
    """Fsync ``files`` and ``folders`` on up to :data:`SYNC_THREADS` threads at once.

    Raises
    ------
    OSError
        The first failure, once every fsync ran.
    """
    targets = [*files, *folders]
    kinds = [False] * len(files) + [True] * len(folders)
    if len(targets) <= 2:
        for target, folder in zip(targets, kinds, strict=True):
            fsync_path(target, folder)
        return
    with concurrent.futures.ThreadPoolExecutor(
        min(SYNC_THREADS, len(targets)), thread_name_prefix="archivist-fsync"
    ) as pool:
        for _ in pool.map(fsync_path, targets, kinds):  # the first error, once all ran
            pass


class _Flush:
    """One file handed over: flushed yet, and how it went."""

    __slots__ = ("done", "error", "path")

    def __init__(self, path: str) -> None:
        self.path = path
        self.done = False
        self.error: OSError | None = None


class SyncAhead:
    """Fsync files on worker threads as they are handed over; wait for them when asked.

    Parameters
    ----------
    threads : int
        The most worker threads. They start as files arrive and then wait for more for
        the life of the process (daemon threads: idle, they cost nothing).
    """

    def __init__(self, threads: int = SYNC_THREADS) -> None:
        self._threads = threads
        self._lock = threading.Lock()
        self._flushed = threading.Condition(self._lock)
        self._queue: queue.SimpleQueue[_Flush] = queue.SimpleQueue()
        self._flushes: dict[str, _Flush] = {}
        self._workers = 0
        self._outstanding = 0
        self._waiting = 0
        os.register_at_fork(after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        """A forked child has none of the parent's threads: start from nothing."""
        self._lock = threading.Lock()
        self._flushed = threading.Condition(self._lock)
        self._queue = queue.SimpleQueue()
        self._flushes = {}
        self._workers = self._outstanding = self._waiting = 0

    def hand_over(self, path: str) -> None:
        """Start flushing the complete file ``path`` in the background.

        Parameters
        ----------
        path : str
            A file that will not be written to again.
        """
        flush = _Flush(path)
        with self._lock:
            if len(self._flushes) >= _FORGET_AT:
                self._flushes = {p: f for p, f in self._flushes.items() if not f.done}
            self._flushes[path] = flush
            self._outstanding += 1
            self._queue.put(flush)
            start = self._workers < min(self._threads, self._outstanding)
            if start:
                self._workers += 1
        if start:
            threading.Thread(target=self._work, name="archivist-fsync", daemon=True).start()

    def forget(self, path: str) -> None:
        """Forget a file handed over (it is being deleted)."""
        with self._lock:
            self._flushes.pop(path, None)

    def wait(self, paths: Sequence[str]) -> list[str]:
        """Wait until the files of ``paths`` that were handed over are flushed.

        Parameters
        ----------
        paths : Sequence[str]
            Files that must be durable.

        Returns
        -------
        list[str]
            Those of ``paths`` that were never handed over (or were forgotten): the caller
            must fsync them itself.

        Raises
        ------
        OSError
            A background fsync of one of ``paths`` failed (the first such failure).
        """
        rest: list[str] = []
        error: OSError | None = None
        with self._lock:
            self._waiting += 1
            try:
                for path in paths:
                    flush = self._flushes.pop(path, None)
                    if flush is None:
                        rest.append(path)
                        continue
                    while not flush.done:
                        self._flushed.wait()
                    if flush.error is not None and error is None:
                        error = flush.error
            finally:
                self._waiting -= 1
        if error is not None:
            raise error
        return rest

    def _work(self) -> None:
        while True:
            flush = self._queue.get()
            error: OSError | None = None
            try:
                fsync_path(flush.path)
            except OSError as exc:
                error = exc
            with self._lock:
                flush.error, flush.done = error, True
                self._outstanding -= 1
                if self._waiting:
                    self._flushed.notify_all()


#: The one background flusher of this process, shared by every local backend.
SYNC_AHEAD = SyncAhead()
