"""Writing a repository: logging versions and the commit protocol of ``save()``.

Files first (each under a fresh name, named in a save journal before it is written, unless
``journal=False``: see ``archivist._unjournaled``), then one compare-and-swap of the
manifest, retried after a lost race; see ``docs/design.md``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import IO, Any, Literal, cast

from archivist import _aliases
from archivist._io.handlers import (
    describe,
    new_fname,
    warn_output_only,
    write_new_file,
    write_value,
)
from archivist._journal import (
    JournalEntry,
    SaveJournal,
    settle_replaced_journals,
)
from archivist._lifecycle.digests import keep_digests
from archivist._parallel import CancellableWriter, write_all
from archivist._progress import close_callback, make_callback, metered
from archivist._repo_base import RepositoryBase, _Pending, _with_expiry
from archivist._retry import cas_rounds
from archivist._unjournaled import begin_journal
from archivist._versions import parse_time
from archivist.errors import (
    AlreadyExistsError,
    ArchivistError,
    ArchivistWarning,
    ConflictError,
    IntegrityError,
    ManifestError,
    ReadOnlyError,
    StaleTokenError,
    UnsavedChangesError,
)
from archivist.manifest import (
    Chain,
    ManifestIndex,
    VersionRecord,
    check_file_name,
    check_name,
    utcnow,
)
from archivist.plugin.manager import get_handler, plugin_manager
from archivist.stores import ManifestSnapshot

#: How many times a save re-reads and re-merges the manifest after losing a race.
MAX_COMMIT_ATTEMPTS = 64
_log = logging.getLogger("archivist.repository")
_ONE_MICROSECOND = timedelta(microseconds=1)

__all__ = ["MAX_COMMIT_ATTEMPTS", "WritingMixin"]


def _log_commit(
    location: str,
    new_records: Sequence[VersionRecord],
    added: Sequence[VersionRecord],
    attempt: int,
) -> None:
    """Log a commit, and each version renumbered because another writer committed first."""
    _log.info("%s: committed %d new version(s) (attempt %d)", location, len(added), attempt + 1)
    for old, new in zip(new_records, added, strict=True):
        if old.version != new.version:
            _log.info(
                "%s: %r renumbered from version %d to %d after another writer's commit",
                location,
                new.name,
                old.version,
                new.version,
            )


def _warn_replacing(location: str, replaced: Sequence[VersionRecord] | None) -> None:
    """Warn that a mode ``w`` save is about to replace a manifest holding versions."""
    if replaced is None:
        what = "a manifest that cannot be read"
    else:
        names = len({record.name for record in replaced})
        what = f"{len(replaced)} version(s) of {names} artifact(s)"
    warnings.warn(
        f"mode 'w' replaces the manifest at {location}, which holds {what}; after this save "
        "they are no longer listed (their files are kept). Open with mode 'a' or 'w+' to add "
        "to them instead.",
        ArchivistWarning,
        stacklevel=4,
    )


def _already_committed(
    index: ManifestIndex, new_records: Sequence[VersionRecord]
) -> list[VersionRecord] | None:
    """Return the committed records of ``new_records`` if all are in ``index`` already.

    A version's file name is unique and never reused, so a record in the manifest with the
    same name, file name and digest is that version. File names are checked first (from
    the index, without building records); only then are the versions of each name read,
    newest first, where a landed commit put them.
    """
    if not new_records or any(r.fname not in index.fnames(r.name) for r in new_records):
        return None
    wanted = {(r.name, r.fname): r.sha256 for r in new_records}
    found: dict[tuple[str, str], VersionRecord] = {}
    for name in {r.name for r in new_records}:
        missing = sum(key[0] == name for key in wanted)
        for record in reversed(index.versions(name)):
            key = (name, record.fname)
            if key in wanted and wanted[key] == record.sha256:
                found[key] = record
                missing -= 1
                if not missing:
                    break
    if len(found) != len(wanted):
        return None
    return [found[(r.name, r.fname)] for r in new_records]


def _renumbered(record: VersionRecord, version: int, created_at: datetime) -> VersionRecord:
    """Return ``record`` numbered ``version`` and created at ``created_at`` (a fast replace)."""
    return VersionRecord(
        record.name,
        version,
        record.handler,
        record.fname,
        created_at,
        record.expiry,
        record.sha256,
        record.size,
        record.extra,
    )


def _merge(
    base: Sequence[VersionRecord],
    new_records: list[VersionRecord],
    expiry_changes: Mapping[tuple[str, int], datetime],
    index: ManifestIndex,
) -> tuple[Sequence[VersionRecord], list[VersionRecord]]:
    """Apply expiry changes, then number new versions after each name's last one.

    With no expiry change, only the names of new versions are looked up in ``index``
    (``base`` indexed): the result is ``base`` and the new records, chained without a copy,
    so that the store can append them to the manifest in O(new records).
    """
    last: dict[str, VersionRecord] = {}
    merged: Sequence[VersionRecord]
    if not expiry_changes:
        for name in {record.name for record in new_records}:
            versions = index.versions(name)
            if versions:
                last[name] = versions[-1]
    else:
        merged = listed = list(base)
        if expiry_changes:
            remaining = dict(expiry_changes)
            for i, record in enumerate(listed):
                key = (record.name, record.version)
                if key in remaining:
                    listed[i] = record.replace(expiry=remaining.pop(key))
            if remaining:
                (name, version), _ = next(iter(remaining.items()))
                raise ConflictError(
                    f"version {version} of {name!r} is no longer in the manifest (another "
                    "writer replaced the repository); its expiry cannot be saved"
                )
        for record in listed:
            current = last.get(record.name)
            if current is None or record.version > current.version:
                last[record.name] = record
    added: list[VersionRecord] = []
    for record in new_records:
        previous = last.get(record.name)
        if previous is None:
            numbered = _renumbered(record, 0, record.created_at)
        else:
            try:
                created_at = max(record.created_at, previous.created_at + _ONE_MICROSECOND)
            except OverflowError:
                raise ManifestError(
                    f"version {previous.version} of {record.name!r} was created at "
                    f"{previous.created_at.isoformat()}, the last time a manifest can hold; no "
                    "later version can be added. The manifest's times are wrong."
                ) from None
            numbered = _renumbered(record, previous.version + 1, created_at)
        last[record.name] = numbered
        added.append(numbered)
    if not expiry_changes:
        merged = Chain(base, added)
    else:
        listed.extend(added)
    return merged, added


class WritingMixin(RepositoryBase):
    """Logging versions, expiry, and saving them: the commit protocol."""

    #: Whether saves write a save journal (``Repository(journal=...)``).
    journal: bool = True
    #: Whether the last commit request of the current save failed without an answer.
    _unanswered: bool = False

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
            ``name`` or ``fname`` would escape the repository folder, is longer than 255
            bytes in UTF-8, starts with a dot, or ``name`` is that of a file kept beside the
            manifest (its own name, ``releases.json``, ``project.json``); nothing changes.
        archivist.errors.UnknownHandlerError
            No installed handler has that alias.
        archivist.errors.AlreadyExistsError
            ``fname`` is already used by a version of this artifact.
        """
        self._require_writable()
        check_name(name)
        handler_cls = get_handler(handler)
        created_at = utcnow()
        pending_fnames = self._pending_fnames.get(name, set())
        if fname is None:
            fname = new_fname(name, created_at, handler_cls.suffix)
            auto = True
        else:
            check_file_name(fname)
            auto = False
            if fname in pending_fnames or fname in self._committed.fnames(name):
                raise AlreadyExistsError(
                    f"the file name {fname!r} is already used by a version of {name!r}; "
                    "archivist never overwrites a stored file. Omit fname for a unique one."
                )
        self.store.check_new_file(name, fname)
        version = max(self._committed.last_version(name), self._pending_last.get(name, -1)) + 1
        record = VersionRecord(
            name=name,
            version=version,
            handler=handler_cls.alias,
            fname=fname,
            created_at=created_at,
        )
        self._pending.append(_Pending(record, value, handler_cls(), dict(writer_kwargs), auto))
        warn_output_only(handler_cls, name, "log", stacklevel=2)
        self._pending_last[name] = version
        self._pending_fnames.setdefault(name, set()).add(fname)
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
        archivist.errors.PinnedVersionError
            An alias names the version: move or remove the alias first.
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
        _aliases.refuse_if_aliased(self._as_repository(), record.name, record.version)
        self._expiry_changes[(record.name, record.version)] = when
        self._committed = _with_expiry(self._committed, record.name, record.version, when)
        self._view = None

    def save(self, *, progress: object = None) -> None:
        """Write the new versions' files, then commit them to the manifest.

        Files go first, each under a fresh name with write-if-absent; then the manifest is
        re-read, this save's versions are numbered after each name's current last version,
        and the manifest is replaced only if nobody committed in between (else it retries).
        A crash at any point leaves the repository at its old or its new state.

        Parameters
        ----------
        progress : bool or fsspec.callbacks.Callback, optional
            Report the bytes written: ``True`` draws a bar on standard error for large saves;
            an fsspec ``Callback`` (anything with ``set_size`` and ``relative_update``) is
            told every byte written.

        Raises
        ------
        archivist.errors.ReadOnlyError
            The repository is open in mode ``r``.
        archivist.errors.SerializationError
            A handler could not write a value; nothing was committed and the files this save
            wrote were removed.
        archivist.errors.ConflictError
            Other writers kept committing for :data:`MAX_COMMIT_ATTEMPTS` rounds.

        Warns
        -----
        archivist.ArchivistWarning
            Mode ``w``: the manifest this save replaces holds versions (their count, read
            from it just before replacing it), or cannot be read.
        """
        self._require_writable()
        if not self._pending and not self._expiry_changes and not self._fresh:
            return
        for name, version in self._expiry_changes:  # an alias may have come to name it
            _aliases.refuse_if_aliased(self._as_repository(), name, version)
        journal = self._begin_journal(
            [JournalEntry(p.record.name, p.record.fname, p.auto_fname) for p in self._pending]
        )
        callback = make_callback(progress, "saving")
        try:
            new_records = self._write_files(journal, callback)
        finally:
            close_callback(callback)
        added = self._commit_written(new_records, journal)
        self._forget_saved_changes()
        for record in new_records:
            warn_output_only(get_handler(record.handler), record.name, "log", stacklevel=2)
        if added:
            after_commit = plugin_manager().hook.archivist_after_commit
            if after_commit.get_hookimpls():  # no records to build when nobody listens
                after_commit(location=self.location, versions=[r.to_dict() for r in added])

    def _begin_journal(self, entries: Sequence[JournalEntry]) -> SaveJournal:
        """Start the save journal, or its in-memory stand-in with ``journal=False``."""
        return begin_journal(
            self.store,
            entries,
            journal=self.journal,
            token=self._token,
            base_empty=not self._committed,
        )

    def _forget_saved_changes(self) -> None:
        self._pending.clear()
        self._pending_last.clear()
        self._pending_fnames.clear()
        self._expiry_changes.clear()
        self._view = None
        self._fresh = False

    def _commit_written(
        self, new_records: list[VersionRecord], journal: SaveJournal
    ) -> list[VersionRecord]:
        """Make the written files durable and commit them; settle the files on failure.

        Before the manifest's conditional replace is attempted, a failure removes the files
        (nothing can reference them). From then on, whatever the failure (a lost
        acknowledgement, an error after the write, Ctrl-C), the files are removed only when
        a re-read proves the commit did not land; otherwise they stay, and when they were in
        fact never committed, :meth:`gc` collects them through the save's journal (a save
        without one, ``journal=False``, leaves them to the user: nothing proves them).
        """
        try:
            journal.record_written(new_records)
            self.store.make_durable([(record.name, record.fname) for record in new_records])
            if self.journal:  # journal=False saves the fewest requests: it keeps no digests
                keep_digests(self.store, new_records)
        except BaseException:
            self._remove_files(new_records)
            journal.close()
            raise
        self._unanswered = False
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
            index = snapshot.indexed or ManifestIndex(snapshot.records)
            if any(record.fname in index.fnames(record.name) for record in new_records):
                # It landed: the files are committed data, and the changes are saved (a
                # second save() must not commit them again), though the error still
                # reaches the caller.
                self._committed, self._token = index, snapshot.token
                self._forget_saved_changes()
                journal.close()
                return
            # With a journal: no other writer settled it (a mode "w" save that replaced a
            # manifest naming these files would have; such files are kept). Without one:
            # the manifest is still as this save read it (see archivist._unjournaled).
            proven = journal.proves_uncommitted(snapshot.token, answered=not self._unanswered)
        except BaseException:
            proven = False
        if not proven:
            journal.keep(new_records)
            return
        self._remove_files(new_records)
        journal.close()

    def _write_files(self, journal: SaveJournal, callback: Any = None) -> list[VersionRecord]:
        try:
            return write_all(
                self._pending,
                lambda pending, stop: self._write_one(pending, journal, callback, stop),
                self._remove_files,
                self.store.write_concurrency,
            )
        except BaseException:
            journal.close()
            raise

    def _write_one(
        self,
        pending: _Pending,
        journal: SaveJournal,
        callback: Any = None,
        stop: threading.Event | None = None,
    ) -> VersionRecord:
        record, handler = pending.record, pending.handler

        def write(raw: IO[bytes]) -> None:
            if stop is not None:  # a concurrent save: stop writing when it gives up
                raw = cast("IO[bytes]", CancellableWriter(raw, stop))
            write_value(
                handler,
                pending.value,
                metered(raw, callback),
                pending.writer_kwargs,
                record.handler,
                record.name,
            )

        def fresh() -> str:
            fname = new_fname(record.name, record.created_at, handler.suffix)
            journal.add(JournalEntry(record.name, fname, auto=True))
            return fname

        metadata = describe(handler, pending.value, record.handler, record.name)
        fname, (sha256, size) = write_new_file(
            lambda fname: self.store.write_file(record.name, fname, write),
            record.fname,
            fresh if pending.auto_fname else None,
            record.name,
        )
        return VersionRecord(  # as record.replace(...), without dataclasses.replace's cost
            name=record.name,
            version=record.version,
            handler=record.handler,
            fname=fname,
            created_at=record.created_at,
            expiry=record.expiry,
            sha256=sha256,
            size=size,
            extra={**record.extra, **metadata} if record.extra else metadata,
        )

    def _remove_files(self, records: Sequence[VersionRecord]) -> None:
        for record in records:
            with contextlib.suppress(ArchivistError, OSError):  # best effort clean-up
                self.store.delete_file(record.name, record.fname)

    def _commit(
        self, new_records: list[VersionRecord], journal_id: str | None = None
    ) -> list[VersionRecord]:
        warned = not self._fresh
        for attempt in cas_rounds(MAX_COMMIT_ATTEMPTS):
            if attempt == 0:
                # Commit against the manifest as read, without reading it again: a
                # precondition failure (another writer committed) re-reads and retries.
                base, token = self._committed.records, self._token
                base_index: ManifestIndex = self._committed
                if self._fresh:
                    # Mode "w" has not read what it replaces (a manifest, or none because
                    # someone deleted it): forget every other save's journal, which only
                    # ever keeps files. Later rounds forget only what the manifest names.
                    settle_replaced_journals(self.store, None, own=journal_id)
            else:
                replaced: Sequence[VersionRecord] | None
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
                base_index = snapshot.indexed or ManifestIndex(base)
                if self._fresh and token is not None:
                    settle_replaced_journals(self.store, replaced, own=journal_id)
                landed = _already_committed(base_index, new_records)
                if landed is not None:
                    # An earlier round's write landed, but its answer was lost and the
                    # retried request was refused: the versions are committed, once.
                    self._token = token
                    self._committed = base_index
                    _log.info(
                        "%s: an earlier commit attempt had landed; not retried", self.location
                    )
                    return landed
                if not warned and (replaced is None or replaced):
                    warned = True
                    _warn_replacing(self.location, replaced)
            if self._fresh:
                base, base_index = [], ManifestIndex()
            merged, added = _merge(base, new_records, self._expiry_changes, base_index)
            try:
                self._token = self.store.commit(merged, token)
            except StaleTokenError:  # refused: nothing was written
                _log.info(
                    "%s: another writer committed first (attempt %d of %d); re-reading and "
                    "retrying",
                    self.location,
                    attempt + 1,
                    MAX_COMMIT_ATTEMPTS,
                )
                continue
            except BaseException:
                self._unanswered = True  # the request may have landed, its answer lost
                raise
            self._committed = (
                base_index.appended(added, merged)
                if isinstance(merged, Chain)
                else ManifestIndex(merged)
            )
            _log_commit(self.location, new_records, added, attempt)
            return added
        raise ConflictError(
            f"gave up saving to {self.location} after {MAX_COMMIT_ATTEMPTS} attempts: other "
            "writers kept committing. Nothing was committed; try save() again."
        )

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
            fname=new_fname(name, created_at, handler_cls.suffix),
            created_at=created_at,
        )
        self.store.check_new_file(name, record.fname)
        journal = self._begin_journal([JournalEntry(name, record.fname, auto=True)])
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
            # what arrived is re-read and verified against its digest
            self.store.check_file(name, record.fname, sha256, size)
        except BaseException:
            self._remove_files([record])
            journal.close()
            raise
        if expected is None:
            # Nothing vouched for the source's bytes: the copy records no digest of them.
            record = record.replace(sha256=None, size=None)
        added = self._commit_written([record], journal)
        self._fresh = False
        plugin_manager().hook.archivist_after_commit(
            location=self.location, versions=[r.to_dict() for r in added]
        )
        return added[0].to_dict()
