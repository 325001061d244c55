"""The public face of ``archivist._backends.base``."""

from __future__ import annotations

from archivist._backends.base import (
    Backend,
    content_token,
)

__all__ = ["Backend", "content_token"]
