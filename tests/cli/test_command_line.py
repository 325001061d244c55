"""The command line itself, through a subprocess: global flags, usage errors, pipes, completion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.cli.conftest import Run

from archivist import Repository


@pytest.mark.parametrize("flag", ["--debug", "-v", "-vv", "-q", "--verbose", "--quiet"])
def test_global_flags_are_accepted_after_the_command(repo: Path, run: Run, flag: str) -> None:
    assert "features" in run("ls", str(repo), flag).stdout
    assert "features" in run("log", str(repo), "features", flag, "--json").stdout


def test_debug_after_the_command_shows_the_traceback(run: Run, tmp_path: Path) -> None:
    assert "Traceback" in run("ls", str(tmp_path / "nowhere"), "--debug", code=1).stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["ls", "--bogus"], "--bogus"),
        (["frobnicate"], "frobnicate"),
        (["show"], "NAME"),
        (["prune", "--keep-last", "x"], "--keep-last"),
        (["release", "nope"], "nope"),
        (["ls", "a", "b", "c"], "b c"),
    ],
)
def test_a_usage_error_is_one_line(run: Run, args: list[str], words: str) -> None:
    err = run(*args, code=2).stderr
    assert err.count("\n") == 1 and err.startswith("archivist: error: "), err
    assert words in err and "--help" in err
    assert "Usage:" not in err and "Try " not in err


def _many(folder: Path, count: int = 600) -> Path:
    repository = Repository(folder / "repository.json", mode="w")
    for i in range(count):
        repository.log_artifact(name=f"artifact-{i:04d}-" + "x" * 60, value=i, handler="json")
    repository.save()
    return folder


def _closed_pipe_exit(args: list[str], cwd: Path, read_first: bool) -> int:
    """Run archivist with stdout a pipe that is closed after one line (or at once)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "archivist", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert process.stdout is not None and process.stderr is not None
    if read_first:
        process.stdout.readline()
    process.stdout.close()
    err = process.stderr.read()
    code = process.wait(timeout=120)
    assert b"Traceback" not in err and b"Exception ignored" not in err, err
    return code


def test_a_closed_pipe_exits_0_while_writing(run: Run, tmp_path: Path) -> None:
    folder = _many(tmp_path / "many")  # about 60 KiB per ls: more than a pipe holds
    for _ in range(3):
        assert _closed_pipe_exit(["ls", "many"], tmp_path, read_first=True) == 0
        assert _closed_pipe_exit(["log", "many", "artifact-0001-" + "x" * 60], tmp_path, True) == 0
    assert folder.is_dir()


def test_a_closed_pipe_exits_0_with_output_buffered_at_exit(repo: Path, tmp_path: Path) -> None:
    for args in (
        ["ls", str(repo)],
        ["show", str(repo), "features"],
        ["cat", str(repo), "features"],
    ):
        assert _closed_pipe_exit(args, tmp_path, read_first=False) == 0


def test_a_pipe_into_head_under_pipefail_is_0(run: Run, tmp_path: Path) -> None:
    _many(tmp_path / "many")
    script = f"set -o pipefail; {sys.executable} -m archivist ls many | head -1"
    for _ in range(3):
        done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0 and done.stdout.startswith("NAME"), done.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_completion_script_is_produced(tmp_path: Path, shell: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "archivist"],
        env={**os.environ, "_ARCHIVIST_COMPLETE": f"{shell}_source"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "_ARCHIVIST_COMPLETE" in done.stdout and "archivist" in done.stdout


def test_completion_completes_commands(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "archivist"],
        env={
            **os.environ,
            "_ARCHIVIST_COMPLETE": "bash_complete",
            "COMP_WORDS": "archivist al",
            "COMP_CWORD": "1",
        },
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert "alias" in done.stdout
