"""Plans: what a destructive call would remove, as a value that is applied exactly.

``prune`` and ``gc`` remove versions and files. Listing what would go, asking a person, and
then recomputing would remove what was never shown: a version saved in between can make an
older one removable, a crashed save can leave new orphans. So a dry run returns a plan, a
frozen value naming exactly the versions (or files) it would remove and what it was
computed from, and applying the plan removes those and nothing else. Each item is checked
again when the plan is applied, against the manifest read in full then (still recorded with
the same file and digest, still unpinned, still matching the rules; for gc, still named by a
stale journal of this repository, still unreferenced, still provably the save's file); an
item that no longer holds is skipped, with an :class:`~archivist.ArchivistWarning` saying why.

The plans are built and applied by :mod:`archivist._lifecycle.retention` (prune) and
:mod:`archivist._lifecycle.gc` (gc).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from archivist.errors import ArchivistWarning, InvalidArgumentError

if TYPE_CHECKING:
    from archivist.manifest import VersionRecord

__all__ = [
    "GcPlan",
    "PlannedFile",
    "PlannedJournal",
    "PlannedVersion",
    "PrunePlan",
    "check_plan",
    "warn_skipped",
]


@dataclass(frozen=True)
class PlannedVersion:
    """One version a prune plan removes, as the manifest recorded it when planned.

    Attributes
    ----------
    name : str
        The artifact name.
    version : int
        The version number.
    fname : str
        The file name of its record.
    sha256 : str or None
        The digest of its record (``None`` for a record lazyscribe wrote).
    size : int or None
        The size of its record.
    """

    name: str
    version: int
    fname: str
    sha256: str | None
    size: int | None

    @classmethod
    def of(cls, record: VersionRecord) -> PlannedVersion:
        """Return the planned form of a manifest record."""
        return cls(record.name, record.version, record.fname, record.sha256, record.size)

    def matches(self, record: VersionRecord) -> bool:
        """Tell whether ``record`` is still this version: same number, file and digest."""
        return (
            self.name == record.name
            and self.version == record.version
            and self.fname == record.fname
            and self.sha256 == record.sha256
            and self.size == record.size
        )

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


@dataclass(frozen=True)
class PrunePlan:
    """What :meth:`~archivist.Repository.prune` would remove, to be applied exactly.

    Returned by ``prune(..., dry_run=True)``; ``prune(plan=plan)`` removes exactly these
    versions (each checked again then) and never another.

    Attributes
    ----------
    location : str
        The manifest the plan was computed from; it applies only there.
    token : str or None
        The manifest's state token when the plan was computed.
    computed_at : datetime.datetime
        When the rules were evaluated (naive UTC).
    keep_last : int or None
        The ``keep_last`` rule.
    keep_within : datetime.timedelta or None
        The ``keep_within`` rule.
    versions : tuple[PlannedVersion, ...]
        The versions to remove, in manifest order.
    """

    location: str
    token: str | None
    computed_at: datetime
    keep_last: int | None
    keep_within: timedelta | None
    versions: tuple[PlannedVersion, ...]

    @property
    def pairs(self) -> list[tuple[str, int]]:
        """The ``(name, version)`` pairs the plan removes, sorted."""
        return sorted((v.name, v.version) for v in self.versions)


@dataclass(frozen=True)
class PlannedFile:
    """One file a gc plan deletes.

    Attributes
    ----------
    name : str
        The artifact name the journal gave it.
    fname : str
        The file name the journal gave it.
    location : str
        Its path or URL (for a partial write: the leftover's own).
    journal : str
        The id of the save journal that names it.
    partial : bool
        A leftover of an interrupted write of that file (a temporary file beside it),
        rather than the file itself.
    """

    name: str
    fname: str
    location: str
    journal: str
    partial: bool = False

    def __str__(self) -> str:
        return self.location


@dataclass(frozen=True)
class PlannedJournal:
    """One stale save journal a gc plan settles: deleted once its files are handled.

    Attributes
    ----------
    id : str
        The save's journal id.
    objects : tuple[str, ...]
        The journal objects it consisted of when planned; a journal that has other objects
        when the plan is applied was written to since, and is left alone with its files.
    """

    id: str
    objects: tuple[str, ...]


@dataclass(frozen=True)
class GcPlan:
    """What :meth:`~archivist.Repository.gc` would delete, to be applied exactly.

    Returned by ``gc(..., dry_run=True)``; ``gc(plan=plan)`` deletes exactly these files
    (each checked again then) and never another.

    Attributes
    ----------
    location : str
        The manifest the plan was computed for; it applies only there.
    older_than : datetime.timedelta
        The grace period: only journals older than this were judged.
    computed_at : datetime.datetime
        When the plan was computed (aware UTC).
    files : tuple[PlannedFile, ...]
        The files to delete, sorted by location.
    journals : tuple[PlannedJournal, ...]
        The stale journals judged, deleted after their files.
    kept : tuple[str, ...]
        Files archivist wrote (their digests are kept beside the manifest) that no version
        names and that gc keeps, sorted: a manifest that named them was replaced (mode
        ``w``) or rewritten, and may be restored, so only you can decide they are garbage.
        Delete them yourself once you are sure (for example ``rm`` on local disk).
    """

    location: str
    older_than: timedelta
    computed_at: datetime
    files: tuple[PlannedFile, ...]
    journals: tuple[PlannedJournal, ...]
    kept: tuple[str, ...] = ()

    @property
    def locations(self) -> list[str]:
        """The locations of the files the plan deletes, sorted."""
        return sorted(f.location for f in self.files)


def check_plan(plan: object, kind: type, location: str, call: str) -> None:
    """Refuse a plan of another kind, or one computed for another repository.

    Parameters
    ----------
    plan : object
        What was given as ``plan=``.
    kind : type
        The plan type the call applies (:class:`PrunePlan`, :class:`GcPlan`).
    location : str
        The repository's manifest location.
    call : str
        The call, for the message (``prune``, ``gc``).

    Raises
    ------
    archivist.errors.InvalidArgumentError
        The plan is not a ``kind`` or was computed for another manifest.
    """
    if not isinstance(plan, kind):
        raise InvalidArgumentError(
            f"{call}(plan=...) takes the {kind.__name__} that {call}(..., dry_run=True) "
            f"returns, got {type(plan).__name__}"
        )
    planned = getattr(plan, "location", None)
    if planned != location:
        raise InvalidArgumentError(
            f"this {kind.__name__} was computed for {planned}, not {location}; compute one "
            f"with {call}(..., dry_run=True) on this repository"
        )


def warn_skipped(item: object, reason: str) -> None:
    """Report a planned item that no longer holds and was left alone."""
    warnings.warn(
        f"skipped {item}, listed by the plan: {reason}; it was left as it is",
        ArchivistWarning,
        stacklevel=4,
    )
