"""The repository store interface: what a store must do, and what it may declare it can.

:class:`AbstractRepositoryStore` is the contract between :class:`~archivist.Repository` and
where its data lives, as zarr's ``abc/store.py`` is for zarr: a few primitives (read and
commit the manifest with a state token, write and read a version's file) and capability
flags for the rest (journals, deletes, listing, being remote) plus the side documents the
store owns (aliases, releases). The default implementation is
:class:`~archivist.stores.ManifestStore`; ``archivist.testing.RepositoryStoreTests`` checks
any implementation.
"""

from __future__ import annotations

import builtins
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import IO, TYPE_CHECKING, Literal, NamedTuple

from archivist._formats.hashes import BlockList, Digest, FileDigests
from archivist._io.streams import digest_stream
from archivist.errors import UnsupportedOperationError
from archivist.manifest import ManifestIndex, VersionRecord
from archivist.stores._documents import ManifestDocument

if TYPE_CHECKING:
    from archivist._io.progress import ProgressCallback
    from archivist.stores._aliases import AliasStore
    from archivist.stores._kept_digests import KeptDigestsDocument
    from archivist.stores._releases import AbstractReleaseStore

__all__ = ["AbstractRepositoryStore", "Capability", "ManifestSnapshot"]

#: A capability an operation may need of a store (see :meth:`AbstractRepositoryStore.require`).
Capability = Literal["supports_journals", "supports_deletes", "supports_listing"]
_CAPABILITIES: dict[Capability, str] = {
    "supports_journals": "keeps save journals (the proof that a file is an uncommitted save's)",
    "supports_deletes": "can delete a version's file",
    "supports_listing": "can list its files",
}


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

    @property
    def manifest_path(self) -> str | None:
        """The manifest file's path in its backend's form, if the store keeps it in a file.

        Returns
        -------
        str or None
            ``None`` (the default): the manifest is not a file (lazyscribe's ``fpath`` of
            the repository is then ``None``).
        """
        return None

    def exclusive(self) -> AbstractContextManager[bool]:
        """Keep other archivist writers from committing the manifest during the block.

        A commit that lost a race retries inside it (see
        :func:`archivist.stores._documents.update`).

        Returns
        -------
        contextlib.AbstractContextManager[bool]
            Its value tells whether it serializes writers; the default does nothing
            (``False``): the store's compare-and-swap alone keeps commits safe.
        """
        return contextlib.nullcontext(False)

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
        self,
        name: str,
        fname: str,
        write: Callable[[IO[bytes]], None],
        *,
        callback: ProgressCallback | None = None,
    ) -> FileDigests:
        """Create a version's file by streaming into it, only if it does not exist yet.

        Parameters
        ----------
        name : str
            The artifact name.
        fname : str
            The file name.
        write : Callable[[IO[bytes]], None]
            Writes the content to the byte stream it is given.
        callback : fsspec.callbacks.Callback, optional
            Told (``relative_update``) the bytes as the storage takes them (see
            :meth:`archivist.storage.Backend.open_new`); given only when a save reports
            progress, and only to a ``write_file`` that takes it (one written before is
            reported each file whole, once written).

            .. versionadded:: 0.2.0

        Returns
        -------
        FileDigests
            The SHA-256, BLAKE3, size and (past
            :data:`~archivist._formats.hashes.BLOCKS_AFTER` bytes) block list of what was
            written, hashed once, in the pass that wrote it
            (:class:`~archivist._io.streams.HashingWriter`).

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
    def open_file(
        self, name: str, fname: str, digest: Digest | str | None, size: int | None
    ) -> IO[bytes]:
        """Open a version's file for reading, verified against its digest and size.

        Parameters
        ----------
        name, fname : str
            The artifact name and file name.
        digest : Digest or str or None
            The expected digest (:attr:`VersionRecord.digest`: BLAKE3 when the record has
            one; a string is a SHA-256), or ``None`` to skip verification (records
            lazyscribe wrote).
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
            The file does not match ``digest`` or ``size``.
        """

    def check_file(
        self,
        name: str,
        fname: str,
        digest: Digest | str | None,
        size: int | None,
        blocks: BlockList | None = None,
    ) -> None:
        """Check a version's file against its digest and size, without deserializing it.

        Parameters
        ----------
        name, fname : str
            The artifact name and file name.
        digest : Digest or str or None
            The expected digest (a string is a SHA-256), or ``None`` to check only that the
            file is there.
        size : int or None
            The expected size, or ``None``.
        blocks : BlockList, optional
            The file's block list, checked block by block in the same pass (the default
            implementation checks only the whole file).

        Raises
        ------
        archivist.errors.ArtifactNotFoundError
            The file is missing.
        archivist.errors.IntegrityError
            The file does not match, or is not a regular file. The default opens it with
            :meth:`open_file`.
        """
        self.open_file(name, fname, digest, size).close()

    def read_block_list(self, record: VersionRecord) -> BlockList | None:
        """Read a version's block list, verified against its record's ``blocks``.

        Parameters
        ----------
        record : VersionRecord
            A record with ``blocks``.

        Returns
        -------
        BlockList or None
            The BLAKE3 of each block; ``None`` from a store that keeps no block lists (the
            default).

        Raises
        ------
        archivist.errors.IntegrityError
            The block list is missing, changed, or made for other bytes.
        """
        return None

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

    def kept_digests(self) -> KeptDigestsDocument | None:
        """Return the document keeping the digests archivist computed (default: none).

        Returns
        -------
        KeptDigestsDocument or None
            ``None``: the store keeps none, so a record that loses its digest to a foreign
            rewrite of the manifest stays without one (see
            :mod:`archivist.stores._digests`).
        """
        return None

    # -- save journals (archivist._commit.journal); the defaults keep none: gc deletes nothing

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
