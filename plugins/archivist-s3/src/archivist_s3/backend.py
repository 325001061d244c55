"""The ``s3`` backend: repositories in Amazon S3 or an S3-compatible store, through s3fs.

Every write is a conditional request, so concurrent writers need no lock:

* write-if-absent sends ``If-None-Match: *`` (on ``PutObject``, or on
  ``CompleteMultipartUpload`` for files streamed in parts);
* replace-if-unchanged sends ``If-Match: <ETag>``; the state token is the object's ETag,
  and a ``GetObject`` returns the ETag of exactly the bytes it returned.

A refresh of an unchanged manifest is one ``GetObject`` with ``If-None-Match: <ETag>``,
answered ``304 Not Modified`` with no body.

Reads go straight to the store (no fsspec listing cache is consulted), so a reader sees
another process's commit as soon as the store acknowledges it.

Before the first write to a bucket, archivist checks once that the store enforces both
conditions (some S3-compatible stores ignore them, which would let two concurrent saves
overwrite each other's manifest); a passed check is remembered across processes, and Amazon
S3 itself is not checked. A store that does not is refused with a
:class:`~archivist.errors.StorageError`, unless ``single_writer=True`` is given.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterator
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, ClassVar, cast
from urllib.parse import urlsplit

from fsspec.asyn import sync

from archivist import StaleTokenError, StorageError
from archivist.storage.object_store import ChunkedUpload, ObjectStoreBackend, utc

if TYPE_CHECKING:  # s3fs and botocore take a second to import: only when first used
    from botocore.exceptions import ClientError
    from s3fs import S3FileSystem

__all__ = ["SMALL_BODY", "S3Backend"]

#: A ``PutObject`` body up to this size is sent with its headers, without first asking for
#: ``100 Continue`` (botocore asks for every body: a round trip before the body leaves).
SMALL_BODY = 1 << 20
_SMALL_BODIES_HANDLER = "archivist-s3-small-bodies"
_CONDITION_CODES = {"PreconditionFailed", "ConditionalRequestConflict"}


class _ConditionFailed(Exception):
    """A conditional request was refused (412, or 409 for a concurrent conditional write)."""


class _NotModified(Exception):
    """A conditional GET found the object unchanged (304)."""


def _is_amazon(url: str) -> bool:
    """Tell whether an endpoint URL is Amazon S3's own."""
    host = urlsplit(url).hostname or ""
    return host == "amazonaws.com" or host.endswith(".amazonaws.com")


def _send_small_bodies_at_once(model: Any, params: dict[str, Any], **_: Any) -> None:
    """Drop botocore's ``Expect: 100-continue`` from a ``PutObject`` of a small body.

    botocore turns every ``PutObject`` body into a file object and then asks for ``100
    Continue`` before any file object's body, so even a 20-byte journal waits a round trip
    for the server's go-ahead. A body of at most :data:`SMALL_BODY` bytes is sent with the
    headers instead; a larger one keeps asking, so that a refused condition does not cost
    its upload.
    """
    if getattr(model, "name", "") != "PutObject":
        return
    from botocore.utils import determine_content_length

    size = determine_content_length(params.get("body"))
    if size is not None and size <= SMALL_BODY:
        params.get("headers", {}).pop("Expect", None)


def _client_error(exc: BaseException) -> ClientError | None:
    from botocore.exceptions import ClientError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ClientError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


class S3Backend(ObjectStoreBackend):
    """Files in an S3 bucket (``s3://bucket/key``, also ``s3a://``).

    Parameters
    ----------
    single_writer : bool, optional
        Accept a store that does not enforce conditional writes. archivist then checks the
        ETag with a ``HeadObject`` before each write instead, which is safe only while a
        single process writes to the repository. Default ``False``.
    **storage_options
        Passed to :class:`s3fs.S3FileSystem`: ``key``/``secret``/``token``, ``anon``,
        ``profile``, ``endpoint_url``, ``client_kwargs``, ``s3_additional_kwargs`` ...

    Attributes
    ----------
    part_size : int
        Files streamed through :meth:`open_new` are uploaded in parts of this size
        (multipart upload) once they grow past it; smaller files take one ``PutObject``.
        Default 8 MiB; set it with the ``part_size`` storage option (at least 5 MiB).
    """

    protocols: ClassVar[tuple[str, ...]] = ("s3", "s3a")
    conditions: ClassVar[str] = "conditional writes (If-None-Match and If-Match on PutObject)"
    part_size: int = 8 << 20

    def __init__(self, **storage_options: Any) -> None:
        self.part_size = int(storage_options.pop("part_size", None) or type(self).part_size)
        if self.part_size < 5 << 20:
            raise ValueError("part_size must be at least 5 MiB, S3's smallest multipart part")
        super().__init__(**storage_options)

    def make_filesystem(self, **storage_options: Any) -> S3FileSystem:
        """Return an :class:`s3fs.S3FileSystem` built from the storage options."""
        from s3fs import S3FileSystem

        return S3FileSystem(**storage_options)

    # -- requests ---------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """The endpoint requests go to, for messages: its URL, ``"AWS (<url>)"`` for Amazon's.

        It is the URL the S3 client resolved (storage options, ``AWS_ENDPOINT_URL``, the AWS
        config), so a message never says AWS when requests go elsewhere.
        """
        try:
            url = self._client_endpoint()
        except Exception:  # the client cannot even be made: say what the options name
            client_kwargs = self.storage_options.get("client_kwargs") or {}
            found = self.storage_options.get("endpoint_url") or client_kwargs.get("endpoint_url")
            return str(found or "AWS")
        return f"AWS ({url})" if _is_amazon(url) else url

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        bucket, key = self._split(path)
        return cast(
            "dict[str, Any]",
            self._run(self.fs._call_s3, method, path, Bucket=bucket, Key=key, **kwargs),
        )

    def _run(self, func: Callable[..., Any], method: str, path: str, **kwargs: Any) -> Any:
        try:
            return sync(self.fs.loop, self._on_client, func, method, **kwargs)
        except Exception as exc:
            raise self._translate(exc, method, path) from exc

    async def _on_client(self, func: Callable[..., Any], method: str, **kwargs: Any) -> Any:
        """Call ``func`` once the client sends small bodies without waiting for 100 Continue."""
        client = await self.fs.set_session()
        client.meta.events.register_last(  # after botocore's own handler adds the header
            "before-call.s3", _send_small_bodies_at_once, unique_id=_SMALL_BODIES_HANDLER
        )
        return await func(method, **kwargs)

    def _translate(self, exc: Exception, method: str, path: str) -> Exception:
        from botocore.exceptions import BotoCoreError

        url = self.to_url(path)
        error = _client_error(exc)
        if error is None:
            if isinstance(exc, FileNotFoundError):
                return FileNotFoundError(url)
            kind = "could not reach" if isinstance(exc, BotoCoreError | OSError) else "failed on"
            return StorageError(f"S3 {method} {kind} {url} ({self.endpoint}): {exc}")
        details = error.response.get("Error", {})
        code = str(details.get("Code", ""))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        message = str(details.get("Message", "")) or str(error)
        if code in {"304", "NotModified"} or status == 304:
            return _NotModified(code)
        if code in _CONDITION_CODES or status == 412:
            return _ConditionFailed(code)
        if code == "NoSuchBucket":
            bucket = self._split(path)[0]
            return StorageError(
                f"the bucket {bucket!r} does not exist at {self.endpoint}; create it first "
                f"({method} {url})"
            )
        if code in {"NoSuchKey", "404", "NotFound"} or status == 404:
            return FileNotFoundError(url)
        if code in {"AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
            return StorageError(
                f"S3 refused {method} on {url}: {code}: {message}. Check the credentials in "
                "the storage options (key, secret, profile) and the bucket's policy."
            )
        return StorageError(f"S3 {method} on {url} failed: {code}: {message}")

    async def _get(self, method: str, **kwargs: Any) -> tuple[bytes, str]:
        response = await self.fs._call_s3(method, **kwargs)
        body = response["Body"]
        try:
            data = await body.read()
        finally:
            body.close()
        return bytes(data), str(response["ETag"])

    def _get_object(self, path: str) -> tuple[bytes, str]:
        bucket, key = self._split(path)
        return cast(
            "tuple[bytes, str]", self._run(self._get, "get_object", path, Bucket=bucket, Key=key)
        )

    def _head(self, path: str) -> dict[str, Any] | None:
        try:
            return self._call("head_object", path)
        except FileNotFoundError:
            return None

    # -- the contract primitives ------------------------------------------------------------

    def read_with_token(self, path: str) -> tuple[bytes, str]:
        """Read ``path`` with one ``GetObject``; the token is the ETag it returned."""
        return self._get_object(path)

    def get_if_none_match(self, path: str, token: str) -> tuple[bytes, str] | None:
        """One ``GetObject`` with ``If-None-Match: <token>``; ``None`` on 304 (no body)."""
        bucket, key = self._split(path)
        try:
            return cast(
                "tuple[bytes, str]",
                self._run(self._get, "get_object", path, Bucket=bucket, Key=key, IfNoneMatch=token),
            )
        except _NotModified:
            return None

    def current_token(self, path: str) -> str | None:
        """Return the ETag of ``path`` from one ``HeadObject``."""
        head = self._head(path)
        return None if head is None else str(head["ETag"])

    def put_if(self, path: str, data: bytes, token: str | None) -> str:
        """``PutObject`` with ``If-Match: <token>`` (or ``If-None-Match: *`` for ``None``)."""
        condition = {"IfNoneMatch": "*"} if token is None else {"IfMatch": token}
        try:
            response = self._call("put_object", path, Body=data, **condition)
        except (_ConditionFailed, FileNotFoundError):
            raise StaleTokenError(f"{self.to_url(path)} changed since it was read") from None
        return str(response["ETag"])

    def put_unconditionally(self, path: str, data: bytes) -> str:
        """``PutObject`` with no condition."""
        return str(self._call("put_object", path, Body=data)["ETag"])

    def start_upload(self, path: str, conditional: bool) -> ChunkedUpload:
        """Start one ``PutObject``, or a multipart upload completed with ``If-None-Match: *``."""
        return _S3Upload(self, path, conditional=conditional)

    # -- derived operations, each one request -----------------------------------------------

    def open_read(self, path: str) -> IO[bytes]:
        """Open ``path`` for streaming, ranged reads pinned to the ETag found on opening."""
        self.fs.invalidate_cache(path)
        try:
            stream: IO[bytes] = self.fs.open(path, "rb")
        except Exception as exc:
            raise self._translate(exc, "open", path) from exc
        return stream

    def list(self, prefix: str) -> Iterator[str]:
        """List every object below ``prefix`` (a fresh listing, not fsspec's cache)."""
        self.fs.invalidate_cache(prefix)
        try:
            found = self.fs.find(prefix)
        except Exception as exc:
            raise self._translate(exc, "list_objects_v2", prefix) from exc
        yield from (str(path) for path in found)

    def delete(self, path: str) -> None:
        """``DeleteObject`` ``path``, after a ``HeadObject`` (S3 deletes missing keys silently)."""
        if self._head(path) is None:
            raise FileNotFoundError(self.to_url(path))
        self._call("delete_object", path)

    def modified(self, path: str) -> datetime | None:
        """Return the object's ``LastModified`` time from a ``HeadObject``."""
        head = self._head(path)
        return utc(None if head is None else head.get("LastModified"))

    # -- conditional-write check ------------------------------------------------------------

    def _client_endpoint(self) -> str:
        """Return the endpoint the S3 client really sends to (options, environment, config).

        Asked of the client once per backend (a trip through the event loop, about 50 us):
        every write's :meth:`conditional_write_scope` needs it.
        """
        found: str | None = self.__dict__.get("_endpoint_url")
        if found is None:
            client = sync(self.fs.loop, self.fs.set_session)
            found = self.__dict__["_endpoint_url"] = str(client.meta.endpoint_url)
        return found

    def conditional_write_scope(self, path: str) -> Hashable:
        """Probe once per endpoint and bucket."""
        bucket, _ = self._split(path)
        return (self._client_endpoint(), bucket)

    def known_to_enforce_conditions(self, path: str) -> bool:
        """Amazon S3 itself enforces both conditions (since 2024): no probe is needed."""
        return type(self) is S3Backend and _is_amazon(self._client_endpoint())

    def refuses_conditions(self, error: StorageError) -> bool:
        """Tell a store without conditional writes (400 or 501 to a conditional PUT)."""
        cause = _client_error(error)
        if cause is None:
            return False
        status = cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return int(status) in (400, 501)

    def discard(self, path: str) -> None:
        """``DeleteObject`` alone: it succeeds whether or not the key exists."""
        self._call("delete_object", path)


class _S3Upload(ChunkedUpload):
    """One ``PutObject``, or a multipart upload completed with ``If-None-Match: *``."""

    def __init__(self, backend: S3Backend, path: str, conditional: bool) -> None:
        super().__init__(backend.part_size)
        self.backend = backend
        self.path = path
        self.condition = {"IfNoneMatch": "*"} if conditional else {}
        self.upload_id = ""
        self.parts: list[dict[str, Any]] = []

    def _refused(self) -> FileExistsError:
        return FileExistsError(self.backend.to_url(self.path))

    def put_whole(self, data: bytes) -> None:
        try:
            self.backend._call("put_object", self.path, Body=data, **self.condition)
        except _ConditionFailed:
            raise self._refused() from None

    def begin(self) -> None:
        response = self.backend._call("create_multipart_upload", self.path)
        self.upload_id = str(response["UploadId"])

    def put_part(self, data: bytes) -> None:
        number = len(self.parts) + 1
        response = self.backend._call(
            "upload_part", self.path, PartNumber=number, UploadId=self.upload_id, Body=data
        )
        self.parts.append({"PartNumber": number, "ETag": response["ETag"]})

    def finish(self, data: bytes) -> None:
        self.put_part(data)
        try:
            self.backend._call(
                "complete_multipart_upload",
                self.path,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": self.parts},
                **self.condition,
            )
        except _ConditionFailed:
            raise self._refused() from None

    def abort_upload(self) -> None:
        with contextlib.suppress(Exception):
            self.backend._call("abort_multipart_upload", self.path, UploadId=self.upload_id)
