"""Adopting a lazyscribe repository: record digests for versions written without one.

lazyscribe writes no digest or size. :func:`adopt` hashes each such version's stored file
once (regular files only) and records its SHA-256 and size in the manifest, through the
compare-and-swap every document uses (``archivist.stores._documents.update``): on a lost
race it re-reads the manifest and applies the digests again. Afterwards every load of those
versions is verified, and a repository opened with ``trust="verified"`` loads them.

Adopting vouches for the files *as they are now*: run it when you trust their content.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

from archivist.errors import (
    ArchivistWarning,
    ArtifactNotFoundError,
    IntegrityError,
    StorageError,
)
from archivist.manifest import ManifestIndex, VersionRecord
from archivist.stores._documents import update

if TYPE_CHECKING:
    from archivist._commit.session import Session
    from archivist.stores import AbstractRepositoryStore

__all__ = ["adopt"]

#: How many times adopting re-reads the manifest after another writer committed first.
MAX_ADOPT_ATTEMPTS = 64

_Key = tuple[str, int, str]


def adopt(
    store: AbstractRepositoryStore, session: Session, dry_run: bool = False
) -> list[tuple[str, int]]:
    """Record digests for the committed versions in ``store`` that have none.

    Parameters
    ----------
    store : AbstractRepositoryStore
        The repository's store; written only when ``dry_run`` is false.
    session : Session
        The repository's session, refreshed after a commit.
    dry_run : bool, optional
        Hash the files, but record nothing.

    Returns
    -------
    list[tuple[str, int]]
        ``(name, version)`` of the versions adopted (or that would be), in manifest order.
        Versions whose file is missing or not a regular file are left out, with an
        :class:`~archivist.errors.ArchivistWarning` listing them.

    Raises
    ------
    archivist.errors.ReadOnlyError
        The repository is open in mode ``r`` and ``dry_run`` is false.
    archivist.errors.ConflictError
        Other writers kept committing; nothing was recorded.
    """
    if not dry_run:
        session.require_writable()
    snapshot = store.read()
    digests: dict[_Key, tuple[str, int]] = {}
    problems: list[str] = []
    for record in snapshot.records:
        if record.sha256 is not None:
            continue
        try:
            sha256, size = store.digest_file(record.name, record.fname)
        except (ArtifactNotFoundError, IntegrityError, StorageError) as exc:
            problems.append(f"version {record.version} of {record.name!r}: {exc}")
            continue
        if record.size is not None and record.size != size:
            problems.append(
                f"version {record.version} of {record.name!r}: its record says {record.size} "
                f"bytes, the stored file has {size}"
            )
            continue
        digests[_key(record)] = (sha256, size)
    if problems:
        warnings.warn(
            f"{len(problems)} version(s) in {store.location} were not adopted:\n"
            + "\n".join(problems),
            ArchivistWarning,
            stacklevel=3,
        )
    if dry_run or not digests:
        return [(record.name, record.version) for record in _adoptable(snapshot.records, digests)]
    index = snapshot.indexed or ManifestIndex(snapshot.records)
    adopted = _commit(store, index, snapshot.token, digests)
    if not session.fresh:
        session.refresh(store)
    return adopted


def _key(record: VersionRecord) -> _Key:
    return (record.name, record.version, record.fname)


def _adoptable(
    records: Sequence[VersionRecord], digests: dict[_Key, tuple[str, int]]
) -> list[VersionRecord]:
    return [r for r in records if r.sha256 is None and _key(r) in digests]


def _commit(
    store: AbstractRepositoryStore,
    index: ManifestIndex,
    token: str | None,
    digests: dict[_Key, tuple[str, int]],
) -> list[tuple[str, int]]:
    """Fill in the digests with a compare-and-swap, re-reading after a lost race."""

    def fill_in(base: ManifestIndex) -> ManifestIndex | None:
        if not _adoptable(base.records, digests):
            return None  # an earlier round landed, or another writer adopted the same files
        return ManifestIndex(
            r.replace(sha256=digests[_key(r)][0], size=digests[_key(r)][1])
            if r.sha256 is None and _key(r) in digests
            else r
            for r in base.records
        )

    done = update(
        store.manifest(),
        fill_in,
        first=(index, token),
        what="adopting",
        attempts=MAX_ADOPT_ATTEMPTS,
    )
    if done.status == "written":
        return [(r.name, r.version) for r in _adoptable(done.base.records, digests)]
    # nothing written: report the versions now holding the digests computed here
    return [
        (r.name, r.version)
        for r in done.value.records
        if _key(r) in digests and r.sha256 == digests[_key(r)][0]
    ]
