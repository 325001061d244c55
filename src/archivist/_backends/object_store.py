"""Object stores (S3, GCS, Azure): every contract primitive derived from four store calls.

:class:`ObjectStoreBackend` turns a store's conditional upload, metadata and streaming calls
into compare-and-swap, write-if-absent streaming, single-writer mode and the
conditional-write probe; each cloud plugin implements only those calls.
"""

from __future__ import annotations

import contextlib
import posixpath
import secrets
from abc import abstractmethod
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, ClassVar, cast

from archivist._backends._chunked import ChunkedUpload
from archivist._backends.base import Backend, _log, utc
from archivist.errors import StaleTokenError, StorageError

if TYPE_CHECKING:
    from archivist._io.progress import ProgressCallback

__all__ = ["ChunkedUpload", "ObjectStoreBackend", "utc"]


class ObjectStoreBackend(Backend):
    """A backend for an object store with conditional requests (S3, GCS, Azure Blob).

    It derives the contract primitives from four store calls, so a store backend writes
    only those, plus :meth:`~Backend.read_with_token` and, ideally, a
    :meth:`~Backend.probe_conditional_writes`:

    * :meth:`current_token`: one metadata request (also what a conditional read asks
      first, unless the store overrides :meth:`get_if_none_match` with a
      conditional GET, as the built-in plugins do);
    * :meth:`put_if`: one conditional upload (``If-None-Match: *`` / ``If-Match``, or a
      generation precondition);
    * :meth:`put_unconditionally`: one plain upload, for single-writer mode;
    * :meth:`start_upload`: a :class:`ChunkedUpload` for streaming new files.

    In single-writer mode (``single_writer=True``), the token is checked with a metadata
    request before an unconditional write; that is safe only when one process writes.

    Attributes
    ----------
    conditions : str
        How the store's conditions are named in messages, for example ``"conditional writes
        (If-None-Match, If-Match)"``.
    """

    conditions: ClassVar[str] = "conditional writes"
    write_concurrency: ClassVar[int] = 16

    @property
    def endpoint(self) -> str:
        """The service address, named in messages (empty when the store has only one)."""
        return ""

    @abstractmethod
    def current_token(self, path: str) -> str | None:
        """Return the token of the object at ``path`` without downloading it.

        Parameters
        ----------
        path : str
            The object.

        Returns
        -------
        str or None
            Its ETag or generation, ``None`` when nothing is stored there.
        """

    @abstractmethod
    def put_if(self, path: str, data: bytes, token: str | None) -> str:
        """Upload ``data`` only if the object is in the state ``token`` names.

        Parameters
        ----------
        path : str
            The object.
        data : bytes
            The new content.
        token : str or None
            The expected token; ``None`` means the object must not exist.

        Returns
        -------
        str
            The token of the new object.

        Raises
        ------
        archivist.errors.StaleTokenError
            The store refused the condition.
        """

    @abstractmethod
    def put_unconditionally(self, path: str, data: bytes) -> str:
        """Upload ``data`` with no condition and return the new token (single-writer mode)."""

    @abstractmethod
    def start_upload(self, path: str, conditional: bool) -> ChunkedUpload:
        """Return a streaming upload to ``path``.

        Parameters
        ----------
        path : str
            The new object.
        conditional : bool
            ``True``: the request that lands the object carries the store's "only if
            absent" condition, and raises ``FileExistsError`` when it is refused.

        Returns
        -------
        ChunkedUpload
            The upload; :meth:`open_new` commits or aborts it.
        """

    def probe_conditional_writes(self, path: str) -> None:
        """Check that the store enforces the conditions :meth:`put_if` sends.

        Writes a probe object beside ``path`` only if absent, then again only if absent
        (must be refused) and with a stale token (must be refused), and deletes it: three
        uploads and a delete, once per process and :meth:`~Backend.conditional_write_scope`.

        Parameters
        ----------
        path : str
            A path about to be written; the probe goes in its folder.

        Raises
        ------
        archivist.errors.StorageError
            The store ignores or rejects the conditions: concurrent saves could silently
            overwrite each other's versions.
        """
        probe = posixpath.join(posixpath.dirname(path), f".archivist-probe-{secrets.token_hex(8)}")
        where = self.to_url(probe) + (f" ({self.endpoint})" if self.endpoint else "")
        _log.info("probing that the store enforces %s at %s", self.conditions, where)
        advice = (
            f"archivist relies on {self.conditions} to keep concurrent saves from overwriting "
            "each other's versions. Use a store that enforces them, or, if only one process "
            "ever writes to this repository, pass single_writer=True in the storage options "
            "to accept the risk."
        )
        try:
            try:
                token: str | None = self.put_if(probe, b"probe", None)
            except StaleTokenError:
                token = None  # a fresh random name "exists": the condition was evaluated
            for stale, what in (
                (None, "an only-if-absent condition"),
                (self.stale_token(token), "a stale token"),
            ):
                try:
                    self.put_if(probe, b"probe", stale)
                except StaleTokenError:
                    continue
                raise StorageError(
                    f"the store ignores {self.conditions}: a write with {what} that had to be "
                    f"refused succeeded at {where}. {advice}"
                )
        except StorageError as exc:
            if not self.refuses_conditions(exc):
                raise
            raise StorageError(
                f"the store rejects {self.conditions} at {where}: {exc}. {advice}"
            ) from exc
        finally:
            with contextlib.suppress(Exception):
                self.discard(probe)
        _log.info("the store enforces %s at %s", self.conditions, where)

    def stale_token(self, token: str | None) -> str:
        """Return a token the object written with ``token`` surely does not have (for the probe).

        Parameters
        ----------
        token : str or None
            The token of the probe object, when known.

        Returns
        -------
        str
            By default a made-up quoted ETag.
        """
        return '"archivist-probe-stale"'

    def refuses_conditions(self, error: StorageError) -> bool:
        """Tell whether ``error`` means the store does not support the conditions at all.

        Parameters
        ----------
        error : archivist.errors.StorageError
            What a conditional upload raised.

        Returns
        -------
        bool
            ``False`` by default: the error is reported as it is.
        """
        return False

    def read_if_changed(self, path: str, token: str | None) -> tuple[bytes, str] | None:
        """Read ``path`` only if its token is no longer ``token``.

        ``None`` reads with :meth:`~Backend.read_with_token`; otherwise
        :meth:`get_if_none_match` asks, and an answer still at ``token`` (an endpoint that
        ignores the condition sends the object anyway) counts as unchanged.
        """
        if token is None:
            return self.read_with_token(path)
        found = self.get_if_none_match(path, token)
        return None if found is None or found[1] == token else found

    def get_if_none_match(self, path: str, token: str) -> tuple[bytes, str] | None:
        """Download ``path`` and its token unless the store says it is still at ``token``.

        The plugins send one conditional GET (``None`` on ``304 Not Modified``). This
        default, for a store without one, asks :meth:`current_token` first (a metadata
        request, no content) and downloads only a changed object.

        Parameters
        ----------
        path : str
            The object.
        token : str
            The token last read.

        Returns
        -------
        tuple[bytes, str] or None
            ``None`` when the store reports the object unchanged, else its content and token.

        Raises
        ------
        FileNotFoundError
            Nothing is stored at ``path``.
        """
        current = self.current_token(path)
        if current is None:
            raise FileNotFoundError(self.to_url(path))
        if current == token:
            return None
        return self.read_with_token(path)

    def read_bytes(self, path: str) -> bytes:
        """Download ``path`` with :meth:`~Backend.read_with_token` (one request)."""
        return self.read_with_token(path)[0]

    def exists(self, path: str) -> bool:
        """Ask for the token of ``path`` with one metadata request (never a cached listing)."""
        return self.current_token(path) is not None

    def _split(self, path: str) -> tuple[str, str]:
        """Split ``path`` into its bucket (or container) and key."""
        bucket, key, _ = self.fs.split_path(path)
        return str(bucket), str(key)

    def read_at_most(self, path: str, limit: int) -> bytes:
        """Read at most ``limit`` bytes with one ranged GET (an object is always regular)."""
        if limit <= 0:
            return b""
        return bytes(self.fs.cat_file(path, start=0, end=limit))

    def replace_if_unchanged(self, path: str, data: bytes, token: str | None) -> str:
        """Replace ``path`` with one conditional upload (single-writer: a check, a plain one)."""
        self.check_conditional_writes(path)
        if not self.single_writer:
            return self.put_if(path, data, token)
        if self.current_token(path) != token:
            raise StaleTokenError(f"{self.to_url(path)} changed since it was read")
        return self.put_unconditionally(path, data)

    @contextlib.contextmanager
    def open_new(
        self, path: str, *, callback: ProgressCallback | None = None
    ) -> Iterator[IO[bytes]]:
        """Stream a new object whose final request lands it only if nothing is at ``path``.

        A refused or failed upload is aborted, so nothing is left behind. ``callback`` is
        told the bytes of each request the store acknowledged (see :class:`ChunkedUpload`).
        """
        self.check_conditional_writes(path)
        if self.single_writer and self.current_token(path) is not None:
            raise FileExistsError(self.to_url(path))
        upload = self.start_upload(path, conditional=not self.single_writer)
        upload.callback = callback
        try:
            yield cast("IO[bytes]", upload)
        except BaseException:
            upload.abort()
            raise
        upload.commit()
