"""gc as a plan: list the files stale save journals prove uncommitted, then delete exactly those.

The rules of what gc may delete are those of :mod:`archivist._commit.journal` (see its docstring
and ``docs/design.md``, "Ownership"); this module judges each stale journal once by those
rules (:func:`_judge`), both to build a :class:`~archivist._lifecycle.plans.GcPlan` and to
check each planned file again when the plan is applied. Applying deletes only planned files
that the same judgement still allows at that moment, against the manifest read then, so a
save that crashed after the plan was listed never loses a file to it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from archivist._commit.journal import JournalEntry, _journal_groups, _read_group
from archivist._formats.versions import check_duration
from archivist._lifecycle.plans import GcPlan, PlannedFile, PlannedJournal, check_plan, warn_skipped
from archivist.errors import ArtifactNotFoundError, IntegrityError, ManifestError, StorageError
from archivist.stores._digests import read_kept

if TYPE_CHECKING:
    from archivist.stores import AbstractRepositoryStore

__all__ = ["KEPT_REASON", "apply_gc", "plan_gc", "replaced_files"]

logger = logging.getLogger(__name__)

#: Why gc keeps the files archivist wrote that no version names, and how to remove them.
KEPT_REASON = (
    "archivist wrote these files and no version names them: a manifest that named them was "
    "replaced (mode 'w') or rewritten, and may be restored, so gc never deletes them. Delete "
    "them yourself once you are sure you will not restore it (on local disk: rm FILE)."
)


@dataclass(frozen=True)
class _Judged:
    """A file a stale journal proves uncommitted, and the time of the journal object naming it."""

    file: PlannedFile
    since: datetime | None


def _provably_ours(
    store: AbstractRepositoryStore, entry: JournalEntry, journal_time: datetime | None
) -> bool:
    """Tell whether the stored file is the one the journal's save wrote."""
    if entry.sha256 is not None and entry.size is not None:
        try:
            store.open_file(entry.name, entry.fname, entry.sha256, entry.size).close()
        except (ArtifactNotFoundError, IntegrityError):
            return False
        return True
    if not entry.auto or journal_time is None:
        return False
    try:
        modified = store.file_modified(entry.name, entry.fname)
    except FileNotFoundError:
        return False
    return modified is not None and modified >= journal_time


def _judge(
    store: AbstractRepositoryStore,
    owner: str,
    objects: list[str],
    referenced: Collection[tuple[str, str]],
    older_than: timedelta,
    now: datetime,
) -> list[_Judged] | None:
    """Return what one save's journal proves deletable; ``None`` when it is not stale.

    ``None`` also when the journal is gone or cannot be read (it is then left alone).
    """
    cutoff = now - older_than
    try:
        times = {object_id: store.journal_modified(object_id) for object_id in objects}
        named = _read_group(store, objects)
    except FileNotFoundError:
        return None  # deleted since the listing: its save finished, or another gc ran
    except ManifestError as exc:
        logger.warning("gc: leaving journal %s alone: %s", owner, exc)
        return None
    if older_than > timedelta(0) and any(t is None or t > cutoff for t in times.values()):
        for entry, _ in named:
            if (entry.name, entry.fname) not in referenced:
                logger.info(
                    "gc: keeping %s: its save's journal %s is younger than %s (the save "
                    "may still be running)",
                    store.file_location(entry.name, entry.fname),
                    owner,
                    older_than,
                )
        return None
    digests: dict[tuple[str, str], JournalEntry] = {
        (e.name, e.fname): e for e, _ in named if e.sha256 is not None
    }
    judged: list[_Judged] = []
    seen: set[tuple[str, str]] = set()
    for entry, object_id in named:
        key = (entry.name, entry.fname)
        if key in referenced or key in seen:
            continue
        seen.add(key)
        since = times[object_id]
        if since is not None:
            judged += [
                _Judged(PlannedFile(*key, location, owner, partial=True), since)
                for location in store.remove_partial_writes(*key, since=since, dry_run=True)
            ]
        if _provably_ours(store, digests.get(key, entry), since):
            judged.append(_Judged(PlannedFile(*key, store.file_location(*key), owner), since))
        else:
            logger.info(
                "gc: keeping %s: journal %s names it, but nothing proves its save wrote it",
                store.file_location(*key),
                owner,
            )
    return judged


def plan_gc(
    store: AbstractRepositoryStore,
    referenced: Collection[tuple[str, str]],
    older_than: timedelta,
) -> GcPlan:
    """Return the files that stale save journals prove uncommitted, as a plan.

    Parameters
    ----------
    store : AbstractRepositoryStore
        The repository's store.
    referenced : Collection[tuple[str, str]]
        ``(name, fname)`` of every file the manifest, read in full (and this writer's
        pending versions), names.
    older_than : datetime.timedelta
        Journals younger than this belong to saves that may still be running: skipped.

    Returns
    -------
    GcPlan
        The plan; nothing was deleted.
    """
    now = datetime.now(UTC)
    files: list[PlannedFile] = []
    journals: list[PlannedJournal] = []
    for owner, objects in _journal_groups(store.list_journals()).items():
        judged = _judge(store, owner, objects, referenced, older_than, now)
        if judged is None:
            continue
        for item in judged:
            logger.info(
                "gc: would delete %s (written by save %s, never committed)", item.file, owner
            )
            files.append(item.file)
        journals.append(PlannedJournal(owner, tuple(objects)))
    files.sort(key=lambda f: f.location)
    kept = replaced_files(store, referenced)
    if kept:
        logger.info("gc: keeping %s: %s", ", ".join(kept), KEPT_REASON)
    return GcPlan(store.location, older_than, now, tuple(files), tuple(journals), kept)


def replaced_files(
    store: AbstractRepositoryStore, referenced: Collection[tuple[str, str]]
) -> tuple[str, ...]:
    """Return the files archivist wrote that no version names and gc never deletes.

    A file is one when the kept digests (``digests.json`` beside the manifest, appended by
    every save with a journal) name it, the manifest does not, and it is still stored. Such
    files are what a mode ``w`` save (or a lazyscribe rewrite) left unlisted. The answer is
    for reports only: nothing is deleted on its account, and a store that cannot list its
    files, or whose kept digests cannot be read, reports none.

    Parameters
    ----------
    store : AbstractRepositoryStore
        The repository's store.
    referenced : Collection[tuple[str, str]]
        ``(name, fname)`` of every file the manifest, read in full, names.

    Returns
    -------
    tuple[str, ...]
        Their locations, sorted.
    """
    if not store.supports_listing:
        return ()
    try:
        unlisted = set(read_kept(store)) - set(referenced)
        if not unlisted:
            return ()
        stored = set(store.list_files())
    except (ManifestError, StorageError) as exc:
        logger.info("gc: cannot tell which unlisted files archivist wrote: %s", exc)
        return ()
    return tuple(sorted(store.file_location(*key) for key in unlisted & stored))


def apply_gc(
    store: AbstractRepositoryStore,
    plan: GcPlan,
    referenced: Callable[[], Collection[tuple[str, str]]],
) -> list[str]:
    """Delete exactly the plan's files that still hold, then the plan's journals.

    Each planned file is judged again now, by the rules that planned it: its journal is
    still stored with the same objects and still older than the plan's ``older_than``, the
    manifest (read in full now, by ``referenced``) still does not name it, and it is still
    provably the file that save wrote. A file that fails is kept, with an
    :class:`~archivist.ArchivistWarning`; a journal whose objects changed is kept too.

    Parameters
    ----------
    store : AbstractRepositoryStore
        The repository's store.
    plan : GcPlan
        What ``gc(..., dry_run=True)`` returned.
    referenced : callable
        Returns ``(name, fname)`` of every file the manifest names now.

    Returns
    -------
    list[str]
        The locations of the files deleted, sorted.
    """
    check_plan(plan, GcPlan, store.location, "gc")
    check_duration(plan.older_than, "the plan's older_than")
    groups = _journal_groups(store.list_journals())
    named = referenced()
    now = datetime.now(UTC)
    deleted: list[str] = []
    for journal in plan.journals:
        planned = [f for f in plan.files if f.journal == journal.id]
        objects = groups.get(journal.id)
        judged = None
        if objects is not None and tuple(objects) == journal.objects:
            judged = _judge(store, journal.id, objects, named, plan.older_than, now)
        if judged is None:
            for item in planned:
                warn_skipped(item, f"its save journal {journal.id} changed or is gone")
            continue
        still = {item.file: item.since for item in judged}
        for item in planned:
            if item not in still:
                warn_skipped(item, "a version names it now, or it is no longer provably ours")
                continue
            logger.info("gc: deleting %s (written by save %s, never committed)", item, journal.id)
            if item.partial:
                since = still[item]
                assert since is not None  # a partial write is judged by its journal's time
                store.remove_partial_writes(
                    item.name, item.fname, since=since, only=(item.location,)
                )
            else:
                with contextlib.suppress(FileNotFoundError):
                    store.delete_file(item.name, item.fname)
            deleted.append(item.location)
        for object_id in journal.objects:
            with contextlib.suppress(FileNotFoundError):
                store.delete_journal(object_id)
    return sorted(deleted)
