"""Reading a repository: loading versions by number, time, as-of or alias; diffs; filtered views."""

from __future__ import annotations

import difflib
import logging
import warnings
from collections.abc import Sequence
from datetime import datetime
from typing import IO, Any, Literal, Self

from archivist import _aliases
from archivist._io.handlers import read_value
from archivist._io.verified import SPOOL_LARGE_READS
from archivist._lifecycle.digests import with_kept_digests
from archivist._progress import close_callback, make_callback, metered
from archivist._repo_base import RepositoryBase
from archivist._trust import check_trusted
from archivist._versions import parse_time
from archivist.errors import (
    ArchivistError,
    ArchivistWarning,
    ArtifactFileNotFoundError,
    EnvironmentMismatchError,
    InvalidArgumentError,
    InvalidVersionError,
    UnsavedChangesError,
    UnsupportedOperationError,
)
from archivist.handlers.base import Handler
from archivist.manifest import (
    ManifestIndex,
    VersionRecord,
)
from archivist.plugin.manager import get_handler

LOG = logging.getLogger("archivist.repository")

__all__ = ["ReadingMixin"]


class ReadingMixin(RepositoryBase):
    """Loading versions, their records and diffs, and read-only filtered views."""

    def load_artifact(
        self,
        name: str,
        validate: bool = True,
        version: int | datetime | str | None = None,
        match: Literal["exact", "asof"] = "exact",
        *,
        alias: str | None = None,
        as_of: datetime | str | None = None,
        progress: object = None,
        **reader_kwargs: Any,
    ) -> Any:
        """Load one version of an artifact.

        The parameters are in lazyscribe's order; pass ``version`` and ``match`` by keyword.

        Parameters
        ----------
        name : str
            The artifact name.
        validate : bool, optional
            Refuse (``True``, default) or only warn (``False``) when the version was written
            under a different environment than the running one (e.g. Python version).
        version : int, datetime.datetime, str or None, optional
            ``None`` (default) for the latest version that has not expired; an int for a
            version number (negative counts from the end); a datetime or ISO 8601 string for
            the version created then (naive means UTC; a value to the second matches that
            second).
        match : {"exact", "asof"}, optional
            For times: ``exact`` needs a version created at that time; ``asof`` takes the
            newest version created at or before it that had not expired by then.
        alias : str, optional
            Load the version this alias names (see :meth:`set_alias`) instead of giving
            ``version``.
        as_of : datetime.datetime or str, optional
            With ``alias``: the version the alias named at that time (to its precision:
            ``"2026-03-01"`` means by the end of that day).
        progress : bool or fsspec.callbacks.Callback, optional
            Report the bytes read: ``True`` draws a bar on standard error for large files;
            an fsspec ``Callback`` (anything with ``set_size`` and ``relative_update``) is
            told the size and every byte read. See :mod:`archivist._progress`.
        **reader_kwargs
            Passed to the handler's ``read``.

        Returns
        -------
        Any
            The stored value.

        Raises
        ------
        archivist.errors.ArtifactNotFoundError
            No artifact has that name, its file is missing, or the version is not saved yet.
        archivist.errors.VersionNotFoundError
            No version matches.
        archivist.errors.InvalidVersionError
            The version or match value cannot be understood, or ``validate`` is not a bool
            (a version passed positionally: give it as ``version=``).
        archivist.errors.IntegrityError
            The stored file does not match its digest.
        archivist.errors.UnknownHandlerError
            The version's handler is not installed.
        archivist.errors.EnvironmentMismatchError
            ``validate`` is true and the environment differs.
        archivist.errors.UntrustedArtifactError
            The version has no digest, its handler runs code, and :attr:`trust` is
            ``"verified"``.
        """
        if not isinstance(validate, bool):
            raise InvalidVersionError(
                f"load_artifact's second parameter is validate (a bool, as in lazyscribe), got "
                f"{validate!r}; pass the version as version={validate!r}"
            )
        record = self._find_aliased(name, version, match, alias, as_of)
        callback = make_callback(progress, f"loading {name}")
        try:
            return self._load(record, validate, reader_kwargs, callback)
        finally:
            close_callback(callback)

    def _find_aliased(
        self, name: str, version: object, match: object, alias: str | None, as_of: object
    ) -> VersionRecord:
        if alias is None:
            if as_of is not None:
                raise InvalidArgumentError(
                    "as_of applies to an alias (alias='production', as_of=...); for the version "
                    "current at a time, pass version=<time>, match='asof'"
                )
            return self._find(name, version, match)
        if version is not None:
            raise InvalidArgumentError(
                f"give either version ({version!r}) or alias ({alias!r}), not both"
            )
        if as_of is not None and not isinstance(as_of, datetime | str):
            raise InvalidArgumentError(f"as_of must be a datetime or an ISO string, got {as_of!r}")
        return self._find(
            name, _aliases.aliased_version(self._as_repository(), name, alias, as_of), "exact"
        )

    def _load(
        self,
        record: VersionRecord,
        validate: bool,
        reader_kwargs: dict[str, Any],
        callback: Any = None,
    ) -> Any:
        if self._is_pending(record):
            raise ArtifactFileNotFoundError(
                f"version {record.version} of {record.name!r} is not saved yet; call save() first"
            )
        (record,) = with_kept_digests(self.store, [record])  # a digest a foreign save dropped
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
            self.trust,
            handler,
            record.sha256,
            f"version {record.version} of {record.name!r} in {self.location}",
            "Once you trust the stored files, record their digests with Repository.adopt() "
            "(or `archivist adopt`).",
            stacklevel=3,
        )
        if callback is not None and record.size is not None:
            callback.set_size(record.size)
        with self._open_file(record, handler) as raw:
            return read_value(
                handler,
                metered(raw, callback),
                reader_kwargs,
                record.handler,
                f"version {record.version} of {record.name!r}",
                record.name,
                stacklevel=3,
            )

    def _open_file(self, record: VersionRecord, handler: Handler | None = None) -> IO[bytes]:
        """Open a version's file, verified: through the local cache when there is one.

        A ``handler`` that does not read in memory (:attr:`Handler.reads_in_memory`) gets a
        large file spooled to a temporary file rather than buffered in memory.
        """

        def fetch() -> IO[bytes]:
            return self.store.open_file(record.name, record.fname, record.sha256, record.size)

        spooling = SPOOL_LARGE_READS.set(handler is not None and not handler.reads_in_memory)
        try:
            if self.cache is None or record.sha256 is None or record.size is None:
                return fetch()
            return self.cache.open(record.sha256, record.size, fetch)
        finally:
            SPOOL_LARGE_READS.reset(spooling)

    def get_artifact_metadata(
        self,
        name: str,
        version: int | datetime | str | None = None,
        match: Literal["exact", "asof"] = "exact",
        *,
        alias: str | None = None,
        as_of: datetime | str | None = None,
    ) -> dict[str, Any]:
        """Return the manifest record of one version, as a dict.

        Parameters
        ----------
        name : str
            The artifact name.
        version : int, datetime.datetime, str or None, optional
            As in :meth:`load_artifact`.
        match : {"exact", "asof"}, optional
            As in :meth:`load_artifact`.
        alias, as_of : optional
            As in :meth:`load_artifact`.

        Returns
        -------
        dict[str, Any]
            ``name``, ``version``, ``handler``, ``fname``, ``created_at``, ``expiry``,
            ``sha256``, ``size`` and the handler's metadata.
        """
        return self._find_aliased(name, version, match, alias, as_of).to_dict()

    def versions(self, name: str) -> list[int]:
        """Return the version numbers of an artifact, ascending (pending ones included).

        Parameters
        ----------
        name : str
            The artifact name.

        Returns
        -------
        list[int]
            The numbers.

        Raises
        ------
        archivist.errors.ArtifactNotFoundError
            No artifact has that name.
        """
        records = self._index().versions(name)
        if not records:
            self._find(name, None, "exact")  # raises the descriptive error
        return [record.version for record in records]

    def get_version_diff(
        self,
        name: str,
        version: int | datetime | str | tuple[int | datetime | str, int | datetime | str],
        match: Literal["exact", "asof"] = "exact",
    ) -> str:
        """Return a unified diff between two versions of a text artifact.

        Parameters
        ----------
        name : str
            The artifact name.
        version : int, datetime.datetime, str, or a tuple of two of them
            One version (compared with the latest) or two versions to compare (older first).
        match : {"exact", "asof"}, optional
            As in :meth:`load_artifact`.

        Returns
        -------
        str
            The diff lines joined with newlines (empty when the files are equal).

        Raises
        ------
        archivist.errors.UnsupportedOperationError
            The versions are stored by a binary handler.
        """
        if isinstance(version, tuple):
            pair = sorted((self._find(name, v, match) for v in version), key=lambda r: r.created_at)
        else:
            pair = [self._find(name, version, match), self._find(name, None, "exact")]
        if pair[0] is pair[1]:
            LOG.warning(f"Only version '{pair[0].version!s}' was supplied for comparison")
        texts = [self._text_lines(record) for record in pair]
        return "\n".join(difflib.unified_diff(texts[0], texts[1]))  # lazyscribe's exact output

    def _text_lines(self, record: VersionRecord) -> list[str]:
        """Return the lines of a saved text version's verified file."""
        if self._is_pending(record):
            raise ArtifactFileNotFoundError(
                f"version {record.version} of {record.name!r} is not saved yet; call save() first"
            )
        if get_handler(record.handler).binary:
            raise UnsupportedOperationError(
                f"version {record.version} of {record.name!r} is stored by the binary handler "
                f"{record.handler!r}; only text artifacts can be diffed"
            )
        (record,) = with_kept_digests(self.store, [record])  # a digest a foreign save dropped
        with self._open_file(record) as raw:
            return raw.read().decode("utf-8").splitlines()

    def filter(self, version: datetime | str | Sequence[Sequence[Any]] | Any) -> Self:
        """Return a read-only view holding at most one version of each artifact.

        Parameters
        ----------
        version : datetime.datetime, str, sequence of (name, version) pairs, or a release
            A time: each artifact's version as of then (artifacts created later are left
            out). Pairs (for example ``release.artifacts``): exactly those versions. An
            object with an ``artifacts`` attribute (a release) is taken as its pairs.

        Returns
        -------
        Repository
            A repository in mode ``r`` over the same storage.

        Raises
        ------
        archivist.errors.UnsavedChangesError
            This repository holds unsaved versions or expiry changes.
        archivist.errors.InvalidVersionError
            A name appears twice with different versions, or the argument is not understood.
        """
        if self._pending or self._expiry_changes:
            raise UnsavedChangesError(
                "this repository holds changes that are not saved; save() before filtering"
            )
        pairs = getattr(version, "artifacts", version)
        selected: dict[str, VersionRecord] = {}
        if isinstance(pairs, datetime | str):
            spec = parse_time(pairs)
            for name in self._committed.names():
                try:
                    selected[name] = self._committed.as_of(name, spec.start, spec.precision)
                except ArchivistError:
                    LOG.warning(
                        f"Artifact '{name}' does not have a version that predates {pairs!s}"
                    )
                    continue
        elif isinstance(pairs, Sequence):
            for pair in pairs:
                if (
                    isinstance(pair, str | bytes)
                    or not isinstance(pair, Sequence)
                    or len(pair) != 2
                ):
                    raise InvalidVersionError(f"filter() takes (name, version) pairs, got {pair!r}")
                name, ver = pair[0], pair[1]
                record = self._find(name, ver, "exact")
                if name in selected and selected[name] is not record:
                    raise InvalidVersionError(
                        f"filter() got two versions of {name!r}: {selected[name].version} and "
                        f"{record.version}; a filtered repository holds one per artifact"
                    )
                selected[name] = record
        else:
            raise InvalidVersionError(
                "filter() takes a datetime, an ISO string, or a sequence of (name, version) "
                f"pairs, got {type(version).__name__}"
            )
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view.mode = "r"
        view._pending, view._expiry_changes, view._view, view._fresh = [], {}, None, False
        view._pending_last, view._pending_fnames = {}, {}
        view._committed = ManifestIndex(r for r in self._committed if selected.get(r.name) is r)
        return view
