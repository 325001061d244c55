"""An in-process object store for the core tests: a dictionary with conditional requests.

:class:`FakeObjectStoreBackend` is an :class:`~archivist.storage.object_store.ObjectStoreBackend`
over a dictionary of objects (fsspec's memory filesystem, under its own ``fakeobj://``
protocol and store), implementing the four store calls the way S3, GCS and Azure answer
them: a PUT with ``If-None-Match: *`` or ``If-Match: <ETag>`` is refused when the object is
not in that state, a multi-part upload lands whole (conditionally on absence) or not at all,
and every write gives a new ETag. So the object-store code of the core
(``ObjectStoreBackend``, ``ChunkedUpload``, the conditional-write probe and its memory) runs
in the core tests, without a plugin or an emulator.

Objects live in this process: a store private to one process (``cross_process = False`` in
the kits).
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Hashable
from typing import Any, ClassVar

import fsspec
from fsspec.implementations.memory import MemoryFileSystem

from archivist.errors import StaleTokenError, StorageError
from archivist.storage.object_store import ChunkedUpload, ObjectStoreBackend

__all__ = ["PROTOCOL", "FakeObjectFileSystem", "FakeObjectStoreBackend", "RefusedConditions"]

PROTOCOL = "fakeobj"
# One lock for the whole store: each request is atomic, as a store's are.
_LOCK = threading.Lock()
# ETags carry a store-wide write counter: a rewrite with the same bytes still changes it.
_WRITES = itertools.count(1)


def _etag(data: bytes, write: int) -> str:
    return f'"{write}-{hashlib.md5(data).hexdigest()}"'


class FakeObjectFileSystem(MemoryFileSystem):  # type: ignore[misc]
    """fsspec's memory filesystem with a store of its own, under ``fakeobj://``."""

    protocol: ClassVar[tuple[str, ...]] = (PROTOCOL,)
    store: ClassVar[dict[str, Any]] = {}
    pseudo_dirs: ClassVar[list[str]] = [""]

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        if path.startswith(f"{PROTOCOL}://"):
            path = path[len(f"{PROTOCOL}://") :]
        return "/" + path.lstrip("/").rstrip("/")


fsspec.register_implementation(PROTOCOL, FakeObjectFileSystem, clobber=True)


class RefusedConditions(StorageError):
    """What a store that does not support conditional requests answers (HTTP 501)."""


class FakeObjectStoreBackend(ObjectStoreBackend):
    """Objects in a dictionary of this process, written with conditional requests.

    Parameters
    ----------
    part_size : int, optional
        Streamed objects grow past this many bytes in parts (a multi-part upload).
    **storage_options
        Passed to the base class (``single_writer``, ``reprobe``).

    Attributes
    ----------
    requests : list[tuple[str, str]]
        Every request this instance sent, as ``(method, path)``, in order.
    """

    protocols: ClassVar[tuple[str, ...]] = (PROTOCOL,)
    conditions: ClassVar[str] = "conditional writes (If-None-Match and If-Match)"

    def __init__(self, **storage_options: Any) -> None:
        self.part_size = int(storage_options.pop("part_size", 1 << 20))
        self.requests: list[tuple[str, str]] = []
        super().__init__(**storage_options)

    def make_filesystem(self, **storage_options: Any) -> FakeObjectFileSystem:
        """Return the store's filesystem (one store per process)."""
        return FakeObjectFileSystem(**storage_options)

    def _etag(self, path: str) -> str | None:
        """Return the object's ETag, ``None`` when nothing is stored (call under the lock)."""
        found = self.fs.store.get(self.fs._strip_protocol(path))
        if found is None:
            return None
        # An object put through fsspec itself (a test laying out user files) has no ETag
        # of ours yet: name its content.
        return getattr(found, "etag", None) or _etag(found.getvalue(), 0)

    def _put(self, path: str, data: bytes) -> str:
        """Store ``data`` at ``path`` with a new ETag (call under the lock)."""
        self.fs.pipe_file(path, data)
        etag = _etag(data, next(_WRITES))
        self.fs.store[self.fs._strip_protocol(path)].etag = etag
        return etag

    # -- the four store calls, and a GET --------------------------------------------------

    def read_with_token(self, path: str) -> tuple[bytes, str]:
        """GET: the object and the ETag of exactly those bytes."""
        self.requests.append(("GET", path))
        with _LOCK:
            etag = self._etag(path)
            if etag is None:
                raise FileNotFoundError(self.to_url(path))
            return bytes(self.fs.cat_file(path)), etag

    def current_token(self, path: str) -> str | None:
        """HEAD: the ETag alone."""
        self.requests.append(("HEAD", path))
        with _LOCK:
            return self._etag(path)

    def put_if(self, path: str, data: bytes, token: str | None) -> str:
        """PUT with ``If-None-Match: *`` (``token`` is ``None``) or ``If-Match: <token>``."""
        self.requests.append(("PUT-IF", path))
        with _LOCK:
            if self._etag(path) != token:
                raise StaleTokenError(f"{self.to_url(path)} changed since it was read")
            return self._put(path, data)

    def put_unconditionally(self, path: str, data: bytes) -> str:
        """PUT with no condition."""
        self.requests.append(("PUT", path))
        with _LOCK:
            return self._put(path, data)

    def start_upload(self, path: str, conditional: bool) -> ChunkedUpload:
        """One PUT, or a multi-part upload completed only if nothing is at ``path``."""
        return _FakeUpload(self, path, conditional)

    def conditional_write_scope(self, path: str) -> Hashable:
        """Probe once per bucket (the path's first part)."""
        return (PROTOCOL, self.strip_protocol(path).lstrip("/").split("/", 1)[0])

    def refuses_conditions(self, error: StorageError) -> bool:
        """A :class:`RefusedConditions` answer means the store has no conditional writes."""
        return isinstance(error, RefusedConditions)


class _FakeUpload(ChunkedUpload):
    """Parts collect on the side; the object appears only when the upload completes."""

    def __init__(self, backend: FakeObjectStoreBackend, path: str, conditional: bool) -> None:
        super().__init__(backend.part_size)
        self.backend = backend
        self.path = path
        self.conditional = conditional
        self.parts: list[bytes] | None = None

    def _land(self, data: bytes) -> None:
        with _LOCK:
            if self.conditional and self.backend._etag(self.path) is not None:
                raise FileExistsError(self.backend.to_url(self.path))
            self.backend._put(self.path, data)

    def put_whole(self, data: bytes) -> None:
        self.backend.requests.append(("PUT-IF" if self.conditional else "PUT", self.path))
        self._land(data)

    def begin(self) -> None:
        self.backend.requests.append(("CREATE-UPLOAD", self.path))
        self.parts = []

    def put_part(self, data: bytes) -> None:
        assert self.parts is not None, "a part sent before the upload began"
        self.backend.requests.append(("PUT-PART", self.path))
        self.parts.append(data)

    def finish(self, data: bytes) -> None:
        self.put_part(data)
        assert self.parts is not None
        self.backend.requests.append(("COMPLETE-UPLOAD", self.path))
        self._land(b"".join(self.parts))

    def abort_upload(self) -> None:
        self.backend.requests.append(("ABORT-UPLOAD", self.path))
        self.parts = None
