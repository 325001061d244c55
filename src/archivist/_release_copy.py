"""Copy the versions a release pins into a new, minimal repository (lazyscribe 2.2's function)."""

from __future__ import annotations

import os
import posixpath
from typing import IO, TYPE_CHECKING

from fsspec.core import split_protocol

from archivist._lifecycle.digests import keep_digests, with_kept_digests
from archivist._streams import digest_stream
from archivist._trust import check_trusted
from archivist.errors import AlreadyExistsError, IntegrityError, UnsavedChangesError
from archivist.manifest import VersionRecord

if TYPE_CHECKING:
    from archivist.release import Release
    from archivist.repository import Repository

__all__ = ["minimal_repository_from_release"]

_CHUNK = 1 << 20


def _target_manifest(location: str | os.PathLike[str], repository: Repository) -> str:
    text = os.fspath(location)
    protocol, _ = split_protocol(text)
    if protocol is None and repository.protocol != "file":
        # lazyscribe takes a path on the source repository's filesystem
        return f"{repository.protocol}://{posixpath.join(text, 'repository.json')}"
    if protocol is None:
        return os.path.join(text, "repository.json")
    return posixpath.join(text, "repository.json")


def minimal_repository_from_release(
    location: str | os.PathLike[str], repository: Repository, release: Release
) -> None:
    """Create a repository at ``location`` holding only the versions ``release`` pins.

    Each pinned version's file is copied (streamed, checked against its digest) to the same
    ``<name>/<fname>`` under ``location``, and a ``repository.json`` listing those versions
    (same numbers, times and file names) is written there, replacing any manifest at that
    place. Use it to ship a deployment without the repository's whole history.

    The copy applies the source's trust policy: a version with a digest keeps it (its bytes
    were verified against it on the way); one without (written by lazyscribe) is copied
    without one, or, when its handler runs code and the source was opened with
    ``trust="verified"``, refused before anything is written.

    Parameters
    ----------
    location : str or os.PathLike
        The folder of the new repository: a local path, a URL, or (as in lazyscribe) a path
        on the source repository's filesystem.
    repository : archivist.Repository
        The source repository, with no unsaved changes (any mode).
    release : archivist.release.Release
        The release whose ``(name, version)`` pairs to copy.

    Raises
    ------
    archivist.errors.UnsavedChangesError
        The source repository holds unsaved changes (a :class:`RuntimeError`, as lazyscribe
        raised for a repository not opened read-only).
    archivist.errors.VersionNotFoundError
        The release pins a version the repository lacks.
    archivist.errors.IntegrityError
        A source file does not match its digest, or a file already at the target differs.
    archivist.errors.UntrustedArtifactError
        The source has ``trust="verified"`` and a pinned version has no digest and a handler
        that runs code; nothing was written.
    """
    from archivist.stores import ManifestStore

    if repository._pending or repository._expiry_changes:
        raise UnsavedChangesError(
            f"{repository.location} holds changes that are not saved; save() before copying "
            "a release out of it"
        )
    # a digest a lazyscribe save dropped from a record is the one archivist kept for it
    records = with_kept_digests(
        repository.store, list(repository.filter(release.artifacts)._committed)
    )
    for record in records:  # before anything is written: a refusal leaves no trace
        check_trusted(
            repository.trust,
            record.handler,
            record.sha256,
            f"version {record.version} of {record.name!r} in {repository.location}",
            "Copying it would record a digest for it: adopt the source repository once you "
            "trust its files, or copy from it opened with trust='any' (the copy then carries "
            "no digest).",
            action="copy",
        )
    target = ManifestStore(_target_manifest(location, repository), **repository.storage_options)
    copied: list[VersionRecord] = []
    for record in records:

        def write(raw: IO[bytes], record: VersionRecord = record) -> None:
            with repository.store.open_file(
                record.name, record.fname, record.sha256, record.size
            ) as source:
                while chunk := source.read(_CHUNK):
                    raw.write(chunk)

        try:
            target.write_file(record.name, record.fname, write)
        except AlreadyExistsError:
            # a copy made before (a re-run): keep it if it is the same file
            with repository.store.open_file(
                record.name, record.fname, record.sha256, record.size
            ) as source:
                sha256, size = digest_stream(source)
            try:
                target.open_file(record.name, record.fname, sha256, size).close()
            except IntegrityError as exc:
                raise IntegrityError(
                    f"{target.file_location(record.name, record.fname)} already exists and "
                    f"is not version {record.version} of {record.name!r}: {exc}"
                ) from None
        # The copy carries the digest its source was verified against, and none when the
        # source had none: a digest is recorded only for bytes that were verified.
        copied.append(record)
    target.make_durable([(r.name, r.fname) for r in copied])
    keep_digests(target, copied)  # before the commit, as a save does
    target.commit(copied, target.current_token())
