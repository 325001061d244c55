"""Release stores: a repository's releases (``releases.json``), appended with compare-and-swap."""

from __future__ import annotations

import builtins
import functools
import json
import os
from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any, Literal

from archivist._backends.base import Backend
from archivist._formats.releases import Release, find_release, parse_release_list
from archivist.errors import AlreadyExistsError, VersionNotFoundError
from archivist.stores._documents import MAX_ATTEMPTS, FileDocument, update
from archivist.stores._locations import open_location

__all__ = ["MAX_RELEASE_ATTEMPTS", "AbstractReleaseStore", "ReleaseStore"]


#: How many times adding a release re-reads ``releases.json`` after losing a race.
MAX_RELEASE_ATTEMPTS = MAX_ATTEMPTS


class AbstractReleaseStore(ABC):
    """Where a repository's releases live: list, add (atomically; tags unique), get, find.

    Attributes
    ----------
    location : str
        The store's URL or absolute path, for messages.
    """

    location: str

    @abstractmethod
    def list(self) -> builtins.list[Release]:
        """Return every release, in the order they were added.

        Returns
        -------
        list[Release]
            Empty when there are none yet.

        Raises
        ------
        archivist.errors.ManifestError
            The stored releases are corrupt.
        """

    @abstractmethod
    def add(self, release: Release) -> None:
        """Add a release atomically; concurrent adds all land.

        Parameters
        ----------
        release : Release
            The release to add.

        Raises
        ------
        archivist.errors.AlreadyExistsError
            A release with the same tag exists; nothing was changed.
        archivist.errors.ConflictError
            Other writers kept adding releases; nothing was changed.
        """

    def get(self, tag: str) -> Release:
        """Return the release with ``tag``.

        Parameters
        ----------
        tag : str
            The tag.

        Returns
        -------
        Release
            The release.

        Raises
        ------
        archivist.errors.VersionNotFoundError
            No release has that tag.
        """
        return self.find(tag, match="exact")

    def find(
        self,
        tag_or_datetime: str | datetime | None = None,
        match: Literal["exact", "asof"] = "exact",
    ) -> Release:
        """Find a release by tag or creation time, as :func:`archivist.release.find_release`.

        Parameters
        ----------
        tag_or_datetime : str, datetime.datetime or None, optional
            A tag, a time, or ``None`` for the newest release.
        match : {"exact", "asof"}, optional
            How a time is matched.

        Returns
        -------
        Release
            The release found.

        Raises
        ------
        archivist.errors.VersionNotFoundError
            Nothing matches, or there are no releases.
        """
        try:
            return find_release(self.list(), tag_or_datetime, match)
        except VersionNotFoundError as exc:
            raise type(exc)(f"{self.location}: {exc}") from None


class ReleaseStore(AbstractReleaseStore):
    """The default release store: a ``releases.json`` file on any Backend.

    The file is the JSON list lazyscribe 2.x reads and writes. :meth:`add` appends through
    :func:`archivist.stores._documents.update`, the compare-and-swap every document uses.

    Parameters
    ----------
    fpath : str or os.PathLike, optional
        The file's path or URL (default ``"releases.json"``), usually beside
        ``repository.json``.
    backend : Backend, optional
        Use this backend instead of the one the URL's protocol selects.
    **storage_options
        Passed to the backend's fsspec filesystem; a ``storage_options={...}`` mapping is
        accepted too. A local path refuses options its filesystem does not know.

    Examples
    --------
    >>> from archivist import Release, ReleaseStore
    >>> store = ReleaseStore("memory://release-store-doc/releases.json")
    >>> store.add(Release("v1.0.0", [("features", 0)]))
    >>> store.get("v1.0.0").artifacts
    [('features', 0)]
    """

    def __init__(
        self,
        fpath: str | os.PathLike[str] = "releases.json",
        backend: Backend | None = None,
        **storage_options: Any,
    ) -> None:
        self.backend, self.path, self.location = open_location(fpath, backend, **storage_options)
        self.document = release_document(self.backend, self.path, self.location)

    def __repr__(self) -> str:
        return f"ReleaseStore({self.location!r})"

    def list(self) -> builtins.list[Release]:
        """Return every release in ``releases.json`` (empty when the file does not exist)."""
        entries, _ = self.document.read()
        return [Release.from_dict(entry) for entry in entries]

    def add(self, release: Release) -> None:
        """Append ``release`` with a compare-and-swap; a duplicate tag is refused."""
        mine = release.to_dict()

        def append(entries: _Entries) -> _Entries:
            if any(entry.get("tag") == release.tag for entry in entries):
                raise AlreadyExistsError(
                    f"{self.location} already has a release tagged {release.tag!r}; release "
                    "tags are unique and a release is never overwritten"
                )
            return [*entries, mine]

        update(
            self.document,
            append,
            landed=lambda entries: any(_same_release(entry, mine) for entry in entries),
            what=f"adding release {release.tag!r}",
            attempts=MAX_RELEASE_ATTEMPTS,
        )


_Entries = builtins.list[dict[str, Any]]


def release_document(backend: Backend, path: str, location: str) -> FileDocument[_Entries]:
    """Return ``releases.json`` at ``path`` as a document of raw release entries.

    Parameters
    ----------
    backend : Backend
        The backend holding it.
    path : str
        Its path in the backend's form.
    location : str
        Its path or URL, for messages.

    Returns
    -------
    FileDocument
        Entries as stored (fields other tools added are kept); written as lazyscribe does.
    """
    return FileDocument(
        backend,
        path,
        location,
        parse=functools.partial(parse_release_list, location=location),
        serialize=_serialize,
        empty=builtins.list,
    )


def _serialize(entries: _Entries) -> bytes:
    return (json.dumps(entries, indent=4) + "\n").encode("utf-8")


def _same_release(entry: object, mine: dict[str, Any]) -> bool:
    """Tell whether a stored entry is this release (same tag, artifacts and time)."""
    if not isinstance(entry, dict):
        return False
    return (
        entry.get("tag") == mine["tag"]
        and [list(pair) for pair in entry.get("artifacts", [])]
        == [list(p) for p in mine["artifacts"]]
        and entry.get("created_at") == mine["created_at"]
    )
