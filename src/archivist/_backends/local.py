"""The built-in ``local`` backend: plain paths and ``file://`` URLs on a local disk."""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import io
import os
import re
import secrets
import threading
from collections.abc import Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any, ClassVar, NamedTuple, cast

from fsspec.implementations.local import LocalFileSystem

from archivist._backends._fsync import SYNC_AHEAD, SYNC_THREADS, fsync_dir, fsync_paths
from archivist._backends._lock import FileLock
from archivist._backends.base import Backend, content_token
from archivist._io.local import open_regular, read_regular
from archivist._io.progress import ProgressCallback, metered
from archivist.errors import InvalidArgumentError, StaleTokenError

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

#: The last bytes of a document read or written are hashed apart from the rest: a new text
#: that keeps all the rest (an append spliced before a manifest's closing bracket) hashes
#: only what follows it.
_TAIL = 64
#: How many documents' last states a backend remembers (the manifest, and a few beside it).
_REMEMBERED = 8
_REMEMBERING = threading.Lock()


class _Hashed(NamedTuple):
    """A document's bytes as last read or written, its token, and its hash but the tail."""

    token: str
    data: bytes
    cut: int
    prefix: Any  # a hashlib object fed data[:cut]


#: A new file of at most this many bytes is kept in memory until it is complete, then
#: created and written with one call (no temporary file, no link).
SMALL_FILE = 1 << 20

#: The end of a temporary name ``.<file name>.<16 hex digits>.tmp`` that open_new writes.
_TMP_SUFFIX = re.compile(r"[0-9a-f]{16}\.tmp")


def _lock_file(path: str) -> str:
    """Return the lock file that serializes replacing ``path`` (created with its folder)."""
    folder, base = os.path.split(path)
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, f".{base}.lock")


class LocalBackend(Backend):
    """Files on a local disk.

    Compare-and-swap holds a lock file beside the target (``.<name>.lock``), compares the
    content token, writes a temporary file in the same folder, fsyncs it and renames it
    over the target. A new small file is created exclusively (``O_EXCL``) and written in one
    call; a large one is written to a temporary name and hard-linked into place. Both fail
    if the target exists, so a file is never overwritten. New files are fsynced in the
    background as they land, and :meth:`sync` waits for that before a commit names them.
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
        return data, self._hashed(path, data).token

    def _hashed(self, path: str, data: bytes) -> _Hashed:
        """Hash ``data``, the new state of ``path``, and remember it.

        When ``data`` starts with all but the tail of the state last remembered for
        ``path`` (checked byte for byte), only the rest is hashed: an append hashes what it
        adds, not the whole manifest again.
        """
        view = memoryview(data)
        known = self._remembered.get(path)
        if (
            known is not None
            and len(data) >= known.cut
            and data.startswith(memoryview(known.data)[: known.cut])
        ):
            start, digest = known.cut, known.prefix.copy()
        else:
            start, digest = 0, hashlib.sha256()
        cut = max(start, len(data) - _TAIL)
        digest.update(view[start:cut])
        prefix = digest.copy()
        digest.update(view[cut:])
        hashed = _Hashed(digest.hexdigest(), data, cut, prefix)
        with _REMEMBERING:
            remembered = self._remembered
            remembered.pop(path, None)
            remembered[path] = hashed
            while len(remembered) > _REMEMBERED:
                del remembered[next(iter(remembered))]
        return hashed

    def _current_token(self, path: str, token: str | None) -> str | None:
        """Return the content token of ``path`` now (``None``: absent), read under its lock.

        When ``token`` is the state this backend last read or wrote, the file is compared
        byte for byte with those bytes instead of being hashed again.
        """
        try:
            data = self.read_bytes(path)
        except FileNotFoundError:
            return None
        known = self._remembered.get(path)
        if known is not None and known.token == token:
            return token if data == known.data else content_token(data)
        return content_token(data)

    def replace_if_unchanged(self, path: str, data: bytes, token: str | None) -> str:
        """Replace ``path`` under its lock file if its content token is still ``token``."""
        folder, base = os.path.split(path)
        with FileLock(_lock_file(path)):
            if self._current_token(path, token) != token:
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
            fsync_dir(folder)
        return self._hashed(path, data).token

    @contextlib.contextmanager
    def exclusive(self, path: str) -> Iterator[bool]:
        """Hold ``path``'s lock file (the one :meth:`replace_if_unchanged` takes) for the block."""
        with FileLock(_lock_file(path)):
            yield True

    @contextlib.contextmanager
    def open_new(
        self, path: str, *, callback: ProgressCallback | None = None
    ) -> Iterator[IO[bytes]]:
        """Write a new file at ``path`` only if ``path`` is free; never seen half-written.

        What is written is kept in memory up to :data:`SMALL_FILE` bytes; a file that stays
        that small is created at ``path`` exclusively (``O_EXCL``) and written with one
        call once the block ends (a taken ``path`` is found then). A larger one streams
        into a temporary file that is then hard-linked to ``path`` if ``path`` is free.
        Either way, a file that lands is handed to the background flusher
        (:mod:`archivist._backends._fsync`), so that :meth:`sync` finds it durable already.
        The folders this call created are removed again if the write fails (also when the
        file cannot even be created, for example because the path is too long), so a
        failed save leaves the tree as it was.

        A small file's name is taken before its bytes are written: a crash in between
        leaves a short file there that no manifest names (nothing commits a file before
        :meth:`sync`), which gc removes as any file of an interrupted save.
        """
        new = _NewFile(path)
        try:
            yield metered(cast("IO[bytes]", new), callback)
        except BaseException:
            new.abandon()
            raise
        created = new.land()
        if created:
            self._made_for[path] = created
        SYNC_AHEAD.hand_over(path, new.fd)

    def write_if_absent(self, path: str, data: bytes) -> None:
        """Write ``data`` at ``path`` only if nothing is there, with one exclusive create.

        Unlike :meth:`open_new`, the file is not flushed in the background: what is written
        this way (save journals, probes) is not asked to be durable; :meth:`sync` fsyncs
        it when asked all the same.
        """
        if len(data) > SMALL_FILE:
            super().write_if_absent(path, data)
            return
        created: list[str] = []
        os.close(_create_exclusive(path, data, created))
        if created:
            self._made_for[path] = created

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
        whole machine with ``os.sync()``). Files that :meth:`open_new` wrote were handed to
        the background flusher as they landed: this waits for them; any other file is
        fsynced now, with the folders, on up to :data:`SYNC_THREADS` threads at once.
        """
        rest = SYNC_AHEAD.wait(paths)
        fsync_paths(rest, sorted({os.path.dirname(path) for path in paths}))

    # -- faster derived operations ----------------------------------------------------------

    def read_bytes(self, path: str) -> bytes:
        """Read ``path`` whole with :func:`archivist._io.local.read_regular`.

        A regular file only, never blocking, of at most
        :data:`~archivist._io.local.DOCUMENT_LIMIT` bytes (a larger one is refused).
        """
        return read_regular(path)

    def open_read(self, path: str) -> IO[bytes]:
        """Open ``path`` as a plain, seekable binary file (a regular file only)."""
        return open_regular(path)

    def open_regular(self, path: str) -> IO[bytes]:
        """Open ``path`` only if it is a regular file (a symlink's target counts).

        A FIFO, device, socket or folder is refused before any byte is read, and a FIFO
        swapped in meanwhile cannot make the open hang (see :mod:`archivist._io.local`).
        """
        return open_regular(path)

    def read_ranges(self, path: str, ranges: Sequence[tuple[int, int]]) -> builtins.list[bytes]:
        """Read byte ranges through the one local opener (a regular file only)."""
        with open_regular(path) as stream:
            out = []
            for start, end in ranges:
                stream.seek(start)
                out.append(stream.read(max(end - start, 0)))
            return out

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
        SYNC_AHEAD.forget(path)
        os.remove(path)
        for folder in self._made_for.pop(path, None) or [os.path.dirname(path)]:
            _remove_empty_folder(folder)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the remembered document states (hash objects do not pickle)."""
        state = dict(self.__dict__)
        state.pop("_remembered_states", None)  # a copy hashes what it reads afresh
        return state

    @property
    def _remembered(self) -> dict[str, _Hashed]:
        """The last state read or written of the last few documents, oldest first."""
        remembered: dict[str, _Hashed] = self.__dict__.setdefault("_remembered_states", {})
        return remembered

    @property
    def _made_for(self) -> dict[str, builtins.list[str]]:
        """The folders :meth:`open_new` created for each file it wrote, deepest first."""
        made: dict[str, builtins.list[str]] = self.__dict__.setdefault("_made_folders", {})
        return made


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


class _NewFile(io.RawIOBase):
    """What :meth:`LocalBackend.open_new` yields: a small file in memory, a large one on disk.

    Up to :data:`SMALL_FILE` bytes are kept in memory; :meth:`land` then creates ``path``
    exclusively and writes them with one call. Past that, the bytes so far go to a fresh
    temporary file in the target's folder (``.<name>.<16 hex digits>.tmp``, which gc
    recognises as a partial write), the rest streams into it, and :meth:`land` hard-links
    it to ``path`` if ``path`` is free.
    """

    def __init__(self, path: str) -> None:
        super().__init__()
        self._path = path
        self._buffer = bytearray()
        self._created: list[str] = []
        self._tmp: str | None = None
        self._stream: BufferedWriter | None = None
        self._writer: _EarlyWriteback | None = None
        #: The descriptor a small file was written through, left open by :meth:`land`.
        self.fd: int | None = None

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self._writer is None:
            size = memoryview(data).nbytes
            if len(self._buffer) + size <= SMALL_FILE:
                self._buffer += data
                return size
            self._spill()
        assert self._writer is not None
        return self._writer.write(data)

    def _spill(self) -> None:
        """Move to a temporary file on disk: the file is larger than :data:`SMALL_FILE`."""
        if os.path.lexists(self._path):  # before writing a large file in vain
            raise FileExistsError(self._path)
        folder, base = os.path.split(self._path)
        tmp = os.path.join(folder, _temporary_name(base))
        self._created = _missing_folders(folder)
        for attempt in range(3):
            os.makedirs(folder, exist_ok=True)
            try:
                stream = open(tmp, "xb")  # noqa: SIM115 - closed in land() or abandon()
                break
            except FileNotFoundError:  # a concurrent clean-up removed the empty folder
                if attempt == 2:
                    raise
        self._tmp, self._stream = tmp, stream
        self._writer = _EarlyWriteback(stream)
        self._writer.write(self._buffer)
        self._buffer = bytearray()

    def flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()

    def tell(self) -> int:
        return len(self._buffer) if self._writer is None else self._writer.tell()

    def land(self) -> list[str]:
        """Put the file at its path; return the folders created for it, deepest first.

        Raises
        ------
        FileExistsError
            Something is at the path already; nothing was written there.
        """
        if self._writer is None:
            self.fd = _create_exclusive(self._path, self._buffer, self._created)
            return self._created
        try:
            self._close_stream()
            assert self._tmp is not None
            _link_if_absent(self._tmp, self._path)
        except BaseException:
            self.abandon()
            raise
        with contextlib.suppress(OSError):
            os.remove(self._tmp)
        return self._created

    def _close_stream(self) -> None:
        if self._writer is not None and self._stream is not None:
            try:
                self._writer.finish()  # no flush may outlive the file descriptor
            finally:
                self._stream.close()

    def abandon(self) -> None:
        """Remove what was written, and the folders created for it.

        An early flush still running is not waited for (Ctrl-C must stop a save promptly,
        and a flush of a large file on a busy disk can take seconds): it is best effort on
        a file being deleted, and a flush that reaches the descriptor only after it was
        closed fails (ignored) or, if the number was reused, flushes another file.
        """
        if self._tmp is not None:
            if self._stream is not None:
                with contextlib.suppress(OSError):
                    self._stream.close()
            with contextlib.suppress(OSError):
                os.remove(self._tmp)
        for created_folder in self._created:  # deepest first
            _remove_empty_folder(created_folder)


#: How :func:`_create_exclusive` opens a file: only if absent, binary, not inherited.
_EXCLUSIVE = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
)


def _create_exclusive(path: str, data: bytes | bytearray, created: list[str]) -> int:
    """Create ``path`` only if it does not exist, write ``data`` into it, return its fd.

    The folders created for it are added to ``created`` (deepest first); when the file
    cannot be created or written, it and they are removed again. The caller closes the
    descriptor.
    """
    try:
        for attempt in range(3):
            try:
                fd = os.open(path, _EXCLUSIVE, 0o666)
                break
            except FileNotFoundError:  # the folder is missing (or a clean-up removed it)
                if attempt == 2:
                    raise
                folder = os.path.dirname(path)
                created.extend(f for f in _missing_folders(folder) if f not in created)
                os.makedirs(folder, exist_ok=True)
    except BaseException:
        for created_folder in created:
            _remove_empty_folder(created_folder)
        raise
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.remove(path)
        for created_folder in created:
            _remove_empty_folder(created_folder)
        raise
    return fd


class _EarlyWriteback(io.RawIOBase):
    """Pass writes to a new file, and start flushing it to disk while it is being written.

    Every :data:`WRITEBACK_EVERY` bytes, what was written so far is flushed on a worker
    thread (``fdatasync``), so the fsync that makes the file durable before its commit has
    little left to do instead of a whole large file. Small files never start a thread. The
    thread is a daemon: a process ending (Ctrl-C) does not wait for a flush.
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
                target=_datasync,
                args=(self._stream.fileno(),),
                name="archivist-writeback",
                daemon=True,
            )
            self._flusher.start()
        return written

    def flush(self) -> None:
        self._stream.flush()

    def tell(self) -> int:
        return self._stream.tell()

    def finish(self) -> None:
        """Wait for a flush in progress (call before the file is closed)."""
        flusher, self._flusher = self._flusher, None
        if flusher is not None:
            flusher.join()


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
