from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from archivist import Repository

SCRIPT = Path(sys.executable).with_name("archivist")


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=120,
        check=False,
    )


def test_put_stores_a_file_as_the_next_version(repo_path: Path, tmp_path: Path) -> None:
    writer = Repository(repo_path, mode="w")
    writer.log_artifact("features", ["age"], handler="json")
    writer.save()
    source = tmp_path / "features.json"
    source.write_text(json.dumps(["age", "income"]))
    done = run("put", str(repo_path), "features", str(source), "--handler", "json")
    assert done.returncode == 0, done.stderr
    assert "saved features v1 " in done.stdout
    reader = Repository(repo_path, mode="r")
    assert reader.versions("features") == [0, 1]
    assert reader.load_artifact("features") == ["age", "income"]
    assert reader.verify().checked == 2
    done = run("put", str(repo_path), "features", str(source), "--handler", "json", "--json")
    assert json.loads(done.stdout)["version"] == 2


def test_put_refuses_what_it_cannot_read_and_changes_nothing(
    repo_path: Path, tmp_path: Path
) -> None:
    writer = Repository(repo_path, mode="w")
    writer.log_artifact("features", ["age"], handler="json")
    writer.save()
    before = repo_path.read_bytes()
    missing = run(
        "put", str(repo_path), "features", str(tmp_path / "nope.json"), "--handler", "json"
    )
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    done = run("put", str(repo_path), "features", str(bad), "--handler", "json")
    assert done.returncode == 1 and "archivist: error:" in done.stderr
    usage = run("put", str(repo_path), "features", str(bad))
    assert usage.returncode == 2
    assert repo_path.read_bytes() == before


def test_put_reports_the_stored_size_first_then_the_bytes(
    repo_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archivist._io.progress import RichCallback
    from archivist.cli import _put, main

    reports: list[Recording] = []

    class Recording(RichCallback):  # type: ignore[misc]
        """A bar on a pretend terminal that records what the save told it."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs, threshold=1 << 60, force=True)
            self.events: list[tuple[str, int]] = []
            reports.append(self)

        def set_size(self, size: int) -> None:
            self.events.append(("size", size))
            super().set_size(size)

        def relative_update(self, inc: int = 1) -> None:
            self.events.append(("update", inc))
            super().relative_update(inc)

    monkeypatch.setattr(_put, "RichCallback", Recording)
    Repository(repo_path, mode="w").save()
    source = tmp_path / "rows.json"
    source.write_text(json.dumps(list(range(50_000)), indent=1))  # the handler writes less
    assert main(["put", str(repo_path), "rows", str(source), "--handler", "json"]) == 0
    [report] = reports
    stored = Repository(repo_path, mode="r").get_artifact_metadata("rows")["size"]
    assert stored != source.stat().st_size
    assert report.events[0] == ("size", stored)
    assert report.value == stored
    assert main(["-q", "put", str(repo_path), "rows", str(source), "--handler", "json"]) == 0
    assert reports[-1].events == []  # -q: nothing to report to


def test_put_finds_the_repository_from_the_current_folder(
    repo_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Repository(repo_path, mode="w").save()
    source = tmp_path / "features.json"
    source.write_text(json.dumps(["age"]))
    help_text = run("put", "--help").stdout
    assert "put [OPTIONS] [REPO] NAME FILE" in help_text
    inside = repo_path.parent / "features"
    inside.mkdir()
    done = run("put", "features", str(source), "--handler", "json", cwd=inside)
    assert done.returncode == 0, done.stderr
    assert Repository(repo_path, mode="r").load_artifact("features") == ["age"]
