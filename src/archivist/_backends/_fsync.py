"""fsync on local disk: exactly the files and folders a save wrote, overlapped with writing.

A bulk save writes many small files. Flushing each one only after all of them are written
(one blocking ``fsync`` per file) would cost about as much again as writing them. Instead
the local backend hands each new file to :data:`SYNC_AHEAD` as soon as it is complete:
worker threads fsync it while the next files are being written (the kernel batches
concurrent fsyncs into few journal commits). When the save asks for its files to be durable
(:meth:`~archivist._backends.local.LocalBackend.sync`), it waits for those flushes, fsyncs
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
    """One file handed over: its open descriptor (if kept), flushed yet, how it went."""

    __slots__ = ("done", "error", "fd", "path")

    def __init__(self, path: str, fd: int | None) -> None:
        self.path = path
        self.fd = fd
        self.done = False
        self.error: OSError | None = None

    def run(self) -> None:
        """Fsync the file (through its descriptor, which is closed, if one was kept)."""
        try:
            if self.fd is None:
                fsync_path(self.path)
            else:
                try:
                    os.fsync(self.fd)
                finally:
                    os.close(self.fd)
        except OSError as exc:
            self.error = exc


def _descriptor_budget() -> int:
    """How many descriptors of handed-over files may stay open (a quarter of the limit)."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):  # pragma: no cover - not POSIX
        return 0
    if soft == resource.RLIM_INFINITY:
        return 1024
    return max(0, min(1024, soft // 4))


class SyncAhead:
    """Fsync files on worker threads as they are handed over; wait for them when asked.

    Files are handed to the workers in small batches (one thread wake-up per batch rather
    than per file: every wake-up costs the writing thread the GIL), each with the
    descriptor it was written through while few enough are open, so that a worker need
    not look the file up again.

    Parameters
    ----------
    threads : int
        The most worker threads. They start as files arrive and then wait for more for
        the life of the process (daemon threads: idle, they cost nothing).
    batch : int
        Files handed over at a time (a partial batch goes when :meth:`wait` is called).
    """

    def __init__(self, threads: int = SYNC_THREADS, batch: int = 8) -> None:
        self._threads = threads
        self._batch_size = batch
        self._max_fds = _descriptor_budget()
        self._reset()
        if hasattr(os, "register_at_fork"):  # POSIX
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        """Start from nothing (also in a forked child, which has none of the threads)."""
        self._lock = threading.Lock()
        self._flushed = threading.Condition(self._lock)
        self._queue: queue.SimpleQueue[list[_Flush]] = queue.SimpleQueue()
        self._flushes: dict[str, _Flush] = {}
        self._batch: list[_Flush] = []
        self._workers = self._batches = self._waiting = self._fds = 0

    def hand_over(self, path: str, fd: int | None = None) -> None:
        """Start flushing the complete file ``path`` in the background.

        Parameters
        ----------
        path : str
            A file that will not be written to again.
        fd : int, optional
            A descriptor open on it, which this call takes over (it is closed once the file
            is flushed).
        """
        with self._lock:
            if fd is not None and self._fds >= self._max_fds:
                os.close(fd)  # too many open: the worker opens the file again
                fd = None
            if fd is not None:
                self._fds += 1
            if len(self._flushes) >= _FORGET_AT:
                self._flushes = {p: f for p, f in self._flushes.items() if not f.done}
            flush = _Flush(path, fd)
            self._flushes[path] = flush
            self._batch.append(flush)
            if len(self._batch) >= self._batch_size:
                self._dispatch()

    def _dispatch(self) -> None:
        """Queue the current batch, starting a worker if all are busy (holding the lock)."""
        self._queue.put(self._batch)
        self._batch = []
        self._batches += 1
        if self._workers < min(self._threads, self._batches):
            self._workers += 1
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
            if self._batch:
                self._dispatch()
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
            batch = self._queue.get()
            for flush in batch:
                flush.run()
            with self._lock:
                for flush in batch:
                    flush.done = True
                    if flush.fd is not None:
                        self._fds -= 1
                self._batches -= 1
                if self._waiting:
                    self._flushed.notify_all()


#: The one background flusher of this process, shared by every local backend.
SYNC_AHEAD = SyncAhead()
