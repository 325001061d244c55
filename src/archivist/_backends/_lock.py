"""An inter-process lock on a lock file that is never deleted.

The lock file stays in place on purpose: deleting it on release races with a waiter that
already holds the old file open, so two processes could both believe they hold the lock.
The kernel drops the lock when its holder dies (even by SIGKILL), so a crash never leaves
a repository locked.
"""

from __future__ import annotations

import os
import sys
import time
from types import TracebackType

from archivist.errors import ConflictError

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

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

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


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

    def __enter__(self) -> FileLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + self.timeout
            delay = 0.0005
            while not _try_lock(fd):
                if time.monotonic() > deadline:
                    raise ConflictError(
                        f"could not lock {self.path} within {self.timeout:g} s: another "
                        "writer holds it. Nothing was written."
                    )
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        except BaseException:
            # Also Ctrl-C, even right after the lock was taken: closing the descriptor
            # releases it, or the lock would stay taken for the rest of the process.
            os.close(fd)
            raise
        self._fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                _unlock(fd)
            finally:
                os.close(fd)
