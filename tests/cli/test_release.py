from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from tests.cli.conftest import Run

from archivist import ReleaseStore

Invoke = Callable[..., Result]


def test_release_create_list_show(repo: Path, invoke: Invoke) -> None:
    made = json.loads(invoke("release", "create", str(repo), "v1.0.0", "--json").stdout)
    assert made["tag"] == "v1.0.0" and made["artifacts"] == [["features", 1], ["model", 1]]
    assert ReleaseStore(repo / "releases.json").get("v1.0.0").artifacts == [
        ("features", 1),
        ("model", 1),
    ]
    listed = json.loads(invoke("release", "list", str(repo), "--json").stdout)
    assert [r["tag"] for r in listed] == ["v1.0.0"]
    assert "v1.0.0" in invoke("release", "list", str(repo)).stdout
    shown = json.loads(invoke("release", "show", str(repo), "v1.0.0", "--json").stdout)
    assert shown == made
    newest = json.loads(invoke("release", "show", str(repo), "--json").stdout)
    assert newest["tag"] == "v1.0.0"
    as_of = json.loads(invoke("release", "show", str(repo), "~2999-01-01", "--json").stdout)
    assert as_of["tag"] == "v1.0.0"
    human = invoke("release", "show", str(repo), "v1.0.0").stdout
    assert "features" in human and "model" in human


def test_release_tags_are_unique(repo: Path, invoke: Invoke) -> None:
    invoke("release", "create", str(repo), "v1")
    result = invoke("release", "create", str(repo), "v1", code=1)
    assert "already has a release tagged 'v1'" in result.stderr


def test_release_show_of_an_unknown_tag(repo: Path, invoke: Invoke) -> None:
    invoke("release", "create", str(repo), "v1")
    assert "'v1'" in invoke("release", "show", str(repo), "v9", code=1).stderr


def test_release_list_when_there_are_none(repo: Path, invoke: Invoke) -> None:
    assert json.loads(invoke("release", "list", str(repo), "--json").stdout) == []
    assert "no releases" in invoke("release", "list", str(repo)).stdout


def test_release_from_toml(
    repo: Path, invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nversion = "2.0.0"\n[tool.archivist]\nrepositories = ["repo/repository.json"]\n'
    )
    recorded = json.loads(invoke("release", "from-toml", "--json").stdout)
    assert [r["tag"] for r in recorded] == ["v2.0.0"]
    again = invoke("release", "from-toml", "pyproject.toml", "--json")
    assert json.loads(again.stdout) == [] and "already has a release" in again.stderr


def test_release_from_toml_without_the_file(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("release", "from-toml", str(tmp_path / "missing.toml"), code=1)
    assert "cannot read" in result.stderr and "Traceback" not in result.stderr


def test_release_from_toml_names_a_mistyped_repository(
    repo: Path, run: Run, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nversion = "2.0.0"\n[tool.archivist]\n'
        'repositories = ["repo/repository.json", "rpeo/repository.json"]\n'
    )
    err = run("release", "from-toml", code=1).stderr
    assert "rpeo/repository.json" in err and "does not exist" in err
    assert "mode=" not in err and "[tool.archivist].repositories" in err
    assert not (repo / "releases.json").exists()  # nothing recorded anywhere
