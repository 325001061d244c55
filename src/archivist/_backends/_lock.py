"""An inter-process lock on a lock file that is never deleted.

The lock file stays in place on purpose: deleting it on release races with a waiter that
already holds the old file open, so two processes could both believe they hold the lock.
The kernel drops the lock when its holder dies (even by SIGKILL), so a crash never leaves
a repository locked.

A waiter sleeps in the kernel until the lock is free (a blocking ``flock`` on a helper
thread, which is what lets the wait have a timeout and stay interruptible by Ctrl-C), so it
takes the lock the moment its holder lets go instead of polling for it. The lock is
re-entrant per thread: a thread that holds it (a compare-and-swap retrying under it, see
:meth:`archivist.Backend.exclusive`) passes through when the replace inside takes it again.
"""

from __future__ import annotations

import os
import sys
import threading
from types import TracebackType

from archivist.errors import ConflictError

__all__ = ["FileLock"]

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt
    import time

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _lock_blocking(fd: int) -> None:
        while not _try_lock(fd):
            time.sleep(0.001)

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _lock_blocking(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


#: The lock files each thread holds, and how many times (re-entrant per thread).
_HELD = threading.local()


def _held() -> dict[str, int]:
    held: dict[str, int] | None = getattr(_HELD, "paths", None)
    if held is None:
        held = _HELD.paths = {}
    return held


class _Waiter:
    """Waits in the kernel for the lock on its own descriptor, on a daemon thread.

    If the caller stops waiting (timeout, Ctrl-C), the thread lets the lock go as soon as it
    gets it: a lock nobody wants is never kept.
    """

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self._state = threading.Lock()
        self._done = threading.Event()
        self._abandoned = False
        self._error: OSError | None = None
        thread = threading.Thread(target=self._run, name="archivist-lock-waiter", daemon=True)
        try:
            thread.start()
        except BaseException:  # Ctrl-C while starting it: the thread, if any, lets go
            with self._state:
                self._abandoned = True
                if thread.ident is None:  # it never started: nobody else closes the descriptor
                    os.close(self._fd)
            raise

    def _run(self) -> None:
        try:
            _lock_blocking(self._fd)
        except OSError as exc:
            self._error = exc
        with self._state:
            if self._abandoned or self._error is not None:
                os.close(self._fd)  # also releases a lock taken too late
            self._done.set()

    def wait(self, timeout: float) -> int | None:
        """Return the locked descriptor, or ``None`` after ``timeout`` seconds."""
        try:
            done = self._done.wait(timeout)
        except BaseException:
            self._abandon()
            raise
        if not done:
            self._abandon()
            return None
        if self._error is not None:
            raise self._error
        return self._fd

    def _abandon(self) -> None:
        with self._state:
            if self._done.is_set() and self._error is None:  # got it meanwhile: give it back
                _unlock(self._fd)
                os.close(self._fd)
            self._abandoned = True


class FileLock:
    """Hold an exclusive lock on ``path`` for the duration of a ``with`` block.

    Parameters
    ----------
    path : str
        The lock file; created if missing, never removed.
    timeout : float
        Seconds to wait before giving up with :class:`~archivist.errors.ConflictError`.
    """

    def __init__(self, path: str, timeout: float = 60.0) -> None:
        self.path = path
        self.timeout = timeout
        self._fd: int | None = None
        self._reentered = False

    def __enter__(self) -> FileLock:
        held = _held()
        if self.path in held:  # this thread holds it already
            held[self.path] += 1
            self._reentered = True
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not _try_lock(fd):
                os.close(fd)
                fd = -1
                waited = _Waiter(self.path).wait(self.timeout)
                if waited is None:
                    raise ConflictError(
                        f"could not lock {self.path} within {self.timeout:g} s: another "
                        "writer holds it. Nothing was written."
                    )
                fd = waited
        except BaseException:
            # Also Ctrl-C, even right after the lock was taken: closing the descriptor
            # releases it, or the lock would stay taken for the rest of the process.
            if fd >= 0:
                os.close(fd)
            raise
        self._fd = fd
        held[self.path] = 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        held = _held()
        if self._reentered:
            self._reentered = False
            held[self.path] -= 1
            return
        held.pop(self.path, None)
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                _unlock(fd)
            finally:
                os.close(fd)
