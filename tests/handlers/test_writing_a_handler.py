"""docs/writing-a-handler.md stays true: its examples run, and its handler passes the suite.

Blocks that start with a ``# src/...`` comment show files of a package and are not run.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import archivist
from archivist.testing import HandlerConformanceTests

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "writing-a-handler.md"
FENCE = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _run_guide() -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "writing_a_handler"}
    blocks = [b for b in FENCE.findall(GUIDE.read_text()) if not b.startswith("# src/")]
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        try:
            for block in blocks:
                exec(compile(block, str(GUIDE), "exec"), namespace)
        finally:
            os.chdir(cwd)
            archivist.unregister(namespace["CSVRows"])
    return namespace


GUIDE_NAMESPACE = _run_guide()

#: The guide's conformance test class, collected here: the guide's handler keeps the contract.
TestGuideCSVRows: type[HandlerConformanceTests] = GUIDE_NAMESPACE["TestCSVRows"]


def test_guide_shows_each_step() -> None:
    text = GUIDE.read_text()
    for needle in (
        "archivist.register(CSVRows)",
        "[project.entry-points.archivist]",
        "@hookimpl",
        "HandlerConformanceTests",
        'pytest_plugins = ["archivist.testing"]',
        "plugins/archivist-plugin-example/",
    ):
        assert needle in text, needle


def test_guide_registration_did_not_leak() -> None:
    assert "csv-rows" not in archivist.handlers()


def test_versioned_handler_records_its_environment() -> None:
    handler = GUIDE_NAMESPACE["VersionedCSVRows"]()
    metadata = handler.metadata([["a"], ["b"]])
    assert metadata == {"archivist_version": archivist.__version__, "rows": 2}
    assert handler.mismatches({"archivist_version": "0.0.1"}) != []
