"""Reading a repository: finding a version (by number, time, as-of or alias) and loading it.

Functions over a store and a :class:`~archivist._commit.session.Session`;
:class:`~archivist.Repository`'s reading methods are their public face.
"""

from __future__ import annotations

import logging
import warnings
from datetime import datetime
from typing import IO, Any

from archivist._commit.session import Session
from archivist._io.cache import ArtifactCache
from archivist._io.handlers import read_value
from archivist._io.progress import metered
from archivist._io.trust import Trust, check_trusted
from archivist._io.verified import SPOOL_LARGE_READS
from archivist._lifecycle import aliases as _aliases
from archivist.errors import (
    ArchivistWarning,
    ArtifactFileNotFoundError,
    EnvironmentMismatchError,
    InvalidArgumentError,
    UnsupportedOperationError,
)
from archivist.handlers.base import Handler
from archivist.manifest import VersionRecord
from archivist.plugin.manager import get_handler
from archivist.stores import AbstractRepositoryStore
from archivist.stores._digests import with_kept_digests

__all__ = ["find_aliased", "load", "open_file", "text_lines"]

LOG = logging.getLogger("archivist.repository")


def find_aliased(
    store: AbstractRepositoryStore,
    session: Session,
    name: str,
    version: object,
    match: object,
    alias: str | None,
    as_of: object,
) -> VersionRecord:
    """Return the version that ``version`` and ``match``, or ``alias`` (at ``as_of``), select."""
    if alias is None:
        if as_of is not None:
            raise InvalidArgumentError(
                "as_of applies to an alias (alias='production', as_of=...); for the version "
                "current at a time, pass version=<time>, match='asof'"
            )
        return session.find(name, version, match)
    if version is not None:
        raise InvalidArgumentError(
            f"give either version ({version!r}) or alias ({alias!r}), not both"
        )
    if as_of is not None and not isinstance(as_of, datetime | str):
        raise InvalidArgumentError(f"as_of must be a datetime or an ISO string, got {as_of!r}")
    return session.find(name, _aliases.aliased_version(store, name, alias, as_of), "exact")


def load(
    store: AbstractRepositoryStore,
    session: Session,
    cache: ArtifactCache | None,
    trust: Trust,
    record: VersionRecord,
    validate: bool,
    reader_kwargs: dict[str, Any],
    callback: Any = None,
) -> Any:
    """Load a saved version: environment check, trust policy, verified read, handler."""
    if session.is_pending(record):
        raise ArtifactFileNotFoundError(
            f"version {record.version} of {record.name!r} is not saved yet; call save() first"
        )
    (record,) = with_kept_digests(store, [record])  # a digest a foreign save dropped
    handler = get_handler(record.handler)()
    problems = handler.mismatches(record.to_dict())
    if problems:
        message = (
            f"version {record.version} of {record.name!r} was written under a different "
            "environment: " + "; ".join(problems)
        )
        if validate:
            raise EnvironmentMismatchError(message + ". Pass validate=False to load anyway.")
        warnings.warn(message, ArchivistWarning, stacklevel=3)
    check_trusted(
        trust,
        handler,
        record.digest,
        f"version {record.version} of {record.name!r} in {store.location}",
        "Once you trust the stored files, record their digests with Repository.adopt() "
        "(or `archivist adopt`).",
        stacklevel=3,
    )
    if callback is not None and record.size is not None:
        callback.set_size(record.size)
    LOG.debug(
        "%s: loading version %d of %r (%s, %s, %s bytes)",
        store.location,
        record.version,
        record.name,
        record.fname,
        record.handler,
        record.size,
    )
    with open_file(store, cache, record, handler) as raw:
        return read_value(
            handler,
            metered(raw, callback),
            reader_kwargs,
            record.handler,
            f"version {record.version} of {record.name!r}",
            record.name,
            stacklevel=3,
        )


def open_file(
    store: AbstractRepositoryStore,
    cache: ArtifactCache | None,
    record: VersionRecord,
    handler: Handler | None = None,
) -> IO[bytes]:
    """Open a version's file, verified: through the local cache when there is one.

    A ``handler`` that does not read in memory (:attr:`Handler.reads_in_memory`) gets a
    large file spooled to a temporary file rather than buffered in memory.
    """

    def fetch() -> IO[bytes]:
        return store.open_file(record.name, record.fname, record.digest, record.size)

    spooling = SPOOL_LARGE_READS.set(handler is not None and not handler.reads_in_memory)
    digest = record.digest
    try:
        if cache is None or digest is None or record.size is None:
            return fetch()
        return cache.open(digest, record.size, fetch)
    finally:
        SPOOL_LARGE_READS.reset(spooling)


def text_lines(
    store: AbstractRepositoryStore,
    session: Session,
    cache: ArtifactCache | None,
    record: VersionRecord,
) -> list[str]:
    """Return the lines of a saved text version's verified file."""
    if session.is_pending(record):
        raise ArtifactFileNotFoundError(
            f"version {record.version} of {record.name!r} is not saved yet; call save() first"
        )
    if get_handler(record.handler).binary:
        raise UnsupportedOperationError(
            f"version {record.version} of {record.name!r} is stored by the binary handler "
            f"{record.handler!r}; only text artifacts can be diffed"
        )
    (record,) = with_kept_digests(store, [record])  # a digest a foreign save dropped
    with open_file(store, cache, record) as raw:
        return raw.read().decode("utf-8").splitlines()
