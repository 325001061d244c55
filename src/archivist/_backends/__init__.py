"""Storage backends: where a repository's files live."""

from __future__ import annotations

from archivist._backends.base import Backend, content_token
from archivist._backends.generic import FsspecBackend, generic_backend
from archivist._backends.local import LocalBackend
from archivist._backends.memory import MemoryBackend
from archivist._backends.object_store import ChunkedUpload, ObjectStoreBackend

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
