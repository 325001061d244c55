"""The example distribution is found through its entry point alone, and works with no setup."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from archivist.testing import DistributionTests


class TestDistribution(DistributionTests):
    distribution = "archivist-plugin-example"
    provides = "example-lines"
    archivist_range = (">=0.1", "<0.2")


def test_the_handler_works_in_a_fresh_process_with_no_setup(tmp_path: Path) -> None:
    code = f"""
from archivist import Repository
repository = Repository({str(tmp_path / "repository.json")!r}, mode="w")
repository.log_artifact("words", ["a", "b"], handler="example-lines")
repository.save()
print(Repository(repository.location, mode="r").load_artifact("words"))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['a', 'b']"
