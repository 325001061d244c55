"""Adopting a lazyscribe repository: record digests for versions written without one.

lazyscribe writes no digest or size. :func:`adopt` hashes each such version's stored file
once (regular files only) and records its SHA-256 and size in the manifest, through the
compare-and-swap every document uses (``archivist.stores._documents.update``): on a lost
race it re-reads the manifest and applies the digests again. Afterwards every load of those
versions is verified, and a repository opened with ``trust="verified"`` loads them.

Adopting vouches for the files *as they are now*: run it when you trust their content. A
file whose digest archivist kept beside the manifest (see :mod:`archivist.stores._digests`:
a lazyscribe save dropped it from the record) is adopted only if it still matches it. It
applies the repository's trust policy (:func:`archivist._io.trust.check_trusted`):
opened with
``trust="verified"``, it refuses to vouch for a file whose handler runs code.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

from archivist._io.trust import check_trusted
from archivist.errors import (
    ArchivistWarning,
    ArtifactNotFoundError,
    IntegrityError,
    StorageError,
)
from archivist.manifest import ManifestIndex, VersionRecord
from archivist.stores._digests import keep_digests, with_kept_digests
from archivist.stores._documents import MAX_ATTEMPTS, update

if TYPE_CHECKING:
    from archivist._commit.session import Session
    from archivist._io.trust import Trust
    from archivist.stores import AbstractRepositoryStore

__all__ = ["adopt"]

#: How many times adopting re-reads the manifest after another writer committed first.
MAX_ADOPT_ATTEMPTS = MAX_ATTEMPTS

_Key = tuple[str, int, str]


def adopt(
    store: AbstractRepositoryStore, session: Session, trust: Trust, dry_run: bool = False
) -> list[tuple[str, int]]:
    """Record digests for the committed versions in ``store`` that have none.

    Parameters
    ----------
    store : AbstractRepositoryStore
        The repository's store; written only when ``dry_run`` is false.
    session : Session
        The repository's session, refreshed after a commit.
    trust : {"any", "verified"}
        The repository's trust policy.
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
    archivist.errors.UntrustedArtifactError
        The repository was opened with ``trust="verified"`` and a version to adopt has a
        handler that runs code; nothing was recorded.
    """
    if not dry_run:
        session.require_writable()
    snapshot = store.read()
    digests: dict[_Key, tuple[str, int]] = {}
    problems: list[str] = []
    kept = with_kept_digests(store, snapshot.records)
    for record, expected in zip(snapshot.records, kept, strict=True):
        if record.digest is not None:  # it has blake3 or sha256: verified already
            continue
        check_trusted(  # a digest archivist kept for the file is what it is checked against
            trust,
            record.handler,
            expected.digest,
            f"version {record.version} of {record.name!r} in {store.location}",
            "Adopting it would vouch for the file as it is now; once you trust it, adopt with "
            "the repository opened with trust='any' (or ARCHIVIST_TRUST=any).",
            action="adopt",
        )
        try:
            sha256, size = store.digest_file(record.name, record.fname)
        except (ArtifactNotFoundError, IntegrityError, StorageError) as exc:
            problems.append(f"version {record.version} of {record.name!r}: {exc}")
            continue
        if expected.sha256 is not None and (sha256, size) != (expected.sha256, expected.size):
            problems.append(
                f"version {record.version} of {record.name!r}: the stored file (sha256 "
                f"{sha256}, {size} bytes) is not what archivist wrote (sha256 "
                f"{expected.sha256}, {expected.size} bytes, kept beside the manifest); it "
                "was changed since"
            )
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
    keep_digests(store, _with_digests(snapshot.records, digests))  # before the commit
    index = snapshot.indexed or ManifestIndex(snapshot.records)
    adopted = _commit(store, index, snapshot.token, digests)
    if not session.fresh:
        session.refresh(store)
    return adopted


def _key(record: VersionRecord) -> _Key:
    return (record.name, record.version, record.fname)


def _with_digests(
    records: Sequence[VersionRecord], digests: dict[_Key, tuple[str, int]]
) -> list[VersionRecord]:
    return [
        r.replace(sha256=digests[_key(r)][0], size=digests[_key(r)][1])
        for r in _adoptable(records, digests)
    ]


def _adoptable(
    records: Sequence[VersionRecord], digests: dict[_Key, tuple[str, int]]
) -> list[VersionRecord]:
    return [r for r in records if r.digest is None and _key(r) in digests]


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
            if r.digest is None and _key(r) in digests
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
