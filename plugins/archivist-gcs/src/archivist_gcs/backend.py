"""The ``gs`` backend: repositories in Google Cloud Storage, through gcsfs.

Every write is an upload with a generation precondition, so concurrent writers need no
lock:

* write-if-absent uploads with ``ifGenerationMatch=0`` (a multipart upload for small files,
  a resumable upload whose session carries the precondition for files streamed in parts);
* replace-if-unchanged uploads with ``ifGenerationMatch=<generation>``; the state token is
  the object's generation, and a download returns the generation of exactly the bytes it
  returned (``x-goog-generation``).

A refresh of an unchanged manifest is one download with ``ifGenerationNotMatch=<generation>``,
which GCS answers ``304 Not Modified`` with no body.

Reads go straight to the store (no fsspec listing cache is consulted), so a reader sees
another process's commit as soon as GCS acknowledges it (GCS is strongly consistent).

Before the first write to a bucket, each process checks once that the endpoint enforces
generation preconditions (emulators and some gateways ignore them). One that does not is
refused with a :class:`~archivist.errors.StorageError`, unless ``single_writer=True`` is given.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Callable, Hashable, Iterator
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, ClassVar, cast
from urllib.parse import quote, urlsplit

from fsspec.asyn import sync

from archivist import StaleTokenError, StorageError
from archivist.storage.object_store import ChunkedUpload, ObjectStoreBackend, utc

if TYPE_CHECKING:  # gcsfs and the Google SDK take a second to import: only when first used
    from gcsfs.core import GCSFileSystem

__all__ = ["GCSBackend"]

_QUANTUM = 256 << 10  # resumable-upload chunks must be multiples of 256 KiB


class _ConditionFailed(Exception):
    """A precondition failed (HTTP 412)."""


#: The hosts of Google's own Cloud Storage JSON API.
_GOOGLE_HOSTS = frozenset({"storage.googleapis.com", "storage.mtls.googleapis.com"})


class GCSBackend(ObjectStoreBackend):
    """Files in a Google Cloud Storage bucket (``gs://bucket/key``, also ``gcs://``).

    Parameters
    ----------
    single_writer : bool, optional
        Accept an endpoint that does not enforce generation preconditions. archivist then
        compares generations with a metadata request before each write instead, which is
        safe only while a single process writes to the repository. Default ``False``.
    **storage_options
        Passed to :class:`gcsfs.GCSFileSystem`: ``project``, ``token`` (``"anon"``,
        ``"google_default"``, a service-account file or credentials), ``endpoint_url``,
        ``requester_pays`` ...

    Attributes
    ----------
    part_size : int
        Files streamed through :meth:`open_new` are sent as a resumable upload in chunks of
        this size (a multiple of 256 KiB) once they grow past it; smaller files take one
        multipart upload. Default 8 MiB; set it with the ``part_size`` storage option.
    """

    protocols: ClassVar[tuple[str, ...]] = ("gs", "gcs")
    conditions: ClassVar[str] = "generation preconditions (ifGenerationMatch)"
    part_size: int = 8 << 20

    def __init__(self, **storage_options: Any) -> None:
        self.part_size = int(storage_options.pop("part_size", None) or type(self).part_size)
        if self.part_size <= 0 or self.part_size % _QUANTUM:
            raise ValueError("part_size must be a positive multiple of 256 KiB")
        super().__init__(**storage_options)

    def make_filesystem(self, **storage_options: Any) -> GCSFileSystem:
        """Return a :class:`gcsfs.GCSFileSystem` built from the storage options."""
        from gcsfs.core import GCSFileSystem

        return GCSFileSystem(**storage_options)

    # -- requests ---------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """The endpoint requests go to (``"GCS"`` for Google's own)."""
        found = self.storage_options.get("endpoint_url") or os.environ.get("STORAGE_EMULATOR_HOST")
        return str(found or "GCS")

    def _run(self, what: str, path: str, func: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """Run gcsfs coroutine ``func`` on its event loop, translating its errors."""
        return self._direct(what, path, sync, self.fs.loop, func, *args, **kw)

    def _direct(self, what: str, path: str, func: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """Call ``func``, translating gcsfs's errors into the backend contract's."""
        try:
            return func(*args, **kw)
        except FileExistsError:
            raise _ConditionFailed(what) from None  # gcsfs reports every 412 so
        except FileNotFoundError:
            raise FileNotFoundError(self.to_url(path)) from None
        except _ConditionFailed:
            raise
        except Exception as exc:
            raise StorageError(
                f"GCS {what} on {self.to_url(path)} ({self.endpoint}) failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def _write_failed(self, exc: FileNotFoundError, path: str) -> StorageError:
        bucket = self._split(path)[0]
        return StorageError(
            f"could not write {self.to_url(path)}: the bucket {bucket!r} does not exist at "
            f"{self.endpoint}; create it first"
        )

    def _metadata(self, path: str) -> dict[str, Any] | None:
        bucket, key = self._split(path)
        try:
            found = self._run(
                "GET object metadata",
                path,
                self.fs._call,
                "GET",
                "b/{}/o/{}",
                bucket,
                key,
                json_out=True,
            )
        except FileNotFoundError:
            return None
        return cast("dict[str, Any]", found)

    def _upload(self, path: str, data: bytes, generation: str | None) -> str:
        """One multipart upload, with ``ifGenerationMatch=generation`` unless ``None``."""
        bucket, key = self._split(path)
        boundary = secrets.token_hex(16)
        body = b"".join(
            [
                f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n".encode(),
                json.dumps({"name": key}).encode(),
                f"\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n".encode(),
                data,
                f"\r\n--{boundary}--".encode(),
            ]
        )
        try:
            result = self._run(
                "upload",
                path,
                self.fs._call,
                "POST",
                f"{self.fs._location}/upload/storage/v1/b/{quote(bucket, safe='')}/o",
                uploadType="multipart",
                headers={"Content-Type": f'multipart/related; boundary="{boundary}"'},
                data=body,
                json_out=True,
                ifGenerationMatch=generation,
            )
        except FileNotFoundError as exc:
            raise self._write_failed(exc, path) from None
        return str(result["generation"])

    async def _download(self, path: str) -> tuple[bytes, str]:
        headers, data = await self.fs._call("GET", self.fs.url(path))
        return bytes(data), str(headers["X-Goog-Generation"])

    async def _download_if_changed(self, path: str, generation: str) -> tuple[bytes, str] | None:
        status, headers, _, data = await self.fs._request(
            "GET", self.fs.url(path), ifGenerationNotMatch=generation
        )
        if status == 304:
            return None
        return bytes(data), str(headers["X-Goog-Generation"])

    # -- the contract primitives ------------------------------------------------------------

    def read_with_token(self, path: str) -> tuple[bytes, str]:
        """Download ``path`` with one request; the token is the generation it returned."""
        return cast("tuple[bytes, str]", self._run("download", path, self._download, path))

    def get_if_none_match(self, path: str, token: str) -> tuple[bytes, str] | None:
        """One download with ``ifGenerationNotMatch=<token>``; ``None`` on 304 (no body).

        An endpoint that ignores the precondition (fake-gcs-server does) sends the object
        anyway; its generation then tells that nothing changed.
        """
        if not token.isdigit():
            return self.read_with_token(path)
        return cast(
            "tuple[bytes, str] | None",
            self._run("download", path, self._download_if_changed, path, token),
        )

    def current_token(self, path: str) -> str | None:
        """Return the generation of ``path`` from one metadata request."""
        found = self._metadata(path)
        return None if found is None else str(found["generation"])

    def put_if(self, path: str, data: bytes, token: str | None) -> str:
        """Upload with ``ifGenerationMatch=<token>`` (``0``, meaning absent, for ``None``)."""
        if token is not None and not token.isdigit():
            raise StaleTokenError(f"{token!r} is not a generation of {self.to_url(path)}")
        try:
            return self._upload(path, data, "0" if token is None else token)
        except _ConditionFailed:
            raise StaleTokenError(f"{self.to_url(path)} changed since it was read") from None

    def put_unconditionally(self, path: str, data: bytes) -> str:
        """Upload with no precondition."""
        return self._upload(path, data, None)

    def start_upload(self, path: str, conditional: bool) -> ChunkedUpload:
        """Start a multipart or resumable upload carrying ``ifGenerationMatch=0``."""
        return _GCSUpload(self, path, conditional=conditional)

    # -- derived operations, each one request -----------------------------------------------

    def open_read(self, path: str) -> IO[bytes]:
        """Open ``path`` for streaming, ranged reads (after dropping any cached listing)."""
        self.fs.invalidate_cache(path)
        stream: IO[bytes] = self._direct("open", path, self.fs.open, path, "rb")
        return stream

    def list(self, prefix: str) -> Iterator[str]:
        """List every object below ``prefix`` (a fresh listing, not fsspec's cache)."""
        self.fs.invalidate_cache(prefix)
        found = self._direct("list", prefix, self.fs.find, prefix)
        yield from (str(path) for path in found)

    def delete(self, path: str) -> None:
        """Delete ``path`` with one request (GCS answers 404 for a missing object)."""
        bucket, key = self._split(path)
        self._run("delete", path, self.fs._call, "DELETE", "b/{}/o/{}", bucket, key)
        self.fs.invalidate_cache(path)

    def modified(self, path: str) -> datetime | None:
        """Return the object's ``updated`` time."""
        found = self._metadata(path)
        if found is None or "updated" not in found:
            return None
        return utc(datetime.fromisoformat(str(found["updated"]).replace("Z", "+00:00")))

    # -- precondition check -----------------------------------------------------------------

    def conditional_write_scope(self, path: str) -> Hashable:
        """Probe once per endpoint and bucket."""
        return (str(self.fs._location), self._split(path)[0])

    def known_to_enforce_conditions(self, path: str) -> bool:
        """Google Cloud Storage itself enforces generation preconditions: no probe is needed."""
        host = urlsplit(str(self.fs._location)).hostname or ""
        return type(self) is GCSBackend and host in _GOOGLE_HOSTS

    def stale_token(self, token: str | None) -> str:
        """Return a generation the probe object does not have (the next one)."""
        return str(int(token) + 1) if token is not None and token.isdigit() else "1"


class _GCSUpload(ChunkedUpload):
    """One multipart upload, or a resumable upload, each with ``ifGenerationMatch=0``."""

    def __init__(self, backend: GCSBackend, path: str, conditional: bool) -> None:
        super().__init__(backend.part_size)
        self.backend = backend
        self.path = path
        self.generation = "0" if conditional else None
        self.location = ""
        self.offset = 0

    def put_whole(self, data: bytes) -> None:
        try:
            self.backend._upload(self.path, data, self.generation)
        except _ConditionFailed:
            raise FileExistsError(self.backend.to_url(self.path)) from None

    def begin(self) -> None:
        backend = self.backend
        bucket, key = backend._split(self.path)
        try:
            headers, _ = backend._run(
                "resumable upload",
                self.path,
                backend.fs._call,
                "POST",
                f"{backend.fs._location}/upload/storage/v1/b/{quote(bucket, safe='')}/o",
                uploadType="resumable",
                json={"name": key},
                headers={"X-Upload-Content-Type": "application/octet-stream"},
                ifGenerationMatch=self.generation,
            )
        except _ConditionFailed:
            raise FileExistsError(backend.to_url(self.path)) from None
        except FileNotFoundError as exc:
            raise backend._write_failed(exc, self.path) from None
        location = headers["Location"]
        self.location = str(location[0] if isinstance(location, list) else location)

    def _send(self, data: bytes, final: bool) -> None:
        view = memoryview(data)
        while True:
            end = self.offset + len(view)
            total = str(end) if final else "*"
            headers = {
                "Content-Range": f"bytes {self.offset}-{end - 1}/{total}",
                "Content-Type": "application/octet-stream",
                "Content-Length": str(len(view)),
            }
            try:
                reply, _ = self.backend._run(
                    "resumable upload",
                    self.path,
                    self.backend.fs._call,
                    "POST",
                    self.location,
                    headers=headers,
                    data=view,
                )
            except _ConditionFailed:
                raise FileExistsError(self.backend.to_url(self.path)) from None
            if "Range" not in reply:  # the upload is complete
                self.offset = end
                return
            persisted = int(str(reply["Range"]).rsplit("-", 1)[-1]) + 1
            if persisted >= end:  # all taken (a final chunk completes the upload)
                self.offset = end
                return
            view = view[persisted - self.offset :]  # the store kept less: send the rest
            self.offset = persisted

    def put_part(self, data: bytes) -> None:
        self._send(data, final=False)

    def finish(self, data: bytes) -> None:
        self._send(data, final=True)

    def abort_upload(self) -> None:
        with contextlib.suppress(Exception):
            self.backend.fs.call("DELETE", self.location.replace("&ifGenerationMatch=0", ""))
