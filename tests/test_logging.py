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
