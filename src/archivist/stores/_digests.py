"""Kept digests: the SHA-256 and size archivist computed, stored beside the manifest.

A version's record in ``repository.json`` carries the digest its file is checked against.
lazyscribe 2.2 reads archivist's manifests, but a lazyscribe save (mode ``w+``) rewrites the
whole file through its own artifact classes, which know nothing of ``sha256`` and ``size``:
one such save strips every digest. So archivist also keeps each digest it computed in the
manifest's private folder (``.<manifest file name>.archivist/digests.json``), a folder
lazyscribe never touches, keyed by ``(name, fname)``: file names are never reused, so the
key names one file's bytes for good.

* **Written** by every save with a journal (before its manifest commit, so a committed
  record always has its kept digest), by adopt, and by a release copy into its new
  repository; appended with the one compare-and-swap of :mod:`archivist.stores._documents`
  (:func:`keep_digests`). An entry for a file that was never committed is harmless: its
  name is not reused. The file's format is :mod:`archivist._formats.digests`.
* **Read** only for a record that has no digest of its own (:func:`with_kept_digests`), on a
  load, a diff, :meth:`~archivist.Repository.verify`, adopt, a release copy and
  ``archivist get``/``cat``: when an entry has the record's name and file name, and the
  record has no size or the entry's size is that size, the record is read as if it carried
  the entry's digest, so its bytes are verified against it (and the trust policy sees a
  verified record).
* **A record with a digest always uses its own**; an entry never replaces or overrides it.

What a forged file can do: nothing beyond what write access to the manifest already allows.
An entry only supplies the digest that the bytes are then checked against; it cannot make
archivist skip a check. Forging one makes a digest-less record verify against the forged
digest, which whoever can write the private folder could equally write into the manifest
itself. A malformed file (not this format, a duplicate key, a bad name, digest or size) is
refused with a :class:`~archivist.errors.ManifestError` naming it, when a digest-less record
needs it or a save would append to it; deleting it loses only this recovery.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from archivist._formats.digests import KeptDigest, KeptDigests, merged, recovered
from archivist.manifest import VersionRecord
from archivist.stores._documents import update

if TYPE_CHECKING:
    from archivist.stores._repository import AbstractRepositoryStore

__all__ = ["keep_digests", "read_kept", "with_kept_digests"]


def keep_digests(store: AbstractRepositoryStore, records: Sequence[VersionRecord]) -> None:
    """Append the digests of ``records`` to the store's kept digests (compare-and-swap).

    Called by a save before its manifest commit (so a committed record always has its kept
    digest), by adopt and by a release copy. Records without a digest are skipped: an entry
    is kept only for bytes archivist wrote or verified. Costs nothing when there is nothing
    to keep; otherwise one read and one conditional write, more after a lost race.

    Parameters
    ----------
    store : AbstractRepositoryStore
        The repository's store; one that keeps no digests is left alone.
    records : Sequence[VersionRecord]
        The records whose digests to keep.

    Raises
    ------
    archivist.errors.ManifestError
        The stored kept digests are malformed; nothing was written.
    archivist.errors.ConflictError
        Other writers kept changing them; nothing was written.
    """
    document = store.kept_digests()
    if document is None or all(KeptDigest.of(record) is None for record in records):
        return
    update(
        document,
        lambda kept: merged(kept, records),
        landed=lambda kept: merged(kept, records) is None,
        first=document.last,  # as this process last read or wrote it: no read when current
        what=f"keeping the digests of {len(records)} file(s)",
    )


def read_kept(store: AbstractRepositoryStore) -> KeptDigests:
    """Read and parse a store's kept digests (empty when it keeps none).

    Parameters
    ----------
    store : AbstractRepositoryStore
        The repository's store.

    Returns
    -------
    KeptDigests
        The entries by ``(name, fname)``.

    Raises
    ------
    archivist.errors.ManifestError
        The file is malformed.
    archivist.errors.StorageError
        It could not be read.
    """
    document = store.kept_digests()
    return {} if document is None else document.read()[0].entries


def with_kept_digests(
    store: AbstractRepositoryStore, records: Sequence[VersionRecord]
) -> list[VersionRecord]:
    """Return ``records``, each digest-less one with its kept digest when there is one.

    The kept digests are read at most once, and only when a record has no digest.

    Parameters
    ----------
    store : AbstractRepositoryStore
        The repository's store.
    records : Sequence[VersionRecord]
        Manifest records.

    Returns
    -------
    list[VersionRecord]
        The records, in order (see :func:`recovered`).

    Raises
    ------
    archivist.errors.ManifestError
        A record needs the kept digests and their file is malformed.
    """
    if all(record.sha256 is not None for record in records):
        return list(records)
    kept = read_kept(store)
    return [recovered(record, kept) for record in records]
