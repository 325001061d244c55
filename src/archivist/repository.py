"""The :class:`Repository`: versioned artifacts in a folder or bucket, with no server.

A repository is a manifest (``repository.json``, a JSON array of version records) and one
folder per artifact name holding a file per version. Logging only associates a value with
the repository; :meth:`Repository.save` writes the files and commits them to the manifest
with a compare-and-swap, so concurrent writers never lose a version.

``Repository`` is a handle (its store, cache, trust and journal settings) and a plain face
over the parts that do the work: its session (``archivist._commit.session``: what it read
and will write, and the lookups), the commit protocol (``archivist._commit.protocol``) and
reading (``archivist._lifecycle.reading``). Its lifecycle methods (verify, adopt, gc,
aliases, prune) forward the same way to the lifecycle modules, from its base class
:class:`~archivist._repository_lifecycle.RepositoryLifecycle`.
"""

from __future__ import annotations

import difflib
import inspect
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Self

from archivist._commit import protocol
from archivist._commit.protocol import MAX_COMMIT_ATTEMPTS
from archivist._commit.session import MODES, Mode, Pending, Session
from archivist._commit.unjournaled import resolve_journal
from archivist._formats.versions import parse_time
from archivist._io.cache import cache_for
from archivist._io.handlers import warn_output_only
from archivist._io.progress import close_callback, make_callback
from archivist._io.trust import Trust, resolve_trust
from archivist._lazyscribe.repository import (
    RepositoryState,
    filesystem_of,
    lazyscribe_artifacts,
    lazyscribe_record,
    protocol_of,
)
from archivist._lifecycle import aliases as _aliases
from archivist._lifecycle import reading as _reading
from archivist._lifecycle.upkeep import VerificationReport
from archivist._repository_lifecycle import RepositoryLifecycle
from archivist.errors import (
    ArtifactNotFoundError,
    InvalidArgumentError,
    InvalidModeError,
    InvalidVersionError,
    ReadOnlyModeError,
)
from archivist.manifest import VersionRecord, check_name, utcnow
from archivist.plugin.manager import get_handler, plugin_manager
from archivist.stores import AbstractRepositoryStore, ManifestStore
from archivist.stores._options import merge_storage_options

__all__ = ["MAX_COMMIT_ATTEMPTS", "Mode", "Repository", "RepositoryState", "VerificationReport"]

LOG = logging.getLogger("archivist.repository")


class Repository(RepositoryLifecycle):
    """Versioned artifacts in a local folder or a bucket.

    Parameters
    ----------
    fpath : str or os.PathLike, optional
        The manifest's path or URL (default ``"repository.json"``); its folder holds the
        artifacts. Any protocol an installed backend serves works (``memory://``,
        ``s3://`` with ``archivist-s3``, ...).
    mode : {"w+", "r", "a", "w"}, optional
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
    journal : bool, optional
        Whether a save names its files in a save journal before writing them (default: the
        environment variable ``ARCHIVIST_SAVE_JOURNAL``, where ``0``, ``false``, ``no`` or
        ``off`` turn it off, else ``True``). The journal costs two requests per save on an
        object store and lets :meth:`gc` prove that a crashed save's files are its own and
        uncommitted. ``False`` saves with the fewest requests (the files and the manifest);
        the files of a save killed mid-way then stay for good, since gc deletes nothing it
        cannot prove (see ``docs/design.md``, "Saves without a journal").
    **options
        More storage options, as keywords (the lazyscribe spelling). A keyword close to a
        parameter name (``mdoe="r"``) is refused as a typo, and a local path refuses any
        option its filesystem does not know.

    Raises
    ------
    archivist.errors.InvalidModeError
        ``mode`` is not one of the four.
    archivist.errors.ConfigError
        ``trust`` (or ``ARCHIVIST_TRUST``) is not ``"any"`` or ``"verified"``, or
        ``ARCHIVIST_SAVE_JOURNAL`` is not an on or off word.
    archivist.errors.RepositoryNotFoundError
        ``mode="r"`` and there is no manifest at ``fpath``.
    archivist.errors.ManifestError
        The manifest is corrupt or breaks the manifest contract.
    archivist.errors.UnknownBackendError
        No installed backend serves the URL's protocol.
    archivist.errors.InvalidArgumentError
        A keyword is a misspelled parameter or an option the storage does not take, or
        ``journal`` is not a bool.

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
        journal: bool | None = None,
        **options: Any,
    ) -> None:
        if mode not in MODES:
            raise InvalidModeError(f"mode must be one of 'r', 'a', 'w', 'w+', got {mode!r}")
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
        self.journal = resolve_journal(journal)
        self.store: AbstractRepositoryStore = (
            store if store is not None else ManifestStore(fpath, **self.storage_options)
        )
        self.cache = cache_for(self.store, cache, cache_dir, cache_size)
        manifest_path = self.store.manifest_path
        self.fpath = Path(manifest_path) if manifest_path is not None else None
        self.dir = self.fpath.parent if self.fpath is not None else None
        self._session = Session.open(self.store, mode)

    @property
    def mode(self) -> Mode:
        """The mode the repository is open in (``"r"``, ``"a"``, ``"w"`` or ``"w+"``)."""
        return self._session.mode

    @property
    def location(self) -> str:
        """The manifest's URL or absolute path."""
        return self.store.location

    def refresh(self) -> None:
        """Re-read the manifest, to see versions other writers committed since opening.

        Pending (unsaved) versions and expiry changes are kept. An unchanged manifest is
        neither downloaded nor parsed again (on object stores, one conditional GET).
        """
        self._session.refresh(self.store)

    @property
    def records(self) -> list[VersionRecord]:
        """Every version record, saved and pending, in manifest order (typed access)."""
        return list(self._session.index())

    @property
    def artifacts(self) -> list[Any]:
        """Every version, saved and pending, as lazyscribe's artifact objects.

        Each item has lazyscribe's attributes (``name``, ``fname``, ``value``, ``version``,
        ``created_at``, ``expiry``, ``dirty``, ``writer_kwargs``, ``alias``, ...) and
        ``record``, its :class:`~archivist.VersionRecord`. See :mod:`archivist.artifacts`.
        """
        return lazyscribe_artifacts(self._session.index(), self._session.pending)

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
        for record in self._session.index():
            if record.name == name:
                return lazyscribe_artifacts([record], self._session.pending)[0]
        self._session.find(name, None, "exact")  # raises the descriptive error
        raise ArtifactNotFoundError(name)  # pragma: no cover - find raised

    def __contains__(self, name: object) -> bool:
        return name in self._session.index()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Yield each version's record as lazyscribe does (times to the second)."""
        for record in self._session.index():
            yield lazyscribe_record(record)

    def __len__(self) -> int:
        return len(self._session.index())

    def __repr__(self) -> str:
        session = self._session
        pending = f", {len(session.pending)} unsaved" if session.pending else ""
        return (
            f"Repository({self.location!r}, mode={self.mode!r}: {len(session.committed)} "
            f"versions of {len(session.committed.names())} artifacts{pending})"
        )

    # -- reading --------------------------------------------------------------------------

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
            told the size and every byte read. See :mod:`archivist._io.progress`.
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
        record = _reading.find_aliased(
            self.store, self._session, name, version, match, alias, as_of
        )
        callback = make_callback(progress, f"loading {name}")
        try:
            return _reading.load(
                self.store,
                self._session,
                self.cache,
                self.trust,
                record,
                validate,
                reader_kwargs,
                callback,
            )
        finally:
            close_callback(callback)

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
        return _reading.find_aliased(
            self.store, self._session, name, version, match, alias, as_of
        ).to_dict()

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
        numbers = self._session.index().numbers(name)  # from the index: builds no record
        if not numbers:
            self._session.find(name, None, "exact")  # raises the descriptive error
        return list(numbers)

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
        find = self._session.find
        if isinstance(version, tuple):
            pair = sorted((find(name, v, match) for v in version), key=lambda r: r.created_at)
        else:
            pair = [find(name, version, match), find(name, None, "exact")]
        if pair[0] is pair[1]:
            LOG.warning(f"Only version '{pair[0].version!s}' was supplied for comparison")
        texts = [self._text_lines(record) for record in pair]
        return "\n".join(difflib.unified_diff(texts[0], texts[1]))  # lazyscribe's exact output

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
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view._session = self._session.filtered(version)
        return view

    def _find(self, name: str, version: object, match: object) -> VersionRecord:
        """Return the version ``version`` and ``match`` select (for the command line)."""
        return self._session.find(name, version, match)

    def _text_lines(self, record: VersionRecord) -> list[str]:
        """Return the lines of a saved text version's verified file (for diffs)."""
        return _reading.text_lines(self.store, self._session, self.cache, record)

    # -- writing --------------------------------------------------------------------------

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
        session = self._session
        new_fname = session.file_name(name, fname, created_at, handler_cls.suffix)
        self.store.check_new_file(name, new_fname)
        record = VersionRecord(
            name=name,
            version=session.next_version(name),
            handler=handler_cls.alias,
            fname=new_fname,
            created_at=created_at,
        )
        pending = Pending(record, value, handler_cls(), dict(writer_kwargs), fname is None)
        session.add(pending)
        warn_output_only(handler_cls, name, "log", stacklevel=2)

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
        record = self._session.find(name, version, match)
        when = utcnow() if expiry is None else parse_time(expiry, "expiry").start
        if self._session.expire_pending(record, when):
            return
        if self.mode == "a":
            raise ReadOnlyModeError(
                "mode 'a' only appends new versions; open the repository with mode 'w+' to "
                "change saved records such as expiry"
            )
        _aliases.refuse_if_aliased(self.store, record.name, record.version)
        self._session.expire_saved(record.name, record.version, when)

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
        session = self._session
        if not session.has_changes and not session.fresh:
            return
        for name, version in session.expiry_changes:  # an alias may have come to name it
            _aliases.refuse_if_aliased(self.store, name, version)
        new_records, added = protocol.save(
            self.store, session, journal=self.journal, progress=progress
        )
        for record in new_records:
            warn_output_only(get_handler(record.handler), record.name, "log", stacklevel=2)
        if added:
            after_commit = plugin_manager().hook.archivist_after_commit
            if after_commit.get_hookimpls():  # no records to build when nobody listens
                after_commit(location=self.location, versions=[r.to_dict() for r in added])

    def _require_writable(self) -> None:
        self._session.require_writable()

    def _log_promoted(
        self,
        name: str,
        value: Any,
        handler: str,
        writer_kwargs: Mapping[str, Any],
        source: Mapping[str, Any],
        created_at: datetime | None = None,
        fname: str | None = None,
    ) -> None:
        """Log ``value`` as :meth:`log_artifact` does, recording its lineage as ``source``.

        ``created_at`` and ``fname``, when given, are the experiment artifact's, kept as
        lazyscribe keeps them (a file name a version already uses is refused).
        """
        self.log_artifact(name, value, handler, fname, **writer_kwargs)
        self._session.amend_last({"source": source}, created_at)
