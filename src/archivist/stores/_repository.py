"""Repository stores: a manifest with its state token, and the versions' files.

:class:`AbstractRepositoryStore` reads a manifest with its state token, commits a new
manifest against that token, and writes and reads the versions' files. Its default,
:class:`ManifestStore`, keeps ``repository.json`` and the files on any
:class:`~archivist.Backend`.
"""

from __future__ import annotations

import builtins
import hashlib
import operator
import os
import posixpath
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import IO, Any, Literal, NamedTuple, cast

from archivist import _index_cache as index_cache
from archivist._aliases import alias_file_path
from archivist._io.verified import check_stored, open_stored
from archivist._streams import HashingWriter, digest_stream
from archivist.errors import (
    AlreadyExistsError,
    ArtifactFileNotFoundError,
    InvalidNameError,
    UnsupportedOperationError,
)
from archivist.manifest import (
    Chain,
    ManifestIndex,
    VersionRecord,
    check_name_beside,
    parse_manifest,
    serialize_manifest,
    splice_manifest,
)
from archivist.storage.base import Backend
from archivist.stores._aliases import AliasStore
from archivist.stores._documents import ManifestDocument
from archivist.stores._locations import open_location, storage_errors
from archivist.stores._releases import AbstractReleaseStore, ReleaseStore

__all__ = ["AbstractRepositoryStore", "Capability", "ManifestSnapshot", "ManifestStore"]

#: A capability an operation may need of a store (see :meth:`AbstractRepositoryStore.require`).
Capability = Literal["supports_journals", "supports_deletes", "supports_listing"]
_CAPABILITIES: dict[Capability, str] = {
    "supports_journals": "keeps save journals (the proof that a file is an uncommitted save's)",
    "supports_deletes": "can delete a version's file",
    "supports_listing": "can list its files",
}
#: Protocols whose files are on this machine: no cache in front of them by default.
_LOCAL_PROTOCOLS = frozenset({"file", "local", "memory"})

#: Save journals are ``<id>.journal`` in the manifest's private folder.
_JOURNAL_SUFFIX = ".journal"


class ManifestSnapshot(NamedTuple):
    """A manifest as read: its records and the token naming that state.

    Attributes
    ----------
    records : Sequence[VersionRecord]
        The records in manifest order (empty when there is no manifest yet). A store may
        return a lazy sequence that builds each record when first used.
    token : str or None
        The state token, ``None`` when no manifest exists.
    indexed : ManifestIndex or None
        The records indexed by name, when the store has one at hand (``None``: the reader
        indexes ``records``).
    """

    records: Sequence[VersionRecord]
    token: str | None
    indexed: ManifestIndex | None = None


class AbstractRepositoryStore(ABC):
    """Where a repository's manifest, its files and its side documents live.

    A store implements a few primitives (:meth:`read`, :meth:`commit`, :meth:`write_file`,
    :meth:`open_file`, :meth:`file_location`) and declares what else it can do, as
    capability flags; an operation that needs a capability the store lacks refuses with
    :class:`~archivist.errors.UnsupportedOperationError` naming it (:meth:`require`),
    rather than quietly doing less. Side documents (aliases, releases) are the store's
    too: :meth:`aliases` and :meth:`releases` return them, or ``None`` when the store
    keeps none. ``archivist.testing.RepositoryStoreTests`` is the conformance kit.

    Attributes
    ----------
    location : str
        The manifest's URL or absolute path, for messages and hooks.
    write_concurrency : int
        How many :meth:`write_file` calls of one save may run at once, on threads. The
        default, 1, writes one file after another; a thread-safe store raises it.
    supports_journals : bool
        Save journals are stored (:meth:`write_journal` and the rest), so ``gc`` can prove
        a file an uncommitted save's; without them ``gc`` refuses. Default ``False``.
    supports_deletes : bool
        :meth:`delete_file` deletes; without it ``gc`` and ``prune`` refuse. Default
        ``False``.
    supports_listing : bool
        :meth:`list_files` lists the stored files. Default ``False``.
    is_remote : bool
        Reads cross a network, so loads use the local cache by default. Default ``False``.
    """

    location: str
    write_concurrency: int = 1
    supports_journals: bool = False
    supports_deletes: bool = False
    supports_listing: bool = False
    is_remote: bool = False

    def require(self, capability: Capability, operation: str) -> None:
        """Refuse ``operation`` unless this store declares ``capability``.

        Parameters
        ----------
        capability : {"supports_journals", "supports_deletes", "supports_listing"}
            The flag the operation needs.
        operation : str
            The operation, for the message (``"gc"``).

        Raises
        ------
        archivist.errors.UnsupportedOperationError
            The store does not declare the capability.
        """
        if not getattr(self, capability):
            raise UnsupportedOperationError(
                f"{operation} needs a store that {_CAPABILITIES[capability]} "
                f"({capability}); {self!r} declares {capability} = False, so {operation} "
                "cannot run on it"
            )

    def manifest(self) -> ManifestDocument:
        """Return the manifest as a document, for :func:`archivist.stores._documents.update`.

        Returns
        -------
        ManifestDocument
            Reads with :meth:`read`, replaces with :meth:`commit`.
        """
        return ManifestDocument(self)

    def aliases(self) -> AliasStore | None:
        """Return the document holding this repository's aliases (default: none).

        Returns
        -------
        AliasStore or None
            ``None``: the store keeps no aliases; alias calls refuse, and nothing is
            pinned by an alias.
        """
        return None

    def releases(self) -> AbstractReleaseStore | None:
        """Return the release store beside this repository, whose releases pin versions.

        Returns
        -------
        AbstractReleaseStore or None
            ``None`` (the default): no releases are kept beside the repository, so none
            pins a version against ``prune``.
        """
        return None

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

    def read_authoritative(self) -> ManifestSnapshot:
        """Read the manifest by parsing all of it, never answering from an index cache.

        Everything that deletes (gc, prune, ``verify``'s orphan listing) decides from this
        read: an index cache is a performance hint that a forger could have written.

        Returns
        -------
        ManifestSnapshot
            As :meth:`read`; the default is :meth:`read` (a store without an index cache
            always parses in full).

        Raises
        ------
        archivist.errors.ManifestError
            The manifest is corrupt or breaks the contract.
        """
        return self.read()

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

    def delete_file(self, name: str, fname: str) -> None:
        """Delete a version's file (used to clean up files no commit references).

        Parameters
        ----------
        name, fname : str
            The artifact name and file name.

        Raises
        ------
        archivist.errors.UnsupportedOperationError
            The store does not support deletes (the default; see ``supports_deletes``).
        """
        self.require("supports_deletes", "deleting a file")

    def list_files(self) -> Iterator[tuple[str, str]]:
        """Yield ``(name, fname)`` for every file stored in the artifact folders.

        Yields
        ------
        tuple[str, str]
            The artifact name and file name.

        Raises
        ------
        archivist.errors.UnsupportedOperationError
            The store cannot list (the default; see ``supports_listing``).
        """
        self.require("supports_listing", "listing files")
        return iter(())

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
        self,
        name: str,
        fname: str,
        since: datetime,
        dry_run: bool = False,
        only: Collection[str] | None = None,
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
        only : Collection[str], optional
            Only leftovers at these locations (as this method returns them): a gc plan's.

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

    supports_journals = True
    supports_deletes = True
    supports_listing = True

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
        #: The manifest as last read or committed: (token, text, records, index columns).
        #: A commit against that token that only appends records splices their lines into
        #: the text (and extends the columns).
        self._last: (
            tuple[str, bytes, Sequence[VersionRecord], index_cache.IndexColumns | None] | None
        ) = None

    def __repr__(self) -> str:
        return f"ManifestStore({self.location!r})"

    @property
    def is_remote(self) -> bool:  # type: ignore[override]
        """Whether the backend is another machine's (any but the local disk and memory)."""
        return not _LOCAL_PROTOCOLS & set(type(self.backend).protocols)

    def _beside(self, file_name: str) -> tuple[str, str]:
        """Return the path and location (URL or path) of a file beside the manifest."""
        path = self.backend.join(self.folder, file_name)
        return path, path if self.location == self.path else self.backend.to_url(path)

    def aliases(self) -> AliasStore:
        """Return the alias file beside the manifest (``repository.aliases.json``)."""
        path, location = self._beside(posixpath.basename(alias_file_path(self.path)))
        return AliasStore(self.backend, path, location)

    def releases(self) -> ReleaseStore:
        """Return ``releases.json`` beside the manifest."""
        _, location = self._beside("releases.json")
        return ReleaseStore(location, backend=self.backend)

    @property
    def write_concurrency(self) -> int:  # type: ignore[override]
        """As many concurrent writes as the backend allows (its ``write_concurrency``)."""
        return self.backend.write_concurrency

    def read(self) -> ManifestSnapshot:
        """Read the manifest and its token (empty when absent)."""
        return self._read(use_index=True)

    def read_authoritative(self) -> ManifestSnapshot:
        """Read and parse the whole manifest, never from the index cache (for deletions)."""
        return self._read(use_index=False)

    def _read(self, use_index: bool) -> ManifestSnapshot:
        try:
            with storage_errors(f"reading {self.location}"):
                data, token = self.backend.read_with_token(self.path)
        except FileNotFoundError:
            return ManifestSnapshot([], None)
        return self._parsed(data, token, use_index)

    def _parsed(self, data: bytes, token: str, use_index: bool = True) -> ManifestSnapshot:
        """Index the manifest text: from the index cache when it holds this text's columns."""
        index: ManifestIndex | None = None
        columns: index_cache.IndexColumns | None = None
        if not use_index:
            records: Sequence[VersionRecord] = parse_manifest(data, self.location)
        elif len(data) >= index_cache.MIN_BYTES and index_cache.cache_enabled():
            digest = self._digest(data, token)
            columns = index_cache.load_columns(self.location, digest, len(data))
            if columns is not None and not columns.fits(data):
                columns = None  # a forged or foreign file: parse, and save good columns
            if columns is not None:
                index = columns.index(data, self.location)
                records = index.records
            else:
                records = parse_manifest(data, self.location)
                columns = index_cache.IndexColumns.build(records, data)
                if columns is not None:
                    index_cache.save_columns(self.location, digest, columns)
        else:
            records = parse_manifest(data, self.location)
        self._last = (token, data, records, columns)
        return ManifestSnapshot(records, token, index)

    def current_token(self) -> str | None:
        """Return the manifest's token without parsing it (object stores: no download)."""
        with storage_errors(f"reading {self.location}"):
            return self.backend.current_token(self.path)

    def read_if_changed(self, token: str | None) -> ManifestSnapshot | None:
        """Read and parse the manifest only if its token is no longer ``token``.

        One conditional read (:meth:`~archivist.Backend.read_if_changed`): on an object
        store, an unchanged manifest costs one request and none of its bytes.
        """
        try:
            with storage_errors(f"reading {self.location}"):
                found = self.backend.read_if_changed(self.path, token)
        except FileNotFoundError:
            return ManifestSnapshot([], None)
        return None if found is None else self._parsed(*found)

    def commit(self, records: Sequence[VersionRecord], token: str | None) -> str:
        """Compare-and-swap the manifest.

        When ``token`` names the manifest this store last read or committed and ``records``
        are its records (the same objects, in order) followed by new ones, the new records'
        lines are spliced into the text before its closing bracket: O(new records), and byte
        for byte what serializing every record writes. Otherwise every record is serialized.
        """
        data = self._spliced(records, token)
        base_columns = None
        if data is None:
            data = serialize_manifest(records)
        elif self._last is not None:
            base_columns = self._last[3]
        with storage_errors(f"writing {self.location}"):
            new_token = self.backend.replace_if_unchanged(self.path, data, token)
        columns = None
        if len(data) >= index_cache.MIN_BYTES and index_cache.cache_enabled():
            columns = index_cache.columns_from(records, data, base_columns)
            if columns is not None:
                index_cache.save_columns(self.location, self._digest(data, new_token), columns)
        self._last = (
            new_token,
            data,
            records if isinstance(records, Chain) else list(records),
            columns,
        )
        return new_token

    def _digest(self, data: bytes, token: str) -> str:
        """Return the SHA-256 of manifest text ``data`` read or written with ``token``."""
        return token if self.backend.sha256_tokens else hashlib.sha256(data).hexdigest()

    def _spliced(self, records: Sequence[VersionRecord], token: str | None) -> bytes | None:
        last = self._last
        if last is None or token is None or last[0] != token:
            return None
        base = last[2]
        if isinstance(records, Chain) and records.head is base:
            added = records.tail
        elif len(records) >= len(base) and all(map(operator.is_, records, base)):
            added = records[len(base) :]
        else:
            return None
        return splice_manifest(last[1], added)

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
        where = path if self.location == self.path else self.backend.to_url(path)
        try:
            with (
                storage_errors(f"writing {where}"),
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
                f"{where} already exists; archivist never overwrites a stored file"
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
        self,
        name: str,
        fname: str,
        since: datetime,
        dry_run: bool = False,
        only: Collection[str] | None = None,
    ) -> builtins.list[str]:
        """Remove the backend's leftovers of interrupted writes of a file, if recent enough."""
        target = self._file_path(name, fname)
        removed = []
        with storage_errors(f"removing partial writes of {self.file_location(name, fname)}"):
            for path in self.backend.partial_writes(target):
                location = path if self.location == self.path else self.backend.to_url(path)
                if only is not None and location not in only:
                    continue
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
