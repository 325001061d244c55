from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from tests.cli.conftest import Run, Tty

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
    assert any(word in result.stderr.lower() for word in ("blake3", "sha256", "digest"))
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


def test_get_into_a_missing_folder_names_the_folder(repo: Path, run: Run, tmp_path: Path) -> None:
    err = run("get", str(repo), "features", "-o", "missing/features.json", code=2).stderr
    assert "missing" in err and "does not exist" in err
    assert ".archivist-get-" not in err and "FileNotFoundError" not in err
    assert not (tmp_path / "missing").exists()


def test_get_into_a_file_as_folder_says_it_is_no_folder(
    repo: Path, run: Run, tmp_path: Path
) -> None:
    (tmp_path / "plain").write_text("x")
    err = run("get", str(repo), "features", "-o", "plain/features.json", code=2).stderr
    assert "is not a folder" in err and ".archivist-get-" not in err


@pytest.mark.parametrize(("name", "kind"), [("features", "text"), ("model", "binary")])
def test_diff_of_identical_versions_is_one_sentence(
    repo: Path, run: Run, name: str, kind: str
) -> None:
    out = run("diff", str(repo), name, "1", "-1").stdout
    assert out == f"{name} v1 and v1 hold the same content\n", kind
    assert json.loads(run("diff", str(repo), name, "1", "1", "--json").stdout)["same"] is True


def test_diff_prints_values_as_json(repo: Path, run: Run) -> None:
    lines = run("diff", str(repo), "model", "0", "1").stdout.splitlines()
    sha = next(line for line in lines if line.strip().startswith("sha256:"))
    before, after = sha.split(":", 1)[1].split(" -> ")
    assert json.loads(before).__class__ is str and json.loads(after).__class__ is str
    assert "'" not in sha  # not a Python repr


@pytest.mark.parametrize(("a", "b", "code"), [("0", "1", 1), ("1", "-1", 0)])
@pytest.mark.parametrize("name", ["features", "model"])
def test_diff_exit_code(repo: Path, run: Run, name: str, a: str, b: str, code: int) -> None:
    run("diff", str(repo), name, a, b, "--exit-code", code=code)
    run("diff", str(repo), name, a, b)  # without it: 0 either way


def test_cat_refuses_a_binary_file_on_a_terminal(repo: Path, run_tty: Tty, tmp_path: Path) -> None:
    code, out = run_tty("cat", str(repo), "model")
    assert code == 2 and "binary" in out and "--force" in out and "\x80" not in out
    assert out.count("\n") == 1
    code, out = run_tty("cat", str(repo), "model", "--force")
    assert code == 0
    code, _ = run_tty("cat", str(repo), "model", "-o", "model.pickle")
    assert code == 0 and (tmp_path / "model.pickle").read_bytes() == stored(repo, "model", 1)


def test_cat_of_text_ends_with_a_newline_on_a_terminal(repo: Path, run_tty: Tty, run: Run) -> None:
    assert not stored(repo, "features", 0).endswith(b"\n")
    code, out = run_tty("cat", str(repo), "features@0")
    assert code == 0 and out.endswith("]\n")
    # piped, the bytes are exactly the stored ones
    assert run("cat", str(repo), "features@0").stdout.encode() == stored(repo, "features", 0)
