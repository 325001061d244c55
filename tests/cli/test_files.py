from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from archivist import Repository

Invoke = Callable[..., Result]


def stored(repo: Path, name: str, version: int) -> bytes:
    record = Repository(repo / "repository.json", mode="r").get_artifact_metadata(name, version)
    return (repo / name / record["fname"]).read_bytes()


def test_get_writes_the_stored_file(repo: Path, invoke: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    result = invoke("get", str(repo), "features@0", "-o", str(target), "--json")
    assert target.read_bytes() == stored(repo, "features", 0)
    report = json.loads(result.stdout)
    assert report["version"] == 0 and report["bytes"] == target.stat().st_size
    assert report["path"] == str(target)


def test_get_into_a_folder_keeps_the_file_name(repo: Path, invoke: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    invoke("get", str(repo), "model", "-o", str(out))
    [written] = list(out.iterdir())
    assert written.read_bytes() == stored(repo, "model", 1)


def test_get_refuses_to_replace_a_file_without_force(
    repo: Path, invoke: Invoke, tmp_path: Path
) -> None:
    target = tmp_path / "out.json"
    target.write_text("mine")
    result = invoke("get", str(repo), "features", "-o", str(target), code=1)
    assert "--force" in result.stderr and target.read_text() == "mine"
    invoke("get", str(repo), "features", "-o", str(target), "--force")
    assert target.read_bytes() == stored(repo, "features", 1)


def test_get_refuses_a_modified_file_and_writes_nothing(
    repo: Path, invoke: Invoke, tmp_path: Path
) -> None:
    record = Repository(repo / "repository.json", mode="r").get_artifact_metadata("features", 0)
    (repo / "features" / record["fname"]).write_text('["tampered"]')
    result = invoke("get", str(repo), "features@0", "-o", str(tmp_path / "x.json"), code=1)
    assert "sha256" in result.stderr.lower() or "digest" in result.stderr.lower()
    assert list(tmp_path.glob("*.json")) == [] and list(tmp_path.glob(".archivist-get-*")) == []


def test_get_checks_a_stripped_record_against_its_kept_digest(
    repo: Path, invoke: Invoke, tmp_path: Path
) -> None:
    manifest = repo / "repository.json"
    stripped = [  # as a lazyscribe save rewrites it
        {k: v for k, v in record.items() if k not in ("sha256", "size")}
        for record in json.loads(manifest.read_text())
    ]
    manifest.write_text(json.dumps(stripped))
    record = Repository(manifest, mode="r").get_artifact_metadata("features", 0)
    (repo / "features" / record["fname"]).write_text('["tampered"]')
    invoke("get", str(repo), "features@0", "-o", str(tmp_path / "x.json"), code=1)
    invoke("cat", str(repo), "features@0", code=1)
    assert list(tmp_path.glob("*.json")) == []


def test_cat_writes_the_bytes_to_stdout(repo: Path, invoke: Invoke) -> None:
    assert invoke("cat", str(repo), "features@-2").stdout_bytes == stored(repo, "features", 0)
    assert invoke("cat", str(repo), "model").stdout_bytes == stored(repo, "model", 1)


def test_diff_of_text_versions_is_a_unified_diff(repo: Path, invoke: Invoke) -> None:
    out = invoke("diff", str(repo), "features", "0", "-1").stdout
    assert out.startswith("--- features v0\n+++ features v1\n")
    assert '+    "tenure"' in out or '+"tenure"' in out or "tenure" in out
    document = json.loads(invoke("diff", str(repo), "features", "0", "--json").stdout)
    assert document["a"] == 0 and document["b"] == 1
    assert "tenure" in document["diff"] and "sha256" in document["changes"]


def test_diff_of_binary_versions_summarizes_the_records(repo: Path, invoke: Invoke) -> None:
    out = invoke("diff", str(repo), "model", "0", "1").stdout
    assert out.splitlines()[0] == "model v0 -> v1"
    assert any(line.strip().startswith("size:") for line in out.splitlines())
    document = json.loads(invoke("diff", str(repo), "model", "0", "1", "--json").stdout)
    assert document["diff"] is None and set(document["changes"]) >= {"sha256", "size"}


def test_diff_names_a_missing_version(repo: Path, invoke: Invoke) -> None:
    result = invoke("diff", str(repo), "features", "0", "7", code=1)
    assert "7" in result.stderr and "Traceback" not in result.stderr


def test_large_transfers_draw_a_bar_unless_quiet(
    repo: Path, invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archivist.cli import _files

    drawn: list[bool] = []

    class Terminal(_files.RichCallback):  # type: ignore[misc,name-defined]
        def __init__(self, description: str, threshold: int) -> None:
            super().__init__(description, threshold=threshold, force=True)

        def close(self) -> None:
            drawn.append(self.shown)
            super().close()

    monkeypatch.setattr(_files, "RichCallback", Terminal)
    monkeypatch.setattr(_files, "PROGRESS_THRESHOLD", 10)  # the stored files are small
    invoke("cat", str(repo), "features")
    invoke("-q", "cat", str(repo), "features")
    assert drawn == [True, False]
