"""``logging.getLogger("archivist")`` records commits, lost races, renumbering and gc."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import make_orphan

from archivist import Repository, StaleTokenError


def test_a_commit_is_logged(repo_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact(name="a", value=1, handler="json")
    with caplog.at_level(logging.INFO, logger="archivist"):
        repository.save()
    assert "committed 1 new version(s) (attempt 1)" in caplog.text
    assert all(r.name.startswith("archivist") for r in caplog.records)


def test_a_lost_race_and_the_renumbering_are_logged(
    repo_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    Repository(repo_path, mode="w").save()
    mine = Repository(repo_path, mode="a")
    mine.log_artifact(name="a", value="mine", handler="json")
    other = Repository(repo_path, mode="a")
    other.log_artifact(name="a", value="other", handler="json")
    other.save()  # commits version 0 of "a"; mine's pending version 0 becomes 1
    commit = type(mine.store).commit
    refused: list[bool] = []

    def refuse_once(self: Any, records: Any, token: Any) -> str:
        if not refused:
            refused.append(True)
            raise StaleTokenError("simulated")
        return commit(self, records, token)

    monkeypatch.setattr(type(mine.store), "commit", refuse_once)
    with caplog.at_level(logging.INFO, logger="archivist"):
        mine.save()
    assert "another writer committed first (attempt 1 of" in caplog.text
    assert "'a' renumbered from version 0 to 1" in caplog.text
    assert "(attempt 2)" in caplog.text


def test_gc_decisions_are_logged(repo_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact(name="a", value=1, handler="json")
    repository.save()
    (repo_path.parent / "a" / "hand-made.json").write_text("1")
    young = make_orphan(repo_path, "a", "young.json", age_seconds=0)
    old = make_orphan(repo_path, "a", "old.json")
    with caplog.at_level(logging.INFO, logger="archivist"):
        repository.gc(dry_run=True)
    assert f"gc: would delete {old}" in caplog.text
    assert f"gc: keeping {young}" in caplog.text
    assert "hand-made" not in caplog.text  # no journal names it: gc never even looks


def test_loads_cache_hits_and_misses_and_requests_are_logged_at_debug(
    repo_path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    writer = Repository(repo_path, mode="w")
    writer.log_artifact(name="features", value=["a"], handler="json")
    writer.save()
    reader = Repository(repo_path, mode="r", cache=True, cache_dir=tmp_path / "cache")
    with caplog.at_level(logging.DEBUG, logger="archivist"):
        reader.load_artifact("features")
        reader.load_artifact("features")
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert sum("loading version 0 of 'features'" in m for m in debug) == 2
    misses = [i for i, m in enumerate(debug) if m.startswith("cache miss")]
    hits = [i for i, m in enumerate(debug) if m.startswith("cache hit")]
    assert len(misses) == 1 and len(hits) == 1 and misses[0] < hits[0]
    requests = [m for m in debug if m.startswith("LocalBackend ")]
    assert any("features/" in m for m in requests)  # the version's file was requested once
    assert sum("features/" in m for m in requests) == 1


def archivist_stderr(*args: str) -> str:
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [str(Path(sys.executable).with_name("archivist")), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_the_cli_shows_debug_records_with_vv_and_no_botocore(repo_path: Path) -> None:
    writer = Repository(repo_path, mode="w")
    writer.log_artifact(name="features", value=["a"], handler="json")
    writer.save()
    loud = archivist_stderr("-vv", "show", str(repo_path), "features")
    assert "LocalBackend read_with_token" in loud and "botocore" not in loud
    quiet = archivist_stderr("-v", "show", str(repo_path), "features")
    assert "LocalBackend" not in quiet
