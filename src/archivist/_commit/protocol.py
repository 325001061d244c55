"""The commit protocol of a save, as functions over a store and a session.

Read top to bottom, this module is what ``Repository.save()`` does (see ``docs/design.md``,
"The commit protocol"):

1. :func:`begin_journal` names the files about to be written in a save journal (or keeps
   them in memory only, with ``journal=False``: :mod:`archivist._commit.unjournaled`).
2. :func:`write_files` serializes each pending version into a fresh file name with
   write-if-absent, hashing it on the way.
3. :func:`commit_written` makes the files durable, then :func:`swap_manifest` merges the
   session's versions into the manifest as read (:func:`merge`, numbering each name's new
   versions after its last one) and replaces the manifest only if its token is unchanged,
   re-reading and merging again after a lost race (one
   :func:`~archivist.stores._documents.update` of the manifest document; mode ``w``
   replaces whatever is there: :class:`_Replacing`).
4. On a failed commit, :func:`settle_failed_commit` re-reads the manifest and applies the
   one "did it land?" rule (:func:`did_not_land`): the files stay unless the commit
   provably did not land.

:func:`save` runs the four in order; :func:`commit_file` commits a file written elsewhere
(a promotion) through steps 1, 3 and 4. Nothing here holds state between calls: what a save
read and will write is its :class:`~archivist._commit.session.Session`, and the store is
where it goes.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import IO, Any, cast

from archivist._commit.journal import JournalEntry, SaveJournal, settle_replaced_journals
from archivist._commit.measured import Measured, measured
from archivist._commit.overlap import before_commit, read_kept_ahead
from archivist._commit.session import Pending, Session
from archivist._commit.unjournaled import NoJournal
from archivist._commit.unjournaled import begin_journal as _begin
from archivist._formats.hashes import record_fields
from archivist._formats.records import require_newer
from archivist._io.handlers import describe, new_fname, write_new_file
from archivist._io.parallel import CancellableWriter, write_all
from archivist._io.progress import close_callback, make_callback
from archivist._warn import warn
from archivist.errors import (
    ArchivistError,
    ArchivistWarning,
    ConflictError,
    IntegrityError,
    ManifestError,
)
from archivist.manifest import Chain, ManifestIndex, VersionRecord
from archivist.stores import AbstractRepositoryStore, ManifestSnapshot
from archivist.stores._digests import keep_digests
from archivist.stores._documents import Tally, update

__all__ = [
    "MAX_COMMIT_ATTEMPTS",
    "already_committed",
    "begin_journal",
    "commit_file",
    "commit_written",
    "did_not_land",
    "merge",
    "save",
    "settle_failed_commit",
    "swap_manifest",
    "write_files",
]

#: How many times a save re-reads and re-merges the manifest after losing a race.
MAX_COMMIT_ATTEMPTS = 64
_log = logging.getLogger("archivist.repository")
_ONE_MICROSECOND = timedelta(microseconds=1)


# -- the whole of it ---------------------------------------------------------------------


def save(
    store: AbstractRepositoryStore, session: Session, *, journal: bool, progress: object = None
) -> tuple[list[VersionRecord], list[VersionRecord]]:
    """Write the session's pending versions and commit them with its expiry changes.

    Returns the written records and the committed ones (renumbered after other writers'
    versions); the session then holds the manifest committed and no changes.
    """
    saving = begin_journal(
        store,
        session,
        [JournalEntry(p.record.name, p.record.fname, p.auto_fname) for p in session.pending],
        journal,
    )
    callback = make_callback(progress, "saving")
    try:
        new_records = write_files(store, session.pending, saving, callback)
    finally:
        close_callback(callback)
    kept_times = {
        (record.name, record.fname)
        for record, pending in zip(new_records, session.pending, strict=True)
        if pending.keeps_time
    }
    added = commit_written(store, session, new_records, saving, kept_times=kept_times)
    session.forget_saved_changes()
    return new_records, added


# -- 1. the journal ---------------------------------------------------------------------


def begin_journal(
    store: AbstractRepositoryStore, session: Session, entries: Sequence[JournalEntry], journal: bool
) -> SaveJournal:
    """Start the save journal, or its in-memory stand-in with ``journal=False``.

    On a remote store the journal is sent while the files are written, and the kept
    digests are read meanwhile (:func:`~archivist._commit.overlap.read_kept_ahead`).
    """
    saving = _begin(
        store,
        entries,
        journal=journal,
        token=session.token,
        base_empty=not session.committed,
        concurrently=store.is_remote,
    )
    if journal and store.is_remote:
        read_kept_ahead(store, saving)
    return saving


# -- 2. the files -------------------------------------------------------------------------


def write_files(
    store: AbstractRepositoryStore,
    pending: Sequence[Pending],
    journal: SaveJournal,
    callback: Any = None,
) -> list[VersionRecord]:
    """Write every pending version's file concurrently; on failure remove what was written.

    With a progress ``callback``, the values are measured first (:func:`measured`).
    """
    try:
        with measured(pending, callback) as sources:
            return write_all(
                sources,
                lambda one, stop: write_one(store, one, journal, stop),
                lambda records: remove_files(store, records),
                store.write_concurrency,
            )
    except BaseException:
        journal.close()
        raise


def write_one(
    store: AbstractRepositoryStore,
    source: Measured,
    journal: SaveJournal,
    stop: threading.Event | None = None,
) -> VersionRecord:
    """Write one pending version's file under a fresh name; return its record with digest."""
    pending = source.pending
    record, handler = pending.record, pending.handler

    def write(raw: IO[bytes]) -> None:
        if stop is not None:  # a concurrent save: stop writing when it gives up
            raw = cast("IO[bytes]", CancellableWriter(raw, stop))
        source.write(raw)

    def fresh() -> str:
        fname = new_fname(record.name, record.created_at, handler.suffix)
        journal.add(JournalEntry(record.name, fname, auto=True))
        return fname

    metadata = describe(handler, pending.value, record.handler, record.name)
    fname, digests = write_new_file(
        lambda fname: source.write_file(store, fname, write),
        record.fname,
        fresh if pending.auto_fname else None,
        record.name,
    )
    metadata = {**metadata, **record_fields(digests)}  # blake3, and a large file's blocks
    return VersionRecord(  # as record.replace(...), without dataclasses.replace's cost
        name=record.name,
        version=record.version,
        handler=record.handler,
        fname=fname,
        created_at=record.created_at,
        expiry=record.expiry,
        sha256=digests.sha256,
        size=digests.size,
        extra={**record.extra, **metadata} if record.extra else metadata,
    )


def remove_files(store: AbstractRepositoryStore, records: Sequence[VersionRecord]) -> None:
    """Remove files this save wrote and nothing references (best effort)."""
    for record in records:
        with contextlib.suppress(ArchivistError, OSError):  # best effort clean-up
            store.delete_file(record.name, record.fname)


# -- 3. the commit ------------------------------------------------------------------------


def commit_written(
    store: AbstractRepositoryStore,
    session: Session,
    new_records: list[VersionRecord],
    journal: SaveJournal,
    *,
    written: Sequence[VersionRecord] | None = None,
    verbatim: bool = False,
    kept_times: Collection[tuple[str, str]] = frozenset(),
) -> list[VersionRecord]:
    """Make the written files durable and commit them; settle the files on failure.

    Before the manifest's conditional replace is attempted, a failure removes the files
    (nothing can reference them). From then on, whatever the failure (a lost
    acknowledgement, an error after the write, Ctrl-C), the files are removed only when
    a re-read proves the commit did not land; otherwise they stay, and when they were in
    fact never committed, gc collects them through the save's journal (a save without
    one, ``journal=False``, leaves them to the user: nothing proves them).

    ``written`` are the records whose files this save wrote (default: all of
    ``new_records``); only those are ever removed, and the others (files found in place,
    checked by the caller) are committed but never touched. ``verbatim`` commits the
    records with their own numbers and times (a mode ``w`` session only: a copy of
    versions into a new repository).
    """
    written = new_records if written is None else written
    try:
        journal.landed()
        before_commit(
            lambda: journal.record_written(written),
            lambda: store.make_durable([(record.name, record.fname) for record in new_records]),
            # journal=False saves the fewest requests: it keeps no digests
            None if isinstance(journal, NoJournal) else lambda: keep_digests(store, new_records),
            together=store.is_remote,
        )
    except BaseException:
        remove_files(store, written)
        journal.close()
        raise
    tally = Tally()
    try:
        added = swap_manifest(
            store, session, new_records, journal.id, tally, verbatim=verbatim, kept_times=kept_times
        )
    except BaseException:
        settle_failed_commit(store, session, list(written), journal, not tally.unanswered)
        raise
    journal.close(later=True)
    return added


def swap_manifest(
    store: AbstractRepositoryStore,
    session: Session,
    new_records: list[VersionRecord],
    journal_id: str | None = None,
    tally: Tally | None = None,
    *,
    verbatim: bool = False,
    kept_times: Collection[tuple[str, str]] = frozenset(),
) -> list[VersionRecord]:
    """Merge the session's changes into the manifest and replace it only if unchanged.

    One :func:`~archivist.stores._documents.update` of the manifest document: the first
    round commits against the manifest as the session read it (without reading it again);
    each refusal (another writer committed) re-reads it, checks whether an earlier round
    had landed (:func:`already_committed`) and merges again, at most
    :data:`MAX_COMMIT_ATTEMPTS` times. Mode ``w`` replaces whatever is there (see
    :class:`_Replacing`). ``kept_times`` names the new records (name, file name)
    whose ``created_at`` must be kept (see :func:`merge`). Returns the committed new
    records; the session then holds the committed manifest and its token.
    """
    replacing = _Replacing(store, journal_id) if session.fresh else None
    if verbatim and replacing is None:
        raise ValueError("only a mode 'w' session commits records with their own numbers")
    rounds: list[list[VersionRecord]] = []  # the records each round added

    def change(base: ManifestIndex) -> ManifestIndex:
        if replacing is not None:
            replacing.before_commit(first=not rounds)
            base = ManifestIndex()
        if verbatim:  # into the empty manifest a mode ``w`` save starts from
            rounds.append(list(new_records))
            return ManifestIndex(new_records)
        merged, added = merge(
            base.records,
            new_records,
            session.expiry_changes,
            base,
            kept_times=kept_times,
            location=store.location,
        )
        rounds.append(added)
        return base.appended(added, merged) if isinstance(merged, Chain) else ManifestIndex(merged)

    done = update(
        replacing if replacing is not None else store.manifest(),
        change,
        what="saving",
        landed=lambda base: already_committed(base, new_records) is not None,
        first=(session.committed, session.token),
        attempts=MAX_COMMIT_ATTEMPTS,
        tally=tally,
    )
    session.committed_as(done.value, done.token)
    if done.status == "landed":
        # An earlier round's write landed, but its answer was lost and the retried
        # request was refused: the versions are committed, once.
        landed = already_committed(done.value, new_records)
        assert landed is not None
        return landed
    _log_commit(store.location, new_records, rounds[-1], done.attempt)
    return rounds[-1]


class _Replacing:
    """The manifest as mode ``w`` sees it: replaced whatever it holds, even unreadable.

    Before its first commit a mode ``w`` save has read nothing (a manifest, or none because
    someone deleted it): it forgets every other save's journal, which only ever keeps
    files. Each re-read after a refusal forgets only the journals of saves the manifest
    about to be replaced names, and a manifest that cannot be read counts as one to
    replace (only its token matters). The first time it is about to replace a manifest
    that holds versions (or cannot be read), it warns.
    """

    def __init__(self, store: AbstractRepositoryStore, journal_id: str | None) -> None:
        self.store = store
        self.journal_id = journal_id
        self.replaced: Sequence[VersionRecord] | None = ()
        self.warned = False

    @property
    def location(self) -> str:
        """The manifest's path or URL."""
        return self.store.location

    def read(self) -> tuple[ManifestIndex, str | None]:
        """Read the manifest (an unreadable one as empty) and settle the journals it names."""
        try:
            snapshot = self.store.read()
            self.replaced = snapshot.records
        except ManifestError:
            snapshot = ManifestSnapshot([], self.store.current_token())
            self.replaced = None
        if snapshot.token is not None:
            settle_replaced_journals(self.store, self.replaced, own=self.journal_id)
        return snapshot.indexed or ManifestIndex(snapshot.records), snapshot.token

    def before_commit(self, *, first: bool) -> None:
        """Settle every other journal before the first round; warn once before a replace."""
        if first:
            settle_replaced_journals(self.store, None, own=self.journal_id)
        elif not self.warned and (self.replaced is None or self.replaced):
            self.warned = True
            _warn_replacing(self.store.location, self.replaced)

    def replace(self, value: ManifestIndex, token: str | None) -> str:
        """Commit ``value``'s records if the manifest is still in the state ``token`` names."""
        return self.store.commit(value.records, token)

    def exclusive(self) -> AbstractContextManager[bool]:
        """Hold the manifest's writer lock where the store has one."""
        return self.store.exclusive()


def merge(
    base: Sequence[VersionRecord],
    new_records: list[VersionRecord],
    expiry_changes: Mapping[tuple[str, int], datetime],
    index: ManifestIndex,
    *,
    kept_times: Collection[tuple[str, str]] = frozenset(),
    location: str = "the repository",
) -> tuple[Sequence[VersionRecord], list[VersionRecord]]:
    """Apply expiry changes, then number new versions after each name's last one.

    A new version created no later than its name's last one is moved a microsecond after
    it, so that times keep increasing within a name; one whose time must be kept (its
    ``(name, fname)`` in ``kept_times``: a promotion keeps the artifact's time) is refused
    instead (:func:`require_newer`), whenever the version before it was committed, even by
    another writer after this one checked.

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
            numbered = renumbered(record, 0, record.created_at)
        elif (record.name, record.fname) in kept_times:
            require_newer(
                record.name, record.created_at, previous.version, previous.created_at, location
            )
            numbered = renumbered(record, previous.version + 1, record.created_at)
        else:
            try:
                created_at = max(record.created_at, previous.created_at + _ONE_MICROSECOND)
            except OverflowError:
                raise ManifestError(
                    f"version {previous.version} of {record.name!r} was created at "
                    f"{previous.created_at.isoformat()}, the last time a manifest can hold; no "
                    "later version can be added. The manifest's times are wrong."
                ) from None
            numbered = renumbered(record, previous.version + 1, created_at)
        last[record.name] = numbered
        added.append(numbered)
    if not expiry_changes:
        merged = Chain(base, added)
    else:
        listed.extend(added)
    return merged, added


def renumbered(record: VersionRecord, version: int, created_at: datetime) -> VersionRecord:
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


# -- 4. did it land? ----------------------------------------------------------------------


def already_committed(
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


def did_not_land(journal: SaveJournal, token: str | None, *, answered: bool) -> bool:
    """Tell whether a failed commit, its files not in the manifest at ``token``, never landed.

    The one "did it land?" rule of every save and promotion, with or without a journal.
    Only when every commit request was answered (refused, or never sent): a request whose
    answer was lost (an error or Ctrl-C while it was in flight) may still land after the
    re-read, so its files stay. Then:

    - with a stored journal, when the journal is still stored: no mode ``w`` save replaced
      a manifest that named the files (it would have settled the journal);
    - without one (``journal=False``), when the manifest is still in the state the save
      committed against: no manifest before and after, or the same token of a manifest
      that held versions (an empty one proves nothing: a mode ``w`` save of nothing writes
      the same ``[]`` again).
    """
    if not answered:
        return False
    if isinstance(journal, NoJournal):
        return token == journal.token and (token is None or not journal.base_empty)
    return journal.exists()


def settle_failed_commit(
    store: AbstractRepositoryStore,
    session: Session,
    new_records: list[VersionRecord],
    journal: SaveJournal,
    answered: bool,
) -> None:
    """After a failed commit, remove this save's files only if it provably did not land."""
    if not new_records:
        return
    try:
        snapshot = store.read()
        index = snapshot.indexed or ManifestIndex(snapshot.records)
        if any(record.fname in index.fnames(record.name) for record in new_records):
            # It landed: the files are committed data, and the changes are saved (a
            # second save() must not commit them again), though the error still
            # reaches the caller.
            session.committed_as(index, snapshot.token)
            session.forget_saved_changes()
            journal.close()
            return
        proven = did_not_land(journal, snapshot.token, answered=answered)
    except BaseException:
        proven = False
    if proven:
        remove_files(store, new_records)
        journal.close()
    elif isinstance(journal, NoJournal):
        # with a journal, gc collects the files if they were never committed
        _log.warning(
            "a save without a journal failed and cannot prove that its commit did not "
            "land, so it keeps its files; gc will never delete them (no journal proves "
            "them uncommitted). If no version names them, delete them yourself: %s",
            ", ".join(store.file_location(r.name, r.fname) for r in new_records),
        )


# -- a file written elsewhere, committed at once (promotion) ------------------------------


def commit_file(
    store: AbstractRepositoryStore,
    session: Session,
    record: VersionRecord,
    write: Callable[[IO[bytes]], None],
    extra: Mapping[str, Any],
    expected: tuple[str, int] | None,
    journal: bool,
    auto_fname: bool = True,
    keep_time: bool = False,
) -> VersionRecord:
    """Store an already-serialized file as the new version ``record`` and commit it now.

    ``write`` streams the file's bytes into the store (write-if-absent); the file is then
    checked against ``expected`` (sha256, size) and re-read verified, and committed
    through the protocol above. On any failure the file is removed and nothing is
    committed. Returns the committed record. ``auto_fname`` is ``False`` when the file
    name was not generated at random, and ``keep_time`` is ``True`` when the record's
    ``created_at`` must be kept (a promotion keeps the artifact's; see :func:`merge`).
    """
    name = record.name
    entry = JournalEntry(name, record.fname, auto=auto_fname)
    saving = begin_journal(store, session, [entry], journal)
    try:
        digests = store.write_file(name, record.fname, write)
    except BaseException:
        saving.close()
        raise
    sha256, size = digests.sha256, digests.size
    fields = record_fields(digests) if expected is not None else {}  # only if vouched for
    record = record.replace(sha256=sha256, size=size, extra={**extra, **fields})
    try:
        if expected is not None and (sha256, size) != tuple(expected):
            raise IntegrityError(
                f"the copy of {name!r} in {store.file_location(name, record.fname)} "
                f"has sha256 {sha256} and {size} bytes, but its source records sha256 "
                f"{expected[0]} and {expected[1]} bytes; nothing was committed"
            )
        # what arrived is re-read and verified against its digest
        store.check_file(name, record.fname, sha256, size)
    except BaseException:
        remove_files(store, [record])
        saving.close()
        raise
    if expected is None:
        # Nothing vouched for the source's bytes: the copy records no digest of them.
        record = record.replace(sha256=None, size=None)
    kept_times = {(name, record.fname)} if keep_time else frozenset()
    added = commit_written(store, session, [record], saving, kept_times=kept_times)
    session.fresh = False
    return added[0]


# -- logs and warnings --------------------------------------------------------------------


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
    warn(
        f"mode 'w' replaces the manifest at {location}, which holds {what}; after this save "
        "they are no longer listed (their files are kept). Open with mode 'a' or 'w+' to add "
        "to them instead.",
        ArchivistWarning,
    )
