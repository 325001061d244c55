"""A session: what a :class:`~archivist.Repository` read and what it will write.

A repository is a handle (its store, cache, trust and journal settings); its session holds
the state of one line of work on it, as icechunk keeps ``Repository`` and ``Session`` apart:

- the **committed** manifest as read (indexed by name) and its state **token**, which the
  next commit swaps against;
- the **pending** versions logged and not saved yet, with each name's highest pending
  number and pending file names;
- the **expiry changes** to saved versions;
- whether it is **fresh** (mode ``w``: its first save replaces the manifest).

Lookups (latest, by number, by time, as-of) answer from the committed versions and the
pending ones together. The commit protocol (:mod:`archivist._commit.protocol`) reads a
session and, once a commit landed, records what it committed in it; adopt and prune
commit on their own and then refresh the session.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from archivist._formats.versions import NAIVE_MEANS_UTC, parse_time, parse_version
from archivist._io.handlers import new_fname
from archivist.errors import (
    AlreadyExistsError,
    AmbiguousVersionError,
    ArchivistError,
    ArtifactNotFoundError,
    InvalidVersionError,
    ReadOnlyModeError,
    RepositoryNotFoundError,
    UnsavedChangesError,
    VersionNotFoundError,
)
from archivist.manifest import ManifestIndex, VersionRecord, check_file_name, utcnow

if TYPE_CHECKING:
    from archivist.handlers.base import Handler

__all__ = ["MODES", "ManifestSource", "Mode", "Pending", "Session", "Snapshot"]

Mode = Literal["r", "a", "w", "w+"]
#: The modes a repository opens in.
MODES = ("r", "a", "w", "w+")

_LOG = logging.getLogger("archivist.repository")


class Snapshot(Protocol):
    """A manifest as a store read it (:class:`~archivist.stores.ManifestSnapshot`)."""

    @property
    def records(self) -> Sequence[VersionRecord]:
        """The records, in manifest order."""
        ...

    @property
    def token(self) -> str | None:
        """The state token (``None``: no manifest)."""
        ...

    @property
    def indexed(self) -> ManifestIndex | None:
        """The records indexed by name, when the store has them at hand."""
        ...


class ManifestSource(Protocol):
    """What a session reads its manifest from: a repository store's reads.

    Every :class:`~archivist.stores.AbstractRepositoryStore` is one; the session needs
    nothing else of it (the session sits below the stores and never imports them).
    """

    @property
    def location(self) -> str:
        """The manifest's path or URL."""
        ...

    def read(self) -> Snapshot:
        """Read the manifest and its token."""
        ...

    def read_if_changed(self, token: str | None) -> Snapshot | None:
        """Read the manifest unless its token is still ``token`` (then ``None``)."""
        ...

    def read_authoritative(self) -> Snapshot:
        """Read the manifest from a full parse, never from the index cache."""
        ...


@dataclass
class Pending:
    """A logged version not saved yet.

    Attributes
    ----------
    record : VersionRecord
        Its record, numbered after the last version the session knows of.
    value : Any
        The value to serialize.
    handler : Handler
        The handler that serializes it.
    writer_kwargs : dict[str, Any]
        Passed to the handler's ``write``.
    auto_fname : bool
        The file name was generated (a collision may pick another).
    keeps_time : bool
        Its ``created_at`` was given (a promotion keeps the artifact's): the commit keeps it,
        and refuses it when it is not after the name's last version, instead of moving it.
    """

    record: VersionRecord
    value: Any
    handler: Handler
    writer_kwargs: dict[str, Any]
    auto_fname: bool
    keeps_time: bool = False


class Session:
    """The manifest a repository read, and the versions and changes it will commit.

    Parameters
    ----------
    location : str
        The manifest's location, for messages.
    mode : {"r", "a", "w", "w+"}
        The repository's mode.
    committed : ManifestIndex, optional
        The manifest as read (default: empty).
    token : str or None, optional
        Its state token (``None``: no manifest).
    """

    def __init__(
        self,
        location: str,
        mode: Mode,
        committed: ManifestIndex | None = None,
        token: str | None = None,
    ) -> None:
        self.location = location
        self.mode: Mode = mode
        self.committed = committed if committed is not None else ManifestIndex()
        self.token = token
        self.pending: list[Pending] = []
        # per name: the highest pending version number and the pending file names
        self.pending_last: dict[str, int] = {}
        self.pending_fnames: dict[str, set[str]] = {}
        self.expiry_changes: dict[tuple[str, int], datetime] = {}
        #: Mode ``w`` before its first save: the save replaces the manifest unread.
        self.fresh = mode == "w"
        self._view: ManifestIndex | None = None

    @classmethod
    def open(cls, store: ManifestSource, mode: Mode) -> Session:
        """Start a session on ``store``: read its manifest, unless ``mode`` is ``w``.

        Raises
        ------
        archivist.errors.RepositoryNotFoundError
            ``mode`` is ``r`` and there is no manifest.
        """
        if mode == "w":
            return cls(store.location, mode)
        snapshot = store.read()
        if snapshot.token is None and mode == "r":
            raise RepositoryNotFoundError(
                f"no repository at {store.location}: there is no manifest to read. "
                "Open it with mode='w' to create one."
            )
        index = snapshot.indexed or ManifestIndex(snapshot.records)
        return cls(store.location, mode, index, snapshot.token)

    # -- what it read ---------------------------------------------------------------------

    def refresh(self, store: ManifestSource) -> None:
        """Re-read the manifest if it changed, keeping pending versions and expiry changes."""
        snapshot = store.read_if_changed(self.token)
        if snapshot is None:
            return  # the index as read (with the expiry changes applied) is current
        self.committed = snapshot.indexed or ManifestIndex(snapshot.records)
        self.token = snapshot.token
        for (name, version), expiry in self.expiry_changes.items():
            self.committed = with_expiry(self.committed, name, version, expiry)
        self._view = None

    def committed_as(self, index: ManifestIndex, token: str | None) -> None:
        """Record that the manifest is now ``index`` at ``token`` (a commit landed)."""
        self.committed, self.token = index, token
        self._view = None

    def index(self) -> ManifestIndex:
        """Return the committed versions and the pending ones, indexed."""
        if not self.pending:
            return self.committed
        if self._view is None:
            committed, pending = self.committed, [p.record for p in self.pending]
            if all(r.version > committed.last_version(r.name) for r in pending):
                self._view = committed.appended(pending)  # O(pending)
            else:  # numbered before a refresh() brought newer versions
                self._view = ManifestIndex([*committed, *pending])
        return self._view

    def find(self, name: str, version: object, match: object) -> VersionRecord:
        """Return the version of ``name`` that ``version`` and ``match`` select.

        Raises
        ------
        archivist.errors.ArtifactNotFoundError
            No artifact has that name (the message lists the names there are).
        archivist.errors.VersionNotFoundError
            No version matches.
        archivist.errors.InvalidVersionError
            ``version`` or ``match`` cannot be understood.
        """
        spec, mode = parse_version(version, match)
        index = self.index()
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
        try:
            if mode == "exact":
                return index.at_time(name, spec.start, spec.precision)
            return index.as_of(name, spec.start, spec.precision)
        except VersionNotFoundError as exc:
            if not spec.naive or isinstance(exc, AmbiguousVersionError):
                raise
            raise VersionNotFoundError(f"{exc}; {NAIVE_MEANS_UTC}") from None

    def version_counts(self) -> dict[str, int]:
        """Return each artifact's number of versions (pending ones included), building no record.

        The names come in order of first appearance; the counts come from the index (its
        columns when the manifest was opened through the index cache), not from a pass
        over the records.
        """
        index = self.index()
        return {name: index.count(name) for name in index.names()}

    def is_pending(self, record: VersionRecord) -> bool:
        """Tell whether ``record`` is a pending version's (not saved yet)."""
        return any(p.record is record for p in self.pending)

    def referenced(self, store: ManifestSource) -> set[tuple[str, str]]:
        """Return ``(name, fname)`` of every file the manifest or a pending version names.

        Deletions (gc, verify's orphans) decide from this: read from a full parse of the
        manifest in ``store``, never from the index cache, which is only a hint.
        """
        referenced = {(r.name, r.fname) for r in store.read_authoritative().records}
        referenced |= {(p.record.name, p.record.fname) for p in self.pending}
        return referenced

    # -- what it will write ---------------------------------------------------------------

    @property
    def has_changes(self) -> bool:
        """Whether versions or expiry changes wait for a save."""
        return bool(self.pending or self.expiry_changes)

    def require_writable(self) -> None:
        """Refuse a write in mode ``r``."""
        if self.mode == "r":
            raise ReadOnlyModeError(
                f"{self.location} is open read-only (mode='r'); open it with mode 'a' or 'w+' "
                "to write"
            )

    def file_name(self, name: str, fname: str | None, created_at: datetime, suffix: str) -> str:
        """Return ``fname`` checked as a new file of ``name``, or a generated one if ``None``.

        Raises
        ------
        archivist.errors.InvalidNameError
            ``fname`` is not a valid file name.
        archivist.errors.AlreadyExistsError
            A version of ``name`` (saved or pending) already uses ``fname``.
        """
        if fname is None:
            return new_fname(name, created_at, suffix)
        check_file_name(fname)
        if fname in self.pending_fnames.get(name, ()) or fname in self.committed.fnames(name):
            raise AlreadyExistsError(
                f"the file name {fname!r} is already used by a version of {name!r}; "
                "archivist never overwrites a stored file. Omit fname for a unique one."
            )
        return fname

    def next_version(self, name: str) -> int:
        """Return the number a new version of ``name`` gets (renumbered at commit)."""
        return max(self.committed.last_version(name), self.pending_last.get(name, -1)) + 1

    def add(self, pending: Pending) -> None:
        """Add a logged version, to be written and committed by the next save."""
        record = pending.record
        self.pending.append(pending)
        self.pending_last[record.name] = record.version
        self.pending_fnames.setdefault(record.name, set()).add(record.fname)
        self._view = None

    def amend_last(self, extra: dict[str, Any], created_at: datetime | None = None) -> None:
        """Add ``extra`` fields to the record of the last pending version (and its time).

        A time given here is kept by the commit (:attr:`Pending.keeps_time`).
        """
        pending = self.pending[-1]
        kept = {} if created_at is None else {"created_at": created_at}
        pending.keeps_time = pending.keeps_time or created_at is not None
        pending.record = pending.record.replace(extra={**pending.record.extra, **extra}, **kept)
        self._view = None

    def expire_pending(self, record: VersionRecord, when: datetime) -> bool:
        """Set the expiry of ``record`` if it is a pending version's; tell whether it was."""
        for pending in self.pending:
            if pending.record is record:
                pending.record = record.replace(expiry=when)
                self._view = None
                return True
        return False

    def expire_saved(self, name: str, version: int, when: datetime) -> None:
        """Change the expiry of a saved version, to be committed by the next save."""
        self.expiry_changes[(name, version)] = when
        self.committed = with_expiry(self.committed, name, version, when)
        self._view = None

    def forget_saved_changes(self) -> None:
        """Drop what the last commit saved: pending versions and expiry changes."""
        self.pending.clear()
        self.pending_last.clear()
        self.pending_fnames.clear()
        self.expiry_changes.clear()
        self._view = None
        self.fresh = False

    # -- views ----------------------------------------------------------------------------

    def filtered(self, version: object) -> Session:
        """Return a read-only session holding at most one version of each artifact.

        ``version`` is a time (each artifact's version as of then), a sequence of
        ``(name, version)`` pairs, or an object with an ``artifacts`` attribute holding them
        (a release); see :meth:`archivist.Repository.filter`.
        """
        if self.has_changes:
            raise UnsavedChangesError(
                "this repository holds changes that are not saved; save() before filtering"
            )
        selected = self._select(getattr(version, "artifacts", version), version)
        view = Session(self.location, "r", token=self.token)
        view.committed = ManifestIndex(r for r in self.committed if selected.get(r.name) is r)
        return view

    def _select(self, pairs: object, given: object) -> dict[str, VersionRecord]:
        selected: dict[str, VersionRecord] = {}
        if isinstance(pairs, datetime | str):
            spec = parse_time(pairs)
            for name in self.committed.names():
                try:
                    selected[name] = self.committed.as_of(name, spec.start, spec.precision)
                except ArchivistError:
                    _LOG.warning(
                        f"Artifact '{name}' does not have a version that predates {pairs!s}"
                    )
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
                record = self.find(name, ver, "exact")
                if name in selected and selected[name] is not record:
                    raise InvalidVersionError(
                        f"filter() got two versions of {name!r}: {selected[name].version} and "
                        f"{record.version}; a filtered repository holds one per artifact"
                    )
                selected[name] = record
        else:
            raise InvalidVersionError(
                "filter() takes a datetime, an ISO string, or a sequence of (name, version) "
                f"pairs, got {type(given).__name__}"
            )
        return selected


def with_expiry(index: ManifestIndex, name: str, version: int, expiry: datetime) -> ManifestIndex:
    """Return ``index`` with version ``version`` of ``name`` expiring at ``expiry``."""
    return ManifestIndex(
        r.replace(expiry=expiry) if r.name == name and r.version == version else r for r in index
    )
