"""Promotion keeps the experiment artifact's file name, and never reuses or overwrites one.

lazyscribe copies an experiment's file over whatever the repository folder holds under that
name; archivist keeps the name too, but refuses when a version already uses it or a file is
already there, and leaves everything as it was.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from archivist import ManifestStore, Project, Repository
from archivist.errors import AlreadyExistsError, LogError
from archivist.stores import FileDigests


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


def deploy(repo: Path) -> None:
    """Another writer commits a newer version of ``features``."""
    other = Repository(repo, mode="a")
    other.log_artifact("features", ["deployed"], handler="json")
    other.save()


class DeployedMeanwhile(ManifestStore):
    """A store whose first file write waits for another writer to deploy a newer version.

    The promotion has checked that its artifact is newer than the repository's latest
    version; the other writer commits between that check and the promotion's commit.
    """

    def __init__(self, repo: Path) -> None:
        super().__init__(repo)
        self.repo = repo
        self.deployed = False

    def write_file(self, name: str, fname: str, write: Callable[[IO[bytes]], None]) -> FileDigests:
        if not self.deployed:
            self.deployed = True
            deploy(self.repo)
        return super().write_file(name, fname, write)


def what_the_other_writer_left(repo: Path) -> tuple[list[dict[str, object]], set[str]]:
    records = json.loads(repo.read_text())
    journals = set((repo.parent / f".{repo.name}.archivist").glob("*.journal"))
    assert not journals, journals
    return records, {p.name for p in (repo.parent / "features").iterdir()}


@pytest.mark.parametrize("journal", [True, False], ids=["journal", "no-journal"])
def test_a_version_deployed_between_the_check_and_the_commit_counts(
    tmp_path: Path, journal: bool
) -> None:
    exp = experiment_with(tmp_path, "features.json")["my-experiment"]
    repo = tmp_path / "repo" / "repository.json"
    Repository(repo, mode="w").save()
    store = DeployedMeanwhile(repo)
    repository = Repository(store=store, journal=journal)
    with pytest.raises(LogError, match="not newer than the latest version"):
        exp.promote_artifact(repository, "features")
    assert store.deployed
    records, files = what_the_other_writer_left(repo)
    assert [(r["name"], r["version"]) for r in records] == [("features", 0)]
    assert Repository(repo, mode="r").load_artifact("features") == ["deployed"]
    # The promoted copy is removed: its journal proves it never landed. Without a journal
    # nothing proves it (see archivist._commit.unjournaled): it stays, named in a warning.
    assert ("features.json" in files) is not journal


def test_an_unsaved_promotion_whose_save_follows_a_newer_deployment_is_refused(
    tmp_path: Path,
) -> None:
    project = Project(tmp_path / "proj" / "project.json", mode="w")
    with project.log("my-experiment") as exp:
        exp.log_artifact(name="features", value=[1, 2], handler="json", fname="features.json")
    repo = tmp_path / "repo" / "repository.json"
    Repository(repo, mode="w").save()
    repository = Repository(repo)
    exp.promote_artifact(repository, "features")  # newer than anything deployed: accepted
    deploy(repo)  # another writer commits a newer version before this save
    with pytest.raises(LogError, match="not newer than the latest version"):
        repository.save()
    records, files = what_the_other_writer_left(repo)
    assert [(r["name"], r["version"]) for r in records] == [("features", 0)]
    assert "features.json" not in files
    assert Repository(repo, mode="r").load_artifact("features") == ["deployed"]
