"""archivist's safety attacks on Azurite: interrupted saves and gc at a bucket root.

The suites are :class:`archivist.testing.safety.InterruptedSaveTests` (a writer stopped
with Ctrl-C or SIGKILL at random moments, one writer at a time) and
:class:`archivist.testing.safety.GcSafetyTests` (gc at the bucket root, among the user
guide's files, user files and other repositories).
"""

from __future__ import annotations

from typing import Any

import pytest

from archivist.testing.safety import GcSafetyTests, InterruptedSaveTests


class TestAzureInterruptedSaves(InterruptedSaveTests):
    @pytest.fixture
    def repository_location(
        self, azure_container: str, azure_options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        return f"az://{azure_container}/team/repository.json", azure_options


class TestAzureGcSafetyAtTheBucketRoot(GcSafetyTests):
    @pytest.fixture
    def gc_root(
        self, azure_container: str, azure_options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        return f"az://{azure_container}", azure_options
