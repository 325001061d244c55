"""Stores: the abstract layer between the user-facing classes and storage.

:class:`AbstractRepositoryStore` reads a manifest with its state token, commits a new
manifest against that token, and writes and reads the versions' files; its default,
:class:`ManifestStore`, keeps ``repository.json`` and the files on any
:class:`~archivist.Backend`. :class:`AbstractReleaseStore` and :class:`ReleaseStore` do the
same for ``releases.json``. Another store (a database, say) can replace a file without
touching :class:`~archivist.Repository`'s versioning logic.

The layers point one way: file formats (``archivist.manifest``, ``archivist._release_format``,
``archivist._journal``) below the stores, the stores below the user-facing classes
(``Repository``, ``Project``, ``archivist.release``).
"""

from __future__ import annotations

from archivist.stores._locations import open_backend, open_location, storage_errors
from archivist.stores._releases import MAX_RELEASE_ATTEMPTS, AbstractReleaseStore, ReleaseStore
from archivist.stores._repository import AbstractRepositoryStore, ManifestSnapshot, ManifestStore

__all__ = [
    "MAX_RELEASE_ATTEMPTS",
    "AbstractReleaseStore",
    "AbstractRepositoryStore",
    "ManifestSnapshot",
    "ManifestStore",
    "ReleaseStore",
    "open_backend",
    "open_location",
    "storage_errors",
]
