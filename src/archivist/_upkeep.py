"""Keeping a repository: verify its files and collect the files of saves that never committed.

Functions over a store and a :class:`~archivist._commit.session.Session`;
:meth:`~archivist.Repository.verify` and :meth:`~archivist.Repository.gc` are their public
face (adopt, aliases and prune live in their own modules).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from archivist._commit.session import Session
from archivist._journal import collect_garbage
from archivist.errors import (
    ArtifactNotFoundError,
    IntegrityError,
    InvalidArgumentError,
    RepositoryNotFoundError,
    StorageError,
)
from archivist.stores import AbstractRepositoryStore

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
    """

    checked: int
    unverifiable: list[tuple[str, int]] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)


def verify(store: AbstractRepositoryStore, session: Session) -> VerificationReport:
    """Check every committed version's file; see :meth:`archivist.Repository.verify`."""
    problems: list[str] = []
    unverifiable: list[tuple[str, int]] = []
    checked = 0
    for record in session.committed:
        try:
            # presence and regularity, and the digest where one is recorded
            store.check_file(record.name, record.fname, record.sha256, record.size)
        except (ArtifactNotFoundError, IntegrityError, StorageError) as exc:
            problems.append(f"version {record.version} of {record.name!r}: {exc}")
            continue
        if record.sha256 is None:
            unverifiable.append((record.name, record.version))
        else:
            checked += 1
    orphans = collect_garbage(store, session.referenced(), timedelta(0), dry_run=True)
    if problems:
        raise IntegrityError(
            f"{len(problems)} version(s) in {store.location} failed verification:\n"
            + "\n".join(problems)
        )
    return VerificationReport(checked, unverifiable, orphans)


def gc(
    store: AbstractRepositoryStore, session: Session, older_than: timedelta, dry_run: bool
) -> list[str]:
    """Delete the files of saves that never committed; see :meth:`archivist.Repository.gc`."""
    if not isinstance(older_than, timedelta) or older_than < timedelta(0):
        raise InvalidArgumentError(
            f"older_than must be a timedelta of zero or more, got {older_than!r}; "
            "for example timedelta(hours=1)"
        )
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
    return collect_garbage(store, session.referenced(), older_than, dry_run)
