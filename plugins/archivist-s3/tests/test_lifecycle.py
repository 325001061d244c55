"""Aliases, prune and the verified cache on the S3 emulator: the lifecycle kit."""

from __future__ import annotations

from typing import Any

import pytest

from archivist.testing.lifecycle import LifecycleOnBackendTests


class TestS3Lifecycle(LifecycleOnBackendTests):
    @pytest.fixture
    def repository_location(
        self, s3_bucket: str, s3_options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        return f"s3://{s3_bucket}/team/repository.json", s3_options
