"""The emulator example of docs/cloud-storage.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

from archivist.testing.emulators import Emulator

DOC = Path(__file__).resolve().parents[3] / "docs" / "cloud-storage.md"


def test_the_emulator_example_runs(s3_emulator: Emulator) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    [example] = [block for block in blocks if "start_moto" in block]
    exec(compile(example, str(DOC), "exec"), {})
