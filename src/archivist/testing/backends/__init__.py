"""The backend contract as a pytest suite: subclass it to check a storage backend.

A backend passes when a repository can trust it with concurrent writers: write-if-absent
and replace-if-unchanged hold under contention from threads and processes, tokens name
exactly the bytes read, missing files raise :class:`FileNotFoundError`, large files stream
through in both directions, and a second reader sees a commit at once. Provide a fixture
``backend_target`` giving a :class:`BackendTarget` whose folder is fresh and writable::

    import uuid

    import pytest

    from archivist.testing.backends import BackendConformanceTests, BackendTarget


    class TestMyBackend(BackendConformanceTests):
        @pytest.fixture
        def backend_target(self) -> BackendTarget:
            return BackendTarget(f"mystore://bucket/{uuid.uuid4().hex}", {"token": "..."})

The target is pickled to worker processes (started with ``spawn``), which open their own
backend from it, so its storage options must be picklable.

As fsspec's ``tests/abstract``, the contract is one class per operation, each in its own
module: :class:`WriteIfAbsentTests`, :class:`ReplaceIfUnchangedTests`, :class:`ReadTests`,
:class:`StreamingTests`, :class:`ListAndDeleteTests` and :class:`FreshnessTests`;
:class:`BackendConformanceTests` is all of them. :class:`ObjectStoreConformanceTests` adds
what an object store must do, and :class:`RepositoryOnBackendTests` runs a repository's
whole life on the backend, :class:`SaveProgressTests` what a save's progress reports.
"""

from __future__ import annotations

from archivist.testing.backends._kit import BackendKit
from archivist.testing.backends._target import BackendTarget
from archivist.testing.backends.conformance import BackendConformanceTests
from archivist.testing.backends.freshness import FreshnessTests
from archivist.testing.backends.listing import ListAndDeleteTests
from archivist.testing.backends.object_store import ObjectStoreConformanceTests
from archivist.testing.backends.progress import RecordingCallback, SaveProgressTests
from archivist.testing.backends.reads import ReadTests
from archivist.testing.backends.replace import ReplaceIfUnchangedTests
from archivist.testing.backends.repository import RepositoryOnBackendTests, run_concurrent_saves
from archivist.testing.backends.streams import StreamingTests
from archivist.testing.backends.writes import WriteIfAbsentTests

__all__ = [
    "BackendConformanceTests",
    "BackendKit",
    "BackendTarget",
    "FreshnessTests",
    "ListAndDeleteTests",
    "ObjectStoreConformanceTests",
    "ReadTests",
    "RecordingCallback",
    "ReplaceIfUnchangedTests",
    "RepositoryOnBackendTests",
    "SaveProgressTests",
    "StreamingTests",
    "WriteIfAbsentTests",
    "run_concurrent_saves",
]
