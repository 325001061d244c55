"""The state and lookups every part of :class:`~archivist.Repository` shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, cast

from archivist._cache import ArtifactCache
from archivist._trust import Trust
from archivist._versions import parse_version
from archivist.errors import (
    ArtifactNotFoundError,
    ReadOnlyModeError,
)
from archivist.handlers.base import Handler
from archivist.manifest import (
    ManifestIndex,
    VersionRecord,
    utcnow,
)
from archivist.stores import AbstractRepositoryStore

if TYPE_CHECKING:
    from archivist.repository import Repository

__all__ = ["Mode", "RepositoryBase"]

Mode = Literal["r", "a", "w", "w+"]
_MODES = ("r", "a", "w", "w+")


@dataclass
class _Pending:
    """A logged version not saved yet."""

    record: VersionRecord
    value: Any
    handler: Handler
    writer_kwargs: dict[str, Any]
    auto_fname: bool


class RepositoryBase:
    """What every part of a repository needs: its state, lookups and the write check."""

    # The state every part of a repository shares (set by Repository.__init__).
    mode: Mode
    trust: Trust
    storage_options: dict[str, Any]
    store: AbstractRepositoryStore
    cache: ArtifactCache | None
    _pending: list[_Pending]
    _pending_last: dict[str, int]
    _pending_fnames: dict[str, set[str]]
    _expiry_changes: dict[tuple[str, int], datetime]
    _view: ManifestIndex | None
    _fresh: bool
    _committed: ManifestIndex
    _token: str | None

    @property
    def location(self) -> str:
        """The manifest's URL or absolute path."""
        return self.store.location

    def refresh(self) -> None:
        """Re-read the manifest, to see versions other writers committed since opening.

        Pending (unsaved) versions and expiry changes are kept. An unchanged manifest is
        neither downloaded nor parsed again (on object stores, one conditional GET).
        """
        snapshot = self.store.read_if_changed(self._token)
        if snapshot is None:
            return  # the index as read (with the expiry changes applied) is current
        self._committed = snapshot.indexed or ManifestIndex(snapshot.records)
        self._token = snapshot.token
        for (name, version), expiry in self._expiry_changes.items():
            self._committed = _with_expiry(self._committed, name, version, expiry)
        self._view = None

    def _index(self) -> ManifestIndex:
        if not self._pending:
            return self._committed
        if self._view is None:
            committed, pending = self._committed, [p.record for p in self._pending]
            if all(r.version > committed.last_version(r.name) for r in pending):
                self._view = committed.appended(pending)  # O(pending)
            else:  # numbered before a refresh() brought newer versions
                self._view = ManifestIndex([*committed, *pending])
        return self._view

    def _find(self, name: str, version: object, match: object) -> VersionRecord:
        spec, mode = parse_version(version, match)
        index = self._index()
        if name not in index:
            names = index.names()
            shown = ", ".join(repr(n) for n in names[:20]) + (", ..." if len(names) > 20 else "")
            raise ArtifactNotFoundError(
                f"no artifact named {name!r} in {self.location}; it holds "
                + (shown if names else "no artifacts")
            )
        if spec is None:
            return index.latest(name, utcnow())
        if isinstance(spec, int):
            return index.by_number(name, spec)
        if mode == "exact":
            return index.at_time(name, spec.start, spec.precision)
        return index.as_of(name, spec.start, spec.precision)

    def _is_pending(self, record: VersionRecord) -> bool:
        return any(p.record is record for p in self._pending)

    def _as_repository(self) -> Repository:
        """Return this object as the :class:`~archivist.Repository` it is a part of."""
        return cast("Repository", self)

    def _require_writable(self) -> None:
        if self.mode == "r":
            raise ReadOnlyModeError(
                f"{self.location} is open read-only (mode='r'); open it with mode 'a' or 'w+' "
                "to write"
            )

    def _referenced(self) -> set[tuple[str, str]]:
        """``(name, fname)`` of every file the manifest or a pending version names.

        Deletions (gc, verify's orphans) decide from this: read from a full parse of the
        manifest, never from the index cache, which is only a hint.
        """
        referenced = {(r.name, r.fname) for r in self.store.read_authoritative().records}
        referenced |= {(p.record.name, p.record.fname) for p in self._pending}
        return referenced


def _with_expiry(index: ManifestIndex, name: str, version: int, expiry: datetime) -> ManifestIndex:
    return ManifestIndex(
        r.replace(expiry=expiry) if r.name == name and r.version == version else r for r in index
    )
