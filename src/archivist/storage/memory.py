"""The public face of ``archivist._backends.memory``."""

from __future__ import annotations

from archivist._backends.memory import (
    MemoryBackend,
)

__all__ = ["MemoryBackend"]
