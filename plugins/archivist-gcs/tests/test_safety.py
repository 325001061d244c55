"""archivist's safety attacks on fake-gcs-server: interrupted saves and gc at a bucket root.

The suites are :class:`archivist.testing.safety.InterruptedSaveTests` (a writer stopped
with Ctrl-C or SIGKILL at random moments, one writer at a time) and
:class:`archivist.testing.safety.GcSafetyTests` (gc at the bucket root, among the user
guide's files, user files and other repositories).
"""

from __future__ import annotations

from typing import Any

import pytest

from archivist.testing.safety import GcSafetyTests, InterruptedSaveTests


class TestGCSInterruptedSaves(InterruptedSaveTests):
    @pytest.fixture
    def repository_location(
        self, gcs_bucket: str, gcs_options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        return f"gs://{gcs_bucket}/team/repository.json", gcs_options


class TestGCSGcSafetyAtTheBucketRoot(GcSafetyTests):
    @pytest.fixture
    def gc_root(self, gcs_bucket: str, gcs_options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return f"gs://{gcs_bucket}", gcs_options
