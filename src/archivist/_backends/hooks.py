"""Register the built-in backends through the same hooks third-party plugins use.

``local`` and ``memory`` are registered; any other protocol fsspec knows is served, as a
last resort, by the generic backend of :mod:`archivist._backends.generic`.
"""

from __future__ import annotations

from collections.abc import Sequence

from archivist._backends.base import Backend
from archivist._backends.local import LocalBackend
from archivist._backends.memory import MemoryBackend
from archivist.plugin import hookimpl


@hookimpl
def archivist_register_backends() -> Sequence[type[Backend]]:
    """Return the built-in ``local`` and ``memory`` backends."""
    return [LocalBackend, MemoryBackend]


@hookimpl(trylast=True)
def archivist_find_backend(protocol: str) -> type[Backend] | None:
    """Return the generic fsspec backend for a protocol fsspec knows, else ``None``."""
    from archivist._backends.generic import fsspec_knows, generic_backend

    return generic_backend(protocol) if fsspec_knows(protocol) else None
