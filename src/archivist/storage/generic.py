"""The public face of ``archivist._backends.generic``."""

from __future__ import annotations

from archivist._backends.generic import (
    FsspecBackend,
    fsspec_knows,
    generic_backend,
)

__all__ = ["FsspecBackend", "fsspec_knows", "generic_backend"]
