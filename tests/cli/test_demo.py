from __future__ import annotations

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
