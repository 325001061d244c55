"""The public face of ``archivist._backends.local``."""

from __future__ import annotations

from archivist._backends.local import (
    LOCAL_OPTIONS,
    SYNC_THREADS,
    LocalBackend,
)

__all__ = ["LOCAL_OPTIONS", "SYNC_THREADS", "LocalBackend"]
