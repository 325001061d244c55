"""Fixtures for the command-line tests: a small repository, and a runner for the CLI."""

from __future__ import annotations

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
