"""archivist's safety attacks on moto's S3 server: interrupted saves and gc at a bucket root.

The suites are :class:`archivist.testing.safety.InterruptedSaveTests` (a writer stopped
with Ctrl-C or SIGKILL at random moments, one writer at a time) and
:class:`archivist.testing.safety.GcSafetyTests` (gc at the bucket root, among the user
guide's files, user files and other repositories).
"""

from __future__ import annotations

from typing import Any

import pytest

from archivist.testing.safety import GcSafetyTests, InterruptedSaveTests


class TestS3InterruptedSaves(InterruptedSaveTests):
    @pytest.fixture
    def repository_location(
        self, s3_bucket: str, s3_options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        return f"s3://{s3_bucket}/team/repository.json", s3_options


class TestS3GcSafetyAtTheBucketRoot(GcSafetyTests):
    @pytest.fixture
    def gc_root(self, s3_bucket: str, s3_options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return f"s3://{s3_bucket}", s3_options
