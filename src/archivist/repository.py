"""The :class:`Repository`: versioned artifacts in a folder or bucket, with no server.

A repository is a manifest (``repository.json``, a JSON array of version records) and one
folder per artifact name holding a file per version. Logging only associates a value with
the repository; :meth:`Repository.save` writes the files and commits them to the manifest
with a compare-and-swap, so concurrent writers never lose a version.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import random
import re
import secrets
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any, Literal, cast

from archivist._journal import (
    JournalEntry,
    SaveJournal,
    collect_garbage,
    settle_replaced_journals,
)
from archivist._parallel import CancellableWriter, write_all
from archivist._streams import stream_for
from archivist._versions import parse_time, parse_version
from archivist.errors import (
    AlreadyExistsError,
    ArchivistError,
    ArchivistWarning,
    ArtifactNotFoundError,
    ConflictError,
    EnvironmentMismatchError,
    IntegrityError,
    InvalidArgumentError,
    InvalidModeError,
    InvalidVersionError,
    ManifestError,
    ReadOnlyError,
    RepositoryNotFoundError,
    SerializationError,
    StaleTokenError,
    UnsavedChangesError,
    UnsupportedOperationError,
)
from archivist.handlers.base import Handler
from archivist.manifest import (
    ManifestIndex,
    VersionRecord,
    check_file_name,
    check_name,
    utcnow,
)
from archivist.plugin.manager import get_handler, plugin_manager
from archivist.stores import AbstractRepositoryStore, ManifestSnapshot, ManifestStore

__all__ = ["MAX_COMMIT_ATTEMPTS", "Mode", "Repository", "VerificationReport"]

Mode = Literal["r", "a", "w", "w+"]
_MODES = ("r", "a", "w", "w+")

#: How many times a save re-reads and re-merges the manifest after losing a race.
MAX_COMMIT_ATTEMPTS = 64
_ONE_MICROSECOND = timedelta(microseconds=1)
_SLUG = re.compile(r"[^a-z0-9]+")


def _slug(name: str) -> str:
    return _SLUG.sub("-", name.lower()).strip("-") or "artifact"


def _auto_fname(name: str, created_at: datetime, suffix: str) -> str:
    stamp = created_at.strftime("%Y%m%d%H%M%S")
    return f"{_slug(name)}-{stamp}-{secrets.token_hex(4)}" + (f".{suffix}" if suffix else "")


@dataclass
class _Pending:
    """A logged version not saved yet."""

    record: VersionRecord
    value: Any
    handler: Handler
    writer_kwargs: dict[str, Any]
    auto_fname: bool


@dataclass(frozen=True)
class VerificationReport:
    """What :meth:`Repository.verify` found.

    Attributes
    ----------
    checked : int
        Versions whose file was present and matched its digest and size.
    unverifiable : list[tuple[str, int]]
        Versions present on storage but recorded without a digest (written by lazyscribe).
    orphans : list[str]
        Files written by saves of this repository that never committed (named in a save
        journal, provably written by that save, named by no version):
        ``gc(older_than=timedelta(0))`` would remove them.
    """

    checked: int
    unverifiable: list[tuple[str, int]] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)


class Repository:
    """Versioned artifacts in a local folder or a bucket.

    Parameters
    ----------
    fpath : str or os.PathLike, optional
        The manifest's path or URL (default ``"repository.json"``); its folder holds the
        artifacts. Any protocol an installed backend serves works (``memory://``,
        ``s3://`` with ``archivist-s3``, ...).
    mode : {"r", "a", "w", "w+"}, optional
        ``r`` reads only; ``a`` reads the existing versions and only appends new ones;
        ``w+`` (the default, as in lazyscribe) also lets existing records change (expiry);
        ``w`` starts a new repository: its first save replaces the manifest.
    store : AbstractRepositoryStore, optional
        Keep the manifest and files in this store instead of the default
        :class:`~archivist.ManifestStore` at ``fpath``.
    **storage_options
        Passed to the fsspec filesystem (credentials, endpoint, ...).

    Raises
    ------
    archivist.errors.InvalidModeError
        ``mode`` is not one of the four.
    archivist.errors.RepositoryNotFoundError
        ``mode="r"`` and there is no manifest at ``fpath``.
    archivist.errors.ManifestError
        The manifest is corrupt or breaks the manifest contract.
    archivist.errors.UnknownBackendError
        No installed backend serves the URL's protocol.

    Examples
    --------
    >>> from archivist import Repository
    >>> repository = Repository("memory://docs/repository.json", mode="w")
    >>> repository.log_artifact(name="features", value=[0, 1, 2], handler="json")
    >>> repository.save()
    >>> Repository("memory://docs/repository.json", mode="r").load_artifact("features")
    [0, 1, 2]
    """

    def __init__(
        self,
        fpath: str | os.PathLike[str] = "repository.json",
        mode: Mode = "w+",
        *,
        store: AbstractRepositoryStore | None = None,
        **storage_options: Any,
    ) -> None:
        if mode not in _MODES:
            raise InvalidModeError(f"mode must be one of 'r', 'a', 'w', 'w+', got {mode!r}")
        self.mode: Mode = mode
        self.storage_options = storage_options
        self.store: AbstractRepositoryStore = (
            store if store is not None else ManifestStore(fpath, **storage_options)
        )
        self.fpath = Path(self.store.path) if isinstance(self.store, ManifestStore) else None
        self.dir = self.fpath.parent if self.fpath is not None else None
        self._pending: list[_Pending] = []
        # per name: the highest pending version number and the pending file names
        self._pending_last: dict[str, int] = {}
        self._pending_fnames: dict[str, set[str]] = {}
        self._expiry_changes: dict[tuple[str, int], datetime] = {}
        self._view: ManifestIndex | None = None
        self._fresh = mode == "w"
        if mode == "w":
            self._committed, self._token = ManifestIndex(), None
        else:
            snapshot = self.store.read()
            if snapshot.token is None and mode == "r":
                raise RepositoryNotFoundError(
                    f"no repository at {self.store.location}: there is no manifest to read. "
                    "Open it with mode='w' to create one."
                )
            self._committed, self._token = ManifestIndex(snapshot.records), snapshot.token

    # -- reading ----------------------------------------------------------------------------

    @property
    def location(self) -> str:
        """The manifest's URL or absolute path."""
        return self.store.location

    @property
    def artifacts(self) -> list[VersionRecord]:
        """Every version record, saved and pending, in manifest order."""
        return list(self._index())

    def refresh(self) -> None:
        """Re-read the manifest, to see versions other writers committed since opening.

        Pending (unsaved) versions and expiry changes are kept.
        """
        snapshot = self.store.read()
        self._committed, self._token = ManifestIndex(snapshot.records), snapshot.token
        for (name, version), expiry in self._expiry_changes.items():
            self._committed = _with_expiry(self._committed, name, version, expiry)
        self._view = None

    def _index(self) -> ManifestIndex:
        if not self._pending:
            return self._committed
        if self._view is None:
            self._view = ManifestIndex([*self._committed, *(p.record for p in self._pending)])
        return self._view

    def _find(self, name: str, version: object, match: object) -> VersionRecord:
        spec, mode = parse_version(version, match)
        index = self._index()
        if name not in index:
            names = index.names()
            shown = ", ".join(repr(n) for n in names[:20]) + (", ..." if len(names) > 20 else "")
            raise ArtifactNotFoundError(
                f"no artifact named {name!r} in {self.location}; it holds "
                + (shown if names else "no artifacts")
            )
        if spec is None:
            return index.latest(name, utcnow())
        if isinstance(spec, int):
            return index.by_number(name, spec)
        if mode == "exact":
            return index.at_time(name, spec.start, spec.precision)
        return index.as_of(name, spec.start, spec.precision)

    def _is_pending(self, record: VersionRecord) -> bool:
        return any(p.record is record for p in self._pending)

    def load_artifact(
        self,
        name: str,
        version: int | datetime | str | None = None,
        match: Literal["exact", "asof"] = "exact",
        validate: bool = True,
        **reader_kwargs: Any,
    ) -> Any:
        """Load one version of an artifact.

        Parameters
        ----------
        name : str
            The artifact name.
        version : int, datetime.datetime, str or None, optional
            ``None`` (default) for the latest version that has not expired; an int for a
            version number (negative counts from the end); a datetime or ISO 8601 string for
            the version created then (naive means UTC; a value to the second matches that
            second).
        match : {"exact", "asof"}, optional
            For times: ``exact`` needs a version created at that time; ``asof`` takes the
            newest version created at or before it that had not expired by then.
        validate : bool, optional
            Refuse (``True``, default) or only warn (``False``) when the version was written
            under a different environment than the running one (e.g. Python version).
        **reader_kwargs
            Passed to the handler's ``read``.

        Returns
        -------
        Any
            The stored value.

        Raises
        ------
        archivist.errors.ArtifactNotFoundError
            No artifact has that name, its file is missing, or the version is not saved yet.
        archivist.errors.VersionNotFoundError
            No version matches.
        archivist.errors.InvalidVersionError
            The version or match value cannot be understood.
        archivist.errors.IntegrityError
            The stored file does not match its digest.
        archivist.errors.UnknownHandlerError
            The version's handler is not installed.
        archivist.errors.EnvironmentMismatchError
            ``validate`` is true and the environment differs.
        """
        record = self._find(name, version, match)
        return self._load(record, validate, reader_kwargs)

    def _load(self, record: VersionRecord, validate: bool, reader_kwargs: dict[str, Any]) -> Any:
        if self._is_pending(record):
            raise ArtifactNotFoundError(
                f"version {record.version} of {record.name!r} is not saved yet; call save() first"
            )
        handler = get_handler(record.handler)()
        problems = handler.mismatches(record.to_dict())
        if problems:
            message = (
                f"version {record.version} of {record.name!r} was written under a different "
                "environment: " + "; ".join(problems)
            )
            if validate:
                raise EnvironmentMismatchError(message + ". Pass validate=False to load anyway.")
            warnings.warn(message, ArchivistWarning, stacklevel=3)
        with (
            self.store.open_file(record.name, record.fname, record.sha256, record.size) as raw,
            stream_for(raw, handler.binary) as stream,
        ):
            try:
                return handler.read(stream, **reader_kwargs)
            except ArchivistError:
                raise
            except Exception as exc:
                raise SerializationError(
                    f"handler {record.handler!r} could not read version {record.version} of "
                    f"{record.name!r}: {type(exc).__name__}: {exc}"
                ) from exc

    def get_artifact_metadata(
        self,
        name: str,
        version: int | datetime | str | None = None,
        match: Literal["exact", "asof"] = "exact",
    ) -> dict[str, Any]:
        """Return the manifest record of one version, as a dict.

        Parameters
        ----------
        name : str
            The artifact name.
        version : int, datetime.datetime, str or None, optional
            As in :meth:`load_artifact`.
        match : {"exact", "asof"}, optional
            As in :meth:`load_artifact`.

        Returns
        -------
        dict[str, Any]
            ``name``, ``version``, ``handler``, ``fname``, ``created_at``, ``expiry``,
            ``sha256``, ``size`` and the handler's metadata.
        """
        return self._find(name, version, match).to_dict()

    def versions(self, name: str) -> list[int]:
        """Return the version numbers of an artifact, ascending (pending ones included).

        Parameters
        ----------
        name : str
            The artifact name.

        Returns
        -------
        list[int]
            The numbers.

        Raises
        ------
        archivist.errors.ArtifactNotFoundError
            No artifact has that name.
        """
        records = self._index().versions(name)
        if not records:
            self._find(name, None, "exact")  # raises the descriptive error
        return [record.version for record in records]

    def get_version_diff(
        self,
        name: str,
        version: int | datetime | str | tuple[int | datetime | str, int | datetime | str],
        match: Literal["exact", "asof"] = "exact",
    ) -> str:
        """Return a unified diff between two versions of a text artifact.

        Parameters
        ----------
        name : str
            The artifact name.
        version : int, datetime.datetime, str, or a tuple of two of them
            One version (compared with the latest) or two versions to compare (older first).
        match : {"exact", "asof"}, optional
            As in :meth:`load_artifact`.

        Returns
        -------
        str
            The diff lines joined with newlines (empty when the files are equal).

        Raises
        ------
        archivist.errors.UnsupportedOperationError
            The versions are stored by a binary handler.
        """
        if isinstance(version, tuple):
            pair = sorted((self._find(name, v, match) for v in version), key=lambda r: r.created_at)
        else:
            pair = [self._find(name, version, match), self._find(name, None, "exact")]
        texts = []
        for record in pair:
            if self._is_pending(record):
                raise ArtifactNotFoundError(
                    f"version {record.version} of {name!r} is not saved yet; call save() first"
                )
            if get_handler(record.handler).binary:
                raise UnsupportedOperationError(
                    f"version {record.version} of {name!r} is stored by the binary handler "
                    f"{record.handler!r}; only text artifacts can be diffed"
                )
            with self.store.open_file(name, record.fname, record.sha256, record.size) as raw:
                texts.append(raw.read().decode("utf-8").splitlines())
        return "\n".join(
            difflib.unified_diff(
                texts[0],
                texts[1],
                fromfile=f"{name} v{pair[0].version}",
                tofile=f"{name} v{pair[1].version}",
                lineterm="",
            )
        )

    def filter(self, version: datetime | str | Sequence[Sequence[Any]] | Any) -> Repository:
        """Return a read-only view holding at most one version of each artifact.

        Parameters
        ----------
        version : datetime.datetime, str, sequence of (name, version) pairs, or a release
            A time: each artifact's version as of then (artifacts created later are left
            out). Pairs (for example ``release.artifacts``): exactly those versions. An
            object with an ``artifacts`` attribute (a release) is taken as its pairs.

        Returns
        -------
        Repository
            A repository in mode ``r`` over the same storage.

        Raises
        ------
        archivist.errors.UnsavedChangesError
            This repository holds unsaved versions or expiry changes.
        archivist.errors.InvalidVersionError
            A name appears twice with different versions, or the argument is not understood.
        """
        if self._pending or self._expiry_changes:
            raise UnsavedChangesError(
                "this repository holds changes that are not saved; save() before filtering"
            )
        pairs = getattr(version, "artifacts", version)
        selected: dict[str, VersionRecord] = {}
        if isinstance(pairs, datetime | str):
            spec = parse_time(pairs)
            for name in self._committed.names():
                try:
                    selected[name] = self._committed.as_of(name, spec.start, spec.precision)
                except ArchivistError:
                    continue
        elif isinstance(pairs, Sequence):
            for pair in pairs:
                if (
                    isinstance(pair, str | bytes)
                    or not isinstance(pair, Sequence)
                    or len(pair) != 2
                ):
                    raise InvalidVersionError(f"filter() takes (name, version) pairs, got {pair!r}")
                name, ver = pair[0], pair[1]
                record = self._find(name, ver, "exact")
                if name in selected and selected[name] is not record:
                    raise InvalidVersionError(
                        f"filter() got two versions of {name!r}: {selected[name].version} and "
                        f"{record.version}; a filtered repository holds one per artifact"
                    )
                selected[name] = record
        else:
            raise InvalidVersionError(
                "filter() takes a datetime, an ISO string, or a sequence of (name, version) "
                f"pairs, got {type(version).__name__}"
            )
        view = object.__new__(Repository)
        view.__dict__.update(self.__dict__)
        view.mode = "r"
        view._pending, view._expiry_changes, view._view, view._fresh = [], {}, None, False
        view._pending_last, view._pending_fnames = {}, {}
        view._committed = ManifestIndex(r for r in self._committed if selected.get(r.name) is r)
        return view

    def verify(self) -> VerificationReport:
        """Check that every committed version's file is present and matches its digest.

        Returns
        -------
        VerificationReport
            Counts, versions without a digest, and orphan files (reported, not failed).

        Raises
        ------
        archivist.errors.IntegrityError
            A file is missing or does not match; the message lists every such version.
        """
        problems: list[str] = []
        unverifiable: list[tuple[str, int]] = []
        checked = 0
        for record in self._committed:
            try:
                # open_file checks presence, and the digest where one is recorded
                self.store.open_file(record.name, record.fname, record.sha256, record.size).close()
            except (ArtifactNotFoundError, IntegrityError) as exc:
                problems.append(f"version {record.version} of {record.name!r}: {exc}")
                continue
            if record.sha256 is None:
                unverifiable.append((record.name, record.version))
            else:
                checked += 1
        orphans = collect_garbage(self.store, self._referenced(), timedelta(0), dry_run=True)
        if problems:
            raise IntegrityError(
                f"{len(problems)} version(s) in {self.location} failed verification:\n"
                + "\n".join(problems)
            )
        return VerificationReport(checked, unverifiable, orphans)

    def gc(self, older_than: timedelta = timedelta(hours=1), dry_run: bool = False) -> list[str]:
        """Delete the files of saves that never committed, and nothing else.

        A file is deleted only when a journal of a save of *this* repository names it, the
        manifest does not, and the file is provably the one that save wrote (see
        ``docs/design.md``, "Ownership"). User files, other repositories, projects, release
        files and files a manifest replaced by mode ``w`` named are never touched.

        Parameters
        ----------
        older_than : datetime.timedelta, optional
            Only saves whose journal is older than this (default one hour) are taken as
            dead; a younger one may still be running. Use zero only when no save of this
            repository is running anywhere.
        dry_run : bool, optional
            Only list what would be deleted.

        Returns
        -------
        list[str]
            The files deleted (or that would be).

        Raises
        ------
        archivist.errors.ReadOnlyError
            The repository is open in mode ``r`` (and ``dry_run`` is false).
        archivist.errors.RepositoryNotFoundError
            There is no manifest at this location: gc refuses to judge any file.
        archivist.errors.InvalidArgumentError
            ``older_than`` is negative or not a timedelta.
        """
        if not isinstance(older_than, timedelta) or older_than < timedelta(0):
            raise InvalidArgumentError(
                f"older_than must be a timedelta of zero or more, got {older_than!r}; "
                "for example timedelta(hours=1)"
            )
        if not dry_run:
            self._require_writable()
        self.refresh()  # never judge by a stale manifest: another writer may have committed
        if self._token is None:
            raise RepositoryNotFoundError(
                f"no repository at {self.location}: there is no manifest, so gc deletes "
                "nothing. Check the path."
            )
        return collect_garbage(self.store, self._referenced(), older_than, dry_run)

    def _referenced(self) -> set[tuple[str, str]]:
        referenced = {(r.name, r.fname) for r in self._committed}
        referenced |= {(p.record.name, p.record.fname) for p in self._pending}
        return referenced

    def __contains__(self, name: object) -> bool:
        return name in self._index()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for record in self._index():
            yield record.to_dict()

    def __len__(self) -> int:
        return len(self._index())

    def __repr__(self) -> str:
        pending = f", {len(self._pending)} unsaved" if self._pending else ""
        return (
            f"Repository({self.location!r}, mode={self.mode!r}: {len(self._committed)} "
            f"versions of {len(self._committed.names())} artifacts{pending})"
        )

    # -- writing ----------------------------------------------------------------------------

    def _require_writable(self) -> None:
        if self.mode == "r":
            raise ReadOnlyError(
                f"{self.location} is open read-only (mode='r'); open it with mode 'a' or 'w+' "
                "to write"
            )

    def log_artifact(
        self,
        name: str,
        value: Any,
        handler: str,
        fname: str | None = None,
        **writer_kwargs: Any,
    ) -> None:
        """Add a new version of an artifact; it is written when :meth:`save` is called.

        Parameters
        ----------
        name : str
            The artifact name (a single path component: no ``/``, not ``..``).
        value : Any
            The object to store.
        handler : str
            The alias of the handler that serializes it, for example ``"json"``.
        fname : str, optional
            The file name in the artifact's folder; by default a unique name derived from
            the artifact name, the time and a random part. File names are never reused.
        **writer_kwargs
            Passed to the handler's ``write`` (``indent=4`` for ``json``).

        Raises
        ------
        archivist.errors.ReadOnlyError
            The repository is open in mode ``r``.
        archivist.errors.InvalidNameError
            ``name`` or ``fname`` would escape the repository folder.
        archivist.errors.UnknownHandlerError
            No installed handler has that alias.
        archivist.errors.AlreadyExistsError
            ``fname`` is already used by a version of this artifact.
        """
        self._require_writable()
        check_name(name)
        handler_cls = get_handler(handler)
        created_at = utcnow()
        pending_fnames = self._pending_fnames.setdefault(name, set())
        if fname is None:
            fname = _auto_fname(name, created_at, handler_cls.suffix)
            auto = True
        else:
            check_file_name(fname)
            auto = False
            if fname in pending_fnames or fname in self._committed.fnames(name):
                raise AlreadyExistsError(
                    f"the file name {fname!r} is already used by a version of {name!r}; "
                    "archivist never overwrites a stored file. Omit fname for a unique one."
                )
        version = max(self._committed.last_version(name), self._pending_last.get(name, -1)) + 1
        record = VersionRecord(
            name=name,
            version=version,
            handler=handler_cls.alias,
            fname=fname,
            created_at=created_at,
        )
        self._pending.append(_Pending(record, value, handler_cls(), dict(writer_kwargs), auto))
        self._pending_last[name] = version
        pending_fnames.add(fname)
        self._view = None

    def set_artifact_expiry(
        self,
        name: str,
        version: int | datetime | str | None = None,
        match: Literal["exact", "asof"] = "exact",
        expiry: datetime | str | None = None,
    ) -> None:
        """Set when a version expires: from then on latest and as-of lookups skip it.

        Parameters
        ----------
        name : str
            The artifact name.
        version : int, datetime.datetime, str or None, optional
            The version, as in :meth:`load_artifact` (default: the latest).
        match : {"exact", "asof"}, optional
            As in :meth:`load_artifact`.
        expiry : datetime.datetime, str or None, optional
            When it expires (naive means UTC); ``None`` means now.

        Raises
        ------
        archivist.errors.ReadOnlyError
            Mode ``r``, or mode ``a`` for a saved version (``a`` only appends; use ``w+``).
        archivist.errors.InvalidVersionError
            ``expiry`` cannot be understood.
        """
        self._require_writable()
        record = self._find(name, version, match)
        when = utcnow() if expiry is None else parse_time(expiry, "expiry").start
        for pending in self._pending:
            if pending.record is record:
                pending.record = record.replace(expiry=when)
                self._view = None
                return
        if self.mode == "a":
            raise ReadOnlyError(
                "mode 'a' only appends new versions; open the repository with mode 'w+' to "
                "change saved records such as expiry"
            )
        self._expiry_changes[(record.name, record.version)] = when
        self._committed = _with_expiry(self._committed, record.name, record.version, when)
        self._view = None

    def save(self) -> None:
        """Write the new versions' files, then commit them to the manifest.

        Files go first, each under a fresh name with write-if-absent; then the manifest is
        re-read, this save's versions are numbered after each name's current last version,
        and the manifest is replaced only if nobody committed in between (else it retries).
        A crash at any point leaves the repository at its old or its new state.

        Raises
        ------
        archivist.errors.ReadOnlyError
            The repository is open in mode ``r``.
        archivist.errors.SerializationError
            A handler could not write a value; nothing was committed and the files this save
            wrote were removed.
        archivist.errors.ConflictError
            Other writers kept committing for :data:`MAX_COMMIT_ATTEMPTS` rounds.
        """
        self._require_writable()
        if not self._pending and not self._expiry_changes and not self._fresh:
            return
        journal = SaveJournal.begin(
            self.store,
            [JournalEntry(p.record.name, p.record.fname, p.auto_fname) for p in self._pending],
        )
        new_records = self._write_files(journal)
        added = self._commit_written(new_records, journal)
        self._pending.clear()
        self._pending_last.clear()
        self._pending_fnames.clear()
        self._expiry_changes.clear()
        self._view = None
        self._fresh = False
        if added:
            plugin_manager().hook.archivist_after_commit(
                location=self.location, versions=[record.to_dict() for record in added]
            )

    def _commit_written(
        self, new_records: list[VersionRecord], journal: SaveJournal
    ) -> list[VersionRecord]:
        """Make the written files durable and commit them; settle the files on failure.

        Before the manifest's conditional replace is attempted, a failure removes the files
        (nothing can reference them). From then on, whatever the failure (a lost
        acknowledgement, an error after the write, Ctrl-C), the files are removed only when
        a re-read proves the commit did not land; otherwise they stay, and when they were in
        fact never committed, :meth:`gc` collects them through the save's journal.
        """
        try:
            journal.record_written(new_records)
            self.store.make_durable([(record.name, record.fname) for record in new_records])
        except BaseException:
            self._remove_files(new_records)
            journal.close()
            raise
        try:
            added = self._commit(new_records, journal.id)
        except BaseException:
            self._settle_failed_commit(new_records, journal)
            raise
        journal.close()
        return added

    def _settle_failed_commit(self, new_records: list[VersionRecord], journal: SaveJournal) -> None:
        """After a failed commit, remove this save's files only if it provably did not land."""
        if not new_records:
            return
        try:
            snapshot = self.store.read()
            named = {(record.name, record.fname) for record in snapshot.records}
            if any((record.name, record.fname) in named for record in new_records):
                journal.close()  # it landed: the files are committed data
                return
            if not journal.exists():
                # Another writer settled the journal: a mode "w" save replaced a manifest
                # that named these files. Files a replaced manifest named are kept.
                return
        except BaseException:
            return
        self._remove_files(new_records)
        journal.close()

    def _write_files(self, journal: SaveJournal) -> list[VersionRecord]:
        try:
            return write_all(
                self._pending,
                lambda pending, stop: self._write_one(pending, journal, stop),
                self._remove_files,
                self.store.write_concurrency,
            )
        except BaseException:
            journal.close()
            raise

    def _write_one(
        self, pending: _Pending, journal: SaveJournal, stop: threading.Event | None = None
    ) -> VersionRecord:
        record, handler = pending.record, pending.handler

        def write(raw: IO[bytes]) -> None:
            if stop is not None:  # a concurrent save: stop writing when it gives up
                raw = cast("IO[bytes]", CancellableWriter(raw, stop))
            with stream_for(raw, handler.binary) as stream:
                try:
                    handler.write(pending.value, stream, **pending.writer_kwargs)
                except ArchivistError:
                    raise
                except Exception as exc:
                    raise SerializationError(
                        f"handler {record.handler!r} could not write {record.name!r}: "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc

        try:
            metadata = dict(handler.metadata(pending.value))
        except Exception as exc:
            raise SerializationError(
                f"handler {record.handler!r} could not describe {record.name!r}: {exc}"
            ) from exc
        clash = sorted(
            set(metadata)
            & {
                "name",
                "version",
                "handler",
                "fname",
                "created_at",
                "expiry",
                "sha256",
                "size",
                "source",
            }
        )
        if clash:
            raise SerializationError(
                f"handler {record.handler!r} returned metadata that would overwrite the record "
                f"field(s) {', '.join(clash)}"
            )
        for _ in range(8):
            try:
                sha256, size = self.store.write_file(record.name, record.fname, write)
                break
            except AlreadyExistsError:
                if not pending.auto_fname:
                    raise
                record = record.replace(
                    fname=_auto_fname(record.name, record.created_at, handler.suffix)
                )
                journal.add(JournalEntry(record.name, record.fname, auto=True))
        else:  # pragma: no cover - eight random collisions in a row
            raise ConflictError(f"could not find a free file name for {record.name!r}")
        return record.replace(sha256=sha256, size=size, extra={**record.extra, **metadata})

    def _remove_files(self, records: Sequence[VersionRecord]) -> None:
        for record in records:
            with contextlib.suppress(ArchivistError, OSError):  # best effort clean-up
                self.store.delete_file(record.name, record.fname)

    def _commit(
        self, new_records: list[VersionRecord], journal_id: str | None = None
    ) -> list[VersionRecord]:
        delay = 0.002
        for attempt in range(MAX_COMMIT_ATTEMPTS):
            if attempt == 0:
                base, token = list(self._committed), self._token
                if not self._fresh:
                    fresh = self.store.read_if_changed(token)
                    if fresh is not None:
                        base, token = fresh.records, fresh.token
            else:
                replaced: list[VersionRecord] | None
                try:
                    snapshot = self.store.read()
                    replaced = snapshot.records
                except ManifestError:
                    if not self._fresh:
                        raise
                    # Mode "w" replaces whatever is there, even a manifest that cannot be
                    # read: only its token matters.
                    snapshot = ManifestSnapshot([], self.store.current_token())
                    replaced = None
                base, token = snapshot.records, snapshot.token
                if self._fresh and token is not None:
                    settle_replaced_journals(self.store, replaced, own=journal_id)
                landed = _already_committed(base, new_records)
                if landed is not None:
                    # An earlier round's write landed, but its answer was lost and the
                    # retried request was refused: the versions are committed, once.
                    self._token = token
                    self._committed = ManifestIndex(base)
                    return landed
            if self._fresh:
                base = []
            merged, added = _merge(base, new_records, self._expiry_changes)
            try:
                self._token = self.store.commit(merged, token)
            except StaleTokenError:
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.25)
                continue
            self._committed = ManifestIndex(merged)
            return added
        raise ConflictError(
            f"gave up saving to {self.location} after {MAX_COMMIT_ATTEMPTS} attempts: other "
            "writers kept committing. Nothing was committed; try save() again."
        )

    # -- promotion from experiments (used by archivist.experiment) ---------------------------

    def _log_promoted(
        self,
        name: str,
        value: Any,
        handler: str,
        writer_kwargs: Mapping[str, Any],
        source: Mapping[str, Any],
    ) -> None:
        """Log ``value`` as :meth:`log_artifact` does, recording its lineage as ``source``."""
        self.log_artifact(name, value, handler, **writer_kwargs)
        pending = self._pending[-1]
        pending.record = pending.record.replace(extra={**pending.record.extra, "source": source})
        self._view = None

    def _promote(
        self,
        name: str,
        handler: str,
        write: Callable[[IO[bytes]], None],
        metadata: Mapping[str, Any],
        source: Mapping[str, Any],
        expected: tuple[str, int] | None = None,
    ) -> dict[str, Any]:
        """Store an already-serialized file as a new version of ``name`` and commit it now.

        ``write`` streams the file's bytes into the repository's storage (write-if-absent);
        the file is then checked against ``expected`` (sha256, size) and re-read verified,
        and committed through the commit protocol. On any failure the file is removed and
        nothing is committed. Returns the committed record.
        """
        self._require_writable()
        if self._pending or self._expiry_changes:
            raise UnsavedChangesError(
                f"{self.location} holds changes that are not saved; save() before promoting "
                "a saved experiment artifact, which commits at once"
            )
        check_name(name)
        handler_cls = get_handler(handler)
        created_at = utcnow()
        record = VersionRecord(
            name=name,
            version=self._committed.last_version(name) + 1,
            handler=handler_cls.alias,
            fname=_auto_fname(name, created_at, handler_cls.suffix),
            created_at=created_at,
        )
        journal = SaveJournal.begin(self.store, [JournalEntry(name, record.fname, auto=True)])
        try:
            sha256, size = self.store.write_file(name, record.fname, write)
        except BaseException:
            journal.close()
            raise
        record = record.replace(sha256=sha256, size=size, extra={**metadata, "source": source})
        try:
            if expected is not None and (sha256, size) != tuple(expected):
                raise IntegrityError(
                    f"the copy of {name!r} in {self.store.file_location(name, record.fname)} "
                    f"has sha256 {sha256} and {size} bytes, but its source records sha256 "
                    f"{expected[0]} and {expected[1]} bytes; nothing was committed"
                )
            with self.store.open_file(name, record.fname, sha256, size):
                pass  # what arrived is re-read and verified against its digest
        except BaseException:
            self._remove_files([record])
            journal.close()
            raise
        added = self._commit_written([record], journal)
        self._fresh = False
        plugin_manager().hook.archivist_after_commit(
            location=self.location, versions=[r.to_dict() for r in added]
        )
        return added[0].to_dict()


def _already_committed(
    base: Sequence[VersionRecord], new_records: Sequence[VersionRecord]
) -> list[VersionRecord] | None:
    """Return the committed records of ``new_records`` if all are in ``base`` already.

    A version's file name is unique and never reused, so a record in the manifest with the
    same name, file name and digest is that version.
    """
    if not new_records:
        return None
    wanted = {(r.name, r.fname): r.sha256 for r in new_records}
    found = {
        (r.name, r.fname): r
        for r in base
        if (r.name, r.fname) in wanted and wanted[(r.name, r.fname)] == r.sha256
    }
    if len(found) != len(wanted):
        return None
    return [found[(r.name, r.fname)] for r in new_records]


def _with_expiry(index: ManifestIndex, name: str, version: int, expiry: datetime) -> ManifestIndex:
    return ManifestIndex(
        r.replace(expiry=expiry) if r.name == name and r.version == version else r for r in index
    )


def _merge(
    base: list[VersionRecord],
    new_records: list[VersionRecord],
    expiry_changes: Mapping[tuple[str, int], datetime],
) -> tuple[list[VersionRecord], list[VersionRecord]]:
    """Apply expiry changes, then number new versions after each name's last one."""
    merged = list(base)
    if expiry_changes:
        remaining = dict(expiry_changes)
        for i, record in enumerate(merged):
            key = (record.name, record.version)
            if key in remaining:
                merged[i] = record.replace(expiry=remaining.pop(key))
        if remaining:
            (name, version), _ = next(iter(remaining.items()))
            raise ConflictError(
                f"version {version} of {name!r} is no longer in the manifest (another writer "
                "replaced the repository); its expiry cannot be saved"
            )
    last: dict[str, VersionRecord] = {}
    for record in merged:
        current = last.get(record.name)
        if current is None or record.version > current.version:
            last[record.name] = record
    added: list[VersionRecord] = []
    for record in new_records:
        previous = last.get(record.name)
        if previous is None:
            numbered = record.replace(version=0)
        else:
            created_at = max(record.created_at, previous.created_at + _ONE_MICROSECOND)
            numbered = record.replace(version=previous.version + 1, created_at=created_at)
        last[record.name] = numbered
        merged.append(numbered)
        added.append(numbered)
    return merged, added
