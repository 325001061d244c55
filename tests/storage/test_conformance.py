"""The built-in local and memory backends keep the storage contract, and a repository's."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from archivist._backends import LocalBackend, MemoryBackend
from archivist.testing.backends import (
    BackendConformanceTests,
    BackendTarget,
    RepositoryOnBackendTests,
    SaveProgressTests,
)


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


class TestRepositoryOnLocalDisk(RepositoryOnBackendTests):
    @pytest.fixture
    def repository_location(self, tmp_path: Path) -> tuple[str, dict[str, Any]]:
        return str(tmp_path / "team" / "repository.json"), {}


class TestRepositoryThroughFileURLs(RepositoryOnBackendTests):
    processes = 2
    saves = 5

    @pytest.fixture
    def repository_location(self, tmp_path: Path) -> tuple[str, dict[str, Any]]:
        return (tmp_path / "team" / "repository.json").as_uri(), {}


class TestRepositoryInMemory(RepositoryOnBackendTests):
    cross_process = False  # memory:// files live in one process: saves race from threads

    @pytest.fixture
    def repository_location(self) -> tuple[str, dict[str, Any]]:
        return f"memory://repository-kit/{uuid.uuid4().hex}/team/repository.json", {}


class TestSaveProgressOnLocalDisk(SaveProgressTests):
    @pytest.fixture
    def repository_location(self, tmp_path: Path) -> tuple[str, dict[str, Any]]:
        return str(tmp_path / "team" / "repository.json"), {}


class TestSaveProgressInMemory(SaveProgressTests):
    @pytest.fixture
    def repository_location(self) -> tuple[str, dict[str, Any]]:
        return f"memory://progress-kit/{uuid.uuid4().hex}/team/repository.json", {}
