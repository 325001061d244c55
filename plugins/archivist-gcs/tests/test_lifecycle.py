"""Aliases, prune and the verified cache on the GCS emulator: the lifecycle kit."""

from __future__ import annotations

from typing import Any

import pytest

from archivist.testing.lifecycle import LifecycleOnBackendTests


class TestGCSLifecycle(LifecycleOnBackendTests):
    @pytest.fixture
    def repository_location(
        self, gcs_bucket: str, gcs_options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        return f"gs://{gcs_bucket}/team/repository.json", gcs_options
