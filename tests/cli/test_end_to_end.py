"""Each command run as users run it: the installed ``archivist`` script in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import make_orphan

from archivist import Repository

SCRIPT = Path(sys.executable).with_name("archivist")


def run(*args: str, code: int = 0, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=60
    )
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    return done


def run_json(*args: str, cwd: Path | None = None) -> Any:
    return json.loads(run(*args, "--json", cwd=cwd).stdout)


def test_the_script_is_installed() -> None:
    assert SCRIPT.is_file()
    assert run("--version").stdout.startswith("archivist ")


def test_ls(repo: Path) -> None:
    assert [row["name"] for row in run_json("ls", str(repo))] == ["features", "model"]
    assert run("ls", cwd=repo).stdout.startswith("NAME")
    run("ls", str(repo / "missing"), code=1)


def test_log(repo: Path) -> None:
    assert [r["version"] for r in run_json("log", str(repo), "features")] == [1, 0]


def test_show(repo: Path) -> None:
    assert run_json("show", str(repo), "features@-2")["version"] == 0
    run("show", str(repo), "features@31/01/2026", code=2)
    run("show", str(repo), "features@soon", code=1)  # an alias it does not have


def test_get(repo: Path, tmp_path: Path) -> None:
    report = run_json("get", str(repo), "features@0", "-o", str(tmp_path / "f.json"))
    assert json.loads((tmp_path / "f.json").read_text()) == ["age", "income"]
    assert report["bytes"] == (tmp_path / "f.json").stat().st_size


def test_cat(repo: Path) -> None:
    assert json.loads(run("cat", str(repo), "features").stdout) == ["age", "income", "tenure"]


def test_diff(repo: Path) -> None:
    assert "tenure" in run_json("diff", str(repo), "features", "0", "-1")["diff"]
    assert run_json("diff", str(repo), "model", "0")["diff"] is None


def test_release(repo: Path, tmp_path: Path) -> None:
    assert run_json("release", "create", str(repo), "v1")["tag"] == "v1"
    assert [r["tag"] for r in run_json("release", "list", str(repo))] == ["v1"]
    assert run_json("release", "show", str(repo), "v1")["artifacts"] == [
        ["features", 1],
        ["model", 1],
    ]
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nversion = "2.0"\n[tool.archivist]\nrepositories = ["repo/repository.json"]\n'
    )
    assert [r["tag"] for r in run_json("release", "from-toml", cwd=tmp_path)] == ["v2.0"]


def test_verify(repo: Path) -> None:
    assert run_json("verify", str(repo))["checked"] == 4
    record = Repository(repo / "repository.json", mode="r").get_artifact_metadata("model", 0)
    (repo / "model" / record["fname"]).write_bytes(b"tampered")
    assert json.loads(run("verify", str(repo), "--json", code=1).stdout)["ok"] is False


def test_gc(repo: Path) -> None:
    (repo / "features" / "hand-made.json").write_text("[]")  # never archivist's to delete
    stray = make_orphan(repo / "repository.json", fname="stray.json")
    assert run_json("gc", str(repo), "--dry-run")["would_delete"] == [str(stray)]
    run("gc", str(repo), code=2)  # no terminal to confirm on, and no --yes
    assert stray.exists()
    assert run_json("gc", str(repo), "--yes")["deleted"] == [str(stray)]
    assert not stray.exists() and (repo / "features" / "hand-made.json").exists()
    run("gc", str(repo), "--older-than", "-1", code=2)


def test_adopt(tmp_path: Path) -> None:
    # a repository lazyscribe wrote: records without sha256 and size
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "features-20260101000000.json").write_text('["age"]')
    record = {
        "name": "features",
        "version": 0,
        "handler": "json",
        "fname": "features-20260101000000.json",
        "created_at": "2026-01-01T00:00:00",
        "expiry": None,
    }
    (tmp_path / "repository.json").write_text(json.dumps([record]))
    assert run_json("verify", str(tmp_path))["unverifiable"] == [["features", 0]]
    dry = run_json("adopt", str(tmp_path), "--dry-run")
    assert dry["adopted"] == [{"name": "features", "version": 0}]
    assert run_json("adopt", str(tmp_path))["adopted"] == [{"name": "features", "version": 0}]
    report = run_json("verify", str(tmp_path))
    assert report["checked"] == 1 and report["unverifiable"] == []


def test_alias(repo: Path) -> None:
    assert run_json("alias", "set", str(repo), "model", "production", "0")["to_version"] == 0
    assert run("alias", "set", str(repo), "model", "production", "-1").stdout == (
        "model@production: v0 -> v1\n"
    )
    assert run_json("alias", "list", str(repo), "model") == {"production": 1}
    moves = run_json("alias", "log", str(repo), "model", "production")
    assert [(m["from_version"], m["to_version"]) for m in moves] == [(None, 0), (0, 1)]
    assert run_json("show", str(repo), "model@production")["version"] == 1
    then = moves[0]["when"]
    assert run_json("show", str(repo), f"model@production~{then}")["version"] == 0
    assert run_json("alias", "remove", str(repo), "model", "production")["to_version"] is None
    run("show", str(repo), "model@production", code=1)
    run("alias", "set", str(repo), "model", "latest", "0", code=2)


def test_prune(repo: Path) -> None:
    dry = run_json("prune", str(repo), "--keep-last", "1", "--dry-run")
    assert dry["would_remove"] == [
        {"name": "features", "version": 0},
        {"name": "model", "version": 0},
    ]
    run("prune", str(repo), "--keep-last", "1", code=2)  # no terminal to confirm on, no --yes
    assert Repository(repo / "repository.json", mode="r").versions("model") == [0, 1]
    assert len(run_json("prune", str(repo), "--keep-last", "1", "--yes")["removed"]) == 2
    assert Repository(repo / "repository.json", mode="r").versions("model") == [1]
    run("prune", str(repo), code=2)  # no rule


def test_cache(repo: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    reader = Repository(repo / "repository.json", mode="r", cache=True, cache_dir=folder)
    assert reader.load_artifact("features") == ["age", "income", "tenure"]
    assert run_json("cache", "info", "--cache-dir", str(folder))["entries"] == 1
    run("cache", "clear", "--cache-dir", str(folder), code=2)  # asks; no terminal
    assert run_json("cache", "clear", "--cache-dir", str(folder), "--yes")["entries"] == 1
    assert run_json("cache", "info", "--cache-dir", str(folder))["entries"] == 0


def test_demo(tmp_path: Path) -> None:
    out = run("demo", str(tmp_path / "demo")).stdout
    assert "files verified" in out
    assert run_json("ls", str(tmp_path / "demo"))[0]["versions"] == 2


@pytest.mark.skipif(sys.platform == "win32", reason="SIGPIPE is POSIX")
def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    repository = Repository(tmp_path / "repository.json", mode="w")
    for i in range(2000):
        repository.log_artifact(name=f"artifact-{i}", value=i, handler="json")
    repository.save()
    process = subprocess.Popen(
        [str(SCRIPT), "ls", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith(b"NAME")
    process.stdout.close()  # what `| head -1` does
    stderr = process.stderr.read().decode()
    process.wait(timeout=60)
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr
    assert process.returncode in (0, 1)
