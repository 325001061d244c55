"""Copy the versions a release pins into a new, minimal repository.

The body of lazyscribe 2.2's ``minimal_repository_from_release`` (its public face is
:func:`archivist.release.minimal_repository_from_release`), over the source repository's
store and session. The copy is committed as a mode ``w`` save is, through the commit
protocol, with a save journal (so gc can prove a killed copy's files its own) and with the
versions' own numbers and times.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from fsspec.core import split_protocol

from archivist._commit.journal import JournalEntry
from archivist._commit.protocol import begin_journal, commit_written, remove_files
from archivist._commit.session import Session
from archivist._commit.unjournaled import resolve_journal
from archivist._io.streams import digest_stream
from archivist._io.trust import check_trusted
from archivist.errors import AlreadyExistsError, IntegrityError, ReadOnlyRequiredError
from archivist.manifest import VersionRecord
from archivist.stores import ManifestStore
from archivist.stores._digests import with_kept_digests

if TYPE_CHECKING:
    from archivist._io.trust import Trust
    from archivist.stores import AbstractRepositoryStore

__all__ = ["copy_release"]

_CHUNK = 1 << 20


def _target_manifest(location: str | os.PathLike[str], source_protocol: str) -> str:
    text = os.fspath(location)
    protocol, _ = split_protocol(text)
    if protocol is None and source_protocol != "file":
        # lazyscribe takes a path on the source repository's filesystem
        return f"{source_protocol}://{posixpath.join(text, 'repository.json')}"
    if protocol is None:
        return os.path.join(text, "repository.json")
    return posixpath.join(text, "repository.json")


def copy_release(
    location: str | os.PathLike[str],
    store: AbstractRepositoryStore,
    session: Session,
    pinned: Sequence[tuple[str, int]],
    *,
    trust: Trust,
    protocol: str,
    storage_options: Mapping[str, Any],
) -> None:
    """Create a repository at ``location`` holding only the ``pinned`` versions.

    See :func:`archivist.release.minimal_repository_from_release`; ``store``, ``session``
    and ``trust`` are the source repository's, ``pinned`` the release's ``(name, version)``
    pairs, ``protocol`` the source storage's URL protocol and ``storage_options`` the
    options the new repository's storage is opened with.
    """
    if session.mode != "r":
        raise ReadOnlyRequiredError(
            f"{store.location} is open for writing (mode {session.mode!r}); a release is "
            "copied from a repository opened read-only, as in lazyscribe: open it again "
            "with mode='r'"
        )
    # a digest a lazyscribe save dropped from a record is the one archivist kept for it
    records = with_kept_digests(store, list(session.filtered(pinned).committed))
    for record in records:  # before anything is written: a refusal leaves no trace
        check_trusted(
            trust,
            record.handler,
            record.digest,
            f"version {record.version} of {record.name!r} in {store.location}",
            "Copying it would record a digest for it: adopt the source repository once you "
            "trust its files, or copy from it opened with trust='any' (the copy then carries "
            "no digest).",
            action="copy",
        )
    target = ManifestStore(_target_manifest(location, protocol), **storage_options)
    # A mode ``w`` save of the copies, through the one commit protocol: a journal names the
    # files before they are written (gc collects the files of a copy that died), and the
    # records keep their numbers and times.
    session = Session.open(target, "w")
    entries = [JournalEntry(r.name, r.fname, auto=False) for r in records]
    saving = begin_journal(target, session, entries, resolve_journal(None))
    written: list[VersionRecord] = []
    try:
        for record in records:
            if _copy_file(store, target, record):
                written.append(record)
    except BaseException:
        remove_files(target, written)
        saving.close()
        raise
    # The copies carry the digests their sources were verified against, and none when the
    # source had none: a digest is recorded only for bytes that were verified.
    commit_written(target, session, records, saving, written=written, verbatim=True)


def _copy_file(
    store: AbstractRepositoryStore, target: AbstractRepositoryStore, record: VersionRecord
) -> bool:
    """Copy one version's file, verified; return whether it was written (not found in place)."""

    def write(raw: IO[bytes]) -> None:
        with store.open_file(record.name, record.fname, record.digest, record.size) as source:
            while chunk := source.read(_CHUNK):
                raw.write(chunk)

    try:
        target.write_file(record.name, record.fname, write)
    except AlreadyExistsError:
        # a copy made before (a re-run): keep it if it is the same file, and never remove it
        with store.open_file(record.name, record.fname, record.digest, record.size) as source:
            sha256, size = digest_stream(source)
        try:
            target.open_file(record.name, record.fname, sha256, size).close()
        except IntegrityError as exc:
            raise IntegrityError(
                f"{target.file_location(record.name, record.fname)} already exists and "
                f"is not version {record.version} of {record.name!r}: {exc}"
            ) from None
        return False
    return True
