from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from archivist import Repository
from archivist.cli import main


def test_demo_runs_and_leaves_a_verified_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    assert "as of" in out and "3 files verified" in out
    repository = Repository(tmp_path / "demo" / "repository.json", mode="r")
    assert repository.versions("features") == [0, 1]
    assert main(["verify", str(tmp_path / "demo")]) == 0


def test_demo_without_a_folder_cleans_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    assert main(["demo"]) == 0
    assert "files verified" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def demo_process(*args: str, env: dict[str, str] | None = None) -> str:
    script = Path(sys.executable).with_name("archivist")
    done = subprocess.run(
        [str(script), "demo", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_demo_labels_its_diff_and_shows_everything_it_made(tmp_path: Path) -> None:
    out = demo_process(str(tmp_path / "demo"))
    assert "--- features v0" in out and "+++ features v1" in out
    assert "\n--- \n" not in out and "+++ \n" not in out
    assert "'model'" in out and "{'weights': [0.4, 0.6]}" in out
    listing = out[out.index("$ archivist ls") :]
    assert "features" in listing and "model" in listing
    pointed = Path(out.rstrip().splitlines()[-1].split(": ", 1)[1])
    assert pointed == (tmp_path / "demo" / "repository.json").resolve()
    assert pointed.is_file()


def test_the_demo_in_a_temporary_folder_points_at_nothing_removed(tmp_path: Path) -> None:
    out = demo_process(env={"TMPDIR": str(tmp_path)})
    assert "repository.json" not in out and str(tmp_path) not in out.split("$ archivist")[0]
    assert "now removed" in out and "archivist demo FOLDER" in out
    assert list(tmp_path.iterdir()) == []
