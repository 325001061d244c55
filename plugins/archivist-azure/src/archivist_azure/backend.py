"""The ``az`` backend: repositories in Azure Blob Storage, through adlfs and the blob SDK.

Every write is a conditional request, so concurrent writers need no lock:

* write-if-absent sends ``If-None-Match: *`` (on Put Blob, or on Put Block List for files
  streamed in blocks);
* replace-if-unchanged sends ``If-Match: <ETag>``; the state token is the blob's ETag, and a
  download returns the ETag of exactly the bytes it returned.

A refresh of an unchanged manifest is one Get Blob with ``If-None-Match: <ETag>``, refused
(``304 Not Modified``) with no body.

Reads go straight to the store (no fsspec listing cache is consulted), so a reader sees
another process's commit as soon as the store acknowledges it.

Before the first write to a container, each process checks once that the endpoint enforces
both conditions. One that does not is refused with a :class:`~archivist.errors.StorageError`,
unless ``single_writer=True`` is given.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Hashable, Iterator
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from fsspec.asyn import sync

from archivist import StaleTokenError, StorageError
from archivist.storage.object_store import ChunkedUpload, ObjectStoreBackend, utc

if TYPE_CHECKING:  # adlfs and the Azure SDK take a second to import: only when first used
    from adlfs import AzureBlobFileSystem

__all__ = ["AzureBlobBackend"]

_T = TypeVar("_T")


class _ConditionFailed(Exception):
    """A conditional request was refused (409 exists, 412 modified)."""


class AzureBlobBackend(ObjectStoreBackend):
    """Files in an Azure Blob container (``az://container/blob``, also ``abfs(s)://``).

    Parameters
    ----------
    single_writer : bool, optional
        Accept an endpoint that does not enforce conditional writes. archivist then compares
        ETags with a properties request before each write instead, which is safe only while
        a single process writes to the repository. Default ``False``.
    **storage_options
        Passed to :class:`adlfs.AzureBlobFileSystem`: ``account_name``, ``account_key``,
        ``sas_token``, ``connection_string``, ``credential``, ``anon`` ...

    Attributes
    ----------
    part_size : int
        Files streamed through :meth:`open_new` are staged in blocks of this size once they
        grow past it; smaller files take one Put Blob. Default 8 MiB; set it with the
        ``part_size`` storage option.
    """

    protocols: ClassVar[tuple[str, ...]] = ("az", "abfs", "abfss")
    conditions: ClassVar[str] = "conditional writes (If-None-Match, If-Match)"
    part_size: int = 8 << 20

    def __init__(self, **storage_options: Any) -> None:
        self.part_size = int(storage_options.pop("part_size", None) or type(self).part_size)
        if self.part_size <= 0:
            raise ValueError("part_size must be positive")
        super().__init__(**storage_options)

    def make_filesystem(self, **storage_options: Any) -> AzureBlobFileSystem:
        """Return an :class:`adlfs.AzureBlobFileSystem` built from the storage options."""
        from adlfs import AzureBlobFileSystem

        return AzureBlobFileSystem(**storage_options)

    # -- requests ---------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """The account URL requests go to."""
        return str(getattr(self.fs, "account_url", None) or self.fs.account_name or "Azure")

    def _blob(self, path: str) -> Any:
        container, blob = self._split(path)
        return self.fs.service_client.get_blob_client(container=container, blob=blob)

    def _run(self, what: str, path: str, call: Callable[[Any], Awaitable[_T]]) -> _T:
        """Run ``call(blob_client)`` on adlfs's event loop, translating the SDK's errors."""
        from azure.core.exceptions import (
            AzureError,
            ClientAuthenticationError,
            HttpResponseError,
            ResourceExistsError,
            ResourceModifiedError,
            ResourceNotFoundError,
        )

        async def run() -> _T:
            return await call(self._blob(path))

        url = self.to_url(path)
        try:
            return cast("_T", sync(self.fs.loop, run))
        except (ResourceExistsError, ResourceModifiedError) as exc:
            raise _ConditionFailed(what) from exc
        except ResourceNotFoundError as exc:
            if getattr(exc, "error_code", None) == "ContainerNotFound":
                container = self._split(path)[0]
                raise StorageError(
                    f"the container {container!r} does not exist at {self.endpoint}; create "
                    f"it first ({what} {url})"
                ) from exc
            raise FileNotFoundError(url) from None
        except HttpResponseError as exc:
            if exc.status_code == 412:
                raise _ConditionFailed(what) from exc
            raise StorageError(
                f"Azure {what} on {url} failed: {exc.status_code} {exc.reason}: "
                f"{getattr(exc, 'error_code', '')}"
            ) from exc
        except ClientAuthenticationError as exc:
            raise StorageError(
                f"Azure refused {what} on {url}: check the credentials in the storage options"
            ) from exc
        except AzureError as exc:
            raise StorageError(f"Azure {what} on {url} ({self.endpoint}) failed: {exc}") from exc

    def _properties(self, path: str) -> Any | None:
        async def call(client: Any) -> Any:
            return await client.get_blob_properties()

        try:
            return self._run("get properties", path, call)
        except FileNotFoundError:
            return None

    def _put(self, path: str, data: bytes, condition: dict[str, Any]) -> str:
        async def call(client: Any) -> Any:
            return await client.upload_blob(data, **condition)

        return str(self._run("upload", path, call)["etag"])

    # -- the contract primitives ------------------------------------------------------------

    def read_with_token(self, path: str) -> tuple[bytes, str]:
        """Download ``path``; the token is the ETag of what was downloaded."""

        async def call(client: Any) -> tuple[bytes, str]:
            downloader = await client.download_blob()
            data = await downloader.readall()
            return bytes(data), str(downloader.properties.etag)

        return self._run("download", path, call)

    def get_if_none_match(self, path: str, token: str) -> tuple[bytes, str] | None:
        """One Get Blob with ``If-None-Match: <token>``; ``None`` when refused (no body)."""
        from azure.core import MatchConditions
        from azure.core.exceptions import HttpResponseError

        async def call(client: Any) -> tuple[bytes, str] | None:
            try:
                downloader = await client.download_blob(
                    etag=token, match_condition=MatchConditions.IfModified
                )
            except HttpResponseError as exc:
                # 304 Not Modified (the SDK may call it ResourceModifiedError); a 412
                # means the same when If-None-Match is the only condition.
                if exc.status_code in (304, 412):
                    return None
                raise
            data = await downloader.readall()
            return bytes(data), str(downloader.properties.etag)

        return self._run("conditional download", path, call)

    def current_token(self, path: str) -> str | None:
        """Return the ETag of ``path`` from one Get Blob Properties."""
        found = self._properties(path)
        return None if found is None else str(found.etag)

    def put_if(self, path: str, data: bytes, token: str | None) -> str:
        """Put Blob with ``If-Match: <token>`` (or ``If-None-Match: *`` for ``None``)."""
        try:
            return self._put(path, data, _condition(token))
        except (_ConditionFailed, FileNotFoundError):
            raise StaleTokenError(f"{self.to_url(path)} changed since it was read") from None

    def put_unconditionally(self, path: str, data: bytes) -> str:
        """Put Blob with no condition."""
        return self._put(path, data, {"overwrite": True})

    def start_upload(self, path: str, conditional: bool) -> ChunkedUpload:
        """Start one Put Blob, or staged blocks and a Put Block List with ``If-None-Match: *``."""
        return _AzureUpload(self, path, conditional=conditional)

    # -- derived operations, each one request -----------------------------------------------

    def open_read(self, path: str) -> IO[bytes]:
        """Open ``path`` for streaming, ranged reads (after dropping any cached listing)."""
        self.fs.invalidate_cache(path)
        try:
            stream: IO[bytes] = self.fs.open(path, "rb")
        except FileNotFoundError:
            raise FileNotFoundError(self.to_url(path)) from None
        except Exception as exc:
            raise StorageError(f"Azure could not open {self.to_url(path)}: {exc}") from exc
        return stream

    def list(self, prefix: str) -> Iterator[str]:
        """List every blob below ``prefix`` (a fresh listing, not fsspec's cache)."""
        self.fs.invalidate_cache(prefix)
        try:
            found = self.fs.find(prefix)
        except FileNotFoundError:
            found = []
        except Exception as exc:
            raise StorageError(f"Azure could not list {self.to_url(prefix)}: {exc}") from exc
        yield from (str(path) for path in found)

    def delete(self, path: str) -> None:
        """Delete ``path`` with one request (Azure answers 404 for a missing blob)."""

        async def call(client: Any) -> None:
            await client.delete_blob()

        self._run("delete", path, call)
        self.fs.invalidate_cache(path)

    def modified(self, path: str) -> datetime | None:
        """Return the blob's ``Last-Modified`` time."""
        found = self._properties(path)
        return utc(None if found is None else getattr(found, "last_modified", None))

    # -- conditional-write check ------------------------------------------------------------

    def conditional_write_scope(self, path: str) -> Hashable:
        """Probe once per account endpoint and container."""
        return (self.endpoint, self._split(path)[0])

    def known_to_enforce_conditions(self, path: str) -> bool:
        """Azure Blob Storage itself enforces ETag conditions: no probe is needed."""
        host = str(getattr(self.fs.service_client, "primary_hostname", "") or "")
        return type(self) is AzureBlobBackend and host.endswith(".blob.core.windows.net")


def _condition(token: str | None) -> dict[str, Any]:
    """Upload options: create only if absent (``None``), or replace only at ETag ``token``."""
    from azure.core import MatchConditions

    if token is None:
        return {"overwrite": False}  # the SDK sends If-None-Match: *
    return {"overwrite": True, "etag": token, "match_condition": MatchConditions.IfNotModified}


class _AzureUpload(ChunkedUpload):
    """One Put Blob, or staged blocks committed with a conditional Put Block List."""

    def __init__(self, backend: AzureBlobBackend, path: str, conditional: bool) -> None:
        super().__init__(backend.part_size)
        self.backend = backend
        self.path = path
        self.conditional = conditional
        self.blocks: list[str] = []

    def _refused(self) -> FileExistsError:
        return FileExistsError(self.backend.to_url(self.path))

    def put_whole(self, data: bytes) -> None:
        condition = _condition(None) if self.conditional else {"overwrite": True}
        try:
            self.backend._put(self.path, data, condition)
        except _ConditionFailed:
            raise self._refused() from None

    def begin(self) -> None:
        self.blocks = []

    def put_part(self, data: bytes) -> None:
        block_id = uuid.uuid4().hex

        async def call(client: Any) -> None:
            await client.stage_block(block_id=block_id, data=data, length=len(data))

        self.backend._run("stage block", self.path, call)
        self.blocks.append(block_id)

    def finish(self, data: bytes) -> None:
        from azure.storage.blob import BlobBlock

        self.put_part(data)
        blocks = [BlobBlock(block_id=block_id) for block_id in self.blocks]
        condition: dict[str, Any] = {"if_none_match": "*"} if self.conditional else {}

        async def call(client: Any) -> None:
            await client.commit_block_list(blocks, **condition)

        try:
            self.backend._run("commit block list", self.path, call)
        except _ConditionFailed:
            raise self._refused() from None

    def abort_upload(self) -> None:
        # Uncommitted blocks are invisible and Azure discards them after a week.
        self.blocks = []
