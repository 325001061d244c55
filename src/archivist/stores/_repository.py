"""The default repository store: ``repository.json`` and one folder per artifact, on a Backend.

:class:`ManifestStore` implements :class:`~archivist.stores.AbstractRepositoryStore` (the
interface is in :mod:`archivist.stores._interface`, re-exported here): it reads the manifest
with its state token, commits a new manifest against that token, writes and reads the
versions' files, keeps save journals in the manifest's private folder, and owns the side
documents beside the manifest (the alias file and ``releases.json``).
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import operator
import os
import posixpath
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import IO, Any, cast

from archivist._backends.base import Backend
from archivist._formats.digests import DIGESTS_FILE
from archivist._formats.hashes import BlockList, Digest, FileDigests
from archivist._formats.names import (
    alias_file_name,
    block_list_parts,
    check_stored_name,
    private_folder_name,
)
from archivist._io.paths import delete_owned, path_under, relative_parts
from archivist._io.progress import ProgressCallback
from archivist._io.ranged import RangedReader
from archivist._io.streams import HashingWriter
from archivist._io.verified import check_stored, open_stored
from archivist.errors import (
    AlreadyExistsError,
    ArtifactFileNotFoundError,
    IntegrityError,
    InvalidNameError,
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
from archivist.stores import _index_cache as index_cache
from archivist.stores._aliases import AliasStore
from archivist.stores._interface import AbstractRepositoryStore, Capability, ManifestSnapshot
from archivist.stores._kept_digests import KeptDigestsDocument
from archivist.stores._locations import open_location, storage_errors
from archivist.stores._releases import ReleaseStore

__all__ = ["AbstractRepositoryStore", "Capability", "ManifestSnapshot", "ManifestStore"]

#: Protocols whose files are on this machine: no cache in front of them by default.
_LOCAL_PROTOCOLS = frozenset({"file", "local", "memory"})

#: Save journals are ``<id>.journal`` in the manifest's private folder.
_JOURNAL_SUFFIX = ".journal"


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
        self.private_folder = path_under(
            self.folder, private_folder_name(posixpath.basename(self.path))
        )
        #: The manifest as last read or committed: (token, text, records, index columns).
        #: A commit against that token that only appends records splices their lines into
        #: the text (and extends the columns).
        #: The kept digests document, made once (it remembers its last state).
        self._kept: KeptDigestsDocument | None = None
        self._last: (
            tuple[str, bytes, Sequence[VersionRecord], index_cache.IndexColumns | None] | None
        ) = None

    def __repr__(self) -> str:
        return f"ManifestStore({self.location!r})"

    @property
    def is_remote(self) -> bool:  # type: ignore[override]
        """Whether the backend is another machine's (any but the local disk and memory)."""
        return not _LOCAL_PROTOCOLS & set(type(self.backend).protocols)

    @property
    def manifest_path(self) -> str:
        """The path of ``repository.json`` (or whatever the manifest is named)."""
        return self.path

    def _beside(self, file_name: str) -> tuple[str, str]:
        """Return the path and location (URL or path) of a file beside the manifest."""
        path = path_under(self.folder, file_name, what="a file beside the manifest")
        return path, path if self.location == self.path else self.backend.to_url(path)

    def aliases(self) -> AliasStore:
        """Return the alias file beside the manifest (``repository.aliases.json``)."""
        path, location = self._beside(alias_file_name(posixpath.basename(self.path)))
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
        elif len(data) >= index_cache.MIN_BYTES:
            cached = index_cache.cache_enabled()
            digest = self._digest(data, token) if cached else ""
            if cached:
                columns = index_cache.load_columns(self.location, digest, len(data))
            if columns is not None and not columns.fits(data):
                columns = None  # a forged or foreign file: parse, and save good columns
            parsed = None
            if columns is None:  # parse once, indexing as it goes (no record built if it can)
                columns, parsed = index_cache.parse_columns(data, self.location)
                if columns is not None and cached:
                    index_cache.save_columns(self.location, digest, columns)
            if parsed is not None:
                records = parsed
            else:
                assert columns is not None  # parse_columns gives records when no columns
                index = columns.index(data, self.location)
                records = index.records
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

    def exclusive(self) -> AbstractContextManager[bool]:
        """Hold the manifest's writer lock where the backend has one (local disk)."""
        return self.backend.exclusive(self.path)

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
        """Return the path of a version's file; a name leaving the folder is refused."""
        return path_under(self.folder, name, fname, what=f"the file {fname!r} of {name!r}")

    def check_new_file(self, name: str, fname: str) -> None:
        """Refuse a name that clashes with a file beside the manifest, or a path too long.

        An artifact's folder sits beside the manifest, so an artifact may not take a name
        archivist keeps there (:func:`archivist._formats.names.check_name_beside`: the manifest's
        own name, its alias file, its private folder, ``repository.json``,
        ``releases.json``, ``project.json``; compared ignoring case, as macOS and Windows
        do).
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
        self,
        name: str,
        fname: str,
        write: Callable[[IO[bytes]], None],
        *,
        callback: ProgressCallback | None = None,
    ) -> FileDigests:
        """Stream a new file into place with write-if-absent, hashing it on the way.

        A large file's block list, computed in the same pass, is then written as its side
        object (:meth:`read_block_list`); if that fails, the new file is removed again.
        """
        path = self._file_path(name, fname)
        where = path if self.location == self.path else self.backend.to_url(path)
        try:
            with (
                storage_errors(f"writing {where}"),
                self.backend.open_reporting(path, callback) as raw,
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
        digests = hashing.digests
        if digests.blocks is not None:
            try:
                self._write_block_list(name, fname, digests.blocks)
            except BaseException:
                with contextlib.suppress(Exception):  # ours, just written, named by nothing
                    delete_owned(self.backend, self.folder, path)
                raise
        return digests

    def _block_list_path(self, name: str, fname: str) -> str:
        """Return the path of a version's block list (see :func:`block_list_parts`)."""
        return path_under(
            self.private_folder,
            *block_list_parts(name, fname),
            what=f"the block list of {fname!r} of {name!r}",
        )

    def _write_block_list(self, name: str, fname: str, blocks: BlockList) -> None:
        path = self._block_list_path(name, fname)
        where = path if self.location == self.path else self.backend.to_url(path)
        try:
            with storage_errors(f"writing {where}"), self.backend.open_new(path) as raw:
                raw.write(blocks.to_bytes())
        except FileExistsError:
            raise AlreadyExistsError(
                f"{where} already exists (the block list of a file no longer there); "
                "archivist never overwrites a stored file: delete it, or save under another "
                "file name"
            ) from None

    def read_block_list(self, record: VersionRecord) -> BlockList:
        """Read a version's block list, verified against its record.

        Parameters
        ----------
        record : VersionRecord
            A record with ``blocks`` (and so ``blake3`` and ``size``).

        Returns
        -------
        BlockList
            The BLAKE3 of each block, after checking the side object against the record's
            ``blocks.blake3`` and that it names the record's whole-file BLAKE3 and size.

        Raises
        ------
        archivist.errors.IntegrityError
            The record has no block list, or the side object is missing, changed, or made
            for other bytes.
        """
        ref, blake3, size = record.blocks, record.blake3, record.size
        if ref is None or blake3 is None or size is None:
            raise IntegrityError(
                f"version {record.version} of {record.name!r} records no block list"
            )
        path = self._block_list_path(record.name, record.fname)
        where = path if self.location == self.path else self.backend.to_url(path)
        try:
            with storage_errors(f"reading {where}"):
                stream = open_stored(
                    self.backend, path, where, Digest("blake3", ref.blake3), ref.size, _RECORD
                )
        except FileNotFoundError:
            raise IntegrityError(
                f"the block list of version {record.version} of {record.name!r} is missing: {where}"
            ) from None
        with stream:
            return BlockList.parse(stream.read(), where, blake3, size)

    def make_durable(self, files: Sequence[tuple[str, str]]) -> None:
        """Ask the backend to flush the new files (local disk: fsync) before the commit."""
        with storage_errors(f"flushing new files under {self.folder}"):
            self.backend.sync([self._file_path(name, fname) for name, fname in files])

    def open_file(
        self, name: str, fname: str, digest: Digest | str | None, size: int | None
    ) -> IO[bytes]:
        """Open a version's file: read it once, bounded, and return the bytes that matched."""
        where = self.file_location(name, fname)
        with self._reading(name, fname):
            return open_stored(
                self.backend, self._file_path(name, fname), where, digest, size, _RECORD
            )

    def open_ranged(self, record: VersionRecord) -> RangedReader:
        """Open a large version's file for verified ranged reads (see :mod:`archivist._io.ranged`).

        Only the blocks covering what is read are fetched (all missing ones in one call of
        :meth:`~archivist.Backend.read_ranges`: concurrent ranged GETs on an object store),
        each checked against the version's block list before any byte of it is returned.

        Parameters
        ----------
        record : VersionRecord
            A record with ``blocks`` (a file past 8 MiB that archivist wrote).

        Returns
        -------
        RangedReader
            A read-only, seekable binary file of the recorded size; the caller closes it.

        Raises
        ------
        archivist.errors.IntegrityError
            The record has no block list, or it is missing, changed or made for other
            bytes; reading a block that does not match it raises too, naming the block.
        """
        blocks = self.read_block_list(record)
        name, fname = record.name, record.fname
        path = self._file_path(name, fname)

        def fetch(spans: Sequence[tuple[int, int]]) -> list[bytes]:
            with self._reading(name, fname):
                return self.backend.read_ranges(path, spans)

        return RangedReader(fetch, blocks, self.file_location(name, fname))

    def check_file(
        self,
        name: str,
        fname: str,
        digest: Digest | str | None,
        size: int | None,
        blocks: BlockList | None = None,
    ) -> None:
        """Hash a version's file in one bounded pass, keeping none of its bytes."""
        where = self.file_location(name, fname)
        path = self._file_path(name, fname)
        with self._reading(name, fname):
            check_stored(self.backend, path, where, digest, size, _RECORD, blocks)

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
        """Delete a version's file and its block list, through the one owned deletion.

        The block list (in the private folder) belongs to the file: it goes with it, and
        only with it.
        """
        path = self._file_path(name, fname)
        with storage_errors(f"deleting {self.file_location(name, fname)}"):
            delete_owned(self.backend, self.folder, path)
        side = self._block_list_path(name, fname)
        with storage_errors(f"deleting the block list {side}"):
            delete_owned(self.backend, self.private_folder, side, missing_ok=True)

    def kept_digests(self) -> KeptDigestsDocument:
        """Return the kept digests in the private folder (``.<manifest>.archivist/``)."""
        if self._kept is None:
            path = path_under(self.private_folder, DIGESTS_FILE, what="the kept digests")
            location = path if self.location == self.path else self.backend.to_url(path)
            self._kept = KeptDigestsDocument(self.backend, path, location)
        return self._kept

    def _journal_path(self, journal_id: str) -> str:
        """Return a journal's path: one file directly in the private folder."""
        if len(relative_parts(journal_id, "a save journal's id")) != 1:
            raise InvalidNameError(f"a save journal's id may not hold '/': {journal_id!r}")
        return path_under(
            self.private_folder, f"{journal_id}{_JOURNAL_SUFFIX}", what="a save journal"
        )

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
            journal_id = relative[: -len(_JOURNAL_SUFFIX)]
            if relative.endswith(_JOURNAL_SUFFIX) and _plain_part(journal_id):
                ids.append(journal_id)
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
                        delete_owned(self.backend, self.folder, path)
                except FileNotFoundError:
                    continue
                removed.append(path if self.location == self.path else self.backend.to_url(path))
        return removed

    def delete_journal(self, journal_id: str) -> None:
        """Delete a save journal (a missing one is no error), under the private folder only."""
        path = self._journal_path(journal_id)
        with storage_errors(f"deleting save journal {journal_id}"):
            delete_owned(self.backend, self.private_folder, path, missing_ok=True)

    def list_files(self) -> Iterator[tuple[str, str]]:
        """Yield ``(name, fname)`` of every file in the artifact folders."""
        prefix = self.folder.rstrip("/") + "/"
        with storage_errors(f"listing {self.folder}"):
            paths = list(self.backend.list(self.folder))
        for path in paths:
            if not path.startswith(prefix):
                continue
            parts = path[len(prefix) :].split("/")
            # a version's file is <name>/<fname>, fname possibly in sub-folders; a folder
            # starting with "." is never part of one (archivist's own bookkeeping), and a
            # path no record could name (an empty or '..' part) is none either
            if (
                len(parts) >= 2
                and not any(part.startswith(".") for part in parts[:-1])
                and all(map(_plain_part, parts))
            ):
                yield parts[0], "/".join(parts[1:])


def _plain_part(part: str) -> bool:
    """Tell whether one listed path part could be a stored name (:func:`check_stored_name`)."""
    try:
        check_stored_name(part, "a listed name")
    except InvalidNameError:
        return False
    return True


_RECORD = "its manifest record"
