"""The shell examples of docs/cli.md and the README run as written, with the installed script."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from archivist import Repository

ROOT = Path(__file__).resolve().parents[1]
BASH = re.compile(r"```bash\n(.*?)```", re.DOTALL)
BIN = Path(sys.executable).parent


def run_blocks(blocks: list[str], folder: Path) -> str:
    script = "set -euo pipefail\n" + "\n".join(blocks)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "NO_COLOR": "1"}
    done = subprocess.run(
        ["bash", "-c", script], cwd=folder, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def test_the_cli_guide_runs(tmp_path: Path) -> None:
    out = run_blocks(BASH.findall((ROOT / "docs" / "cli.md").read_text()), tmp_path)
    assert "exit code 1" in out and "exit code 2" in out
    assert (tmp_path / "features-v0.json").is_file() and (tmp_path / "history.json").is_file()
    assert "v1.1.0" in (tmp_path / "demo-repo" / "releases.json").read_text()
    # features v2 was promoted from the project's experiment, before the aliases moved
    assert [m["to_version"] for m in json.loads((tmp_path / "moves.json").read_text())] == [0, 2]
    assert Repository(tmp_path / "demo-repo" / "repository.json", mode="r").versions(
        "features"
    ) == [2]
    experiments = json.loads((tmp_path / "experiments.json").read_text())
    assert [e["short_slug"] for e in experiments] == ["baseline", "deeper"]
    assert "_ARCHIVIST_COMPLETE" in (tmp_path / "archivist-complete.bash").read_text()


@pytest.mark.parametrize("page", ["aliases.md", "retention.md", "cache.md"])
def test_the_lifecycle_pages_command_lines_run(
    page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each page's shell block runs on what its Python examples left in the folder."""
    text = (ROOT / "docs" / page).read_text()
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    for block in re.findall(r"```python\n(.*?)```", text, re.DOTALL):
        exec(compile(block, page, "exec"), namespace)
    blocks = BASH.findall(text)
    assert blocks, f"{page} has no command-line example"
    run_blocks(blocks, tmp_path)


def test_the_readme_quick_start_runs(tmp_path: Path) -> None:
    """The archivist lines of the README run; pip and dev.py lines are CI's own steps."""
    blocks = BASH.findall((ROOT / "README.md").read_text())
    lines = [
        line for block in blocks for line in block.splitlines() if line.startswith("archivist ")
    ]
    assert len(lines) >= 4
    run_blocks(lines, tmp_path)


@pytest.mark.parametrize("path", [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"])
def test_no_example_holds_a_placeholder_that_fails_when_pasted(path: Path) -> None:
    for block in re.findall(r"```(?:python|bash|toml)\n(.*?)```", path.read_text(), re.DOTALL):
        assert "YYYY" not in block, f"{path.name}: an example holds a placeholder"
