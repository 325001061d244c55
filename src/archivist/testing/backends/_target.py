"""What the backend kits share: the target under test, test data, worker processes.

A :class:`BackendTarget` names a fresh folder and how to reach it. Worker processes (started
from a fork server, or with ``spawn``) open their own backend from it, so every function a
worker runs lives here, importable by name.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from importlib.util import find_spec
from typing import Any

from archivist._backends.base import Backend
from archivist.errors import StaleTokenError
from archivist.stores import open_backend

__all__ = [
    "MIB",
    "BackendTarget",
    "append_entries",
    "append_with",
    "blocks",
    "claim_all",
    "commit_from_elsewhere",
    "listed",
    "pattern",
    "process_context",
]

MIB = 1 << 20
#: Modules worth importing once in the fork server (the cloud plugins' filesystems).
_SDK_MODULES = ("s3fs", "botocore.exceptions", "gcsfs.core", "adlfs", "azure.core.exceptions")


@dataclass(frozen=True)
class BackendTarget:
    """Where the conformance suite may write, and how to reach it.

    Attributes
    ----------
    url : str
        A folder URL (or local path) that is empty and writable, unique to the test.
    storage_options : Mapping[str, Any]
        Passed to the backend (credentials, endpoint, ...). Must be picklable.
    backend_class : type[Backend] or None
        The backend to test; ``None`` picks the one registered for the URL's protocol.
        Worker processes import it by name, so define it in an installed module, not in
        a test module (tune a registered backend through ``storage_options`` instead).
    """

    url: str
    storage_options: Mapping[str, Any] = field(default_factory=dict)
    backend_class: type[Backend] | None = None

    def open(self) -> tuple[Backend, str]:
        """Create a new backend instance and turn :attr:`url` into its path form.

        Returns
        -------
        tuple[Backend, str]
            The backend and the folder's path.
        """
        if self.backend_class is None:
            return open_backend(self.url, **self.storage_options)
        backend = self.backend_class(**self.storage_options)
        return backend, backend.strip_protocol(self.url)


def blocks(seed: int = 0) -> list[bytes]:
    """Three distinct 1 MiB blocks; a file cycles through them so misplaced parts show."""
    return [
        hashlib.sha256(f"archivist-{seed}-{i}".encode()).digest() * (MIB // 32) for i in range(3)
    ]


def pattern(blocks: list[bytes], size: int) -> Iterator[memoryview]:
    """Yield ``size`` bytes in 1 MiB pieces of ``blocks`` (no new allocations)."""
    count = 0
    while size > 0:
        block = memoryview(blocks[count % len(blocks)])[: min(size, MIB)]
        yield block
        size -= len(block)
        count += 1


def process_context() -> multiprocessing.context.BaseContext:
    """Start workers from a clean process: a fork server where there is one, else spawn.

    Forking the test process itself is unsafe (fsspec keeps an event-loop thread); a fork
    server is single-threaded, and has archivist and the installed plugins imported once,
    so workers start in milliseconds instead of re-importing cloud SDKs each.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    modules = ["archivist.testing.backends", "archivist.repository"]
    modules += sorted({ep.module for ep in entry_points(group="archivist")})
    # The plugins import their cloud SDKs on first use; import them once, here, instead.
    modules += [name for name in _SDK_MODULES if find_spec(name.split(".")[0]) is not None]
    context.set_forkserver_preload(modules)
    return context


# -- workers, importable by spawned processes ---------------------------------------------


def append_entries(target: BackendTarget, name: str, worker: int, times: int) -> int:
    """Append ``times`` entries to the JSON list in ``name`` with compare-and-swap."""
    backend, base = target.open()
    return append_with(backend, base, name, worker, times)


def claim_all(target: BackendTarget, names: list[str], worker: int) -> list[str]:
    """Try write-if-absent on each name; return the names this worker won."""
    backend, base = target.open()
    won = []
    for name in names:
        try:
            backend.write_if_absent(backend.join(base, name), f"worker {worker}".encode())
        except FileExistsError:
            continue
        won.append(name)
    return won


def commit_from_elsewhere(target: BackendTarget, name: str, token: str, new_file: str) -> str:
    """Replace ``name`` (expected at ``token``) and create ``new_file``; return the new token."""
    backend, base = target.open()
    new_token = backend.replace_if_unchanged(backend.join(base, name), b"second", token)
    backend.write_if_absent(backend.join(base, new_file), b"new")
    return new_token


def listed(backend: Backend, base: str) -> list[str]:
    """List ``base`` sorted, leaving out dot-files (a backend's own lock or probe files)."""
    return sorted(p for p in backend.list(base) if not p.rsplit("/", 1)[-1].startswith("."))


def append_with(backend: Backend, base: str, name: str, worker: int, times: int) -> int:
    """Append ``times`` entries to a JSON list with read-with-token and compare-and-swap."""
    path = backend.join(base, name)
    retries = 0
    for i in range(times):
        while True:
            data, token = backend.read_with_token(path)
            entries = [*json.loads(data), f"{worker}-{i}"]
            try:
                backend.replace_if_unchanged(path, json.dumps(entries).encode(), token)
                break
            except StaleTokenError:
                retries += 1
    return retries
