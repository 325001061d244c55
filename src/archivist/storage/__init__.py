"""Storage backends: where a repository's files live."""

from __future__ import annotations

from archivist.storage.base import Backend, content_token
from archivist.storage.generic import FsspecBackend, generic_backend
from archivist.storage.local import LocalBackend
from archivist.storage.memory import MemoryBackend
from archivist.storage.object_store import ChunkedUpload, ObjectStoreBackend

__all__ = [
    "Backend",
    "ChunkedUpload",
    "FsspecBackend",
    "LocalBackend",
    "MemoryBackend",
    "ObjectStoreBackend",
    "content_token",
    "generic_backend",
]
