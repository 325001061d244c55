"""Aliases, prune and the verified cache on the Azure emulator: the lifecycle kit."""

from __future__ import annotations

from typing import Any

import pytest

from archivist.testing.lifecycle import LifecycleOnBackendTests


class TestAzureLifecycle(LifecycleOnBackendTests):
    @pytest.fixture
    def repository_location(
        self, azure_container: str, azure_options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        return f"az://{azure_container}/team/repository.json", azure_options
