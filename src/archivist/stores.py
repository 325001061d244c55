"""Stores: the abstract layer between the versioning logic and storage.

:class:`AbstractRepositoryStore` reads a manifest with its state token, commits a new
manifest against that token, and writes and reads the versions' files. Its default,
:class:`ManifestStore`, keeps ``repository.json`` and the files on any
:class:`~archivist.Backend`. Another store (a database, say) can replace the manifest file
without touching :class:`~archivist.Repository`'s versioning logic.
"""

from __future__ import annotations

import builtins
import json
import operator
import os
import posixpath
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import IO, Any, Literal, NamedTuple, cast

from fsspec.core import split_protocol

from archivist._options import merge_storage_options
from archivist._streams import HashingWriter, digest_stream
from archivist._verified import check_stored, open_stored
from archivist.errors import (
    AlreadyExistsError,
    ArchivistError,
    ArtifactFileNotFoundError,
    ConflictError,
    InvalidNameError,
    StaleTokenError,
    StorageError,
    VersionNotFoundError,
)
from archivist.manifest import (
    VersionRecord,
    check_name_beside,
    parse_manifest,
    serialize_manifest,
    splice_manifest,
)
from archivist.plugin.manager import get_backend
from archivist.release import Release, find_release, parse_release_list
from archivist.storage.base import Backend

__all__ = [
    "AbstractReleaseStore",
    "AbstractRepositoryStore",
    "ManifestSnapshot",
    "ManifestStore",
    "ReleaseStore",
    "open_backend",
    "open_location",
]

#: Save journals are ``<id>.journal`` in the manifest's private folder.
_JOURNAL_SUFFIX = ".journal"


class ManifestSnapshot(NamedTuple):
    """A manifest as read: its records and the token naming that state.

    Attributes
    ----------
    records : list[VersionRecord]
        The records in manifest order (empty when there is no manifest yet).
    token : str or None
        The state token, ``None`` when no manifest exists.
    """

    records: list[VersionRecord]
    token: str | None


@contextmanager
def storage_errors(action: str) -> Iterator[None]:
    """Re-raise storage failures as :class:`~archivist.errors.StorageError` with context.

    archivist's own errors and ``FileNotFoundError``/``FileExistsError`` (part of the backend
    contract) pass through unchanged.

    Parameters
    ----------
    action : str
        What was being done, for example ``"reading s3://bucket/repository.json"``.

    Yields
    ------
    None
        Runs the body.
    """
    try:
        yield
    except (ArchivistError, FileNotFoundError, FileExistsError):
        raise
    except Exception as exc:
        raise StorageError(f"{action} failed: {type(exc).__name__}: {exc}") from exc


def open_backend(url: str | os.PathLike[str], **storage_options: Any) -> tuple[Backend, str]:
    """Find the backend for a URL and turn the URL into that backend's path form.

    Parameters
    ----------
    url : str or os.PathLike
        A local path, ``file://`` URL, or a URL whose protocol an installed backend serves.
    **storage_options
        Passed to the backend's filesystem.

    Returns
    -------
    tuple[Backend, str]
        The backend and the path.

    Raises
    ------
    archivist.errors.UnknownBackendError
        No installed backend serves the URL's protocol.
    archivist.errors.StorageError
        The filesystem rejected the storage options.
    archivist.errors.InvalidArgumentError
        The backend does not take an option (the local backend refuses any it does not
        know), or ``storage_options`` is not a mapping.
    """
    text = os.fspath(url)
    # storage_options={...} forwarded inside **kwargs (the pandas/Kedro spelling)
    storage_options = merge_storage_options(f"the storage of {text}", None, storage_options)
    protocol, _ = split_protocol(text)
    backend_cls = get_backend(protocol or "file")
    with storage_errors(f"opening a {backend_cls.__name__} for {text}"):
        backend = backend_cls(**storage_options)
        return backend, backend.strip_protocol(text)


def open_location(
    fpath: str | os.PathLike[str], backend: Backend | None = None, **storage_options: Any
) -> tuple[Backend, str, str]:
    """Resolve a file's path or URL into a backend, its path there, and a display location.

    Parameters
    ----------
    fpath : str or os.PathLike
        A local path or a URL.
    backend : Backend, optional
        Use this backend instead of the one the URL's protocol selects.
    **storage_options
        Passed to the backend's filesystem when one is created.

    Returns
    -------
    tuple[Backend, str, str]
        The backend, the path in its form, and the location for messages: the URL for a
        remote store, the absolute path for a local file.
    """
    if backend is None:
        backend, path = open_backend(fpath, **storage_options)
    else:
        path = backend.strip_protocol(os.fspath(fpath))
    text = os.fspath(fpath)
    location = text if split_protocol(text)[0] not in (None, "file", "local") else path
    return backend, path, location


class AbstractRepositoryStore(ABC):
    """Where a repository's manifest and files live.

    Attributes
    ----------
    location : str
        The manifest's URL or absolute path, for messages and hooks.
    write_concurrency : int
        How many :meth:`write_file` calls of one save may run at once, on threads. The
        default, 1, writes one file after another; a thread-safe store raises it.
    """

    location: str
    write_concurrency: int = 1

    @abstractmethod
    def read(self) -> ManifestSnapshot:
        """Read the current manifest and its token.

        Returns
        -------
        ManifestSnapshot
            Empty records and a ``None`` token when no manifest exists yet.

        Raises
        ------
        archivist.errors.ManifestError
            The manifest is corrupt or breaks the contract.
        """

    def current_token(self) -> str | None:
        """Return the manifest's state token without parsing it (``None`` when absent).

        Returns
        -------
        str or None
            The token. The default reads and parses the manifest.
        """
        return self.read().token

    def read_if_changed(self, token: str | None) -> ManifestSnapshot | None:
        """Read the manifest unless it is still in the state ``token`` names.

        Parameters
        ----------
        token : str or None
            A token from an earlier :meth:`read`.

        Returns
        -------
        ManifestSnapshot or None
            ``None`` when nothing changed (the caller's records are current).
        """
        snapshot = self.read()
        return None if snapshot.token == token and token is not None else snapshot

    @abstractmethod
    def commit(self, records: Sequence[VersionRecord], token: str | None) -> str:
        """Replace the manifest with ``records`` if it is still in the state ``token`` names.

        Parameters
        ----------
        records : Sequence[VersionRecord]
            The complete new manifest.
        token : str or None
            The token :meth:`read` returned (``None``: create only if there is none).

        Returns
        -------
        str
            The new token.

        Raises
        ------
        archivist.errors.StaleTokenError
            Another writer committed first; nothing was written.
        """

    def check_new_file(self, name: str, fname: str) -> None:  # noqa: B027 - optional
        """Refuse names this store cannot hold, before anything is written (default: none).

        Parameters
        ----------
        name : str
            The artifact name (already checked by :func:`archivist.manifest.check_name`).
        fname : str
            The file name.

        Raises
        ------
        archivist.errors.InvalidNameError
            The store cannot hold a file under these names.
        """

    @abstractmethod
    def write_file(
        self, name: str, fname: str, write: Callable[[IO[bytes]], None]
    ) -> tuple[str, int]:
        """Create a version's file by streaming into it, only if it does not exist yet.

        Parameters
        ----------
        name : str
            The artifact name.
        fname : str
            The file name.
        write : Callable[[IO[bytes]], None]
            Writes the content to the byte stream it is given.

        Returns
        -------
        tuple[str, int]
            The SHA-256 hex digest and size of what was written.

        Raises
        ------
        archivist.errors.AlreadyExistsError
            A file already exists under that name; it was not touched.
        """

    def make_durable(self, files: Sequence[tuple[str, str]]) -> None:  # noqa: B027 - optional
        """Make newly written version files durable before a commit references them.

        Parameters
        ----------
        files : Sequence[tuple[str, str]]
            ``(name, fname)`` of the files this save wrote. The default does nothing.
        """

    @abstractmethod
    def open_file(self, name: str, fname: str, sha256: str | None, size: int | None) -> IO[bytes]:
        """Open a version's file for reading, verified against its digest and size.

        Parameters
        ----------
        name, fname : str
            The artifact name and file name.
        sha256 : str or None
            The expected digest, or ``None`` to skip verification (records lazyscribe wrote).
        size : int or None
            The expected size, or ``None``.

        Returns
        -------
        IO[bytes]
            A readable binary stream positioned at the start; the caller closes it.

        Raises
        ------
        archivist.errors.ArtifactNotFoundError
            The file is missing.
        archivist.errors.IntegrityError
            The file does not match ``sha256`` or ``size``.
        """

    def check_file(self, name: str, fname: str, sha256: str | None, size: int | None) -> None:
        """Check a version's file against its digest and size, without deserializing it.

        Parameters
        ----------
        name, fname : str
            The artifact name and file name.
        sha256 : str or None
            The expected digest, or ``None`` to check only that the file is there.
        size : int or None
            The expected size, or ``None``.

        Raises
        ------
        archivist.errors.ArtifactNotFoundError
            The file is missing.
        archivist.errors.IntegrityError
            The file does not match, or is not a regular file. The default opens it with
            :meth:`open_file`.
        """
        self.open_file(name, fname, sha256, size).close()

    def digest_file(self, name: str, fname: str) -> tuple[str, int]:
        """Hash a version's file as it is stored now (for records without a digest).

        Parameters
        ----------
        name, fname : str
            The artifact name and file name.

        Returns
        -------
        tuple[str, int]
            The SHA-256 hex digest and size.

        Raises
        ------
        archivist.errors.ArtifactNotFoundError
            The file is missing.
        archivist.errors.IntegrityError
            It is not a regular file.
        """
        with self.open_file(name, fname, None, None) as stream:
            return digest_stream(stream)

    @abstractmethod
    def delete_file(self, name: str, fname: str) -> None:
        """Delete a version's file (used to clean up files no commit references)."""

    @abstractmethod
    def list_files(self) -> Iterator[tuple[str, str]]:
        """Yield ``(name, fname)`` for every file stored in the artifact folders."""

    @abstractmethod
    def file_location(self, name: str, fname: str) -> str:
        """Return the URL or path of a version's file, for messages."""

    def file_modified(self, name: str, fname: str) -> datetime | None:
        """Return when a version's file was last written (aware UTC), if the store knows.

        Parameters
        ----------
        name, fname : str
            The artifact name and file name.

        Returns
        -------
        datetime.datetime or None
            ``None`` when the store does not record it. The default returns ``None``.
        """
        return None

    # -- save journals (see archivist._journal); the defaults keep none, so gc deletes nothing

    def write_journal(self, journal_id: str, data: bytes) -> None:  # noqa: B027 - optional
        """Create a save journal, only if none has that id.

        Parameters
        ----------
        journal_id : str
            The journal's id (fresh and random: never reused).
        data : bytes
            Its content.

        Raises
        ------
        FileExistsError
            A journal with that id exists; it was not touched.

        Notes
        -----
        The default stores nothing: a store without journals can never prove a file
        uncommitted, so ``gc`` deletes nothing from it.
        """

    def list_journals(self) -> builtins.list[str]:
        """Return the ids of the stored save journals (the default: none).

        Returns
        -------
        list[str]
            The ids.
        """
        return []

    def read_journal(self, journal_id: str) -> bytes:
        """Read a save journal.

        Parameters
        ----------
        journal_id : str
            The journal's id.

        Returns
        -------
        bytes
            Its content.

        Raises
        ------
        FileNotFoundError
            No such journal (the default stores none).
        """
        raise FileNotFoundError(journal_id)

    def journal_modified(self, journal_id: str) -> datetime | None:
        """Return when a save journal was written (aware UTC), if the store knows.

        Parameters
        ----------
        journal_id : str
            The journal's id.

        Returns
        -------
        datetime.datetime or None
            The time, or ``None``.
        """
        return None

    def remove_partial_writes(
        self, name: str, fname: str, since: datetime, dry_run: bool = False
    ) -> builtins.list[str]:
        """Remove what interrupted writes of a version's file left, if written since ``since``.

        Parameters
        ----------
        name, fname : str
            The artifact name and file name a save was writing.
        since : datetime.datetime
            Only leftovers written at or after this time (the save's journal) are removed.
        dry_run : bool, optional
            Only list them.

        Returns
        -------
        list[str]
            Their locations. The default (a store that leaves none) returns ``[]``.
        """
        return []

    def delete_journal(self, journal_id: str) -> None:  # noqa: B027 - optional
        """Delete a save journal; a missing one is no error.

        Parameters
        ----------
        journal_id : str
            The journal's id.
        """


class ManifestStore(AbstractRepositoryStore):
    """The default store: ``repository.json`` and one folder per artifact, on a Backend.

    Parameters
    ----------
    fpath : str or os.PathLike
        The manifest's path or URL; its folder is the repository folder.
    backend : Backend, optional
        Use this backend instead of the one the URL's protocol selects.
    **storage_options
        Passed to the backend's fsspec filesystem; a ``storage_options={...}`` mapping is
        accepted too. A local path refuses options its filesystem does not know.
    """

    def __init__(
        self,
        fpath: str | os.PathLike[str] = "repository.json",
        backend: Backend | None = None,
        **storage_options: Any,
    ) -> None:
        self.backend, self.path, self.location = open_location(fpath, backend, **storage_options)
        self.folder = posixpath.dirname(self.path)
        #: archivist's private folder for this manifest (journals), named after the manifest
        #: so that two repositories in one folder never share one.
        self.private_folder = self.backend.join(
            self.folder, f".{posixpath.basename(self.path)}.archivist"
        )
        #: The manifest as last read or committed: (token, text, records). A commit against
        #: that token that only appends records splices their lines into the text.
        self._last: tuple[str, bytes, list[VersionRecord]] | None = None

    def __repr__(self) -> str:
        return f"ManifestStore({self.location!r})"

    @property
    def write_concurrency(self) -> int:  # type: ignore[override]
        """As many concurrent writes as the backend allows (its ``write_concurrency``)."""
        return self.backend.write_concurrency

    def read(self) -> ManifestSnapshot:
        """Read the manifest and its token (empty when absent)."""
        try:
            with storage_errors(f"reading {self.location}"):
                data, token = self.backend.read_with_token(self.path)
        except FileNotFoundError:
            return ManifestSnapshot([], None)
        return self._parsed(data, token)

    def _parsed(self, data: bytes, token: str) -> ManifestSnapshot:
        records = parse_manifest(data, self.location)
        self._last = (token, data, records)
        return ManifestSnapshot(records, token)

    def current_token(self) -> str | None:
        """Return the manifest's token from one read, without parsing it."""
        try:
            with storage_errors(f"reading {self.location}"):
                return self.backend.read_with_token(self.path)[1]
        except FileNotFoundError:
            return None

    def read_if_changed(self, token: str | None) -> ManifestSnapshot | None:
        """Read the manifest, skipping the parse when its token is still ``token``."""
        try:
            with storage_errors(f"reading {self.location}"):
                data, current = self.backend.read_with_token(self.path)
        except FileNotFoundError:
            return ManifestSnapshot([], None)
        if token is not None and current == token:
            return None
        return self._parsed(data, current)

    def commit(self, records: Sequence[VersionRecord], token: str | None) -> str:
        """Compare-and-swap the manifest.

        When ``token`` names the manifest this store last read or committed and ``records``
        are its records (the same objects, in order) followed by new ones, the new records'
        lines are spliced into the text before its closing bracket: O(new records), and byte
        for byte what serializing every record writes. Otherwise every record is serialized.
        """
        data = self._spliced(records, token)
        if data is None:
            data = serialize_manifest(records)
        with storage_errors(f"writing {self.location}"):
            new_token = self.backend.replace_if_unchanged(self.path, data, token)
        self._last = (new_token, data, list(records))
        return new_token

    def _spliced(self, records: Sequence[VersionRecord], token: str | None) -> bytes | None:
        last = self._last
        if last is None or token is None or last[0] != token:
            return None
        _, data, base = last
        if len(records) < len(base) or not all(map(operator.is_, records, base)):
            return None
        return splice_manifest(data, records[len(base) :])

    def _file_path(self, name: str, fname: str) -> str:
        return self.backend.join(self.folder, name, fname)

    def check_new_file(self, name: str, fname: str) -> None:
        """Refuse a name that clashes with a file beside the manifest, or a path too long.

        An artifact's folder sits beside the manifest, so an artifact may not be named
        like the manifest itself, ``repository.json``, ``releases.json`` or
        ``project.json`` (compared ignoring case, as macOS and Windows do).
        """
        check_name_beside(name, posixpath.basename(self.path))
        limit = self.backend.max_path_bytes
        if limit is not None:
            length = len(self._file_path(name, fname).encode("utf-8", "surrogatepass"))
            if length > limit:
                raise InvalidNameError(
                    f"the file of {name!r} would be {self.file_location(name, fname)!r}, "
                    f"{length} bytes long; this store takes paths of at most {limit} bytes. "
                    "Choose a shorter name or file name."
                )

    def file_location(self, name: str, fname: str) -> str:
        """Return the path (or URL) of a version's file."""
        path = self._file_path(name, fname)
        return path if self.location == self.path else self.backend.to_url(path)

    def write_file(
        self, name: str, fname: str, write: Callable[[IO[bytes]], None]
    ) -> tuple[str, int]:
        """Stream a new file into place with write-if-absent, hashing it on the way."""
        path = self._file_path(name, fname)
        try:
            with (
                storage_errors(f"writing {self.file_location(name, fname)}"),
                self.backend.open_new(path) as raw,
            ):
                hashing = HashingWriter(raw)
                try:
                    write(cast("IO[bytes]", hashing))
                    hashing.flush()
                finally:
                    hashing.close()  # also stops a background hash worker if writing failed
        except FileExistsError:
            raise AlreadyExistsError(
                f"{self.file_location(name, fname)} already exists; archivist never overwrites "
                "a stored file"
            ) from None
        return hashing.sha256, hashing.size

    def make_durable(self, files: Sequence[tuple[str, str]]) -> None:
        """Ask the backend to flush the new files (local disk: fsync) before the commit."""
        with storage_errors(f"flushing new files under {self.folder}"):
            self.backend.sync([self._file_path(name, fname) for name, fname in files])

    def open_file(self, name: str, fname: str, sha256: str | None, size: int | None) -> IO[bytes]:
        """Open a version's file: read it once, bounded, and return the bytes that matched."""
        where = self.file_location(name, fname)
        with self._reading(name, fname):
            return open_stored(
                self.backend, self._file_path(name, fname), where, sha256, size, _RECORD
            )

    def check_file(self, name: str, fname: str, sha256: str | None, size: int | None) -> None:
        """Hash a version's file in one bounded pass, keeping none of its bytes."""
        where = self.file_location(name, fname)
        with self._reading(name, fname):
            check_stored(self.backend, self._file_path(name, fname), where, sha256, size, _RECORD)

    @contextmanager
    def _reading(self, name: str, fname: str) -> Iterator[None]:
        where = self.file_location(name, fname)
        try:
            with storage_errors(f"reading {where}"):
                yield
        except FileNotFoundError:
            raise ArtifactFileNotFoundError(
                f"the file of version {fname!r} of {name!r} is missing: {where}"
            ) from None

    def file_modified(self, name: str, fname: str) -> datetime | None:
        """Return when a version's file was last written, from the backend."""
        with storage_errors(f"reading the time of {self.file_location(name, fname)}"):
            return self.backend.modified(self._file_path(name, fname))

    def delete_file(self, name: str, fname: str) -> None:
        """Delete a version's file."""
        with storage_errors(f"deleting {self.file_location(name, fname)}"):
            self.backend.delete(self._file_path(name, fname))

    def _journal_path(self, journal_id: str) -> str:
        return self.backend.join(self.private_folder, f"{journal_id}{_JOURNAL_SUFFIX}")

    def write_journal(self, journal_id: str, data: bytes) -> None:
        """Create a save journal in the manifest's private folder (write-if-absent)."""
        with storage_errors(f"writing a save journal in {self.private_folder}"):
            self.backend.write_if_absent(self._journal_path(journal_id), data)

    def list_journals(self) -> builtins.list[str]:
        """Return the ids of the save journals stored for this manifest."""
        prefix = self.private_folder.rstrip("/") + "/"
        with storage_errors(f"listing {self.private_folder}"):
            try:
                paths = builtins.list(self.backend.list(self.private_folder))
            except FileNotFoundError:
                return []
        ids = []
        for path in paths:
            relative = path[len(prefix) :] if path.startswith(prefix) else ""
            if relative.endswith(_JOURNAL_SUFFIX) and "/" not in relative:
                ids.append(relative[: -len(_JOURNAL_SUFFIX)])
        return sorted(ids)

    def read_journal(self, journal_id: str) -> bytes:
        """Read a save journal."""
        with storage_errors(f"reading save journal {journal_id}"):
            return self.backend.read_bytes(self._journal_path(journal_id))

    def journal_modified(self, journal_id: str) -> datetime | None:
        """Return when a save journal was written, from the backend."""
        with storage_errors(f"reading the time of save journal {journal_id}"):
            return self.backend.modified(self._journal_path(journal_id))

    def remove_partial_writes(
        self, name: str, fname: str, since: datetime, dry_run: bool = False
    ) -> builtins.list[str]:
        """Remove the backend's leftovers of interrupted writes of a file, if recent enough."""
        target = self._file_path(name, fname)
        removed = []
        with storage_errors(f"removing partial writes of {self.file_location(name, fname)}"):
            for path in self.backend.partial_writes(target):
                try:
                    modified = self.backend.modified(path)
                    if modified is None or modified < since:
                        continue
                    if not dry_run:
                        self.backend.delete(path)
                except FileNotFoundError:
                    continue
                removed.append(path if self.location == self.path else self.backend.to_url(path))
        return removed

    def delete_journal(self, journal_id: str) -> None:
        """Delete a save journal (a missing one is no error)."""
        with storage_errors(f"deleting save journal {journal_id}"):
            self.backend.discard(self._journal_path(journal_id))

    def list_files(self) -> Iterator[tuple[str, str]]:
        """Yield ``(name, fname)`` of every file in the artifact folders."""
        prefix = self.folder.rstrip("/") + "/"
        with storage_errors(f"listing {self.folder}"):
            paths = list(self.backend.list(self.folder))
        for path in paths:
            relative = path[len(prefix) :] if path.startswith(prefix) else path
            parts = relative.split("/")
            # a version's file is <name>/<fname>, fname possibly in sub-folders; a folder
            # starting with "." is never part of one (archivist's own bookkeeping)
            if len(parts) >= 2 and not any(part.startswith(".") for part in parts[:-1]):
                yield parts[0], "/".join(parts[1:])


_RECORD = "its manifest record"


# -- releases ---------------------------------------------------------------------------------

#: How many times adding a release re-reads ``releases.json`` after losing a race.
MAX_RELEASE_ATTEMPTS = 64


class AbstractReleaseStore(ABC):
    """Where a repository's releases live: list, add (atomically; tags unique), get, find.

    Attributes
    ----------
    location : str
        The store's URL or absolute path, for messages.
    """

    location: str

    @abstractmethod
    def list(self) -> builtins.list[Release]:
        """Return every release, in the order they were added.

        Returns
        -------
        list[Release]
            Empty when there are none yet.

        Raises
        ------
        archivist.errors.ManifestError
            The stored releases are corrupt.
        """

    @abstractmethod
    def add(self, release: Release) -> None:
        """Add a release atomically; concurrent adds all land.

        Parameters
        ----------
        release : Release
            The release to add.

        Raises
        ------
        archivist.errors.AlreadyExistsError
            A release with the same tag exists; nothing was changed.
        archivist.errors.ConflictError
            Other writers kept adding releases; nothing was changed.
        """

    def get(self, tag: str) -> Release:
        """Return the release with ``tag``.

        Parameters
        ----------
        tag : str
            The tag.

        Returns
        -------
        Release
            The release.

        Raises
        ------
        archivist.errors.VersionNotFoundError
            No release has that tag.
        """
        return self.find(tag, match="exact")

    def find(
        self,
        tag_or_datetime: str | datetime | None = None,
        match: Literal["exact", "asof"] = "exact",
    ) -> Release:
        """Find a release by tag or creation time, as :func:`archivist.release.find_release`.

        Parameters
        ----------
        tag_or_datetime : str, datetime.datetime or None, optional
            A tag, a time, or ``None`` for the newest release.
        match : {"exact", "asof"}, optional
            How a time is matched.

        Returns
        -------
        Release
            The release found.

        Raises
        ------
        archivist.errors.VersionNotFoundError
            Nothing matches, or there are no releases.
        """
        try:
            return find_release(self.list(), tag_or_datetime, match)
        except VersionNotFoundError as exc:
            raise type(exc)(f"{self.location}: {exc}") from None


class ReleaseStore(AbstractReleaseStore):
    """The default release store: a ``releases.json`` file on any Backend.

    The file is the JSON list lazyscribe 2.x reads and writes. :meth:`add` appends through
    a compare-and-swap with bounded retries, like a repository's commit.

    Parameters
    ----------
    fpath : str or os.PathLike, optional
        The file's path or URL (default ``"releases.json"``), usually beside
        ``repository.json``.
    backend : Backend, optional
        Use this backend instead of the one the URL's protocol selects.
    **storage_options
        Passed to the backend's fsspec filesystem; a ``storage_options={...}`` mapping is
        accepted too. A local path refuses options its filesystem does not know.

    Examples
    --------
    >>> from archivist import Release, ReleaseStore
    >>> store = ReleaseStore("memory://release-store-doc/releases.json")
    >>> store.add(Release("v1.0.0", [("features", 0)]))
    >>> store.get("v1.0.0").artifacts
    [('features', 0)]
    """

    def __init__(
        self,
        fpath: str | os.PathLike[str] = "releases.json",
        backend: Backend | None = None,
        **storage_options: Any,
    ) -> None:
        self.backend, self.path, self.location = open_location(fpath, backend, **storage_options)

    def __repr__(self) -> str:
        return f"ReleaseStore({self.location!r})"

    def _read(self) -> tuple[builtins.list[dict[str, Any]], str | None]:
        try:
            with storage_errors(f"reading {self.location}"):
                data, token = self.backend.read_with_token(self.path)
        except FileNotFoundError:
            return [], None
        return parse_release_list(data, self.location), token

    def list(self) -> builtins.list[Release]:
        """Return every release in ``releases.json`` (empty when the file does not exist)."""
        entries, _ = self._read()
        return [Release.from_dict(entry) for entry in entries]

    def add(self, release: Release) -> None:
        """Append ``release`` with a compare-and-swap; a duplicate tag is refused."""
        delay = 0.002
        mine = release.to_dict()
        lost_a_race = False
        for _ in range(MAX_RELEASE_ATTEMPTS):
            entries, token = self._read()
            if lost_a_race and any(_same_release(entry, mine) for entry in entries):
                # Our write landed, but its answer was lost and the retried request was
                # refused: the release is stored, exactly once.
                return
            if any(entry.get("tag") == release.tag for entry in entries):
                raise AlreadyExistsError(
                    f"{self.location} already has a release tagged {release.tag!r}; release "
                    "tags are unique and a release is never overwritten"
                )
            data = json.dumps([*entries, release.to_dict()], indent=4) + "\n"
            try:
                with storage_errors(f"writing {self.location}"):
                    self.backend.replace_if_unchanged(self.path, data.encode("utf-8"), token)
            except StaleTokenError:
                lost_a_race = True
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.25)
                continue
            return
        raise ConflictError(
            f"gave up adding release {release.tag!r} to {self.location} after "
            f"{MAX_RELEASE_ATTEMPTS} attempts: other writers kept adding releases. Nothing was "
            "written; try again."
        )


def _same_release(entry: object, mine: dict[str, Any]) -> bool:
    """Tell whether a stored entry is this release (same tag, artifacts and time)."""
    if not isinstance(entry, dict):
        return False
    return (
        entry.get("tag") == mine["tag"]
        and [list(pair) for pair in entry.get("artifacts", [])]
        == [list(p) for p in mine["artifacts"]]
        and entry.get("created_at") == mine["created_at"]
    )
