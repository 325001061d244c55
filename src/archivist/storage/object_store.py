"""The public face of ``archivist._backends.object_store``."""

from __future__ import annotations

from archivist._backends.object_store import (
    ChunkedUpload,
    ObjectStoreBackend,
    utc,
)

__all__ = ["ChunkedUpload", "ObjectStoreBackend", "utc"]
