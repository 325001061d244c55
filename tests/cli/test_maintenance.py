from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from tests.conftest import make_orphan

from archivist import Repository

Invoke = Callable[..., Result]


def orphan(repo: Path, age_seconds: float = 7200) -> Path:
    return make_orphan(repo / "repository.json", age_seconds=age_seconds)


def test_verify_reports_and_exits_0(repo: Path, invoke: Invoke) -> None:
    assert "4 files verified" in invoke("verify", str(repo)).stdout
    report = json.loads(invoke("verify", str(repo), "--json").stdout)
    assert report == {
        "ok": True,
        "checked": 4,
        "unverifiable": [],
        "orphans": [],
        "recovered": [],
        "kept": [],
    }


def test_verify_names_versions_checked_against_kept_digests(repo: Path, invoke: Invoke) -> None:
    manifest = repo / "repository.json"
    stripped = [  # as a lazyscribe save rewrites it
        {k: v for k, v in record.items() if k not in ("sha256", "blake3", "size")}
        for record in json.loads(manifest.read_text())
    ]
    manifest.write_text(json.dumps(stripped[:1] + json.loads(manifest.read_text())[1:]))
    first = (stripped[0]["name"], stripped[0]["version"])
    report = json.loads(invoke("verify", str(repo), "--json").stdout)
    assert (report["checked"], report["recovered"]) == (4, [list(first)])
    assert (
        f"digest dropped from the manifest, checked against the one archivist kept: "
        f"{first[0]} v{first[1]}"
    ) in invoke("verify", str(repo)).stdout


def test_verify_fails_with_exit_1_on_a_modified_file(repo: Path, invoke: Invoke) -> None:
    record = Repository(repo / "repository.json", mode="r").get_artifact_metadata("features", 0)
    (repo / "features" / record["fname"]).write_text("[]")
    result = invoke("verify", str(repo), "--json", code=1)
    report = json.loads(result.stdout)
    assert report["ok"] is False and "'features'" in report["problems"][0]
    assert "failed verification" in result.stderr


def test_verify_lists_orphans(repo: Path, invoke: Invoke) -> None:
    path = orphan(repo)
    assert json.loads(invoke("verify", str(repo), "--json").stdout)["orphans"] == [str(path)]


def test_gc_lists_then_deletes_with_yes(repo: Path, invoke: Invoke) -> None:
    path = orphan(repo)
    dry = json.loads(invoke("gc", str(repo), "--dry-run", "--json").stdout)
    assert dry["would_delete"] == [str(path)] and path.exists()
    result = invoke("gc", str(repo), "--yes")
    assert f"would delete {path}" in result.stdout and "1 file(s) deleted" in result.stdout
    assert not path.exists()
    assert "nothing to delete" in invoke("gc", str(repo)).stdout


def test_gc_asks_before_deleting(
    repo: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = orphan(repo)
    monkeypatch.setattr("archivist.cli._maintenance._can_ask", lambda: True)
    result = invoke("gc", str(repo), input="n\n", code=1)
    assert "Delete these 1 file(s)?" in result.stderr and path.exists()
    invoke("gc", str(repo), input="y\n")
    assert not path.exists()


def test_gc_refuses_without_a_terminal_to_ask(repo: Path, invoke: Invoke) -> None:
    path = orphan(repo)
    result = invoke("gc", str(repo), code=2)
    assert "--yes" in result.stderr and path.exists()


def test_gc_keeps_young_files(repo: Path, invoke: Invoke) -> None:
    path = orphan(repo, age_seconds=60)
    assert "nothing to delete" in invoke("gc", str(repo), "--yes").stdout
    invoke("gc", str(repo), "--yes", "--older-than", "30s")
    assert not path.exists()


@pytest.mark.parametrize("value", ["-1", "-1h", "nan", "inf", "1 fortnight", "1e999"])
def test_gc_rejects_bad_durations_with_exit_2(repo: Path, invoke: Invoke, value: str) -> None:
    path = orphan(repo)
    result = invoke("gc", str(repo), "--yes", "--older-than", value, code=2)
    assert "--older-than" in result.stderr and path.exists()


@pytest.mark.parametrize(
    ("value", "seconds"), [("0", 0), ("90", 90), ("1h30m", 5400), ("2d", 172800)]
)
def test_gc_durations(
    repo: Path, invoke: Invoke, value: str, seconds: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Any] = []
    original = Repository.gc

    def gc(self: Repository, older_than: Any, dry_run: Any) -> Any:
        seen.append(older_than)
        return original(self, older_than, dry_run)

    monkeypatch.setattr(Repository, "gc", gc)
    invoke("gc", str(repo), "--older-than", value)
    assert seen[0].total_seconds() == seconds


def test_gc_of_a_mistyped_path_deletes_nothing(tmp_path: Path, invoke: Invoke) -> None:
    folder = tmp_path / "repo"
    (folder / "features").mkdir(parents=True)
    stray = folder / "features" / "keep.json"
    stray.write_text("[]")
    os.utime(stray, (0, 0))
    result = invoke("gc", str(folder / "repositroy.json"), "--yes", code=1)
    assert "no repository at" in result.stderr and stray.exists()
    assert not (folder / "repositroy.json").exists()


def test_adopt_calls_repository_adopt(
    repo: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, bool]] = []

    def adopt(self: Repository, dry_run: bool = False) -> list[tuple[str, int]]:
        calls.append((self.mode, dry_run))
        return [("features", 0)]

    monkeypatch.setattr(Repository, "adopt", adopt, raising=False)
    result = json.loads(invoke("adopt", str(repo), "--json").stdout)
    assert result == {"dry_run": False, "adopted": [{"name": "features", "version": 0}]}
    out = invoke("adopt", str(repo), "--dry-run").stdout
    assert "would record a digest for features v0" in out
    assert calls == [("w+", False), ("w+", True)]


def test_adopt_refuses_a_missing_repository(tmp_path: Path, invoke: Invoke) -> None:
    assert "no repository at" in invoke("adopt", str(tmp_path), code=1).stderr
    assert not (tmp_path / "repository.json").exists()


def test_gc_deletes_exactly_the_files_it_listed(
    repo: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archivist.cli import _maintenance

    listed = orphan(repo)
    later: list[Path] = []

    def confirm_while_another_save_crashes(yes: bool, what: str, question: str, fix: str) -> None:
        later.append(make_orphan(repo / "repository.json", fname="later.json"))

    monkeypatch.setattr(_maintenance, "confirm", confirm_while_another_save_crashes)
    result = json.loads(invoke("gc", str(repo), "--json").stdout)
    assert result["deleted"] == [str(listed)] and result["skipped"] == []
    assert not listed.exists() and later[0].exists()  # an orphan since the listing stays
