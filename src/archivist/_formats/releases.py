"""The release file format: :class:`Release`, ``releases.json`` lists, and finding a release.

Below the stores: :class:`archivist.ReleaseStore` keeps these lists; :mod:`archivist.release`
is the user-facing module that re-exports them.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, Literal

from archivist._formats.strict_json import MAX_DEPTH, check_depth, load_json
from archivist._formats.versions import parse_match, parse_time
from archivist.errors import (
    AmbiguousVersionError,
    InvalidVersionError,
    ManifestError,
    NoReleasesError,
    VersionNotFoundError,
)
from archivist.manifest import end_of, format_time, parse_stored_time, utcnow

__all__ = ["Release", "dump", "dumps", "find_release", "load", "loads", "parse_release_list"]


@dataclass
class Release:
    """A tag pinning one version of each artifact of a repository.

    Parameters
    ----------
    tag : str
        The release's name, unique within a repository (often a semantic version).
    artifacts : list[tuple[str, int]]
        ``(name, version)`` pairs, one per artifact; give them to
        :meth:`archivist.Repository.filter` to see the repository as it was released.
    created_at : datetime.datetime, optional
        Creation time, naive UTC (default: now). An aware datetime is converted.

    Examples
    --------
    >>> from archivist import Release
    >>> release = Release("v1.0.0", [("features", 2)])
    >>> release.tag, release.artifacts
    ('v1.0.0', [('features', 2)])
    """

    tag: str
    artifacts: list[tuple[str, int]]
    created_at: datetime = field(default_factory=utcnow)

    def __post_init__(self) -> None:
        if not isinstance(self.tag, str) or not self.tag.strip():
            raise InvalidVersionError(f"a release tag must be a non-empty string, got {self.tag!r}")
        self.artifacts = [_pair(item) for item in self.artifacts]
        if not isinstance(self.created_at, datetime):
            raise InvalidVersionError(
                f"a release's created_at must be a datetime, got {self.created_at!r}"
            )
        self.created_at = parse_time(self.created_at, "created_at").start

    def to_dict(self) -> dict[str, Any]:
        """Return the release as ``releases.json`` stores it.

        Returns
        -------
        dict[str, Any]
            ``{"tag", "artifacts": [(name, version), ...], "created_at"}`` (JSON writes the
            pairs as arrays).
        """
        return {
            "tag": self.tag,
            "artifacts": [(name, version) for name, version in self.artifacts],
            "created_at": format_time(self.created_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Release:
        """Build a release from its ``releases.json`` form.

        Parameters
        ----------
        data : Mapping[str, Any]
            A parsed release entry.

        Returns
        -------
        Release
            The release.

        Raises
        ------
        archivist.errors.ManifestError
            A field is missing or malformed.
        """
        if not isinstance(data, Mapping):
            raise ManifestError(f"a release must be a JSON object, got a {type(data).__name__}")
        missing = [key for key in ("tag", "artifacts", "created_at") if key not in data]
        if missing:
            raise ManifestError(f"release {data!r:.200} lacks the field(s) {', '.join(missing)}")
        tag = data["tag"]
        if not isinstance(tag, str) or not tag.strip():
            raise ManifestError(
                f"a release's tag must be a non-empty string, got {type(tag).__name__} {tag!r:.80}"
            )
        when = parse_stored_time(data["created_at"], f"release {tag!r}: created_at")
        artifacts = data["artifacts"]
        if not isinstance(artifacts, list):
            raise ManifestError(f"release {tag!r}: artifacts must be a list of [name, version]")
        try:
            return cls(tag, artifacts, when)
        except InvalidVersionError as exc:
            raise ManifestError(f"release {tag!r}: {exc}") from None


def _pair(item: object) -> tuple[str, int]:
    if (
        isinstance(item, Sequence)
        and not isinstance(item, str | bytes)
        and len(item) == 2
        and isinstance(item[0], str)
        and isinstance(item[1], int)
        and not isinstance(item[1], bool)
        and item[1] >= 0
    ):
        return (item[0], item[1])
    raise InvalidVersionError(
        f"a release pins (name, version) pairs: a name and a version number >= 0, got {item!r:.200}"
    )


def find_release(
    releases: Iterable[Release],
    tag_or_datetime: str | datetime | None = None,
    match: Literal["exact", "asof"] = "exact",
    *,
    version: str | datetime | None = None,
) -> Release:
    """Find a release by tag or by creation time.

    Parameters
    ----------
    releases : Iterable[Release]
        The releases to search, in any order.
    tag_or_datetime : str, datetime.datetime or None, optional
        ``None`` for the newest release; a string is a tag (an ISO 8601 string that is no
        tag, or any string with ``match="asof"``, is a time); a datetime (naive means UTC)
        is a creation time.
    match : {"exact", "asof"}, optional
        For times: ``exact`` needs a release created at that time (to the precision given:
        a time without microseconds matches its whole second); ``asof`` takes the newest
        release created at or before it.
    version : str, datetime.datetime or None, optional
        lazyscribe's name for ``tag_or_datetime``.

    Returns
    -------
    Release
        The release found.

    Raises
    ------
    archivist.errors.VersionNotFoundError
        No release has the tag, none was created at that time, the time predates the first
        release, or there are no releases (:class:`~archivist.errors.NoReleasesError`, an
        :class:`IndexError` as in lazyscribe, when the newest was asked for).
    archivist.errors.AmbiguousVersionError
        Several releases were created within the precision of an exact time.
    archivist.errors.InvalidVersionError
        ``match`` or the value cannot be understood.
    """
    mode = parse_match(match)
    wanted = version if tag_or_datetime is None else tag_or_datetime
    ordered = sorted(releases, key=lambda r: r.created_at)
    if not ordered:
        message = "there are no releases to search"
        raise VersionNotFoundError(message) if wanted is not None else NoReleasesError(message)
    if wanted is None:
        return ordered[-1]
    if isinstance(wanted, str) and mode == "exact":
        for release in reversed(ordered):
            if release.tag == wanted:
                return release
        if not _looks_like_time(wanted):
            tags = ", ".join(repr(r.tag) for r in ordered[-20:])
            raise VersionNotFoundError(f"no release is tagged {wanted!r}; the releases are {tags}")
    if not isinstance(wanted, str | datetime):
        raise InvalidVersionError(
            f"find_release takes a tag or a datetime, got {type(wanted).__name__} {wanted!r}"
        )
    spec = parse_time(wanted, "release time")
    times = [r.created_at for r in ordered]
    if mode == "asof":
        end = end_of(times, spec.start, spec.precision)
        if end == 0:
            first = ordered[0]
            raise VersionNotFoundError(
                f"{format_time(spec.start)} predates the first release, {first.tag!r} "
                f"(created {format_time(first.created_at)})"
            )
        return ordered[end - 1]
    low, high = bisect_left(times, spec.start), end_of(times, spec.start, spec.precision)
    matches = ordered[low:high]
    if not matches:
        raise VersionNotFoundError(
            f"no release was created at {format_time(spec.start)}; pass match='asof' for the "
            "newest release created by then"
        )
    if len(matches) > 1:
        listing = ", ".join(f"{r.tag!r} ({format_time(r.created_at)})" for r in matches)
        raise AmbiguousVersionError(
            f"{len(matches)} releases were created at {format_time(spec.start)}: {listing}. "
            "Give the time with microseconds, or the tag."
        )
    return matches[0]


def _looks_like_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


def dump(obj: Iterable[Release], fp: IO[str], **kwargs: Any) -> None:
    """Write releases to a text file as JSON.

    Parameters
    ----------
    obj : Iterable[Release]
        The releases.
    fp : IO[str]
        A file open for writing text.
    **kwargs
        Passed to :func:`json.dump` (``indent=4``).
    """
    json.dump([release.to_dict() for release in obj], fp, **kwargs)


def dumps(obj: Iterable[Release], **kwargs: Any) -> str:
    """Serialize releases to a JSON string.

    Parameters
    ----------
    obj : Iterable[Release]
        The releases.
    **kwargs
        Passed to :func:`json.dumps`.

    Returns
    -------
    str
        The JSON text.
    """
    return json.dumps([release.to_dict() for release in obj], **kwargs)


def load(fp: IO[str] | IO[bytes], **kwargs: Any) -> list[Release]:
    """Read releases from a JSON file (``releases.json``, written by archivist or lazyscribe).

    Parameters
    ----------
    fp : IO
        A file open for reading.
    **kwargs
        Passed to :func:`json.loads`.

    Returns
    -------
    list[Release]
        The releases, in file order.

    Raises
    ------
    archivist.errors.ManifestError
        The file is not a JSON list of releases.
    """
    return loads(fp.read(), **kwargs)


def loads(s: str | bytes, **kwargs: Any) -> list[Release]:
    """Read releases from a JSON string.

    Parameters
    ----------
    s : str or bytes
        The JSON text.
    **kwargs
        Passed to :func:`json.loads`.

    Returns
    -------
    list[Release]
        The releases, in order.

    Raises
    ------
    archivist.errors.ManifestError
        The text is not a JSON list of releases.
    """
    return [Release.from_dict(entry) for entry in parse_release_list(s, "the releases", **kwargs)]


def parse_release_list(data: str | bytes, location: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Parse releases JSON into its raw entries, checking each is a valid release.

    Parameters
    ----------
    data : str or bytes
        The JSON text.
    location : str
        Where it came from, for messages.
    **kwargs
        Passed to :func:`json.loads`.

    Returns
    -------
    list[dict[str, Any]]
        The entries as stored (fields other tools added are kept).

    Raises
    ------
    archivist.errors.ManifestError
        The text is not a JSON list of valid releases.
    """
    if kwargs:  # json.loads options, as lazyscribe's loads takes them
        try:
            parsed = json.loads(data, **kwargs)
        except RecursionError:
            raise ManifestError(f"{location} nests JSON too deeply to be read") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ManifestError(f"{location} is not valid JSON ({exc})") from None
        check_depth(parsed, MAX_DEPTH, location)
    else:
        parsed = load_json(data, location, max_depth=MAX_DEPTH)
    if not isinstance(parsed, list):
        raise ManifestError(f"{location} must hold a JSON array of releases")
    for entry in parsed:
        try:
            Release.from_dict(entry)
        except ManifestError as exc:
            raise ManifestError(f"{location}: {exc}") from None
    return parsed
