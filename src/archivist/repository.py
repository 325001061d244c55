"""The :class:`Repository`: versioned artifacts in a folder or bucket, with no server.

A repository is a manifest (``repository.json``, a JSON array of version records) and one
folder per artifact name holding a file per version. Logging only associates a value with
the repository; :meth:`Repository.save` writes the files and commits them to the manifest
with a compare-and-swap, so concurrent writers never lose a version.

``Repository`` is the one public face of parts kept in their own modules: the shared state
and lookups (``_repo_base``), reading (``_reading``), writing and the commit protocol
(``_writing``), and upkeep: verify, adopt, gc, aliases, prune (``_upkeep``).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from archivist._cache import cache_for
from archivist._lazyscribe.repository import (
    RepositoryState,
    filesystem_of,
    lazyscribe_artifacts,
    lazyscribe_record,
    protocol_of,
)
from archivist._options import merge_storage_options
from archivist._reading import ReadingMixin
from archivist._repo_base import _MODES, Mode, _Pending
from archivist._trust import Trust, resolve_trust
from archivist._unjournaled import resolve_journal
from archivist._upkeep import UpkeepMixin, VerificationReport
from archivist._writing import MAX_COMMIT_ATTEMPTS, WritingMixin
from archivist.errors import (
    ArtifactNotFoundError,
    InvalidArgumentError,
    InvalidModeError,
    RepositoryNotFoundError,
)
from archivist.manifest import (
    ManifestIndex,
    VersionRecord,
)
from archivist.stores import AbstractRepositoryStore, ManifestStore

__all__ = ["MAX_COMMIT_ATTEMPTS", "Mode", "Repository", "RepositoryState", "VerificationReport"]


class Repository(ReadingMixin, WritingMixin, UpkeepMixin):
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
        self.journal = resolve_journal(journal)
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
            self._committed = snapshot.indexed or ManifestIndex(snapshot.records)
            self._token = snapshot.token

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

    def __contains__(self, name: object) -> bool:
        return name in self._index()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Yield each version's record as lazyscribe does (times to the second)."""
        for record in self._index():
            yield lazyscribe_record(record)

    def __len__(self) -> int:
        return len(self._index())

    def __repr__(self) -> str:
        pending = f", {len(self._pending)} unsaved" if self._pending else ""
        return (
            f"Repository({self.location!r}, mode={self.mode!r}: {len(self._committed)} "
            f"versions of {len(self._committed.names())} artifacts{pending})"
        )
