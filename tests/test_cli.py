from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import crash_at_commit

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
    assert main(["show", str(tmp_path / "demo" / "repository.json")]) == 0
    assert main(["verify", str(tmp_path / "demo" / "repository.json")]) == 0


def test_errors_are_reported_not_raised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(tmp_path / "missing.json")]) == 1
    assert "RepositoryNotFoundError" in capsys.readouterr().err


def test_gc_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", str(tmp_path / "demo")]) == 0
    manifest = str(tmp_path / "demo" / "repository.json")
    hand_made = tmp_path / "demo" / "features" / "hand-made.json"
    hand_made.write_text("[]")
    crashed = Repository(manifest, mode="a")
    crashed.log_artifact("features", [], handler="json", fname="orphan.json")
    with crash_at_commit(crashed, landed=False):
        crashed.save()
    orphan = tmp_path / "demo" / "features" / "orphan.json"
    assert main(["gc", manifest, "--older-than-hours", "0", "--dry-run"]) == 0
    assert orphan.exists()
    assert main(["gc", manifest, "--older-than-hours", "0"]) == 0
    assert not orphan.exists() and hand_made.exists()
    assert "1 orphan file(s) removed" in capsys.readouterr().out
