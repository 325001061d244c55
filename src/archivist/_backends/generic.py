"""The generic backend: any protocol fsspec knows and no archivist plugin serves.

``fsspec.register_implementation("myproto", ...)``, ``github://``, ``hf://`` and the other
fsspec implementations work as repository locations, as they did in lazyscribe. A generic
filesystem offers no conditional write archivist could rely on (fsspec's ``mode="create"``
checks and writes in two steps), so the backend is honest about what it can promise:

* **reads** work whenever the filesystem reads;
* **a filesystem that cannot write** (its writes raise ``NotImplementedError``) makes every
  write raise :class:`~archivist.errors.ReadOnlyStorageError` (a ``ReadOnlyError`` and a
  ``StorageError``, so lazyscribe's ``SaveError``), naming the protocol;
* **writes run in single-writer mode**: the token check and the write happen under a lock
  held by this process, so threads of one process never lose each other's updates, but
  two *processes* writing at once may. The first write warns with an
  :class:`~archivist.errors.ArchivistWarning` saying so, unless ``single_writer=True`` is
  passed in the storage options (the user vouches that one process writes).

Install the archivist plugin for a store (``archivist-s3``, ...) where there is one: it uses
the store's own conditional requests and is safe for concurrent writers.
"""

from __future__ import annotations

import contextlib
import posixpath
import shutil
import tempfile
import threading
import warnings
from collections.abc import Iterator
from typing import IO, Any, ClassVar

import fsspec

from archivist._backends.base import Backend, content_token
from archivist._io.progress import ProgressCallback, metered
from archivist.errors import ArchivistWarning, ReadOnlyStorageError, StaleTokenError

__all__ = ["FsspecBackend", "fsspec_knows", "generic_backend"]

_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()
_CLASSES: dict[str, type[FsspecBackend]] = {}
#: Bytes of a new file kept in memory before spilling to a temporary file.
SPOOL_SIZE = 8 << 20
_CHUNK = 1 << 20


def fsspec_knows(protocol: str) -> bool:
    """Tell whether fsspec has an implementation registered or known for ``protocol``.

    Parameters
    ----------
    protocol : str
        A URL protocol.

    Returns
    -------
    bool
        ``True`` when :func:`fsspec.filesystem` can be asked for it.
    """
    from fsspec.registry import known_implementations, registry

    return protocol in registry or protocol in known_implementations


def generic_backend(protocol: str) -> type[FsspecBackend]:
    """Return the generic backend class serving ``protocol`` (one class per protocol).

    Parameters
    ----------
    protocol : str
        A protocol fsspec knows.

    Returns
    -------
    type[FsspecBackend]
        A subclass whose :attr:`~archivist.Backend.protocols` is ``(protocol,)``.
    """
    with _LOCKS_GUARD:
        cls = _CLASSES.get(protocol)
        if cls is None:
            cls = type(
                f"FsspecBackend[{protocol}]",
                (FsspecBackend,),
                {"protocols": (protocol,), "__module__": __name__},
            )
            _CLASSES[protocol] = cls
            _LOCKS.setdefault(protocol, threading.RLock())
        return cls


class FsspecBackend(Backend):
    """Files on any fsspec filesystem, written in single-writer mode.

    Use :func:`generic_backend` to get the class for a protocol; archivist does so for
    every protocol fsspec knows and no installed backend serves.

    Parameters
    ----------
    **storage_options
        Passed to the fsspec filesystem; ``single_writer=True`` acknowledges that only one
        process writes (and silences the warning).
    """

    protocols: ClassVar[tuple[str, ...]] = ()
    sha256_tokens = True

    def __init__(self, **storage_options: Any) -> None:
        if not self.protocols:
            raise TypeError("use archivist._backends.generic.generic_backend(protocol)")
        super().__init__(**storage_options)
        with _LOCKS_GUARD:
            self._lock = _LOCKS.setdefault(self.protocols[0], threading.RLock())
        self._warned = False

    def make_filesystem(self, **storage_options: Any) -> Any:
        """Return the filesystem fsspec registers for the protocol."""
        return fsspec.filesystem(self.protocols[0], **storage_options)

    # -- writes -----------------------------------------------------------------------------

    def _read_only(self, path: str, exc: BaseException) -> ReadOnlyStorageError:
        return ReadOnlyStorageError(
            f"the fsspec filesystem for {self.protocols[0]}:// "
            f"({type(self.fs).__module__}.{type(self.fs).__qualname__}) cannot write "
            f"({type(exc).__name__}: {exc}), so {self.to_url(path)} is read-only here. Open "
            "the repository with mode='r' to read it, or keep it on a store that writes."
        )

    def _before_write(self) -> None:
        if self.single_writer or self._warned:
            return
        self._warned = True
        warnings.warn(
            f"{self.protocols[0]}:// is served by archivist's generic fsspec backend, which "
            "has no conditional write to rely on: writes are checked under a lock in this "
            "process only, so concurrent writers in other processes may lose updates. Install "
            "an archivist plugin for this store if there is one, or pass single_writer=True "
            "in the storage options if only one process ever writes.",
            ArchivistWarning,
            stacklevel=4,
        )

    def _put(
        self, path: str, source: IO[bytes] | bytes, callback: ProgressCallback | None = None
    ) -> None:
        parent = posixpath.dirname(path)
        try:
            if parent:
                with contextlib.suppress(FileExistsError):
                    self.fs.makedirs(parent, exist_ok=True)
            if isinstance(source, bytes):
                self.fs.pipe_file(path, source)
            else:
                with self.fs.open(path, "wb") as target:
                    shutil.copyfileobj(source, metered(target, callback), _CHUNK)
        except NotImplementedError as exc:
            raise self._read_only(path, exc) from exc
        finally:
            self.fs.invalidate_cache(path)

    def read_with_token(self, path: str) -> tuple[bytes, str]:
        """Read ``path`` and return it with its content token (its SHA-256)."""
        self.fs.invalidate_cache(path)
        data = self.read_bytes(path)
        return data, content_token(data)

    def _token(self, path: str) -> str | None:
        try:
            return self.read_with_token(path)[1]
        except FileNotFoundError:
            return None

    def replace_if_unchanged(self, path: str, data: bytes, token: str | None) -> str:
        """Replace ``path`` if its content token is still ``token`` (checked under a lock)."""
        self._before_write()
        with self._lock:
            if self._token(path) != token:
                raise StaleTokenError(f"{self.to_url(path)} changed since it was read")
            self._put(path, data)
        return content_token(data)

    @contextlib.contextmanager
    def open_new(
        self, path: str, *, callback: ProgressCallback | None = None
    ) -> Iterator[IO[bytes]]:
        """Spool the new file (to disk past :data:`SPOOL_SIZE`), then store it if still absent.

        ``callback`` is told the bytes as they are copied from the spool to the filesystem.
        """
        self._before_write()
        if self.exists(path):
            raise FileExistsError(self.to_url(path))
        with tempfile.SpooledTemporaryFile(SPOOL_SIZE) as spool:
            yield spool
            spool.seek(0)
            with self._lock:
                if self.exists(path):
                    raise FileExistsError(self.to_url(path))
                try:
                    self._put(path, spool, callback)
                except BaseException:
                    with contextlib.suppress(Exception):
                        self.fs.rm_file(path)
                    raise

    def delete(self, path: str) -> None:
        """Delete one file."""
        try:
            self.fs.rm_file(path)
        except NotImplementedError as exc:
            raise self._read_only(path, exc) from exc
        finally:
            self.fs.invalidate_cache(path)
