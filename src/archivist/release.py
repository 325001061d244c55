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

import os
import tomllib
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from archivist._formats.releases import (
    Release,
    dump,
    dumps,
    find_release,
    load,
    loads,
)
from archivist._lifecycle.release_copy import copy_release
from archivist.errors import (
    ArchivistWarning,
    ConfigError,
    MissingConfigError,
    UnsavedChangesError,
    UnsupportedOperationError,
    VersionNotFoundError,
)
from archivist.manifest import utcnow
from archivist.stores import AbstractReleaseStore
from archivist.stores._options import merge_storage_options

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
    session = repository._session
    if session.has_changes:
        raise UnsavedChangesError(
            f"{repository.location} holds changes that are not saved; save() before creating "
            "a release, so the release pins only stored versions"
        )
    now = utcnow()
    pinned: list[tuple[str, int]] = []
    for name in sorted(session.committed.names()):
        try:
            record = session.committed.latest(name, now)
        except VersionNotFoundError:
            continue  # every version expired
        pinned.append((name, record.version))
    return Release(tag, pinned, now)


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
    copy_release(
        location,
        repository.store,
        repository._session,
        release.artifacts,
        trust=repository.trust,
        protocol=repository.protocol,
        storage_options=repository.storage_options,
    )


def release_store_of(repository: Repository) -> AbstractReleaseStore:
    """Return the release store beside a repository (``releases.json`` beside its manifest).

    Parameters
    ----------
    repository : Repository
        The repository.

    Returns
    -------
    AbstractReleaseStore
        What ``repository.store.releases()`` returns.

    Raises
    ------
    archivist.errors.UnsupportedOperationError
        The repository's store keeps no releases.
    """
    releases = repository.store.releases()
    if releases is None:
        raise UnsupportedOperationError(
            f"releases are kept beside a repository's manifest; the store "
            f"{repository.store!r} keeps none (its releases() returns None). Use a "
            "ReleaseStore of its own instead."
        )
    return releases


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

    merged = merge_storage_options("release_from_toml()", storage_options, options, ("cfg",))
    version, repositories = _read_release_config(cfg)
    tag = version if version.startswith("v") else f"v{version}"
    planned: list[tuple[AbstractReleaseStore, Release, bool]] = []
    for path in repositories:  # read and check everything before writing anything
        repository = Repository(path, mode="r", **merged)
        store = release_store_of(repository)
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
