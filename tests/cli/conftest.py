"""Fixtures for the command-line tests: a small repository, and a runner for the CLI."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from archivist import Repository
from archivist.cli import cli

Invoke = Callable[..., Result]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository folder: 'features' (json) v0 and v1, 'model' (pickle) v0 and v1."""
    folder = tmp_path / "repo"
    repository = Repository(folder / "repository.json", mode="w")
    repository.log_artifact(name="features", value=["age", "income"], handler="json", indent=4)
    repository.log_artifact(name="model", value={"weights": [0.4]}, handler="pickle")
    repository.save()
    repository = Repository(folder / "repository.json", mode="a")
    repository.log_artifact(name="features", value=["age", "income", "tenure"], handler="json")
    repository.log_artifact(name="model", value={"weights": [0.4, 0.6]}, handler="pickle")
    repository.save()
    return folder


@pytest.fixture
def invoke() -> Invoke:
    """Run the CLI in-process; assert the exit code; return the result."""

    def run(*args: str, code: int = 0, input: str | None = None, **kwargs: Any) -> Result:
        result = CliRunner().invoke(cli, list(args), input=input, **kwargs)
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        return result

    return run


Run = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """Run the ``archivist`` command in a subprocess (in ``tmp_path`` unless ``cwd`` is given);
    assert the exit code; return the finished process."""

    def run_(
        *args: str, code: int = 0, cwd: Path | None = None, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "archivist", *args],
            cwd=cwd or tmp_path,
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "NO_COLOR": "1", "COLUMNS": "80"},
        )
        assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
        return done

    return run_


Tty = Callable[..., "tuple[int, str]"]


@pytest.fixture
def run_tty(tmp_path: Path) -> Tty:
    """Run ``archivist`` in a subprocess whose standard output is an 80-column terminal;
    return its exit code and everything it wrote (standard error included)."""

    def run_(*args: str, cwd: Path | None = None) -> tuple[int, str]:
        primary, secondary = pty.openpty()
        fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        process = subprocess.Popen(
            [sys.executable, "-m", "archivist", *args],
            cwd=cwd or tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=secondary,
            stderr=secondary,
            env={**os.environ, "NO_COLOR": "1", "COLUMNS": "80", "TERM": "dumb"},
        )
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 1 << 16)
            except OSError:  # the terminal closed: the process ended
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(primary)
        code = process.wait(timeout=120)
        return code, b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")

    return run_
