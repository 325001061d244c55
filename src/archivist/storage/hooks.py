"""Register the built-in backends through the same hooks third-party plugins use.

``local`` and ``memory`` are registered; any other protocol fsspec knows is served, as a
last resort, by the generic backend of :mod:`archivist.storage.generic`.
"""

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


@hookimpl(trylast=True)
def archivist_find_backend(protocol: str) -> type[Backend] | None:
    """Return the generic fsspec backend for a protocol fsspec knows, else ``None``."""
    from archivist.storage.generic import fsspec_knows, generic_backend

    return generic_backend(protocol) if fsspec_knows(protocol) else None
