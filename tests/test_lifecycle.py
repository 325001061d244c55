"""Aliases, prune and the cache on the local disk: the lifecycle kit, plus local-only cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from archivist.testing.lifecycle import LifecycleOnBackendTests


class TestLocalLifecycle(LifecycleOnBackendTests):
    remote = False

    @pytest.fixture
    def repository_location(self, tmp_path: Path) -> tuple[str, dict[str, Any]]:
        return str(tmp_path / "repo" / "repository.json"), {}
