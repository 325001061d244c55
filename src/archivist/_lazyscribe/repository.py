"""lazyscribe's view of a repository: artifact objects, ``protocol``, ``fs``, ``RepositoryState``.

Kept out of the core so the versioning logic stays in one place; the
:class:`~archivist.Repository` properties of the same names call these functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from fsspec.core import split_protocol

from archivist._io.handlers import environment_of
from archivist.manifest import VersionRecord, format_seconds

if TYPE_CHECKING:
    from archivist.stores import AbstractRepositoryStore

__all__ = [
    "RepositoryState",
    "filesystem_of",
    "lazyscribe_artifacts",
    "lazyscribe_record",
    "protocol_of",
]


class RepositoryState(TypedDict):
    """lazyscribe's ``RepositoryState``: the fields describing an open repository.

    archivist repositories pickle their whole state (store, pending versions); this type
    keeps lazyscribe's name for code that annotates with it.
    """

    fpath: Path
    protocol: str
    dir: Path
    storage_options: dict[str, Any]
    artifacts: list[Any]
    mode: Literal["r", "a", "w", "w+"]


def lazyscribe_artifacts(records: Iterable[VersionRecord], pending: Sequence[Any]) -> list[Any]:
    """Describe every version as a lazyscribe-style artifact object.

    Parameters
    ----------
    records : Iterable[archivist.VersionRecord]
        The records, saved and pending, in manifest order.
    pending : Sequence
        The repository's pending versions (with ``record``, ``value`` and ``writer_kwargs``).

    Returns
    -------
    list
        One :func:`archivist.artifacts.artifact_from_record` object per record; pending ones
        carry their value and writer options and are ``dirty``.
    """
    from archivist.artifacts import _from_record, artifact_class

    unsaved = {id(p.record): p for p in pending}
    classes: dict[str, type[Any]] = {}  # one handler lookup per alias, not per version
    out = []
    for record in records:
        cls = classes.get(record.handler)
        if cls is None:
            cls = classes[record.handler] = artifact_class(record.handler)
        logged = unsaved.get(id(record))
        if logged is None:
            out.append(_from_record(cls, record))
        else:
            out.append(
                _from_record(
                    cls,
                    record,
                    logged.value,
                    dict(logged.writer_kwargs),
                    dirty=True,
                    environment=environment_of(logged.handler),
                )
            )
    return out


def lazyscribe_record(record: VersionRecord) -> dict[str, Any]:
    """Return a record as lazyscribe's ``list(repository)`` gives it: times to the second.

    lazyscribe-arrow's ``to_table(repository)`` casts ``created_at`` to seconds, and code
    written for lazyscribe parses it with ``"%Y-%m-%dT%H:%M:%S"``; the manifest keeps the
    microseconds (:meth:`~archivist.VersionRecord.to_dict`, :attr:`Repository.records`).
    """
    out = record.to_dict()
    out["created_at"] = format_seconds(record.created_at)
    if record.expiry is not None:
        out["expiry"] = format_seconds(record.expiry)
    return out


def protocol_of(store: AbstractRepositoryStore) -> str:
    """Return the URL protocol of a store's location (``"file"`` for local paths).

    Parameters
    ----------
    store : archivist.AbstractRepositoryStore
        The repository's store.

    Returns
    -------
    str
        The protocol, as lazyscribe's ``Repository.protocol``.
    """
    protocol, _ = split_protocol(store.location)
    if protocol in (None, "local"):
        return "file"
    return str(protocol)


def filesystem_of(store: AbstractRepositoryStore) -> Any:
    """Return the fsspec filesystem under a store.

    Parameters
    ----------
    store : archivist.AbstractRepositoryStore
        The repository's store.

    Returns
    -------
    fsspec.AbstractFileSystem
        The backend's filesystem; for a store without a backend, a filesystem for its
        location's protocol.
    """
    backend = getattr(store, "backend", None)
    fs = getattr(backend, "fs", None)
    if fs is not None:
        return fs
    import fsspec

    return fsspec.filesystem(protocol_of(store))
