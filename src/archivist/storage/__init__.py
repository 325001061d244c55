"""Storage backends: where a repository's files live."""

from __future__ import annotations

from archivist.storage.base import Backend, content_token
from archivist.storage.generic import FsspecBackend, generic_backend
from archivist.storage.local import LocalBackend
from archivist.storage.memory import MemoryBackend

__all__ = [
    "Backend",
    "FsspecBackend",
    "LocalBackend",
    "MemoryBackend",
    "content_token",
    "generic_backend",
]
