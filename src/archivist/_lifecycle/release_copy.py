"""Copy the versions a release pins into a new, minimal repository.

The body of lazyscribe 2.2's ``minimal_repository_from_release`` (its public face is
:func:`archivist.release.minimal_repository_from_release`), over the source repository's
store and session.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from fsspec.core import split_protocol

from archivist._io.streams import digest_stream
from archivist._io.trust import check_trusted
from archivist.errors import AlreadyExistsError, IntegrityError, ReadOnlyRequiredError
from archivist.manifest import VersionRecord
from archivist.stores._digests import keep_digests, with_kept_digests

if TYPE_CHECKING:
    from archivist._commit.session import Session
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
    from archivist.stores import ManifestStore

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
    copied: list[VersionRecord] = []
    for record in records:

        def write(raw: IO[bytes], record: VersionRecord = record) -> None:
            with store.open_file(record.name, record.fname, record.digest, record.size) as source:
                while chunk := source.read(_CHUNK):
                    raw.write(chunk)

        try:
            target.write_file(record.name, record.fname, write)
        except AlreadyExistsError:
            # a copy made before (a re-run): keep it if it is the same file
            with store.open_file(record.name, record.fname, record.digest, record.size) as source:
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
