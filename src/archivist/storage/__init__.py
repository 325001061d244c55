"""Storage backends: where a repository's files live."""

from __future__ import annotations

from archivist.storage.base import Backend, content_token
from archivist.storage.local import LocalBackend
from archivist.storage.memory import MemoryBackend

__all__ = ["Backend", "LocalBackend", "MemoryBackend", "content_token"]
