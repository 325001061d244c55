"""Releases: a tag pinning one version of every artifact of a repository.

A release is a tag (often a semantic version), a list of ``(name, version)`` pairs and a UTC
creation time. A list of releases is kept as JSON in ``releases.json`` beside
``repository.json``, in the shape lazyscribe 2.x writes, so both tools read each other's
files. Import the module under an alias, as lazyscribe users do::

    from archivist import release as lzr

:class:`archivist.ReleaseStore` appends to a ``releases.json`` with a compare-and-swap, so
concurrent writers keep every release; :func:`release_from_toml` records the version of a
``pyproject.toml`` in each repository it lists.
"""

from __future__ import annotations

import json
import os
import posixpath
import tomllib
import warnings
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, Literal

from fsspec.core import split_protocol

from archivist._json import MAX_DEPTH, check_depth, load_json
from archivist._options import merge_storage_options
from archivist._release_copy import minimal_repository_from_release
from archivist._versions import parse_match, parse_time
from archivist.errors import (
    AmbiguousVersionError,
    ArchivistWarning,
    ConfigError,
    InvalidVersionError,
    ManifestError,
    MissingConfigError,
    NoReleasesError,
    UnsavedChangesError,
    VersionNotFoundError,
)
from archivist.manifest import end_of, format_time, parse_stored_time, utcnow

if TYPE_CHECKING:
    from archivist.repository import Repository

__all__ = [
    "Release",
    "create_release",
    "dump",
    "dumps",
    "find_release",
    "load",
    "loads",
    "minimal_repository_from_release",
    "release_from_toml",
]


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


def create_release(repository: Repository, tag: str) -> Release:
    """Pin the latest unexpired version of every artifact of a repository.

    Parameters
    ----------
    repository : archivist.Repository
        The repository, in any mode, with every change saved.
    tag : str
        The release's tag, for example ``"v1.0.0"``.

    Returns
    -------
    Release
        A release created now, pinning artifacts in name order. An artifact whose every
        version has expired is left out.

    Raises
    ------
    archivist.errors.UnsavedChangesError
        The repository holds versions or expiry changes not saved yet.
    archivist.errors.InvalidVersionError
        The tag is not a non-empty string.

    Examples
    --------
    >>> from archivist import Repository, release as lzr
    >>> repository = Repository("memory://release-doc/repository.json", mode="w")
    >>> repository.log_artifact(name="features", value=[0, 1], handler="json")
    >>> repository.save()
    >>> lzr.create_release(repository, "v0.1.0").artifacts
    [('features', 0)]
    """
    if repository._pending or repository._expiry_changes:
        raise UnsavedChangesError(
            f"{repository.location} holds changes that are not saved; save() before creating "
            "a release, so the release pins only stored versions"
        )
    now = utcnow()
    pinned: list[tuple[str, int]] = []
    for name in sorted(repository._committed.names()):
        try:
            record = repository._committed.latest(name, now)
        except VersionNotFoundError:
            continue  # every version expired
        pinned.append((name, record.version))
    return Release(tag, pinned, now)


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


def _releases_location(repository_path: str) -> str:
    protocol, path = split_protocol(repository_path)
    if protocol not in (None, "file", "local"):
        return posixpath.join(posixpath.dirname(repository_path), "releases.json")
    return os.path.join(os.path.dirname(os.path.abspath(path)), "releases.json")


def release_from_toml(
    cfg: str, storage_options: Mapping[str, Any] | None = None, **options: Any
) -> list[Release]:
    """Record the project's version as a release in every repository a TOML file lists.

    The version is ``[project].version`` (or ``[tool.archivist].version``); the
    repositories are ``[tool.archivist].repositories``, paths relative to the current folder
    or bucket URLs. ``[tool.lazyscribe]`` is read the same way, for projects migrating from
    lazyscribe. Each repository gets a release tagged ``v{version}`` in the
    ``releases.json`` beside its ``repository.json``, added with a compare-and-swap.

    Parameters
    ----------
    cfg : str
        The TOML text (the content of ``pyproject.toml``).
    storage_options : Mapping[str, Any], optional
        Passed to the storage of every listed repository (as one mapping).
    **options
        More storage options, as keywords.

    Returns
    -------
    list[Release]
        The releases recorded. A repository that already has the tag is skipped with an
        :class:`~archivist.ArchivistWarning`.

    Raises
    ------
    archivist.errors.ConfigError
        The TOML cannot be parsed, or the version or repositories are missing or malformed.
    archivist.errors.RepositoryNotFoundError
        A listed repository does not exist; nothing was recorded anywhere.
    archivist.errors.ManifestError
        A repository's manifest or ``releases.json`` cannot be read; nothing was recorded
        anywhere (every listed repository and release file is read and checked first).
    """
    from archivist.repository import Repository
    from archivist.stores import ReleaseStore

    merged = merge_storage_options("release_from_toml()", storage_options, options, ("cfg",))
    version, repositories = _read_release_config(cfg)
    tag = version if version.startswith("v") else f"v{version}"
    planned: list[tuple[ReleaseStore, Release, bool]] = []
    for path in repositories:  # read and check everything before writing anything
        repository = Repository(path, mode="r", **merged)
        store = ReleaseStore(_releases_location(path), **merged)
        taken = any(existing.tag == tag for existing in store.list())
        # two manifests in one folder share a releases.json: the first one's release takes it
        taken = taken or any(store.location == other.location for other, _, _ in planned)
        planned.append((store, create_release(repository, tag), taken))
    recorded: list[Release] = []
    for store, release, taken in planned:
        if taken:
            warnings.warn(
                f"{store.location} already has a release tagged {tag!r}; skipped",
                ArchivistWarning,
                stacklevel=2,
            )
            continue
        store.add(release)
        recorded.append(release)
    return recorded


def _read_release_config(cfg: str) -> tuple[str, list[str]]:
    try:
        data = tomllib.loads(cfg)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the configuration is not valid TOML: {exc}") from None
    tool = data.get("tool", {})
    tables = [
        (name, tool[name])
        for name in ("archivist", "lazyscribe")
        if isinstance(tool, dict) and isinstance(tool.get(name), dict)
    ]
    if not tables:
        raise MissingConfigError(
            "the configuration has no [tool.archivist] table listing the repositories to release"
        )
    table_name, table = tables[0]
    if table.get("format") is not None:
        warnings.warn(
            "Release version formats were deprecated in 2.0.1. In 3.0, the PEP-621 version "
            "will be used directly",
            DeprecationWarning,
            stacklevel=3,
        )
    project = data.get("project", {})
    version = project.get("version") if isinstance(project, dict) else None
    if version is None:
        version = table.get("version")
    if version is None:
        raise MissingConfigError(
            f"no version to release: set [project].version or [tool.{table_name}].version"
        )
    if not isinstance(version, str) or not version.strip():
        raise ConfigError(
            f"no version to release: set [project].version or [tool.{table_name}].version"
        )
    repositories = table.get("repositories")
    if repositories is None:
        raise MissingConfigError(
            f"[tool.{table_name}] has no repositories: list the repository.json paths or URLs "
            "to release"
        )
    if (
        not isinstance(repositories, list)
        or not repositories
        or not all(isinstance(p, str) and p for p in repositories)
    ):
        raise ConfigError(
            f"[tool.{table_name}].repositories must be a non-empty list of repository.json "
            f"paths or URLs, got {repositories!r}"
        )
    return version.strip(), repositories
