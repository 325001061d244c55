"""Repository.adopt(): record digests for versions lazyscribe wrote, once, in place."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import lazyscribe
import pytest

from archivist import ArchivistWarning, ReadOnlyError, Repository


def records(path: Path) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads(path.read_text())
    return loaded


def test_adopt_records_digests_then_strict_loads_work(lazyscribe_repo: Path) -> None:
    repository = Repository(lazyscribe_repo, mode="w+")
    adopted = repository.adopt()
    assert sorted(adopted) == [("features", 0), ("model", 0)]
    for record in records(lazyscribe_repo):
        data = (lazyscribe_repo.parent / record["name"] / record["fname"]).read_bytes()
        assert record["sha256"] == hashlib.sha256(data).hexdigest()
        assert record["size"] == len(data)
    assert repository.get_artifact_metadata("model")["sha256"] is not None  # refreshed
    strict = Repository(lazyscribe_repo, mode="r", trust="verified")
    assert strict.load_artifact("model") == {"w": 1}  # no warning, no refusal
    assert strict.verify().unverifiable == []
    assert Repository(lazyscribe_repo, mode="a").adopt() == []  # once only
    # lazyscribe still reads what adopting wrote
    assert lazyscribe.Repository(str(lazyscribe_repo), mode="r").load_artifact("model") == {"w": 1}


def test_adopt_dry_run_records_nothing(lazyscribe_repo: Path) -> None:
    before = lazyscribe_repo.read_bytes()
    assert sorted(Repository(lazyscribe_repo, mode="r").adopt(dry_run=True)) == [
        ("features", 0),
        ("model", 0),
    ]
    assert lazyscribe_repo.read_bytes() == before


def test_adopt_is_refused_read_only(lazyscribe_repo: Path) -> None:
    before = lazyscribe_repo.read_bytes()
    with pytest.raises(ReadOnlyError):
        Repository(lazyscribe_repo, mode="r").adopt()
    assert lazyscribe_repo.read_bytes() == before


def test_adopt_skips_missing_and_irregular_files_with_a_warning(lazyscribe_repo: Path) -> None:
    model = next(r for r in records(lazyscribe_repo) if r["name"] == "model")
    path = lazyscribe_repo.parent / "model" / model["fname"]
    path.unlink()
    path.mkdir()
    with pytest.warns(ArchivistWarning, match=r"(?s)1 version\(s\).*not adopted.*folder"):
        assert Repository(lazyscribe_repo).adopt() == [("features", 0)]
    by_name = {r["name"]: r for r in records(lazyscribe_repo)}
    assert by_name["model"].get("sha256") is None and by_name["features"]["sha256"]


def test_adopt_reapplies_after_losing_a_race(
    lazyscribe_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = Repository(lazyscribe_repo)
    store = repository.store
    commit = store.commit
    calls: list[int] = []

    def another_writer_first(recs: Any, token: str | None) -> str:
        if not calls:
            other = Repository(lazyscribe_repo, mode="a")
            other.log_artifact("features", [9], handler="json")
            other.save()
        calls.append(1)
        return commit(recs, token)

    monkeypatch.setattr(store, "commit", another_writer_first)
    assert sorted(repository.adopt()) == [("features", 0), ("model", 0)]
    assert len(calls) == 2  # the first commit lost (StaleTokenError), the second landed
    final = {(r["name"], r["version"]): r for r in records(lazyscribe_repo)}
    assert len(final) == 3  # the other writer's version survived
    assert all(r["sha256"] for r in final.values())
    assert Repository(lazyscribe_repo, mode="r", trust="verified").load_artifact("features") == [9]
