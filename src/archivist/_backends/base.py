"""The :class:`Backend` interface: the storage contract every repository relies on.

A backend wraps one fsspec filesystem and adds the few primitives the commit protocol needs
(see ``docs/design.md``):

* :meth:`Backend.read_with_token` reads a file and a token naming its state;
* :meth:`Backend.replace_if_unchanged` replaces a file only if its token is unchanged
  (compare-and-swap), or creates it only if absent when the token is ``None``;
* :meth:`Backend.open_new` streams a new file into place only if nothing is at its path.

Everything else (plain reads, streaming reads, conditional reads, listing, deleting) is
derived here from the fsspec filesystem, so a backend for a new store implements three
methods.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any, ClassVar

import fsspec

from archivist._backends._conditional import ConditionalWrites
from archivist._backends.request_log import log_requests
from archivist._io.progress import metered, takes_callback
from archivist.errors import IntegrityError

if TYPE_CHECKING:
    from fsspec.spec import AbstractFileSystem

    from archivist._io.progress import ProgressCallback

__all__ = ["Backend", "content_token", "utc"]

_log = logging.getLogger(__name__)


def content_token(data: bytes) -> str:
    """Return a token naming the state of a file from its content (its SHA-256).

    Parameters
    ----------
    data : bytes
        The file's content.

    Returns
    -------
    str
        A hex digest; equal contents give equal tokens.
    """
    return hashlib.sha256(data).hexdigest()


def utc(stamp: object) -> datetime | None:
    """Return a store's modification time ``stamp`` in UTC (naive means UTC), else ``None``.

    Parameters
    ----------
    stamp : object
        What the store reported.

    Returns
    -------
    datetime.datetime or None
        An aware UTC datetime, or ``None`` when ``stamp`` is not a datetime.
    """
    if not isinstance(stamp, datetime):
        return None
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


class Backend(ConditionalWrites, ABC):
    """Store files under paths of one fsspec filesystem, with compare-and-swap.

    Subclasses set :attr:`protocols` and implement :meth:`read_with_token`,
    :meth:`replace_if_unchanged` and :meth:`open_new`; they may override the derived
    methods when the store has a faster way. The conditional-write check (the
    ``single_writer`` and ``reprobe`` options, the probe) comes from
    :class:`~archivist._backends._conditional.ConditionalWrites`.

    Parameters
    ----------
    **storage_options
        Passed to the fsspec filesystem (credentials, endpoint, ...).

    Attributes
    ----------
    protocols : tuple[str, ...]
        URL protocols this backend serves (for example ``("s3", "s3a")``). The first one is
        the canonical name.
    write_concurrency : int
        How many new files one save may write at once through :meth:`open_new`, each on
        its own thread. The default, 1, suits a backend not known to be thread-safe; the
        built-in backends raise it (object stores: 16, where it saves round trips).
    fs : fsspec.AbstractFileSystem
        The filesystem files are read and written through.
    max_path_bytes : int or None
        The longest path of a new file, in UTF-8 bytes (``None``: no limit known).
    sha256_tokens : bool
        Whether every token is :func:`content_token` of the content (its SHA-256), so a
        reader needs not hash the content again (default ``False``: an ETag, a generation).
    """

    protocols: ClassVar[tuple[str, ...]]
    write_concurrency: ClassVar[int] = 1

    #: The longest path (in UTF-8 bytes) of a new file this backend can create, or ``None``
    #: for no limit known; a repository refuses longer ones before writing anything.
    max_path_bytes: ClassVar[int | None] = None
    #: Whether tokens are :func:`content_token` (the SHA-256 of the content).
    sha256_tokens: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        log_requests(cls)  # a DEBUG record per storage request, whatever the backend

    def __init__(self, **storage_options: Any) -> None:
        #: Set by the ``single_writer=True`` storage option: the user vouches that one
        #: process at a time writes, so a store without conditional writes may be used.
        self.single_writer = bool(storage_options.pop("single_writer", False))
        #: Set by the ``reprobe=True`` storage option: probe conditional writes once in this
        #: process even where a past probe or the service's reputation vouches for them.
        self.reprobe = bool(storage_options.pop("reprobe", False))
        self.storage_options: dict[str, Any] = dict(storage_options)
        self.fs: AbstractFileSystem = self.make_filesystem(**storage_options)

    def make_filesystem(self, **storage_options: Any) -> AbstractFileSystem:
        r"""Create the fsspec filesystem this backend works through.

        Parameters
        ----------
        **storage_options
            The options given to the backend.

        Returns
        -------
        fsspec.AbstractFileSystem
            A filesystem for :attr:`protocols`\\ ``[0]``.
        """
        return fsspec.filesystem(self.protocols[0], **storage_options)

    # -- paths ------------------------------------------------------------------------------

    def strip_protocol(self, url: str) -> str:
        """Turn a URL (or a plain path) into this backend's path form.

        Parameters
        ----------
        url : str
            A URL such as ``s3://bucket/key`` or a path.

        Returns
        -------
        str
            The path without protocol, as the filesystem expects it.
        """
        return str(self.fs._strip_protocol(url))

    def to_url(self, path: str) -> str:
        """Turn a path back into a full URL, for messages and records.

        Parameters
        ----------
        path : str
            A path in this backend's form.

        Returns
        -------
        str
            The URL with its protocol.
        """
        return str(self.fs.unstrip_protocol(path))

    @staticmethod
    def join(base: str, *parts: str) -> str:
        """Join path parts with ``/``, refusing any part that would leave ``base``.

        The same join as :func:`archivist._io.paths.path_under`: an empty, ``.``, ``..``
        or absolute part (``/other-bucket/key`` on an object store) or a backslash is refused
        instead of joined.

        Parameters
        ----------
        base : str
            The leading path.
        *parts : str
            Names to append (each may hold ``/``-separated sub-folders).

        Returns
        -------
        str
            The joined path, strictly under ``base``.

        Raises
        ------
        archivist.errors.InvalidNameError
            A part would leave ``base``.
        """
        from archivist._io.paths import path_under

        return path_under(base, *parts)

    # -- the contract primitives ------------------------------------------------------------

    @abstractmethod
    def read_with_token(self, path: str) -> tuple[bytes, str]:
        """Read a whole file and a token naming the state that was read.

        Parameters
        ----------
        path : str
            The file to read.

        Returns
        -------
        tuple[bytes, str]
            The content and its token. The token changes whenever the file is written.

        Raises
        ------
        FileNotFoundError
            Nothing is stored at ``path``.
        """

    @abstractmethod
    def replace_if_unchanged(self, path: str, data: bytes, token: str | None) -> str:
        """Write ``data`` at ``path`` only if the file is still in the state ``token`` names.

        Parameters
        ----------
        path : str
            The file to replace.
        data : bytes
            The new content.
        token : str or None
            The token returned by :meth:`read_with_token`, or ``None`` to create the file
            only if it does not exist.

        Returns
        -------
        str
            The token of the new state.

        Raises
        ------
        archivist.errors.StaleTokenError
            The file changed (or appeared, or vanished) since ``token`` was read; nothing
            was written.
        """

    @abstractmethod
    def open_new(
        self, path: str, *, callback: ProgressCallback | None = None
    ) -> AbstractContextManager[IO[bytes]]:
        """Open a new file for streaming writes that lands only if nothing is at ``path``.

        On a clean exit of the ``with`` block the file appears at ``path`` whole; on an
        exception nothing is left behind at ``path``. Parent folders are created as needed.

        Parameters
        ----------
        path : str
            Where the file goes.
        callback : fsspec.callbacks.Callback, optional
            Told (``relative_update``) the bytes as the storage takes them: as they are
            written to a local file, as each part of an upload is acknowledged. archivist
            passes it only when a save reports progress, and only to an ``open_new`` that
            takes it (one written before is called without it, and the bytes handed to it
            are reported instead: see :meth:`open_reporting`).

            .. versionadded:: 0.2.0

        Returns
        -------
        contextlib.AbstractContextManager[IO[bytes]]
            A context manager giving a writable binary stream.

        Raises
        ------
        FileExistsError
            A file already exists at ``path`` (raised on entry or on exit).
        """

    def open_reporting(
        self, path: str, callback: ProgressCallback | None
    ) -> AbstractContextManager[IO[bytes]]:
        """Call :meth:`open_new`, with ``callback`` when there is one and it takes it.

        A backend whose ``open_new`` was written before it took a ``callback`` is called as
        it was then, and ``callback`` is told the bytes as they are handed to it.

        Parameters
        ----------
        path : str
            Where the file goes.
        callback : fsspec.callbacks.Callback or None
            Told the bytes as the storage takes them.

        Returns
        -------
        contextlib.AbstractContextManager[IO[bytes]]
            What :meth:`open_new` returns, or a view of its stream that reports.
        """
        if callback is None:
            return self.open_new(path)
        if takes_callback(type(self).open_new):
            return self.open_new(path, callback=callback)
        return _reporting(self.open_new(path), callback)

    def sync(self, paths: Sequence[str]) -> None:
        """Make files written with :meth:`open_new` durable before anything references them.

        The commit protocol calls it once per save, between writing the new files and
        committing the manifest that names them. The default does nothing: object stores
        acknowledge a write only once it is durable.

        Parameters
        ----------
        paths : Sequence[str]
            The files this save wrote.
        """

    # -- derived operations -----------------------------------------------------------------

    def exclusive(self, path: str) -> AbstractContextManager[bool]:
        """Keep other archivist writers from replacing ``path`` while the block runs, if possible.

        A compare-and-swap that lost a race retries inside it
        (:func:`archivist.stores._documents.update`): on a backend that can serialize
        writers the retry then reads, changes and replaces with no one in between, instead
        of racing again. :meth:`replace_if_unchanged` inside the block still checks its
        token (a writer that does not take the lock, such as lazyscribe, is still caught).

        Parameters
        ----------
        path : str
            The file the block will replace.

        Returns
        -------
        contextlib.AbstractContextManager[bool]
            Its value tells whether it serializes writers: ``False`` by default (object
            stores have no lock; a writer there retries after a backoff), ``True`` on
            local disk (the replace's own lock file, held for the block).
        """
        return contextlib.nullcontext(False)

    def read_if_changed(self, path: str, token: str | None) -> tuple[bytes, str] | None:
        """Read a whole file and its token, unless it is still in the state ``token`` names.

        A refresh of an unchanged manifest then transfers none of it: object stores
        override this with one conditional GET (``If-None-Match``, a generation
        precondition). The default reads with :meth:`read_with_token` and compares.

        Parameters
        ----------
        path : str
            The file to read.
        token : str or None
            A token :meth:`read_with_token` (or this method) returned; ``None`` always reads.

        Returns
        -------
        tuple[bytes, str] or None
            ``None`` when the file's token is still ``token``, else the content and its token.

        Raises
        ------
        FileNotFoundError
            Nothing is stored at ``path``.
        """
        data, current = self.read_with_token(path)
        return None if token is not None and current == token else (data, current)

    def current_token(self, path: str) -> str | None:
        """Return the token of the file at ``path``, or ``None`` when nothing is there.

        Object stores answer from one metadata request; the default reads the file.

        Parameters
        ----------
        path : str
            The file.

        Returns
        -------
        str or None
            The token :meth:`read_with_token` would return.
        """
        try:
            return self.read_with_token(path)[1]
        except FileNotFoundError:
            return None

    def write_if_absent(self, path: str, data: bytes) -> None:
        """Write ``data`` at ``path`` only if nothing is stored there.

        Parameters
        ----------
        path : str
            Where the file goes.
        data : bytes
            The content.

        Raises
        ------
        FileExistsError
            A file already exists at ``path``; it is left untouched.
        """
        with self.open_new(path) as stream:
            stream.write(data)

    def read_bytes(self, path: str) -> bytes:
        """Read a whole file.

        Parameters
        ----------
        path : str
            The file to read.

        Returns
        -------
        bytes
            Its content.

        Raises
        ------
        FileNotFoundError
            Nothing is stored at ``path``.
        """
        return bytes(self.fs.cat_file(path))

    def open_read(self, path: str) -> IO[bytes]:
        """Open a file for streaming reads.

        Parameters
        ----------
        path : str
            The file to read.

        Returns
        -------
        IO[bytes]
            A readable, seekable binary stream; the caller closes it.

        Raises
        ------
        FileNotFoundError
            Nothing is stored at ``path``.
        """
        stream: IO[bytes] = self.fs.open(path, "rb")
        return stream

    def read_at_most(self, path: str, limit: int) -> bytes:
        """Read the first ``limit`` bytes of a regular file (all of it, if shorter).

        The verified read of a small version: one byte past the recorded size tells that a
        file grew, without reading the rest. The default reads through :meth:`open_regular`;
        object stores override it with one ranged request.

        Parameters
        ----------
        path : str
            The file to read.
        limit : int
            The most bytes to read.

        Returns
        -------
        bytes
            What was read.

        Raises
        ------
        FileNotFoundError
            Nothing is stored at ``path``.
        archivist.errors.IntegrityError
            What is at ``path`` is not a regular file.
        """
        with self.open_regular(path) as stream:
            return stream.read(limit)

    def read_ranges(self, path: str, ranges: Sequence[tuple[int, int]]) -> builtins.list[bytes]:
        """Read ``[start, end)`` byte ranges of a file (fsspec ``cat_ranges``: concurrent GETs)."""
        starts, ends = [start for start, _ in ranges], [end for _, end in ranges]
        paths = [path] * len(ranges)
        found = self.fs.cat_ranges(paths, starts, ends, on_error="raise") if ranges else []
        return [bytes(data) for data in found]

    def open_regular(self, path: str) -> IO[bytes]:
        """Open a stored file for a verified read: only a regular file, never blocking.

        Readers of stored versions use this, not :meth:`open_read`: they read at most the
        recorded size plus one byte from it and deserialize only what they hashed. The
        default opens with :meth:`open_read` (an object store holds only regular objects)
        and reports a folder at ``path`` as an :class:`~archivist.errors.IntegrityError`;
        a backend whose paths can name FIFOs or devices (local disk) overrides it.

        Parameters
        ----------
        path : str
            The file to read.

        Returns
        -------
        IO[bytes]
            A readable binary stream; the caller closes it.

        Raises
        ------
        FileNotFoundError
            Nothing is stored at ``path``.
        archivist.errors.IntegrityError
            What is at ``path`` is not a regular file.
        """
        folder = IntegrityError(
            f"{self.to_url(path)} is a folder, not a file; archivist reads only regular files"
        )
        try:
            stream = self.open_read(path)
        except IsADirectoryError:
            raise folder from None
        # fsspec's object-store files open on a prefix too, as an empty "directory": the
        # details they fetched on opening tell.
        details = getattr(stream, "details", None)
        if isinstance(details, dict) and details.get("type") == "directory":
            stream.close()
            raise folder
        return stream

    def exists(self, path: str) -> bool:
        """Tell whether a file is stored at ``path``.

        Parameters
        ----------
        path : str
            The file.

        Returns
        -------
        bool
            ``True`` when it exists.
        """
        self.fs.invalidate_cache(path)  # never answer from a listing another writer outdated
        return bool(self.fs.exists(path))

    def list(self, prefix: str) -> Iterator[str]:
        """List every file below a folder, recursively.

        Parameters
        ----------
        prefix : str
            The folder.

        Yields
        ------
        str
            Paths of the files, in this backend's path form.
        """
        self.fs.invalidate_cache(prefix)
        yield from self.fs.find(prefix)

    def delete(self, path: str) -> None:
        """Delete one file.

        Parameters
        ----------
        path : str
            The file.

        Raises
        ------
        FileNotFoundError
            Nothing is stored at ``path``.
        """
        self.fs.rm_file(path)

    def discard(self, path: str) -> None:
        """Delete ``path`` if it exists, in as few requests as the store allows.

        Used for archivist's own clean-up (probe objects, save journals), where a missing
        file is no error.

        Parameters
        ----------
        path : str
            The file.
        """
        with contextlib.suppress(FileNotFoundError):
            self.delete(path)

    def partial_writes(self, path: str) -> builtins.list[str]:
        """Return what interrupted :meth:`open_new` calls for ``path`` left behind.

        A process killed while streaming a new file can leave a partial copy under a name
        derived from ``path`` (local disk: a temporary file beside it). Object stores commit
        an upload whole or not at all, so the default is none.

        Parameters
        ----------
        path : str
            The file an :meth:`open_new` call was writing.

        Returns
        -------
        list[str]
            Paths of leftover partial files (only ever of this backend's own naming).
        """
        return []

    def modified(self, path: str) -> datetime | None:
        """Return when a file was last written, in UTC, if the store says.

        Parameters
        ----------
        path : str
            The file.

        Returns
        -------
        datetime.datetime or None
            An aware UTC datetime, or ``None`` when the store does not record it.
        """
        try:
            return utc(self.fs.modified(path))
        except (NotImplementedError, KeyError, ValueError):
            return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(protocols={self.protocols!r})"


log_requests(Backend)  # its derived methods, as __init_subclass__ does for subclasses


@contextlib.contextmanager
def _reporting(opened: AbstractContextManager[IO[bytes]], callback: Any) -> Iterator[IO[bytes]]:
    """Yield the stream ``opened`` gives, reporting each write to ``callback``."""
    with opened as raw:
        yield metered(raw, callback)
