"""The built-in ``local`` backend: plain paths and ``file://`` URLs on a local disk."""

from __future__ import annotations

import builtins
import concurrent.futures
import contextlib
import io
import os
import re
import secrets
import stat
import threading
from collections.abc import Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any, ClassVar, cast

from fsspec.implementations.local import LocalFileSystem

from archivist.errors import IntegrityError, InvalidArgumentError, StaleTokenError
from archivist.storage._lock import FileLock
from archivist.storage.base import Backend, content_token

if TYPE_CHECKING:
    from io import BufferedWriter

    from fsspec.spec import AbstractFileSystem

__all__ = ["LOCAL_OPTIONS", "SYNC_THREADS", "LocalBackend"]

#: The storage options a local path takes: fsspec's ``LocalFileSystem`` options (besides
#: archivist's own ``single_writer`` and ``reprobe``). Any other is refused rather than ignored.
LOCAL_OPTIONS = frozenset(
    {"auto_mkdir", "skip_instance_cache", "use_listings_cache", "listings_expiry_time", "max_paths"}
)

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
    sha256_tokens = True
    #: PATH_MAX (4096 with its NUL on Linux), less what the temporary name of a new file adds.
    max_path_bytes: ClassVar[int | None] = 4095 - len(".." + "0" * 16 + ".tmp")
    write_concurrency: ClassVar[int] = 8

    def make_filesystem(self, **storage_options: Any) -> AbstractFileSystem:
        """Return an fsspec :class:`~fsspec.implementations.local.LocalFileSystem`.

        Raises
        ------
        archivist.errors.InvalidArgumentError
            An option the local filesystem does not know (fsspec would ignore it silently,
            so a misspelled parameter such as ``mdoe="r"`` would go unnoticed).
        """
        unknown = sorted(set(storage_options) - LOCAL_OPTIONS)
        if unknown:
            known = ", ".join(sorted(LOCAL_OPTIONS | {"single_writer", "reprobe"}))
            raise InvalidArgumentError(
                f"unknown option(s) for a local repository: {', '.join(map(repr, unknown))}. "
                f"A local path takes only {known}"
                "; credentials and endpoints are for cloud URLs (s3://, gs://, az://)"
            )
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

        The folders this call created are removed again if the write fails (also when the
        temporary file cannot even be created, for example because the path is too long),
        so a failed save leaves the tree as it was.
        """
        folder, base = os.path.split(path)
        if os.path.lexists(path):
            raise FileExistsError(path)
        tmp = os.path.join(folder, _temporary_name(base))
        created = _missing_folders(folder)
        landed = False
        try:
            for attempt in range(3):
                os.makedirs(folder, exist_ok=True)
                try:
                    stream = open(tmp, "xb")  # noqa: SIM115 - closed below, before the link
                    break
                except FileNotFoundError:  # a concurrent clean-up removed the empty folder
                    if attempt == 2:
                        raise
            with stream:
                writer = _EarlyWriteback(stream)
                try:
                    yield cast("IO[bytes]", writer)
                finally:
                    writer.finish()  # no flush may outlive the file descriptor
            _link_if_absent(tmp, path)
            landed = True
            if created:
                self._made_for[path] = created
        finally:
            with contextlib.suppress(OSError):
                os.remove(tmp)
            if not landed:
                for created_folder in created:  # deepest first
                    _remove_empty_folder(created_folder)

    def partial_writes(self, path: str) -> builtins.list[str]:
        """Return the temporary files interrupted :meth:`open_new` calls for ``path`` left."""
        folder, base = os.path.split(path)
        try:
            names = os.listdir(folder)
        except OSError:
            return []
        prefix = _temporary_prefix(base)
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

    def open_regular(self, path: str) -> IO[bytes]:
        """Open ``path`` only if it is a regular file (a symlink's target counts).

        A FIFO, device, socket or folder is refused before any byte is read: the type is
        checked with ``stat``, and again with ``fstat`` on the descriptor, which is opened
        non-blocking so that a FIFO swapped in between cannot make the open hang.
        """
        _require_regular(path, os.stat(path).st_mode)
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
        try:
            _require_regular(path, os.fstat(fd).st_mode)
            if flags & getattr(os, "O_NONBLOCK", 0):
                os.set_blocking(fd, True)
            return open(fd, "rb")
        except BaseException:
            os.close(fd)
            raise

    def exists(self, path: str) -> bool:
        """Tell whether ``path`` is a file."""
        return os.path.isfile(path)

    def list(self, prefix: str) -> Iterator[str]:
        """Walk ``prefix`` and yield every file path below it."""
        for folder, _, files in os.walk(prefix):
            for name in files:
                yield os.path.join(folder, name).replace(os.sep, "/")

    def delete(self, path: str) -> None:
        """Remove ``path``, and its folder if that leaves it empty.

        When this backend created folders for ``path`` (:meth:`open_new`), each of them that
        is left empty goes too, so a save that fails after writing leaves the tree as it was.
        """
        os.remove(path)
        for folder in self._made_for.pop(path, None) or [os.path.dirname(path)]:
            _remove_empty_folder(folder)

    @property
    def _made_for(self) -> dict[str, builtins.list[str]]:
        """The folders :meth:`open_new` created for each file it wrote, deepest first."""
        made: dict[str, builtins.list[str]] = self.__dict__.setdefault("_made_folders", {})
        return made


def _require_regular(path: str, mode: int) -> None:
    """Raise IntegrityError unless ``mode`` is a regular file's."""
    if stat.S_ISREG(mode):
        return
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    kind = next((name for test, name in kinds if test(mode)), "not a regular file")
    raise IntegrityError(
        f"{path} is {kind}, not a regular file; archivist reads only regular files"
    )


def _temporary_prefix(base: str) -> str:
    """Return ``.<base>.``, ``base`` shortened (at a character boundary) to fit 255 bytes.

    A temporary name is this prefix, 16 hex digits and ``.tmp``: a long ``base`` is cut so
    the temporary name fits where the final name fits.
    """
    room = 255 - len(".") - len(".0123456789abcdef.tmp")
    encoded = base.encode("utf-8", "surrogatepass")
    if len(encoded) > room:
        base = encoded[:room].decode("utf-8", "ignore")
    return f".{base}."


def _temporary_name(base: str) -> str:
    """Return a fresh hidden temporary name for a new file ``base`` (see _temporary_prefix)."""
    return f"{_temporary_prefix(base)}{secrets.token_hex(8)}.tmp"


def _missing_folders(folder: str) -> list[str]:
    """Return ``folder`` and those of its parents that do not exist yet, deepest first."""
    missing: list[str] = []
    while folder and not os.path.isdir(folder):
        missing.append(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return missing


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
