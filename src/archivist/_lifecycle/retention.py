"""Retention: ``prune`` removes old versions, never one that something pins.

A version survives a prune when ``keep_last`` keeps it (the newest N of its name), when
``keep_within`` keeps it (created recently enough), or when it is pinned:

- a release in the repository's release file (``releases.json`` beside the manifest) names it;
- an alias names it now;
- it is the latest unexpired version of its name, or the highest-numbered one.

Keeping the highest-numbered version is what keeps numbers from being reused: new versions
are numbered after the highest number in the manifest (archivist and lazyscribe both do
so), and that number never leaves the manifest, so the next one is always above every
number ever used, pruned ones included.

A prune is planned, then applied (:mod:`archivist._lifecycle.plans`): the plan names exactly
the versions to remove, computed from the manifest read in full, and applying it removes
those and never another, each checked again (still recorded with the same file and digest,
still unpinned, still removable by the plan's rules). Applying is two-phase and crash-safe,
like a save in reverse:

1. The files about to lose their record are named, with their SHA-256 and size, in a save
   journal (:mod:`archivist._commit.journal`), before the manifest changes.
2. The manifest is re-read and every planned version checked against it on every round of
   the compare-and-swap, so a prune racing a save never drops the save's versions, and a
   version saved after the plan was listed never makes another one go (only versions named
   in step 1 are ever removed).
3. After the commit, the pins are read again: a version an alias or release named meanwhile
   is put back (its file was not touched). Then the files are deleted and the journal with
   them. A crash before that leaves a journal that proves the files are this repository's
   uncommitted files, so :meth:`~archivist.Repository.gc` deletes them later. A record
   lazyscribe wrote has no digest, so gc could never prove its file; prune deletes those
   files itself after the commit (a crash in between leaves them, which is safe).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from archivist._commit.journal import JournalEntry, SaveJournal
from archivist._formats.versions import check_duration
from archivist._lifecycle.aliases import pinned_by_aliases
from archivist._lifecycle.plans import PlannedVersion, PrunePlan, check_plan, warn_skipped
from archivist.errors import (
    ArchivistError,
    InvalidArgumentError,
    ReadOnlyError,
    UnsavedChangesError,
)
from archivist.manifest import ManifestIndex, VersionRecord, utcnow
from archivist.stores._documents import ManifestDocument, update

if TYPE_CHECKING:
    from datetime import datetime

    from archivist._commit.session import Session
    from archivist.stores import AbstractRepositoryStore

__all__ = [
    "MAX_PRUNE_ATTEMPTS",
    "apply_prune",
    "check_rules",
    "plan_prune",
    "prune",
    "release_pins",
    "removable",
]

#: How many times a prune re-reads the manifest after losing a race.
MAX_PRUNE_ATTEMPTS = 64


def release_pins(store: AbstractRepositoryStore) -> set[tuple[str, int]]:
    """Return the ``(name, version)`` pairs the releases beside the manifest name.

    Parameters
    ----------
    store : AbstractRepositoryStore
        The repository's store; one that keeps no releases (``releases()`` is ``None``)
        pins nothing.

    Returns
    -------
    set[tuple[str, int]]
        The pinned pairs.
    """
    releases = store.releases()
    if releases is None:
        return set()
    return {(name, version) for release in releases.list() for name, version in release.artifacts}


def _pins(store: AbstractRepositoryStore) -> set[tuple[str, int]]:
    return release_pins(store) | pinned_by_aliases(store)


def removable(
    records: Sequence[VersionRecord],
    pinned: set[tuple[str, int]],
    keep_last: int | None,
    keep_within: timedelta | None,
    now: datetime,
) -> list[VersionRecord]:
    """Return the records that neither rule keeps and nothing pins.

    Parameters
    ----------
    records : Sequence[VersionRecord]
        The manifest.
    pinned : set[tuple[str, int]]
        ``(name, version)`` pairs that releases and aliases name.
    keep_last : int or None
        Keep the newest this many versions of each name.
    keep_within : datetime.timedelta or None
        Keep the versions created within this long before ``now``.
    now : datetime.datetime
        Naive UTC.

    Returns
    -------
    list[VersionRecord]
        In manifest order.
    """
    index = ManifestIndex(records)
    kept: set[tuple[str, int]] = set(pinned)
    for name in index.names():
        versions = index.versions(name)
        kept.add((name, versions[-1].version))  # the highest number: never reused
        latest = next((r for r in reversed(versions) if not r.is_expired(now)), None)
        if latest is not None:
            kept.add((name, latest.version))
        if keep_last:
            kept.update((name, r.version) for r in versions[-keep_last:])
    if keep_within is not None:
        since = now - keep_within
        kept.update((r.name, r.version) for r in records if r.created_at >= since)
    return [r for r in records if (r.name, r.version) not in kept]


def check_rules(keep_last: object, keep_within: object) -> None:
    """Refuse a prune without a rule, or with a rule of a bad value.

    Raises
    ------
    archivist.errors.InvalidArgumentError
        No rule, ``keep_last`` not an integer >= 0, or ``keep_within`` not a duration
        :func:`archivist._formats.versions.check_duration` accepts.
    """
    if keep_last is None and keep_within is None:
        raise InvalidArgumentError(
            "prune() needs a rule: keep_last=N (the newest N versions of each name) and/or "
            "keep_within=timedelta(...) (versions created since then)"
        )
    if keep_last is not None and (
        not isinstance(keep_last, int) or isinstance(keep_last, bool) or keep_last < 0
    ):
        raise InvalidArgumentError(f"keep_last must be an integer >= 0, got {keep_last!r}")
    if keep_within is not None:
        check_duration(keep_within, "keep_within")


def _refuse_unsaved(store: AbstractRepositoryStore, session: Session) -> None:
    if session.has_changes:
        raise UnsavedChangesError(
            f"{store.location} holds changes that are not saved; save() before pruning"
        )


def plan_prune(
    store: AbstractRepositoryStore,
    session: Session,
    keep_last: int | None,
    keep_within: timedelta | None,
) -> PrunePlan:
    """Return the versions neither rule keeps and nothing pins, as a plan.

    Parameters
    ----------
    store : AbstractRepositoryStore
        The repository's store.
    session : Session
        The repository's session (any mode), with no unsaved changes.
    keep_last : int or None
        Keep the newest this many versions of each name.
    keep_within : datetime.timedelta or None
        Keep the versions created within this long.

    Returns
    -------
    PrunePlan
        The plan, computed from the manifest read in full now.
    """
    check_rules(keep_last, keep_within)
    _refuse_unsaved(store, session)
    snapshot = store.read_authoritative()
    now = utcnow()
    candidates = removable(snapshot.records, _pins(store), keep_last, keep_within, now)
    return PrunePlan(
        store.location,
        snapshot.token,
        now,
        keep_last,
        keep_within,
        tuple(PlannedVersion.of(r) for r in candidates),
    )


def prune(
    store: AbstractRepositoryStore,
    session: Session,
    keep_last: int | None,
    keep_within: timedelta | None,
    dry_run: bool,
    plan: PrunePlan | None = None,
) -> list[tuple[str, int]] | PrunePlan:
    """Plan a prune, or apply one; see :meth:`archivist.Repository.prune`."""
    if plan is not None:
        if keep_last is not None or keep_within is not None or dry_run:
            raise InvalidArgumentError(
                "prune(plan=...) applies the plan with the rules it was computed with; give "
                "no keep_last, keep_within or dry_run with it"
            )
        return apply_prune(store, session, plan)
    planned = plan_prune(store, session, keep_last, keep_within)
    if dry_run:
        session.refresh(store)
        return planned
    return apply_prune(store, session, planned)


def apply_prune(
    store: AbstractRepositoryStore, session: Session, plan: PrunePlan
) -> list[tuple[str, int]]:
    """Remove exactly the plan's versions that still hold; see :mod:`archivist._lifecycle.plans`.

    Parameters
    ----------
    store : AbstractRepositoryStore
        The store of the repository the plan was computed for.
    session : Session
        Its session, open in mode ``w+`` or ``w``; refreshed afterwards.
    plan : PrunePlan
        What ``prune(..., dry_run=True)`` returned.

    Returns
    -------
    list[tuple[str, int]]
        The ``(name, version)`` pairs removed, sorted: the plan's, less those skipped (each
        with an :class:`~archivist.ArchivistWarning`).
    """
    check_plan(plan, PrunePlan, store.location, "prune")
    check_rules(plan.keep_last, plan.keep_within)
    _refuse_unsaved(store, session)
    session.require_writable()
    store.require("supports_deletes", "prune")
    if session.mode == "a" or session.fresh:
        raise ReadOnlyError(
            f"prune removes versions, which mode {session.mode!r} does not allow "
            + ("before its first save" if session.fresh else "(it only appends)")
            + f"; open {store.location} with mode 'w+'"
        )
    if not plan.versions:
        session.refresh(store)
        return []
    journal = SaveJournal.begin(
        store,
        [JournalEntry(v.name, v.fname, False, v.sha256, v.size) for v in plan.versions if v.sha256],
    )
    # On any failure nothing is deleted: either the commit did not land (the records are
    # there) or it did and the journal lets gc delete the files later.
    removed, skipped = _commit_removal(store, plan)
    restored = _put_back_pinned(store, removed)
    gone = [r for r in removed if (r.name, r.version) not in restored]
    # lazyscribe names files to the second, so two of its records may share one file:
    # a file that a remaining record names is kept.
    still_named = {(r.name, r.fname) for r in store.read_authoritative().records}
    for record in gone:
        if (record.name, record.fname) in still_named:
            continue
        with contextlib.suppress(FileNotFoundError, ArchivistError, OSError):
            store.delete_file(record.name, record.fname)
    journal.close()
    session.refresh(store)
    for item, reason in skipped:
        warn_skipped(item, reason)
    for record in removed:
        if (record.name, record.version) in restored:
            warn_skipped(
                PlannedVersion.of(record),
                "an alias or release came to name it during the prune, so it was put back",
            )
    return sorted((r.name, r.version) for r in gone)


def _commit_removal(
    store: AbstractRepositoryStore, plan: PrunePlan
) -> tuple[list[VersionRecord], list[tuple[PlannedVersion, str]]]:
    """Remove the planned versions that still hold, with the one compare-and-swap loop.

    Each round re-reads the manifest in full and checks every planned version against it:
    still recorded with the same file and digest, still unpinned, still removable by the
    plan's rules now. Only planned versions are ever removed; versions another writer
    committed meanwhile are kept (and never make another version removable).

    Returns
    -------
    tuple
        The records removed, and the planned versions skipped with the reason (both as
        judged in the round that committed).
    """
    judged: list[tuple[list[VersionRecord], list[tuple[PlannedVersion, str]]]] = []

    def change(index: ManifestIndex) -> ManifestIndex | None:
        records = index.records
        pins = _pins(store)
        current = {(r.name, r.version): r for r in records}
        allowed = {
            (r.name, r.version)
            for r in removable(records, pins, plan.keep_last, plan.keep_within, utcnow())
        }
        doomed: list[VersionRecord] = []
        skipped: list[tuple[PlannedVersion, str]] = []
        for item in plan.versions:
            record = current.get((item.name, item.version))
            if record is None:
                skipped.append((item, "it is no longer in the manifest"))
            elif not item.matches(record):
                skipped.append((item, "its record changed (another file or digest)"))
            elif (item.name, item.version) in pins:
                skipped.append((item, "an alias or release names it now"))
            elif (item.name, item.version) not in allowed:
                skipped.append((item, "the rules keep it now"))
            else:
                doomed.append(record)
        judged[:] = [(doomed, skipped)]
        if not doomed:
            return None
        gone = {(r.name, r.version) for r in doomed}
        return ManifestIndex(r for r in records if (r.name, r.version) not in gone)

    update(
        ManifestDocument(store, authoritative=True),
        change,
        what="pruning",
        attempts=MAX_PRUNE_ATTEMPTS,
    )
    return judged[0]


def _put_back_pinned(
    store: AbstractRepositoryStore, removed: list[VersionRecord]
) -> set[tuple[str, int]]:
    """Put back removed versions that an alias or release came to name during the prune.

    Returns the ``(name, version)`` pairs put back; their files must be kept.
    """
    if not removed:
        return set()
    back: list[VersionRecord] = []

    def change(index: ManifestIndex) -> ManifestIndex | None:
        pins = _pins(store)
        back[:] = [r for r in removed if (r.name, r.version) in pins]
        present = {(r.name, r.version) for r in index.records}
        missing = [r for r in back if (r.name, r.version) not in present]
        # a full index: the records put back have lower numbers than the ones kept
        return ManifestIndex([*index.records, *missing]) if missing else None

    update(
        ManifestDocument(store, authoritative=True),
        change,
        what="putting back versions an alias or release came to name during the prune",
        attempts=MAX_PRUNE_ATTEMPTS,
    )
    return {(r.name, r.version) for r in back}
