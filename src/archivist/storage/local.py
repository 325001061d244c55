"""The built-in ``local`` backend: plain paths and ``file://`` URLs on a local disk."""

from __future__ import annotations

import builtins
import concurrent.futures
import contextlib
import io
import os
import re
import secrets
import threading
from collections.abc import Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any, ClassVar, cast

from fsspec.implementations.local import LocalFileSystem

from archivist.errors import StaleTokenError
from archivist.storage._lock import FileLock
from archivist.storage.base import Backend, content_token

if TYPE_CHECKING:
    from io import BufferedWriter

    from fsspec.spec import AbstractFileSystem

__all__ = ["SYNC_THREADS", "LocalBackend"]

#: A new file is flushed to disk in the background each time this many more bytes are written.
WRITEBACK_EVERY = 64 << 20

#: The most threads that fsync the new files and folders of one save at once. The kernel
#: batches concurrent fsyncs into few journal commits, so a save of many files costs about
#: as much as a few fsyncs, and nothing but its own files is flushed.
SYNC_THREADS = 16


#: The end of a temporary name ``.<file name>.<16 hex digits>.tmp`` that open_new writes.
_TMP_SUFFIX = re.compile(r"[0-9a-f]{16}\.tmp")


def _fsync_path(path: str, folder: bool) -> None:
    """Make a file, or the renames and links in a folder, durable."""
    if folder:
        _fsync_dir(path)
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: str) -> None:
    """Make a rename in folder ``path`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBackend(Backend):
    """Files on a local disk.

    Compare-and-swap holds a lock file beside the target (``.<name>.lock``), compares the
    content token, writes a temporary file in the same folder, fsyncs it and renames it
    over the target. New files are written to a temporary name and hard-linked into place,
    which fails if the target exists, so a file is never overwritten or seen half-written.
    """

    protocols: ClassVar[tuple[str, ...]] = ("file", "local")
    write_concurrency: ClassVar[int] = 8

    def make_filesystem(self, **storage_options: Any) -> AbstractFileSystem:
        """Return an fsspec :class:`~fsspec.implementations.local.LocalFileSystem`."""
        return LocalFileSystem(**storage_options)

    def strip_protocol(self, url: str) -> str:
        """Return the absolute path of ``url`` (relative paths resolve against the cwd)."""
        return str(LocalFileSystem._strip_protocol(os.fspath(url)))

    # -- primitives -------------------------------------------------------------------------

    def read_with_token(self, path: str) -> tuple[bytes, str]:
        """Read ``path`` and return it with its content token."""
        data = self.read_bytes(path)
        return data, content_token(data)

    def replace_if_unchanged(self, path: str, data: bytes, token: str | None) -> str:
        """Replace ``path`` under its lock file if its content token is still ``token``."""
        folder, base = os.path.split(path)
        os.makedirs(folder, exist_ok=True)
        with FileLock(os.path.join(folder, f".{base}.lock")):
            try:
                current: str | None = content_token(self.read_bytes(path))
            except FileNotFoundError:
                current = None
            if current != token:
                raise StaleTokenError(f"{path} changed since it was read")
            tmp = os.path.join(folder, f".{base}.{secrets.token_hex(8)}.tmp")
            try:
                with open(tmp, "wb") as stream:
                    stream.write(data)
                    stream.flush()
                    os.fsync(stream.fileno())
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(tmp)
                raise
            _fsync_dir(folder)
        return content_token(data)

    @contextlib.contextmanager
    def open_new(self, path: str) -> Iterator[IO[bytes]]:
        """Stream into a temporary file, then hard-link it to ``path`` if ``path`` is free.

        A folder this call created is removed again if the write fails, so a failed save
        leaves the tree as it was.
        """
        folder, base = os.path.split(path)
        if os.path.lexists(path):
            raise FileExistsError(path)
        tmp = os.path.join(folder, f".{base}.{secrets.token_hex(8)}.tmp")  # see _TMP_SUFFIX
        created = not os.path.isdir(folder)
        for attempt in range(3):
            os.makedirs(folder, exist_ok=True)
            try:
                stream = open(tmp, "xb")  # noqa: SIM115 - closed below, before the link
                break
            except FileNotFoundError:  # a concurrent clean-up removed the empty folder
                if attempt == 2:
                    raise
        landed = False
        try:
            with stream:
                writer = _EarlyWriteback(stream)
                try:
                    yield cast("IO[bytes]", writer)
                finally:
                    writer.finish()  # no flush may outlive the file descriptor
            _link_if_absent(tmp, path)
            landed = True
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp)
            if created and not landed:
                _remove_empty_folder(folder)

    def partial_writes(self, path: str) -> builtins.list[str]:
        """Return the temporary files interrupted :meth:`open_new` calls for ``path`` left."""
        folder, base = os.path.split(path)
        try:
            names = os.listdir(folder)
        except OSError:
            return []
        prefix = f".{base}."
        return sorted(
            os.path.join(folder, name).replace(os.sep, "/")
            for name in names
            if name.startswith(prefix) and _TMP_SUFFIX.fullmatch(name[len(prefix) :])
        )

    def sync(self, paths: Sequence[str]) -> None:
        """Flush new files and their folders to disk before the manifest names them.

        Exactly these files and the folders they were linked into are fsynced (never the
        whole machine with ``os.sync()``), on up to :data:`SYNC_THREADS` threads at once.
        """
        folders = sorted({os.path.dirname(path) for path in paths})
        targets = [*paths, *folders]
        kinds = [False] * len(paths) + [True] * len(folders)
        if len(targets) <= 2:
            for target, folder in zip(targets, kinds, strict=True):
                _fsync_path(target, folder)
            return
        with concurrent.futures.ThreadPoolExecutor(
            min(SYNC_THREADS, len(targets)), thread_name_prefix="archivist-fsync"
        ) as pool:
            for _ in pool.map(_fsync_path, targets, kinds):  # the first error, once all ran
                pass

    # -- faster derived operations ----------------------------------------------------------

    def read_bytes(self, path: str) -> bytes:
        """Read ``path`` with one system call sequence, bypassing fsspec's buffering."""
        with open(path, "rb") as stream:
            return stream.read()

    def open_read(self, path: str) -> IO[bytes]:
        """Open ``path`` as a plain, seekable binary file."""
        return open(path, "rb")

    def exists(self, path: str) -> bool:
        """Tell whether ``path`` is a file."""
        return os.path.isfile(path)

    def list(self, prefix: str) -> Iterator[str]:
        """Walk ``prefix`` and yield every file path below it."""
        for folder, _, files in os.walk(prefix):
            for name in files:
                yield os.path.join(folder, name).replace(os.sep, "/")

    def delete(self, path: str) -> None:
        """Remove ``path``, and its folder if that leaves it empty."""
        os.remove(path)
        _remove_empty_folder(os.path.dirname(path))


def _remove_empty_folder(folder: str) -> None:
    """Remove ``folder`` if it is empty; a folder another writer just filled stays."""
    with contextlib.suppress(OSError):
        os.rmdir(folder)


class _EarlyWriteback(io.RawIOBase):
    """Pass writes to a new file, and start flushing it to disk while it is being written.

    Every :data:`WRITEBACK_EVERY` bytes, what was written so far is flushed on a worker
    thread (``fdatasync``), so the fsync that makes the file durable before its commit has
    little left to do instead of a whole large file. Small files never start a thread.
    """

    def __init__(self, stream: BufferedWriter) -> None:
        super().__init__()
        self._stream = stream
        self._unflushed = 0
        self._flusher: threading.Thread | None = None

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        written = self._stream.write(data)
        self._unflushed += written
        if self._unflushed >= WRITEBACK_EVERY and not (
            self._flusher is not None and self._flusher.is_alive()
        ):
            self._unflushed = 0
            self._stream.flush()
            self._flusher = threading.Thread(
                target=_datasync, args=(self._stream.fileno(),), name="archivist-writeback"
            )
            self._flusher.start()
        return written

    def flush(self) -> None:
        self._stream.flush()

    def tell(self) -> int:
        return self._stream.tell()

    def finish(self) -> None:
        """Wait for a flush in progress (call before the file is closed)."""
        if self._flusher is not None:
            self._flusher.join()
            self._flusher = None


def _datasync(fd: int) -> None:
    with contextlib.suppress(OSError):  # best effort: the fsync before the commit decides
        getattr(os, "fdatasync", os.fsync)(fd)


def _link_if_absent(source: str, target: str) -> None:
    """Give ``source`` the name ``target`` only if ``target`` does not exist (atomically)."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError:
        # No hard links on this filesystem: claim the name exclusively, then rename over it.
        fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        os.close(fd)
        os.replace(source, target)
