"""Storage backends: where a repository's files live (the public face of their modules).

The implementations live in the private package ``archivist._backends``; plugins and users
import them from here (``archivist.storage``, ``archivist.storage.object_store``, ...).
"""

from __future__ import annotations

from archivist._backends import (
    Backend,
    ChunkedUpload,
    FsspecBackend,
    LocalBackend,
    MemoryBackend,
    ObjectStoreBackend,
    content_token,
    generic_backend,
)

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
