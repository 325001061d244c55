"""Promotion keeps the experiment artifact's file name, and never reuses or overwrites one.

lazyscribe copies an experiment's file over whatever the repository folder holds under that
name; archivist keeps the name too, but refuses when a version already uses it or a file is
already there, and leaves everything as it was.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from archivist import Project, Repository
from archivist.errors import AlreadyExistsError, LogError


def files_below(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def experiment_with(tmp_path: Path, fname: str) -> Project:
    project = Project(tmp_path / "proj" / "project.json", mode="w")
    with project.log("my-experiment") as exp:
        exp.log_artifact(name="features", value=[1, 2], handler="json", fname=fname)
    project.save()
    return Project(tmp_path / "proj" / "project.json", mode="r")


def test_a_file_name_a_version_uses_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo" / "repository.json"
    deployed = Repository(repo, mode="w")
    deployed.log_artifact("features", ["deployed"], handler="json", fname="features.json")
    deployed.save()
    before = files_below(tmp_path / "repo")
    time.sleep(1.05)  # the project keeps times to the second: log the artifact a second later
    exp = experiment_with(tmp_path, "features.json")["my-experiment"]
    with pytest.raises(AlreadyExistsError, match=r"'features\.json' is already used"):
        exp.promote_artifact(Repository(repo), "features")
    assert files_below(tmp_path / "repo") == before
    assert Repository(repo, mode="r").load_artifact("features") == ["deployed"]


@pytest.mark.parametrize("saved", [True, False], ids=["saved", "unsaved"])
def test_a_file_already_in_the_folder_is_never_overwritten(tmp_path: Path, saved: bool) -> None:
    repo = tmp_path / "repo" / "repository.json"
    Repository(repo, mode="w").save()
    stray = tmp_path / "repo" / "features" / "features.json"
    stray.parent.mkdir()
    stray.write_text("the user's own file")
    before = files_below(tmp_path / "repo")
    repository = Repository(repo)
    if saved:
        exp = experiment_with(tmp_path, "features.json")["my-experiment"]
        with pytest.raises(AlreadyExistsError, match=r"features\.json"):
            exp.promote_artifact(repository, "features")
    else:
        project = Project(tmp_path / "proj" / "project.json", mode="w")
        with project.log("my-experiment") as exp:
            exp.log_artifact(name="features", value=[1, 2], handler="json", fname="features.json")
        exp.promote_artifact(repository, "features")
        with pytest.raises(AlreadyExistsError, match=r"features\.json"):
            repository.save()
    assert files_below(tmp_path / "repo") == before
    assert len(Repository(repo, mode="r")) == 0


def test_a_version_another_writer_deployed_since_opening_counts(tmp_path: Path) -> None:
    exp = experiment_with(tmp_path, "features.json")["my-experiment"]
    time.sleep(1.05)  # the project keeps times to the second: deploy a second later
    repo = tmp_path / "repo" / "repository.json"
    Repository(repo, mode="w").save()
    repository = Repository(repo)  # opened before the other writer deploys
    other = Repository(repo, mode="a")
    other.log_artifact("features", ["deployed"], handler="json")
    other.save()
    before = files_below(tmp_path / "repo")
    with pytest.raises(LogError, match="not newer than the latest version"):
        exp.promote_artifact(repository, "features")
    assert files_below(tmp_path / "repo") == before
    assert Repository(repo, mode="r").load_artifact("features") == ["deployed"]
