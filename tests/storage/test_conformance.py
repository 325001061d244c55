"""The built-in local and memory backends keep the storage contract."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from archivist._backends import LocalBackend, MemoryBackend
from archivist.testing.backends import BackendConformanceTests, BackendTarget


class TestLocalBackend(BackendConformanceTests):
    @pytest.fixture
    def backend_target(self, tmp_path: Path) -> BackendTarget:
        return BackendTarget(str(tmp_path / "store"), backend_class=LocalBackend)


class TestLocalBackendThroughFileURLs(BackendConformanceTests):
    large_file_size = 3 << 20

    @pytest.fixture
    def backend_target(self, tmp_path: Path) -> BackendTarget:
        return BackendTarget((tmp_path / "store").as_uri())


class TestMemoryBackend(BackendConformanceTests):
    cross_process = False  # memory:// files live in one process
    streams_writes = False  # the memory filesystem holds every file whole by design

    @pytest.fixture
    def backend_target(self) -> BackendTarget:
        return BackendTarget(
            f"memory://conformance/{uuid.uuid4().hex}", backend_class=MemoryBackend
        )
