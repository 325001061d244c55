"""Ctrl-C and SIGKILL at random moments of repeated saves on local disk lose nothing.

The suite is :class:`archivist.testing.safety.InterruptedSaveTests`; the cloud plugins run
it on their emulators. ``ARCHIVIST_STRESS_ITERATIONS`` sets how many writers are stopped
(the ``stress`` nox session sets it high).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from archivist.testing.safety import InterruptedSaveTests


class TestInterruptedSavesOnLocalDisk(InterruptedSaveTests):
    @pytest.fixture
    def repository_location(self, tmp_path: Path) -> tuple[str, dict[str, Any]]:
        return str(tmp_path / "repo" / "repository.json"), {}
