"""Stores: the abstract layer between the user-facing classes and storage.

:class:`AbstractRepositoryStore` (``_interface``) reads a manifest with its state token,
commits a new manifest against that token, and writes and reads the versions' files; it
declares capabilities (``supports_journals``, ``supports_deletes``, ``supports_listing``,
``is_remote``) and owns its side documents (``aliases()``, ``releases()``). Its default,
:class:`ManifestStore` (``_repository``), keeps ``repository.json`` and the files on any
:class:`~archivist.Backend`. :class:`AbstractReleaseStore` and :class:`ReleaseStore` do the
same for ``releases.json``; ``_aliases`` holds the alias file's store and ``_projects``
``project.json``'s. Another store (a database, say) can replace a file without touching
:class:`~archivist.Repository`'s versioning logic.

Every document on storage (a manifest, the alias file, ``releases.json``, ``project.json``)
is changed by one compare-and-swap loop, :func:`archivist.stores._documents.update`, with
one retry policy and one rule for a write whose answer was lost.

The layers point one way: file formats (``archivist.manifest``, ``archivist._formats.releases``,
``archivist._commit.journal``) below the stores, the stores below the user-facing classes
(``Repository``, ``Project``, ``archivist.release``).
"""

from __future__ import annotations

from archivist._formats.hashes import BlockList, Digest, FileDigests
from archivist.stores._locations import open_backend, open_location, storage_errors
from archivist.stores._releases import MAX_RELEASE_ATTEMPTS, AbstractReleaseStore, ReleaseStore
from archivist.stores._repository import AbstractRepositoryStore, ManifestSnapshot, ManifestStore

__all__ = [
    "MAX_RELEASE_ATTEMPTS",
    "AbstractReleaseStore",
    "AbstractRepositoryStore",
    "BlockList",
    "Digest",
    "FileDigests",
    "ManifestSnapshot",
    "ManifestStore",
    "ReleaseStore",
    "open_backend",
    "open_location",
    "storage_errors",
]
