"""gc deletes only what a crashed save of this repository wrote, on local disk and in memory.

The suite is :class:`archivist.testing.safety.GcSafetyTests`; the cloud plugins run it at a
bucket root on their emulators.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from archivist.testing.safety import GcSafetyTests


class TestGcSafetyOnLocalDisk(GcSafetyTests):
    @pytest.fixture
    def gc_root(self, tmp_path: Path) -> tuple[str, dict[str, Any]]:
        return str(tmp_path / "my-project"), {}


class TestGcSafetyInMemory(GcSafetyTests):
    @pytest.fixture
    def gc_root(self) -> tuple[str, dict[str, Any]]:
        return f"memory://gc-safety-{uuid.uuid4().hex}", {}
