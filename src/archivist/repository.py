"""The :class:`Repository`: versioned artifacts in a folder or bucket, with no server.

A repository is a manifest (``repository.json``, a JSON array of version records) and one
folder per artifact name holding a file per version. Logging only associates a value with
the repository; :meth:`Repository.save` writes the files and commits them to the manifest
with a compare-and-swap, so concurrent writers never lose a version.
"""

from __future__ import annotations

import contextlib
import difflib
import inspect
import logging
import os
import random
import re
import secrets
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any, Literal, cast

from archivist import _aliases, _retention
from archivist._adopt import adopt as _adopt
from archivist._cache import cache_for
from archivist._journal import (
    JournalEntry,
    SaveJournal,
    collect_garbage,
    settle_replaced_journals,
)
from archivist._options import merge_storage_options
from archivist._parallel import CancellableWriter, write_all
from archivist._progress import close_callback, make_callback, metered
from archivist._repository_compat import (
    RepositoryState,
    filesystem_of,
    lazyscribe_artifacts,
    protocol_of,
    warn_output_only,
)
from archivist._streams import stream_for
from archivist._trust import Trust, check_trusted, resolve_trust
from archivist._versions import parse_time, parse_version
from archivist.errors import (
    AlreadyExistsError,
    ArchivistError,
    ArchivistWarning,
    ArtifactFileNotFoundError,
    ArtifactNotFoundError,
    ConflictError,
    EnvironmentMismatchError,
    IntegrityError,
    InvalidArgumentError,
    InvalidModeError,
    InvalidVersionError,
    ManifestError,
    ReadOnlyError,
    RepositoryNotFoundError,
    SerializationError,
    StaleTokenError,
    StorageError,
    UnsavedChangesError,
    UnsupportedOperationError,
)
from archivist.handlers.base import Handler
from archivist.manifest import (
    ManifestIndex,
    VersionRecord,
    check_file_name,
    check_name,
    utcnow,
)
from archivist.plugin.manager import get_handler, plugin_manager
from archivist.stores import AbstractRepositoryStore, ManifestSnapshot, ManifestStore

__all__ = ["MAX_COMMIT_ATTEMPTS", "Mode", "Repository", "RepositoryState", "VerificationReport"]

LOG = logging.getLogger(__name__)
Mode = Literal["r", "a", "w", "w+"]
_MODES = ("r", "a", "w", "w+")

#: How many times a save re-reads and re-merges the manifest after losing a race.
MAX_COMMIT_ATTEMPTS = 64
_log = logging.getLogger(__name__)
_ONE_MICROSECOND = timedelta(microseconds=1)
_SLUG = re.compile(r"[^a-z0-9]+")


def _slug(name: str) -> str:
    return _SLUG.sub("-", name.lower()).strip("-") or "artifact"


def _auto_fname(name: str, created_at: datetime, suffix: str) -> str:
    stamp = created_at.strftime("%Y%m%d%H%M%S")
    # the slug is ASCII; 100 characters keep the name well below MAX_NAME_BYTES
    return f"{_slug(name)[:100]}-{stamp}-{secrets.token_hex(4)}" + (f".{suffix}" if suffix else "")


@dataclass
class _Pending:
    """A logged version not saved yet."""

    record: VersionRecord
    value: Any
    handler: Handler
    writer_kwargs: dict[str, Any]
    auto_fname: bool


@dataclass(frozen=True)
class VerificationReport:
    """What :meth:`Repository.verify` found.

    Attributes
    ----------
    checked : int
        Versions whose file was present and matched its digest and size.
    unverifiable : list[tuple[str, int]]
        Versions present on storage but recorded without a digest (written by lazyscribe).
    orphans : list[str]
        Files written by saves of this repository that never committed (named in a save
        journal, provably written by that save, named by no version):
        ``gc(older_than=timedelta(0))`` would remove them.
    """

    checked: int
    unverifiable: list[tuple[str, int]] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)


class Repository:
    """Versioned artifacts in a local folder or a bucket.

    Parameters
    ----------
    fpath : str or os.PathLike, optional
        The manifest's path or URL (default ``"repository.json"``); its folder holds the
        artifacts. Any protocol an installed backend serves works (``memory://``,
        ``s3://`` with ``archivist-s3``, ...).
    mode : {"r", "a", "w", "w+"}, optional
        ``r`` reads only; ``a`` reads the existing versions and only appends new ones;
        ``w+`` (the default, as in lazyscribe) also lets existing records change (expiry);
        ``w`` starts a new repository: its first save replaces the manifest (warning with
        an :class:`~archivist.ArchivistWarning` how many versions the replaced one held).
    store : AbstractRepositoryStore, optional
        Keep the manifest and files in this store instead of the default
        :class:`~archivist.ManifestStore` at ``fpath``.
    cache : bool, optional
        Read version files through the verified local cache (see ``docs/cache.md``). By
        default on for remote repositories, off for local and in-memory ones.
    cache_dir : str or os.PathLike, optional
        The cache folder (default ``ARCHIVIST_CACHE_DIR`` or the user cache folder).
    cache_size : int or str, optional
        The cache's bound, in bytes or as ``"500MB"`` (default ``ARCHIVIST_CACHE_SIZE`` or
        10 GiB; ``0`` turns the cache off).
    trust : {"any", "verified"}, optional
        What to do with versions lazyscribe wrote (no recorded digest) whose handler runs
        code when reading (pickle, joblib): ``"any"`` loads them with an
        :class:`~archivist.ArchivistWarning`, ``"verified"`` refuses them with
        :class:`~archivist.UntrustedArtifactError`. Default: the environment variable
        ``ARCHIVIST_TRUST``, else ``"any"``. :meth:`adopt` records their digests.
    storage_options : Mapping[str, Any], optional
        Options for the fsspec filesystem (credentials, endpoint, ...), as one mapping (the
        pandas and Kedro spelling).
    **options
        More storage options, as keywords (the lazyscribe spelling). A keyword close to a
        parameter name (``mdoe="r"``) is refused as a typo, and a local path refuses any
        option its filesystem does not know.

    Raises
    ------
    archivist.errors.InvalidModeError
        ``mode`` is not one of the four.
    archivist.errors.ConfigError
        ``trust`` (or ``ARCHIVIST_TRUST``) is not ``"any"`` or ``"verified"``.
    archivist.errors.RepositoryNotFoundError
        ``mode="r"`` and there is no manifest at ``fpath``.
    archivist.errors.ManifestError
        The manifest is corrupt or breaks the manifest contract.
    archivist.errors.UnknownBackendError
        No installed backend serves the URL's protocol.
    archivist.errors.InvalidArgumentError
        A keyword is a misspelled parameter or an option the storage does not take.

    Examples
    --------
    >>> from archivist import Repository
    >>> repository = Repository("memory://docs/repository.json", mode="w")
    >>> repository.log_artifact(name="features", value=[0, 1, 2], handler="json")
    >>> repository.save()
    >>> Repository("memory://docs/repository.json", mode="r").load_artifact("features")
    [0, 1, 2]
    """

    def __init__(
        self,
        fpath: str | os.PathLike[str] = "repository.json",
        mode: Mode = "w+",
        *,
        store: AbstractRepositoryStore | None = None,
        trust: Trust | None = None,
        cache: bool | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        cache_size: int | str | None = None,
        storage_options: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        if mode not in _MODES:
            raise InvalidModeError(f"mode must be one of 'r', 'a', 'w', 'w+', got {mode!r}")
        self.mode: Mode = mode
        self.storage_options = merge_storage_options(
            "Repository()",
            storage_options,
            options,
            inspect.signature(Repository).parameters if options else (),
        )
        if store is not None and self.storage_options:
            raise InvalidArgumentError(
                f"Repository() got a store and the storage option(s) "
                f"{', '.join(map(repr, self.storage_options))}, which only the default store "
                "would use; configure the store itself instead"
            )
        self.trust: Trust = resolve_trust(trust)
        self.store: AbstractRepositoryStore = (
            store if store is not None else ManifestStore(fpath, **self.storage_options)
        )
        self.cache = cache_for(self.store, cache, cache_dir, cache_size)
        self.fpath = Path(self.store.path) if isinstance(self.store, ManifestStore) else None
        self.dir = self.fpath.parent if self.fpath is not None else None
        self._pending: list[_Pending] = []
        # per name: the highest pending version number and the pending file names
        self._pending_last: dict[str, int] = {}
        self._pending_fnames: dict[str, set[str]] = {}
        self._expiry_changes: dict[tuple[str, int], datetime] = {}
        self._view: ManifestIndex | None = None
        self._fresh = mode == "w"
        if mode == "w":
            self._committed, self._token = ManifestIndex(), None
        else:
            snapshot = self.store.read()
            if snapshot.token is None and mode == "r":
                raise RepositoryNotFoundError(
                    f"no repository at {self.store.location}: there is no manifest to read. "
                    "Open it with mode='w' to create one."
                )
            self._committed, self._token = ManifestIndex(snapshot.records), snapshot.token

    # -- reading ----------------------------------------------------------------------------

    @property
    def location(self) -> str:
        """The manifest's URL or absolute path."""
        return self.store.location

    @property
    def records(self) -> list[VersionRecord]:
        """Every version record, saved and pending, in manifest order (typed access)."""
        return list(self._index())

    @property
    def artifacts(self) -> list[Any]:
        """Every version, saved and pending, as lazyscribe's artifact objects.

        Each item has lazyscribe's attributes (``name``, ``fname``, ``value``, ``version``,
        ``created_at``, ``expiry``, ``dirty``, ``writer_kwargs``, ``alias``, ...) and
        ``record``, its :class:`~archivist.VersionRecord`. See :mod:`archivist.artifacts`.
        """
        return lazyscribe_artifacts(self._index(), self._pending)

    @property
    def protocol(self) -> str:
        """The URL protocol of the repository's storage (``"file"`` for local paths)."""
        return protocol_of(self.store)

    @property
    def fs(self) -> Any:
        """The fsspec filesystem the repository's storage uses (as in lazyscribe)."""
        return filesystem_of(self.store)

    def __getitem__(self, name: str) -> Any:
        """Return the first version of an artifact, as lazyscribe's ``repository[name]``.

        Raises
        ------
        archivist.errors.ArtifactNotFoundError
            No artifact has that name (a :class:`KeyError`).
        """
        for record in self._index():
            if record.name == name:
                return lazyscribe_artifacts([record], self._pending)[0]
        self._find(name, None, "exact")  # raises the descriptive error
        raise ArtifactNotFoundError(name)  # pragma: no cover - _find raised

    def refresh(self) -> None:
        """Re-read the manifest, to see versions other writers committed since opening.

        Pending (unsaved) versions and expiry changes are kept.
        """
        snapshot = self.store.read()
        self._committed, self._token = ManifestIndex(snapshot.records), snapshot.token
        for (name, version), expiry in self._expiry_changes.items():
            self._committed = _with_expiry(self._committed, name, version, expiry)
        self._view = None

    def _index(self) -> ManifestIndex:
        if not self._pending:
            return self._committed
        if self._view is None:
            self._view = ManifestIndex([*self._committed, *(p.record for p in self._pending)])
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
        return self._find(name, _aliases.aliased_version(self, name, alias, as_of), "exact")

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
        with (
            self._open_file(record) as raw,
            stream_for(metered(raw, callback), handler.binary) as stream,
        ):
            try:
                value = handler.read(stream, **reader_kwargs)
                warn_output_only(handler, record.name, "load", stacklevel=4)
                return value
            except ArchivistError:
                raise
            except Exception as exc:
                raise SerializationError(
                    f"handler {record.handler!r} could not read version {record.version} of "
                    f"{record.name!r}: {type(exc).__name__}: {exc}"
                ) from exc

    def _open_file(self, record: VersionRecord) -> IO[bytes]:
        """Open a version's file, verified: through the local cache when there is one."""

        def fetch() -> IO[bytes]:
            return self.store.open_file(record.name, record.fname, record.sha256, record.size)

        if self.cache is None or record.sha256 is None or record.size is None:
            return fetch()
        return self.cache.open(record.sha256, record.size, fetch)

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
        with self._open_file(record) as raw:
            return raw.read().decode("utf-8").splitlines()

    def filter(self, version: datetime | str | Sequence[Sequence[Any]] | Any) -> Repository:
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
        view = object.__new__(Repository)
        view.__dict__.update(self.__dict__)
        view.mode = "r"
        view._pending, view._expiry_changes, view._view, view._fresh = [], {}, None, False
        view._pending_last, view._pending_fnames = {}, {}
        view._committed = ManifestIndex(r for r in self._committed if selected.get(r.name) is r)
        return view

    def verify(self) -> VerificationReport:
        """Check that every committed version's file is present and matches its digest.

        Returns
        -------
        VerificationReport
            Counts, versions without a digest, and orphan files (reported, not failed).

        Raises
        ------
        archivist.errors.IntegrityError
            A file is missing, not a regular file, or does not match its digest or size; the
            message lists every such version (each file is hashed in one bounded pass).
        """
        problems: list[str] = []
        unverifiable: list[tuple[str, int]] = []
        checked = 0
        for record in self._committed:
            try:
                # presence and regularity, and the digest where one is recorded
                self.store.check_file(record.name, record.fname, record.sha256, record.size)
            except (ArtifactNotFoundError, IntegrityError, StorageError) as exc:
                problems.append(f"version {record.version} of {record.name!r}: {exc}")
                continue
            if record.sha256 is None:
                unverifiable.append((record.name, record.version))
            else:
                checked += 1
        orphans = collect_garbage(self.store, self._referenced(), timedelta(0), dry_run=True)
        if problems:
            raise IntegrityError(
                f"{len(problems)} version(s) in {self.location} failed verification:\n"
                + "\n".join(problems)
            )
        return VerificationReport(checked, unverifiable, orphans)

    def adopt(self, dry_run: bool = False) -> list[tuple[str, int]]:
        """Record digests for committed versions that have none (written by lazyscribe).

        Each such version's file is hashed once (regular files only) and its SHA-256 and size
        are recorded in place, committed with the same compare-and-swap as :meth:`save`.
        From then on its loads are verified, also under ``trust="verified"``. It vouches for
        the files as they are now: run it once you trust them. Mode ``a`` may adopt, since
        adopting only fills in missing digests; running it again adopts nothing.

        Parameters
        ----------
        dry_run : bool, optional
            Hash the files but record nothing (allowed in mode ``r``).

        Returns
        -------
        list[tuple[str, int]]
            ``(name, version)`` of the versions adopted (or that would be). Versions whose
            file is missing or not a regular file are skipped with an
            :class:`~archivist.ArchivistWarning`.

        Raises
        ------
        archivist.errors.ReadOnlyError
            The repository is open in mode ``r`` and ``dry_run`` is false.
        archivist.errors.ConflictError
            Other writers kept committing; nothing was recorded.
        """
        return _adopt(self, dry_run)

    def gc(self, older_than: timedelta = timedelta(hours=1), dry_run: bool = False) -> list[str]:
        """Delete the files of saves that never committed, and nothing else.

        A file is deleted only when a journal of a save of *this* repository names it, the
        manifest does not, and the file is provably the one that save wrote (see
        ``docs/design.md``, "Ownership"). User files, other repositories, projects, release
        files and files a manifest replaced by mode ``w`` named are never touched.

        Parameters
        ----------
        older_than : datetime.timedelta, optional
            Only saves whose journal is older than this (default one hour) are taken as
            dead; a younger one may still be running. Use zero only when no save of this
            repository is running anywhere.
        dry_run : bool, optional
            Only list what would be deleted.

        Returns
        -------
        list[str]
            The files deleted (or that would be).

        Raises
        ------
        archivist.errors.ReadOnlyError
            The repository is open in mode ``r`` (and ``dry_run`` is false).
        archivist.errors.RepositoryNotFoundError
            There is no manifest at this location: gc refuses to judge any file.
        archivist.errors.InvalidArgumentError
            ``older_than`` is negative or not a timedelta.
        """
        if not isinstance(older_than, timedelta) or older_than < timedelta(0):
            raise InvalidArgumentError(
                f"older_than must be a timedelta of zero or more, got {older_than!r}; "
                "for example timedelta(hours=1)"
            )
        if not dry_run:
            self._require_writable()
        self.refresh()  # never judge by a stale manifest: another writer may have committed
        if self._token is None:
            raise RepositoryNotFoundError(
                f"no repository at {self.location}: there is no manifest, so gc deletes "
                "nothing. Check the path."
            )
        return collect_garbage(self.store, self._referenced(), older_than, dry_run)

    # -- lifecycle: aliases and retention (archivist._aliases, archivist._retention) ---------

    def set_alias(self, name: str, alias: str, version: int | datetime | str) -> _aliases.AliasMove:
        """Point an alias (``production``) at a saved version; the move is committed at once.

        Aliases live in a file beside the manifest (``repository.aliases.json`` for
        ``repository.json``) that keeps every move, so :meth:`alias_history` and
        ``load_artifact(name, alias=..., as_of=...)`` can answer what an alias named when.

        Parameters
        ----------
        name : str
            The artifact name.
        alias : str
            The alias: a letter, then letters, digits, ``_``, ``.`` or ``-``.
        version : int, datetime.datetime or str
            The version, as in :meth:`load_artifact` (``match="exact"``).

        Returns
        -------
        AliasMove
            The move as committed (``from_version`` is where the alias pointed before).

        Raises
        ------
        archivist.errors.ReadOnlyError
            The repository is open in mode ``r``.
        archivist.errors.InvalidNameError
            The alias is not a valid alias name.
        archivist.errors.ArtifactNotFoundError
            No artifact has that name, or the version is not saved yet.
        archivist.errors.VersionNotFoundError
            No such version, or it has expired.
        archivist.errors.ConflictError
            Other writers kept moving aliases; nothing was changed.
        """
        return _aliases.set_alias(self, name, alias, version)

    def remove_alias(self, name: str, alias: str) -> _aliases.AliasMove:
        """Remove an alias; its history is kept.

        Parameters
        ----------
        name : str
            The artifact name.
        alias : str
            The alias.

        Returns
        -------
        AliasMove
            The removal as committed (``to_version`` is ``None``).

        Raises
        ------
        archivist.errors.VersionNotFoundError
            The artifact has no such alias.
        """
        return _aliases.remove_alias(self, name, alias)

    def aliases(self, name: str) -> dict[str, int]:
        """Return the aliases of an artifact and the version each names now.

        Parameters
        ----------
        name : str
            The artifact name.

        Returns
        -------
        dict[str, int]
            ``{alias: version}``, sorted by alias.
        """
        return _aliases.aliases(self, name)

    def alias_history(self, name: str, alias: str) -> list[_aliases.AliasMove]:
        """Return the moves of an alias, oldest first.

        Parameters
        ----------
        name : str
            The artifact name.
        alias : str
            The alias.

        Returns
        -------
        list[AliasMove]
            Each with ``when``, ``from_version`` (``None`` for the first) and ``to_version``
            (``None`` when the alias was removed).

        Raises
        ------
        archivist.errors.VersionNotFoundError
            The alias never existed.
        """
        return _aliases.alias_history(self, name, alias)

    def prune(
        self,
        keep_last: int | None = None,
        keep_within: timedelta | None = None,
        dry_run: bool = False,
    ) -> list[tuple[str, int]]:
        """Remove old versions from the manifest, then their files; see ``docs/retention.md``.

        A version survives when either rule keeps it, or when it is pinned: named by a
        release in the repository's release file or by an alias, or the latest unexpired
        or the highest-numbered version of its name. The manifest commit comes first; the
        numbers of the remaining versions never change and a pruned number is never reused.

        Parameters
        ----------
        keep_last : int, optional
            Keep the newest ``keep_last`` versions of each name.
        keep_within : datetime.timedelta, optional
            Keep the versions created within this long before now.
        dry_run : bool, optional
            Only return what would be removed.

        Returns
        -------
        list[tuple[str, int]]
            The ``(name, version)`` pairs removed (or that would be).

        Raises
        ------
        archivist.errors.InvalidArgumentError
            Neither rule is given, or a rule has a bad value.
        archivist.errors.ReadOnlyError
            Mode ``r`` or ``a`` (and ``dry_run`` is false).
        archivist.errors.UnsavedChangesError
            The repository holds unsaved changes.
        archivist.errors.ConflictError
            Other writers kept committing; nothing was removed.
        """
        return _retention.prune(self, keep_last, keep_within, dry_run)

    def _referenced(self) -> set[tuple[str, str]]:
        referenced = {(r.name, r.fname) for r in self._committed}
        referenced |= {(p.record.name, p.record.fname) for p in self._pending}
        return referenced

    def __contains__(self, name: object) -> bool:
        return name in self._index()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for record in self._index():
            yield record.to_dict()

    def __len__(self) -> int:
        return len(self._index())

    def __repr__(self) -> str:
        pending = f", {len(self._pending)} unsaved" if self._pending else ""
        return (
            f"Repository({self.location!r}, mode={self.mode!r}: {len(self._committed)} "
            f"versions of {len(self._committed.names())} artifacts{pending})"
        )

    # -- writing ----------------------------------------------------------------------------

    def _require_writable(self) -> None:
        if self.mode == "r":
            raise ReadOnlyError(
                f"{self.location} is open read-only (mode='r'); open it with mode 'a' or 'w+' "
                "to write"
            )

    def log_artifact(
        self,
        name: str,
        value: Any,
        handler: str,
        fname: str | None = None,
        **writer_kwargs: Any,
    ) -> None:
        """Add a new version of an artifact; it is written when :meth:`save` is called.

        Parameters
        ----------
        name : str
            The artifact name (a single path component: no ``/``, not ``..``).
        value : Any
            The object to store.
        handler : str
            The alias of the handler that serializes it, for example ``"json"``.
        fname : str, optional
            The file name in the artifact's folder; by default a unique name derived from
            the artifact name, the time and a random part. File names are never reused.
        **writer_kwargs
            Passed to the handler's ``write`` (``indent=4`` for ``json``).

        Raises
        ------
        archivist.errors.ReadOnlyError
            The repository is open in mode ``r``.
        archivist.errors.InvalidNameError
            ``name`` or ``fname`` would escape the repository folder, is longer than 255
            bytes in UTF-8, starts with a dot, or ``name`` is that of a file kept beside the
            manifest (its own name, ``releases.json``, ``project.json``); nothing changes.
        archivist.errors.UnknownHandlerError
            No installed handler has that alias.
        archivist.errors.AlreadyExistsError
            ``fname`` is already used by a version of this artifact.
        """
        self._require_writable()
        check_name(name)
        handler_cls = get_handler(handler)
        created_at = utcnow()
        pending_fnames = self._pending_fnames.get(name, set())
        if fname is None:
            fname = _auto_fname(name, created_at, handler_cls.suffix)
            auto = True
        else:
            check_file_name(fname)
            auto = False
            if fname in pending_fnames or fname in self._committed.fnames(name):
                raise AlreadyExistsError(
                    f"the file name {fname!r} is already used by a version of {name!r}; "
                    "archivist never overwrites a stored file. Omit fname for a unique one."
                )
        self.store.check_new_file(name, fname)
        version = max(self._committed.last_version(name), self._pending_last.get(name, -1)) + 1
        record = VersionRecord(
            name=name,
            version=version,
            handler=handler_cls.alias,
            fname=fname,
            created_at=created_at,
        )
        self._pending.append(_Pending(record, value, handler_cls(), dict(writer_kwargs), auto))
        warn_output_only(handler_cls, name, "log")
        self._pending_last[name] = version
        self._pending_fnames.setdefault(name, set()).add(fname)
        self._view = None

    def set_artifact_expiry(
        self,
        name: str,
        version: int | datetime | str | None = None,
        match: Literal["exact", "asof"] = "exact",
        expiry: datetime | str | None = None,
    ) -> None:
        """Set when a version expires: from then on latest and as-of lookups skip it.

        Parameters
        ----------
        name : str
            The artifact name.
        version : int, datetime.datetime, str or None, optional
            The version, as in :meth:`load_artifact` (default: the latest).
        match : {"exact", "asof"}, optional
            As in :meth:`load_artifact`.
        expiry : datetime.datetime, str or None, optional
            When it expires (naive means UTC); ``None`` means now.

        Raises
        ------
        archivist.errors.ReadOnlyError
            Mode ``r``, or mode ``a`` for a saved version (``a`` only appends; use ``w+``).
        archivist.errors.InvalidVersionError
            ``expiry`` cannot be understood.
        archivist.errors.PinnedVersionError
            An alias names the version: move or remove the alias first.
        """
        self._require_writable()
        record = self._find(name, version, match)
        when = utcnow() if expiry is None else parse_time(expiry, "expiry").start
        for pending in self._pending:
            if pending.record is record:
                pending.record = record.replace(expiry=when)
                self._view = None
                return
        if self.mode == "a":
            raise ReadOnlyError(
                "mode 'a' only appends new versions; open the repository with mode 'w+' to "
                "change saved records such as expiry"
            )
        _aliases.refuse_if_aliased(self, record.name, record.version)
        self._expiry_changes[(record.name, record.version)] = when
        self._committed = _with_expiry(self._committed, record.name, record.version, when)
        self._view = None

    def save(self, *, progress: object = None) -> None:
        """Write the new versions' files, then commit them to the manifest.

        Files go first, each under a fresh name with write-if-absent; then the manifest is
        re-read, this save's versions are numbered after each name's current last version,
        and the manifest is replaced only if nobody committed in between (else it retries).
        A crash at any point leaves the repository at its old or its new state.

        Parameters
        ----------
        progress : bool or fsspec.callbacks.Callback, optional
            Report the bytes written: ``True`` draws a bar on standard error for large saves;
            an fsspec ``Callback`` (anything with ``set_size`` and ``relative_update``) is
            told every byte written.

        Raises
        ------
        archivist.errors.ReadOnlyError
            The repository is open in mode ``r``.
        archivist.errors.SerializationError
            A handler could not write a value; nothing was committed and the files this save
            wrote were removed.
        archivist.errors.ConflictError
            Other writers kept committing for :data:`MAX_COMMIT_ATTEMPTS` rounds.

        Warns
        -----
        archivist.ArchivistWarning
            Mode ``w``: the manifest this save replaces holds versions (their count, read
            from it just before replacing it), or cannot be read.
        """
        self._require_writable()
        if not self._pending and not self._expiry_changes and not self._fresh:
            return
        for name, version in self._expiry_changes:  # an alias may have come to name it
            _aliases.refuse_if_aliased(self, name, version)
        journal = SaveJournal.begin(
            self.store,
            [JournalEntry(p.record.name, p.record.fname, p.auto_fname) for p in self._pending],
        )
        callback = make_callback(progress, "saving")
        try:
            new_records = self._write_files(journal, callback)
        finally:
            close_callback(callback)
        added = self._commit_written(new_records, journal)
        self._forget_saved_changes()
        for record in new_records:
            warn_output_only(get_handler(record.handler), record.name, "log")
        if added:
            plugin_manager().hook.archivist_after_commit(
                location=self.location, versions=[record.to_dict() for record in added]
            )

    def _forget_saved_changes(self) -> None:
        self._pending.clear()
        self._pending_last.clear()
        self._pending_fnames.clear()
        self._expiry_changes.clear()
        self._view = None
        self._fresh = False

    def _commit_written(
        self, new_records: list[VersionRecord], journal: SaveJournal
    ) -> list[VersionRecord]:
        """Make the written files durable and commit them; settle the files on failure.

        Before the manifest's conditional replace is attempted, a failure removes the files
        (nothing can reference them). From then on, whatever the failure (a lost
        acknowledgement, an error after the write, Ctrl-C), the files are removed only when
        a re-read proves the commit did not land; otherwise they stay, and when they were in
        fact never committed, :meth:`gc` collects them through the save's journal.
        """
        try:
            journal.record_written(new_records)
            self.store.make_durable([(record.name, record.fname) for record in new_records])
        except BaseException:
            self._remove_files(new_records)
            journal.close()
            raise
        try:
            added = self._commit(new_records, journal.id)
        except BaseException:
            self._settle_failed_commit(new_records, journal)
            raise
        journal.close()
        return added

    def _settle_failed_commit(self, new_records: list[VersionRecord], journal: SaveJournal) -> None:
        """After a failed commit, remove this save's files only if it provably did not land."""
        if not new_records:
            return
        try:
            snapshot = self.store.read()
            named = {(record.name, record.fname) for record in snapshot.records}
            if any((record.name, record.fname) in named for record in new_records):
                # It landed: the files are committed data, and the changes are saved (a
                # second save() must not commit them again), though the error still
                # reaches the caller.
                self._committed, self._token = ManifestIndex(snapshot.records), snapshot.token
                self._forget_saved_changes()
                journal.close()
                return
            if not journal.exists():
                # Another writer settled the journal: a mode "w" save replaced a manifest
                # that named these files. Files a replaced manifest named are kept.
                return
        except BaseException:
            return
        self._remove_files(new_records)
        journal.close()

    def _write_files(self, journal: SaveJournal, callback: Any = None) -> list[VersionRecord]:
        try:
            return write_all(
                self._pending,
                lambda pending, stop: self._write_one(pending, journal, callback, stop),
                self._remove_files,
                self.store.write_concurrency,
            )
        except BaseException:
            journal.close()
            raise

    def _write_one(
        self,
        pending: _Pending,
        journal: SaveJournal,
        callback: Any = None,
        stop: threading.Event | None = None,
    ) -> VersionRecord:
        record, handler = pending.record, pending.handler

        def write(raw: IO[bytes]) -> None:
            if stop is not None:  # a concurrent save: stop writing when it gives up
                raw = cast("IO[bytes]", CancellableWriter(raw, stop))
            with stream_for(metered(raw, callback), handler.binary) as stream:
                try:
                    handler.write(pending.value, stream, **pending.writer_kwargs)
                except ArchivistError:
                    raise
                except Exception as exc:
                    raise SerializationError(
                        f"handler {record.handler!r} could not write {record.name!r}: "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc

        try:
            metadata = dict(handler.metadata(pending.value))
        except Exception as exc:
            raise SerializationError(
                f"handler {record.handler!r} could not describe {record.name!r}: {exc}"
            ) from exc
        clash = sorted(
            set(metadata)
            & {
                "name",
                "version",
                "handler",
                "fname",
                "created_at",
                "expiry",
                "sha256",
                "size",
                "source",
            }
        )
        if clash:
            raise SerializationError(
                f"handler {record.handler!r} returned metadata that would overwrite the record "
                f"field(s) {', '.join(clash)}"
            )
        for _ in range(8):
            try:
                sha256, size = self.store.write_file(record.name, record.fname, write)
                break
            except AlreadyExistsError:
                if not pending.auto_fname:
                    raise
                record = record.replace(
                    fname=_auto_fname(record.name, record.created_at, handler.suffix)
                )
                journal.add(JournalEntry(record.name, record.fname, auto=True))
        else:  # pragma: no cover - eight random collisions in a row
            raise ConflictError(f"could not find a free file name for {record.name!r}")
        return record.replace(sha256=sha256, size=size, extra={**record.extra, **metadata})

    def _remove_files(self, records: Sequence[VersionRecord]) -> None:
        for record in records:
            with contextlib.suppress(ArchivistError, OSError):  # best effort clean-up
                self.store.delete_file(record.name, record.fname)

    def _commit(
        self, new_records: list[VersionRecord], journal_id: str | None = None
    ) -> list[VersionRecord]:
        delay = 0.002
        warned = not self._fresh
        for attempt in range(MAX_COMMIT_ATTEMPTS):
            if attempt == 0:
                # Commit against the manifest as read, without reading it again: a
                # precondition failure (another writer committed) re-reads and retries.
                base, token = list(self._committed), self._token
                if self._fresh:
                    # Mode "w" has not read what it replaces (a manifest, or none because
                    # someone deleted it): forget every other save's journal, which only
                    # ever keeps files. Later rounds forget only what the manifest names.
                    settle_replaced_journals(self.store, None, own=journal_id)
            else:
                replaced: list[VersionRecord] | None
                try:
                    snapshot = self.store.read()
                    replaced = snapshot.records
                except ManifestError:
                    if not self._fresh:
                        raise
                    # Mode "w" replaces whatever is there, even a manifest that cannot be
                    # read: only its token matters.
                    snapshot = ManifestSnapshot([], self.store.current_token())
                    replaced = None
                base, token = snapshot.records, snapshot.token
                if self._fresh and token is not None:
                    settle_replaced_journals(self.store, replaced, own=journal_id)
                landed = _already_committed(base, new_records)
                if landed is not None:
                    # An earlier round's write landed, but its answer was lost and the
                    # retried request was refused: the versions are committed, once.
                    self._token = token
                    self._committed = ManifestIndex(base)
                    _log.info(
                        "%s: an earlier commit attempt had landed; not retried", self.location
                    )
                    return landed
                if not warned and (replaced is None or replaced):
                    warned = True
                    _warn_replacing(self.location, replaced)
            if self._fresh:
                base = []
            merged, added = _merge(base, new_records, self._expiry_changes)
            try:
                self._token = self.store.commit(merged, token)
            except StaleTokenError:
                _log.info(
                    "%s: another writer committed first (attempt %d of %d); re-reading and "
                    "retrying",
                    self.location,
                    attempt + 1,
                    MAX_COMMIT_ATTEMPTS,
                )
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.25)
                continue
            self._committed = ManifestIndex(merged)
            _log_commit(self.location, new_records, added, attempt)
            return added
        raise ConflictError(
            f"gave up saving to {self.location} after {MAX_COMMIT_ATTEMPTS} attempts: other "
            "writers kept committing. Nothing was committed; try save() again."
        )

    # -- promotion from experiments (used by archivist.experiment) ---------------------------

    def _log_promoted(
        self,
        name: str,
        value: Any,
        handler: str,
        writer_kwargs: Mapping[str, Any],
        source: Mapping[str, Any],
    ) -> None:
        """Log ``value`` as :meth:`log_artifact` does, recording its lineage as ``source``."""
        self.log_artifact(name, value, handler, **writer_kwargs)
        pending = self._pending[-1]
        pending.record = pending.record.replace(extra={**pending.record.extra, "source": source})
        self._view = None

    def _promote(
        self,
        name: str,
        handler: str,
        write: Callable[[IO[bytes]], None],
        metadata: Mapping[str, Any],
        source: Mapping[str, Any],
        expected: tuple[str, int] | None = None,
    ) -> dict[str, Any]:
        """Store an already-serialized file as a new version of ``name`` and commit it now.

        ``write`` streams the file's bytes into the repository's storage (write-if-absent);
        the file is then checked against ``expected`` (sha256, size) and re-read verified,
        and committed through the commit protocol. On any failure the file is removed and
        nothing is committed. Returns the committed record.
        """
        self._require_writable()
        if self._pending or self._expiry_changes:
            raise UnsavedChangesError(
                f"{self.location} holds changes that are not saved; save() before promoting "
                "a saved experiment artifact, which commits at once"
            )
        check_name(name)
        handler_cls = get_handler(handler)
        created_at = utcnow()
        record = VersionRecord(
            name=name,
            version=self._committed.last_version(name) + 1,
            handler=handler_cls.alias,
            fname=_auto_fname(name, created_at, handler_cls.suffix),
            created_at=created_at,
        )
        self.store.check_new_file(name, record.fname)
        journal = SaveJournal.begin(self.store, [JournalEntry(name, record.fname, auto=True)])
        try:
            sha256, size = self.store.write_file(name, record.fname, write)
        except BaseException:
            journal.close()
            raise
        record = record.replace(sha256=sha256, size=size, extra={**metadata, "source": source})
        try:
            if expected is not None and (sha256, size) != tuple(expected):
                raise IntegrityError(
                    f"the copy of {name!r} in {self.store.file_location(name, record.fname)} "
                    f"has sha256 {sha256} and {size} bytes, but its source records sha256 "
                    f"{expected[0]} and {expected[1]} bytes; nothing was committed"
                )
            # what arrived is re-read and verified against its digest
            self.store.check_file(name, record.fname, sha256, size)
        except BaseException:
            self._remove_files([record])
            journal.close()
            raise
        added = self._commit_written([record], journal)
        self._fresh = False
        plugin_manager().hook.archivist_after_commit(
            location=self.location, versions=[r.to_dict() for r in added]
        )
        return added[0].to_dict()


def _log_commit(
    location: str,
    new_records: Sequence[VersionRecord],
    added: Sequence[VersionRecord],
    attempt: int,
) -> None:
    """Log a commit, and each version renumbered because another writer committed first."""
    _log.info("%s: committed %d new version(s) (attempt %d)", location, len(added), attempt + 1)
    for old, new in zip(new_records, added, strict=True):
        if old.version != new.version:
            _log.info(
                "%s: %r renumbered from version %d to %d after another writer's commit",
                location,
                new.name,
                old.version,
                new.version,
            )


def _warn_replacing(location: str, replaced: Sequence[VersionRecord] | None) -> None:
    """Warn that a mode ``w`` save is about to replace a manifest holding versions."""
    if replaced is None:
        what = "a manifest that cannot be read"
    else:
        names = len({record.name for record in replaced})
        what = f"{len(replaced)} version(s) of {names} artifact(s)"
    warnings.warn(
        f"mode 'w' replaces the manifest at {location}, which holds {what}; after this save "
        "they are no longer listed (their files are kept). Open with mode 'a' or 'w+' to add "
        "to them instead.",
        ArchivistWarning,
        stacklevel=4,
    )


def _already_committed(
    base: Sequence[VersionRecord], new_records: Sequence[VersionRecord]
) -> list[VersionRecord] | None:
    """Return the committed records of ``new_records`` if all are in ``base`` already.

    A version's file name is unique and never reused, so a record in the manifest with the
    same name, file name and digest is that version.
    """
    if not new_records:
        return None
    wanted = {(r.name, r.fname): r.sha256 for r in new_records}
    found = {
        (r.name, r.fname): r
        for r in base
        if (r.name, r.fname) in wanted and wanted[(r.name, r.fname)] == r.sha256
    }
    if len(found) != len(wanted):
        return None
    return [found[(r.name, r.fname)] for r in new_records]


def _with_expiry(index: ManifestIndex, name: str, version: int, expiry: datetime) -> ManifestIndex:
    return ManifestIndex(
        r.replace(expiry=expiry) if r.name == name and r.version == version else r for r in index
    )


def _merge(
    base: list[VersionRecord],
    new_records: list[VersionRecord],
    expiry_changes: Mapping[tuple[str, int], datetime],
) -> tuple[list[VersionRecord], list[VersionRecord]]:
    """Apply expiry changes, then number new versions after each name's last one."""
    merged = list(base)
    if expiry_changes:
        remaining = dict(expiry_changes)
        for i, record in enumerate(merged):
            key = (record.name, record.version)
            if key in remaining:
                merged[i] = record.replace(expiry=remaining.pop(key))
        if remaining:
            (name, version), _ = next(iter(remaining.items()))
            raise ConflictError(
                f"version {version} of {name!r} is no longer in the manifest (another writer "
                "replaced the repository); its expiry cannot be saved"
            )
    last: dict[str, VersionRecord] = {}
    for record in merged:
        current = last.get(record.name)
        if current is None or record.version > current.version:
            last[record.name] = record
    added: list[VersionRecord] = []
    for record in new_records:
        previous = last.get(record.name)
        if previous is None:
            numbered = record.replace(version=0)
        else:
            try:
                created_at = max(record.created_at, previous.created_at + _ONE_MICROSECOND)
            except OverflowError:
                raise ManifestError(
                    f"version {previous.version} of {record.name!r} was created at "
                    f"{previous.created_at.isoformat()}, the last time a manifest can hold; no "
                    "later version can be added. The manifest's times are wrong."
                ) from None
            numbered = record.replace(version=previous.version + 1, created_at=created_at)
        last[record.name] = numbered
        merged.append(numbered)
        added.append(numbered)
    return merged, added
