"""Register the built-in backends through the same hook third-party plugins use."""

from __future__ import annotations

from collections.abc import Sequence

from archivist.plugin import hookimpl
from archivist.storage.base import Backend
from archivist.storage.local import LocalBackend
from archivist.storage.memory import MemoryBackend


@hookimpl
def archivist_register_backends() -> Sequence[type[Backend]]:
    """Return the built-in ``local`` and ``memory`` backends."""
    return [LocalBackend, MemoryBackend]
