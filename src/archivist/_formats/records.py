"""Version records: the fields of one version, their JSON form, and the times they hold.

A record is lazyscribe's shape (name, version, handler, fname, created_at, expiry) plus
archivist's additive fields (``sha256``, ``size``, handler metadata, ``source``, and, on
records written since BLAKE3 was added, ``blake3`` and, for large files, ``blocks``: see
:mod:`archivist._formats.hashes`). Parsing a
whole manifest and indexing it live in :mod:`archivist.manifest`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from archivist._formats.hashes import BlockRef, Digest, is_hex_digest, preferred
from archivist._formats.names import check_stored_record
from archivist._formats.strict_json import MAX_DEPTH, check_depth
from archivist.errors import LogError, ManifestError

__all__ = [
    "CORE_FIELDS",
    "VersionRecord",
    "format_seconds",
    "format_time",
    "is_sha256",
    "parse_stored_time",
    "require_newer",
    "utcnow",
]

#: The fields every record has (``expiry``, ``sha256`` and ``size`` may be null).
CORE_FIELDS = ("name", "version", "handler", "fname", "created_at", "expiry", "sha256", "size")
_REQUIRED = ("name", "version", "handler", "fname", "created_at")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def is_sha256(value: object) -> bool:
    """Tell whether ``value`` is a SHA-256 as records store it: 64 lowercase hex digits."""
    return isinstance(value, str) and _SHA256.fullmatch(value) is not None


def utcnow() -> datetime:
    """Return the current UTC time as a naive datetime (the manifest's time form)."""
    return datetime.now(UTC).replace(tzinfo=None)


def format_time(value: datetime) -> str:
    """Format a naive UTC datetime as the manifest stores it (ISO 8601, microseconds).

    Parameters
    ----------
    value : datetime.datetime
        A naive UTC datetime.

    Returns
    -------
    str
        For example ``"2026-01-31T12:00:00.000001"``; ``datetime.fromisoformat`` reads it.
    """
    return value.isoformat(timespec="microseconds")


def format_seconds(value: datetime) -> str:
    """Format a naive UTC datetime as lazyscribe does (ISO 8601, to the second).

    The one place times are formatted for what lazyscribe's consumers read:
    ``project.json``, ``Release.to_dict()`` and ``dump()``, ``list(repository)``. They
    parse it with ``"%Y-%m-%dT%H:%M:%S"`` (lazyscribe-arrow casts it to seconds), so it
    carries no fraction; the manifest keeps microseconds (:func:`format_time`).

    Parameters
    ----------
    value : datetime.datetime
        A naive UTC datetime.

    Returns
    -------
    str
        For example ``"2026-01-31T12:00:00"``.
    """
    return value.isoformat(timespec="seconds")


def parse_stored_time(value: object, what: str) -> datetime:
    """Parse a time stored in a JSON file (manifest, project, releases) into naive UTC.

    Parameters
    ----------
    value : object
        The stored value; any ISO 8601 string (an offset is converted to UTC).
    what : str
        What the value is, for error messages.

    Returns
    -------
    datetime.datetime
        Naive UTC.

    Raises
    ------
    archivist.errors.ManifestError
        The value is not an ISO 8601 string, or its offset moves it out of the years
        1 to 9999.
    """
    if not isinstance(value, str):
        raise ManifestError(f"{what} must be an ISO 8601 string, got {value!r:.100}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ManifestError(f"{what} is not an ISO 8601 time: {value!r:.100}") from None
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            raise ManifestError(
                f"{what} {value!r} is outside the years 1 to 9999 once converted to UTC"
            ) from None
    return parsed


@dataclass(frozen=True, slots=True)
class VersionRecord:
    """One version of one artifact, as the manifest records it.

    Attributes
    ----------
    name : str
        The artifact name.
    version : int
        The 0-based version number within the name.
    handler : str
        The alias of the handler that wrote the file.
    fname : str
        The file name, relative to ``<repository folder>/<name>/``.
    created_at : datetime.datetime
        Creation time, naive UTC.
    expiry : datetime.datetime or None
        Naive UTC time from which the version is excluded from latest and as-of lookups.
    sha256 : str or None
        Hex digest of the stored file (``None`` for records lazyscribe wrote).
    size : int or None
        Byte size of the stored file.
    extra : Mapping[str, Any]
        Every other field: handler metadata (``python_version``), lineage (``source``),
        and fields other tools added; kept as they are.
    """

    name: str
    version: int
    handler: str
    fname: str
    created_at: datetime
    expiry: datetime | None = None
    sha256: str | None = None
    size: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: object, position: int = 0) -> VersionRecord:
        """Validate and convert one record of a parsed manifest.

        Parameters
        ----------
        data : object
            The parsed JSON value.
        position : int, optional
            The record's index in the manifest, for error messages.

        Returns
        -------
        VersionRecord
            The record.

        Raises
        ------
        archivist.errors.ManifestError
            A field is missing or malformed.
        """
        if not isinstance(data, dict):
            kind = type(data).__name__
            raise ManifestError(f"manifest record #{position} is a JSON {kind}, not an object")
        label = f"manifest record #{position}" + (
            f" ({data['name']!r})" if isinstance(data.get("name"), str) else ""
        )
        missing = [key for key in _REQUIRED if key not in data]
        if missing:
            raise ManifestError(f"{label} lacks the field(s) {', '.join(missing)}")
        name, version, handler, fname = (
            data["name"],
            data["version"],
            data["handler"],
            data["fname"],
        )
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise ManifestError(f"{label}: version must be an integer >= 0, got {version!r}")
        if not isinstance(handler, str) or not handler:
            raise ManifestError(f"{label}: handler must be a non-empty string")
        check_stored_record(name, fname, label)
        expiry = data.get("expiry")
        sha256, size = data.get("sha256"), data.get("size")
        if sha256 is not None and not is_sha256(sha256):
            raise ManifestError(f"{label}: sha256 must be 64 lowercase hex digits")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
            raise ManifestError(f"{label}: size must be an integer >= 0")
        _check_digest_fields(data, label)
        extra = {key: value for key, value in data.items() if key not in CORE_FIELDS}
        for key, value in extra.items():
            if isinstance(value, dict | list):
                check_depth(value, MAX_DEPTH - 2, f"{label}: field {key!r}")
        return cls(
            name=name,
            version=version,
            handler=handler,
            fname=fname,
            created_at=parse_stored_time(data["created_at"], f"{label}: created_at"),
            expiry=None if expiry is None else parse_stored_time(expiry, f"{label}: expiry"),
            sha256=sha256,
            size=size,
            extra=extra,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the record as the manifest stores it (lazyscribe-readable)."""
        out: dict[str, Any] = dict(self.extra)
        out.update(
            name=self.name,
            version=self.version,
            handler=self.handler,
            fname=self.fname,
            created_at=format_time(self.created_at),
            expiry=None if self.expiry is None else format_time(self.expiry),
            sha256=self.sha256,
            size=self.size,
        )
        return out

    def replace(self, **changes: Any) -> VersionRecord:
        """Return a copy with some fields changed."""
        return replace(self, **changes)

    def is_expired(self, at: datetime) -> bool:
        """Tell whether the version is expired at naive UTC time ``at``."""
        return self.expiry is not None and self.expiry <= at

    @property
    def blake3(self) -> str | None:
        """The BLAKE3 hex digest of the stored file (``None`` on older records)."""
        value = self.extra.get("blake3")
        return value if isinstance(value, str) else None

    @property
    def blocks(self) -> BlockRef | None:
        """The reference to the file's block list (``None`` unless the file is large)."""
        value = self.extra.get("blocks")
        return None if value is None else BlockRef.from_dict(value, f"record of {self.name!r}")

    @property
    def digest(self) -> Digest | None:
        """The digest a read checks: BLAKE3 when recorded, else SHA-256, else ``None``."""
        return preferred(self.sha256, self.blake3)

    @property
    def metadata(self) -> dict[str, Any]:
        """The record as a dict, the form ``get_artifact_metadata`` returns."""
        return self.to_dict()


def _check_digest_fields(data: Mapping[str, Any], label: str) -> None:
    """Check the additive digest fields of a parsed record (``blake3``, ``blocks``)."""
    blake3, blocks = data.get("blake3"), data.get("blocks")
    if blake3 is not None and not is_hex_digest(blake3):
        raise ManifestError(f"{label}: blake3 must be 64 lowercase hex digits")
    if blocks is not None:
        if blake3 is None or data.get("size") is None:
            raise ManifestError(f"{label}: blocks needs the record's blake3 and size")
        BlockRef.from_dict(blocks, label)


def require_newer(
    name: str, created_at: datetime, newest: int, newest_created_at: datetime, location: str
) -> None:
    """Refuse a version that keeps its time when it is not after ``name``'s newest version.

    The versions of a name keep strictly increasing ``created_at``, and the newest one is
    what is deployed: a promoted artifact keeps its time, so a stale one must not become
    the latest version (lazyscribe's rule). Checked when promoting
    (:func:`archivist._tracking.promotion.check_newer`), and again by the commit against the
    manifest it commits to (:func:`archivist._commit.protocol.merge`).

    Parameters
    ----------
    name : str
        The artifact's name.
    created_at : datetime
        The time the new version keeps.
    newest : int
        The number of ``name``'s newest version (saved or pending, expired or not).
    newest_created_at : datetime
        Its time.
    location : str
        The repository's location, for the message.

    Raises
    ------
    archivist.errors.LogError
        ``created_at`` is not after ``newest_created_at``.
    """
    if newest_created_at >= created_at:
        raise LogError(
            f"Artifact {name!r} is not newer than the latest version available in the "
            f"repository: it was created at {format_time(created_at)}, and version {newest} "
            f"of {location} at {format_time(newest_created_at)}. Log a new value in the "
            "experiment to promote it."
        )
