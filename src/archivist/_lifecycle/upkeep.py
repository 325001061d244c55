"""Keeping a repository: verify its files and collect the files of saves that never committed.

Functions over a store and a :class:`~archivist._commit.session.Session`;
:meth:`~archivist.Repository.verify` and :meth:`~archivist.Repository.gc` are their public
face (adopt, aliases and prune live in their own modules).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from archivist._commit.session import Session
from archivist._formats.versions import check_duration
from archivist._lifecycle.gc import apply_gc, plan_gc
from archivist._lifecycle.plans import GcPlan
from archivist.errors import (
    ArtifactNotFoundError,
    IntegrityError,
    InvalidArgumentError,
    RepositoryNotFoundError,
    StorageError,
)
from archivist.stores import AbstractRepositoryStore
from archivist.stores._digests import with_kept_digests

__all__ = ["VerificationReport", "gc", "verify"]


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
        ``gc(older_than=timedelta(0))`` would remove them. The files of a crashed save
        without a journal (``journal=False``) are not listed: nothing proves them
        uncommitted, and gc never removes them.
    recovered : list[tuple[str, int]]
        Versions whose record has no digest (a lazyscribe save rewrote the manifest without
        it) that were checked against the digest archivist kept when it wrote or adopted
        the file (see ``docs/design.md``, "Kept digests"); they are counted in ``checked``.
    kept : list[str]
        Files archivist wrote that no version names and that gc keeps (see
        :attr:`GcPlan.kept <archivist.GcPlan.kept>`): a manifest that named them was replaced
        (mode ``w``) or rewritten, and may be restored. Delete them yourself once you are
        sure you will not restore it.
    """

    checked: int
    unverifiable: list[tuple[str, int]] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    recovered: list[tuple[str, int]] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def verify(store: AbstractRepositoryStore, session: Session) -> VerificationReport:
    """Check every committed version's file; see :meth:`archivist.Repository.verify`."""
    problems: list[str] = []
    unverifiable: list[tuple[str, int]] = []
    recovered: list[tuple[str, int]] = []
    checked = 0
    committed = list(session.committed)
    for own, record in zip(committed, with_kept_digests(store, committed), strict=True):
        kept = own.digest is None and record.digest is not None
        try:
            # presence and regularity, and the digest where one is recorded (or kept):
            # BLAKE3 when the record has it, else SHA-256; and a large file's block list
            blocks = store.read_block_list(record) if record.blocks is not None else None
            store.check_file(record.name, record.fname, record.digest, record.size, blocks)
        except (ArtifactNotFoundError, IntegrityError, StorageError) as exc:
            how = " (checked against the digest archivist kept)" if kept else ""
            problems.append(f"version {record.version} of {record.name!r}{how}: {exc}")
            continue
        if record.digest is None:
            unverifiable.append((record.name, record.version))
        else:
            checked += 1
            if kept:
                recovered.append((record.name, record.version))
    plan = plan_gc(store, session.referenced(store), timedelta(0))
    if problems:
        raise IntegrityError(
            f"{len(problems)} version(s) in {store.location} failed verification:\n"
            + "\n".join(problems)
        )
    return VerificationReport(checked, unverifiable, plan.locations, recovered, list(plan.kept))


def gc(
    store: AbstractRepositoryStore,
    session: Session,
    older_than: timedelta,
    dry_run: bool,
    plan: GcPlan | None = None,
) -> list[str] | GcPlan:
    """Plan or delete the files of saves that never committed; see :meth:`Repository.gc`."""
    if plan is not None and dry_run:
        raise InvalidArgumentError("gc(plan=...) applies a plan; give no dry_run with it")
    if plan is None:
        check_duration(older_than, "older_than")
    if not dry_run:
        session.require_writable()
        store.require("supports_deletes", "gc")
    store.require("supports_journals", "gc")  # without journals nothing is provable
    session.refresh(store)  # never judge by a stale manifest: another writer may have committed
    if session.token is None:
        raise RepositoryNotFoundError(
            f"no repository at {store.location}: there is no manifest, so gc deletes "
            "nothing. Check the path."
        )
    if plan is not None:

        def referenced() -> set[tuple[str, str]]:
            session.refresh(store)
            return session.referenced(store)

        return apply_gc(store, plan, referenced)
    planned = plan_gc(store, session.referenced(store), older_than)
    return planned if dry_run else apply_gc(store, planned, lambda: session.referenced(store))
