"""Promotion side by side with lazyscribe 2.2.2: the same code, the same answers.

An experiment's artifact promoted into a repository keeps the artifact's ``created_at`` and
file name, so time travel answers the same after switching; an artifact not newer than the
repository's latest version is refused with (a subclass of) ``ArtifactLogError``, so a stale
experiment never replaces what is deployed.
"""

from __future__ import annotations

import importlib
import json
import time
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import lazyscribe
import pytest

import archivist

LIBS = [pytest.param(lazyscribe, id="lazyscribe"), pytest.param(archivist, id="archivist")]
SECONDS = "%Y-%m-%dT%H:%M:%S"


def exceptions(lib: ModuleType) -> Any:
    return importlib.import_module(f"{lib.__name__}.exception")


def make_project(lib: ModuleType, folder: Path) -> Path:
    path = folder / "project.json"
    project = lib.Project(str(path), mode="w")
    with project.log("my-experiment") as exp:
        exp.log_artifact(name="features", value=[0, 1, 2], handler="json")
    project.save()
    return path


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("projects")
    made = {lib.__name__: make_project(lib, root / lib.__name__) for lib in (lazyscribe, archivist)}
    time.sleep(1.05)  # lazyscribe compares times to the second: promote a second later
    return made


def stored(path: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(path.read_text())
    return records


@pytest.mark.parametrize("lib", LIBS)
def test_a_promoted_version_keeps_the_artifacts_time_and_file_name(
    lib: ModuleType, projects: dict[str, Path], tmp_path: Path
) -> None:
    exp = lib.Project(str(projects[lib.__name__]), mode="r")["my-experiment"]
    artifact = exp.artifacts[0]
    path = tmp_path / "repository.json"
    exp.promote_artifact(lib.Repository(str(path)), "features")
    [record] = stored(path)
    assert record["fname"] == artifact.fname
    assert datetime.fromisoformat(record["created_at"]) == artifact.created_at
    assert (tmp_path / "features" / artifact.fname).is_file()
    # time travel: what was current when the experiment logged it is that version
    reader = lib.Repository(str(path), mode="r")
    when = artifact.created_at.strftime(SECONDS)
    assert reader.load_artifact("features", version=when, match="asof") == [0, 1, 2]
    assert reader.load_artifact("features", version=when) == [0, 1, 2]


@pytest.mark.parametrize("lib", LIBS)
def test_an_unsaved_artifact_promoted_keeps_its_time_and_file_name(
    lib: ModuleType, tmp_path: Path
) -> None:
    project = lib.Project(str(tmp_path / "project.json"), mode="w")
    with project.log("my-experiment") as exp:
        exp.log_artifact(name="features", value=[3, 4], handler="json")
    artifact = exp.artifacts[0]
    time.sleep(1.05)
    repository = lib.Repository(str(tmp_path / "repository.json"))
    exp.promote_artifact(repository, "features")
    repository.save()
    [record] = stored(tmp_path / "repository.json")
    assert record["fname"] == artifact.fname
    assert record["created_at"][:19] == artifact.created_at.strftime(SECONDS)
    assert lib.Repository(str(tmp_path / "repository.json"), mode="r").load_artifact(
        "features", version=artifact.created_at.strftime(SECONDS)
    ) == [3, 4]


@pytest.mark.parametrize("lib", LIBS)
def test_promoting_the_same_artifact_twice_is_refused(
    lib: ModuleType, projects: dict[str, Path], tmp_path: Path
) -> None:
    exp = lib.Project(str(projects[lib.__name__]), mode="r")["my-experiment"]
    path = tmp_path / "repository.json"
    exp.promote_artifact(lib.Repository(str(path)), "features")
    before = path.read_bytes()
    with pytest.raises(exceptions(lib).ArtifactLogError, match="not newer than the latest"):
        exp.promote_artifact(lib.Repository(str(path)), "features")
    assert path.read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "features").iterdir()) == [exp.artifacts[0].fname]


@pytest.mark.parametrize("lib", LIBS)
def test_a_stale_experiment_does_not_replace_what_is_deployed(
    lib: ModuleType, projects: dict[str, Path], tmp_path: Path
) -> None:
    path = tmp_path / "repository.json"
    deployed = lib.Repository(str(path), mode="w")
    deployed.log_artifact(name="features", value=["newer"], handler="json")
    deployed.save()
    before = path.read_bytes()
    exp = lib.Project(str(projects[lib.__name__]), mode="r")["my-experiment"]
    with pytest.raises(exceptions(lib).ArtifactLogError, match="not newer than the latest"):
        exp.promote_artifact(lib.Repository(str(path)), "features")
    assert path.read_bytes() == before
    assert lib.Repository(str(path), mode="r").load_artifact("features") == ["newer"]
    assert len(list((tmp_path / "features").iterdir())) == 1


@pytest.mark.parametrize("lib", LIBS)
def test_an_unsaved_stale_artifact_is_refused_too(lib: ModuleType, tmp_path: Path) -> None:
    project = lib.Project(str(tmp_path / "project.json"), mode="w")
    with project.log("my-experiment") as exp:
        exp.log_artifact(name="features", value=[3, 4], handler="json")
    time.sleep(1.05)
    repository = lib.Repository(str(tmp_path / "repository.json"), mode="w")
    repository.log_artifact(name="features", value=["newer"], handler="json")
    repository.save()
    with pytest.raises(exceptions(lib).ArtifactLogError, match="not newer than the latest"):
        exp.promote_artifact(repository, "features")
    repository.save()
    assert [r["version"] for r in stored(tmp_path / "repository.json")] == [0]
