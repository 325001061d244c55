"""Experiments and their tests, and promotion of their artifacts into a repository."""

from __future__ import annotations

import json
import pickle
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from archivist import Experiment, Project, Repository
from archivist.errors import (
    ArtifactNotFoundError,
    EncodingError,
    EnvironmentMismatchError,
    ExperimentNotFoundError,
    IntegrityError,
    InvalidNameError,
    IrregularFileError,
    LogError,
    ReadOnlyError,
    StorageError,
    UnsavedChangesError,
    UnsupportedOperationError,
    UntrustedArtifactError,
)
from archivist.test import Test


def files_below(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def make_project(path: str | Path, value: Any = None) -> Project:
    project = Project(path, mode="w", author="ada")
    with project.log("my-experiment") as exp:
        exp.log_artifact(name="features", value=value or [0, 1, 2], handler="json", indent=4)
        exp.log_artifact(name="model", value={"w": [1.5]}, handler="pickle")
    project.save()
    return project


def test_metrics_parameters_tags(tmp_path: Path) -> None:
    project = Project(tmp_path / "project.json", mode="w")
    with project.log("Fancy Run!") as exp:
        exp.log_metric("auc", 0.7)
        exp.log_metric("auc", 0.8)
        exp.log_parameter("layers", [3, 4])
        exp.tag("a", "b")
        exp.tag("c")
    assert exp.metrics == {"auc": 0.8}
    assert exp.parameters == {"layers": [3, 4]}
    assert list(exp.tags) == ["a", "b", "c"]
    exp.tag(overwrite=True)
    assert list(exp.tags) == []
    assert exp.short_slug == "fancy-run"
    assert exp.path == tmp_path / exp.slug
    assert exp.dir == tmp_path
    assert exp.last_updated >= exp.created_at


def test_tests_have_their_own_metrics_and_artifacts(tmp_path: Path) -> None:
    path = tmp_path / "project.json"
    project = Project(path, mode="w")
    with project.log("exp") as exp, exp.log_test("Region A", "the north") as test:
        test.log_metric("auc", 0.6)
        test.log_parameter("rows", 10)
        test.log_artifact("sample", [1, 2], handler="json")

    def fail_inside_test() -> None:
        with exp.log_test("never") as skipped:
            skipped.log_metric("x", 1)
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        fail_inside_test()
    assert [t.name for t in exp.tests] == ["Region A"]
    project.save()
    assert (tmp_path / exp.slug / "region-a").is_dir()
    loaded = Project(path, mode="r")["exp"].tests[0]
    assert isinstance(loaded, Test)
    assert (loaded.name, loaded.description) == ("Region A", "the north")
    assert loaded.metrics == {"auc": 0.6}
    assert loaded.load_artifact("sample") == [1, 2]
    with pytest.raises(ReadOnlyError):
        loaded.log_metric("auc", 1)


def test_load_artifact_errors(tmp_path: Path) -> None:
    project = Project(tmp_path / "project.json", mode="w")
    with project.log("exp") as exp:
        exp.log_artifact("v", 1, handler="json")
    with pytest.raises(ArtifactNotFoundError, match="not saved yet"):
        exp.load_artifact("v")
    project.save()
    assert exp.load_artifact("v") == 1
    with pytest.raises(ArtifactNotFoundError, match="'v'"):
        exp.load_artifact("missing")
    (tmp_path / exp.slug / exp.artifacts[0].fname).unlink()
    with pytest.raises(ArtifactNotFoundError, match="missing"):
        exp.load_artifact("v")


def test_pickle_environment_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "project.json"
    make_project(path)
    data = json.loads(path.read_text())
    data[0]["artifacts"][1]["python_version"] = "2.7"
    path.write_text(json.dumps(data))
    exp = Project(path, mode="r")["my-experiment"]
    with pytest.raises(EnvironmentMismatchError, match="python_version"):
        exp.load_artifact("model")
    with pytest.warns(UserWarning, match="python_version"):
        assert exp.load_artifact("model", validate=False) == {"w": [1.5]}


# -- promotion ------------------------------------------------------------------------------


def test_promote_saved_artifact_commits_at_once(tmp_path: Path) -> None:
    make_project(tmp_path / "project.json")
    project = Project(tmp_path / "project.json", mode="r")
    repository = Repository(tmp_path / "repository.json")
    exp = project["my-experiment"]
    exp.promote_artifact(repository, "features")
    exp.promote_artifact(repository, "model")
    reader = Repository(tmp_path / "repository.json", mode="r")
    assert reader.load_artifact("features") == [0, 1, 2]
    assert reader.load_artifact("model") == {"w": [1.5]}
    record = reader.get_artifact_metadata("features")
    assert record["source"] == {"project": project.location, "experiment": exp.slug}
    assert record["sha256"] == exp.to_dict()["artifacts"][0]["sha256"]
    assert (
        reader.get_artifact_metadata("model")["python_version"] == exp.artifacts[1].python_version
    )
    assert reader.verify().checked == 2
    # The same artifact again is not newer than the version it became: refused.
    with pytest.raises(LogError, match="not newer than the latest version"):
        exp.promote_artifact(repository, "features")
    assert Repository(tmp_path / "repository.json", mode="r").versions("features") == [0]


def test_promote_before_saving_is_log_artifact(tmp_path: Path) -> None:
    project = Project(tmp_path / "project.json", mode="w")
    repository = Repository(tmp_path / "repository.json")
    with project.log("exp") as exp:
        exp.log_artifact("features", [1, 2], handler="json", indent=2)
    exp.promote_artifact(repository, "features")
    assert not (tmp_path / "repository.json").exists()
    assert files_below(tmp_path) == []
    repository.save()
    reader = Repository(tmp_path / "repository.json", mode="r")
    assert reader.load_artifact("features") == [1, 2]
    record = reader.get_artifact_metadata("features")
    assert record["source"]["experiment"] == exp.slug
    stored = tmp_path / "features" / record["fname"]
    assert stored.read_text() == json.dumps([1, 2], indent=2)


def test_promote_into_read_only_repository_leaves_nothing(tmp_path: Path) -> None:
    make_project(tmp_path / "proj" / "project.json")
    repo = tmp_path / "repo" / "repository.json"
    Repository(repo, mode="w").save()
    before = files_below(tmp_path / "repo")
    exp = Project(tmp_path / "proj" / "project.json", mode="r")["my-experiment"]
    with pytest.raises(ReadOnlyError):
        exp.promote_artifact(Repository(repo, mode="r"), "features")
    assert files_below(tmp_path / "repo") == before
    assert len(Repository(repo, mode="r")) == 0


def test_promote_with_unsaved_repository_changes_is_refused(tmp_path: Path) -> None:
    make_project(tmp_path / "proj" / "project.json")
    repository = Repository(tmp_path / "repo" / "repository.json")
    repository.log_artifact("other", 1, handler="json")
    exp = Project(tmp_path / "proj" / "project.json", mode="r")["my-experiment"]
    with pytest.raises(UnsavedChangesError):
        exp.promote_artifact(repository, "features")
    assert not (tmp_path / "repo").exists()


def test_failed_commit_leaves_no_version_and_gc_collects_the_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_project(tmp_path / "proj" / "project.json")
    repo = tmp_path / "repo" / "repository.json"
    seed = Repository(repo, mode="w")
    seed.log_artifact("other", [9], handler="json")
    seed.save()
    before = files_below(tmp_path / "repo")
    repository = Repository(repo)

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise StorageError("bucket is gone")

    monkeypatch.setattr(repository.store, "commit", refuse)
    exp = Project(tmp_path / "proj" / "project.json", mode="r")["my-experiment"]
    with pytest.raises(StorageError, match="bucket is gone"):
        exp.promote_artifact(repository, "features")
    assert "features" not in Repository(repo, mode="r")
    # The replace failed without an answer: it might land later, so the copy stays (with
    # its journal, and the digests journaled for a file name it did not generate) until gc
    # proves it unnamed.
    assert len(set(files_below(tmp_path / "repo")) - set(before)) == 3
    Repository(repo, mode="a").gc(older_than=timedelta(0))
    assert files_below(tmp_path / "repo") == before


def test_tampered_source_is_not_promoted(tmp_path: Path) -> None:
    make_project(tmp_path / "proj" / "project.json")
    exp = Project(tmp_path / "proj" / "project.json", mode="r")["my-experiment"]
    (tmp_path / "proj" / exp.slug / exp.artifacts[0].fname).write_text("[6]")
    repo = tmp_path / "repo" / "repository.json"
    with pytest.raises(IntegrityError, match="not promoted"):
        exp.promote_artifact(Repository(repo), "features")
    assert files_below(tmp_path / "repo") == []
    assert not repo.exists()


@pytest.mark.parametrize("direction", ["memory-to-local", "local-to-memory"])
def test_promote_between_backends(tmp_path: Path, direction: str) -> None:
    big = list(range(300_000))  # a few MB: streamed in chunks
    memory = f"memory://promote-tests/{direction}"
    if direction == "memory-to-local":
        project_url, repo_url = f"{memory}/project.json", str(tmp_path / "repository.json")
    else:
        project_url, repo_url = str(tmp_path / "project.json"), f"{memory}/repository.json"
    make_project(project_url, big)
    exp = Project(project_url, mode="r")["my-experiment"]
    exp.promote_artifact(Repository(repo_url), "features")
    reader = Repository(repo_url, mode="r")
    assert reader.load_artifact("features") == big
    assert (
        reader.get_artifact_metadata("features")["sha256"]
        == exp.to_dict()["artifacts"][0]["sha256"]
    )


def test_promote_unknown_artifact(tmp_path: Path) -> None:
    make_project(tmp_path / "project.json")
    exp = Project(tmp_path / "project.json", mode="r")["my-experiment"]
    with pytest.raises(ArtifactNotFoundError, match="'nope'"):
        exp.promote_artifact(Repository(tmp_path / "repository.json"), "nope")


def test_a_new_slug_moves_the_files_not_yet_saved(tmp_path: Path) -> None:
    project = Project(tmp_path / "project.json", mode="w")
    with project.log("run") as exp:
        with exp.log_test("North") as test:
            test.log_artifact("sample", [1], handler="json")
        exp.log_artifact("features", [2], handler="json")
        exp.slug = "renamed"
    assert exp.path == tmp_path / "renamed"
    assert exp.tests[0].path == tmp_path / "renamed" / "north"
    project.save()
    reread = Project(tmp_path / "project.json", mode="r")["renamed"]
    assert reread.load_artifact("features") == [2]
    assert reread.tests[0].load_artifact("sample") == [1]


def test_read_only_dependencies_refuse_changes(tmp_path: Path) -> None:
    upstream = make_project(tmp_path / "up" / "project.json")
    project = Project(tmp_path / "project.json", mode="w")
    with project.log("downstream") as exp:
        exp.dependencies["my-experiment"] = upstream["my-experiment"]
    project.save()
    stored = json.loads((tmp_path / "project.json").read_text())[0]["dependencies"]
    assert stored == [f"{tmp_path}/up/project.json|{upstream['my-experiment'].slug}"]
    reread = Project(tmp_path / "project.json", mode="r")["downstream"]
    with pytest.raises(ReadOnlyError):
        reread.dependencies["other"] = upstream["my-experiment"]
    with pytest.raises(ReadOnlyError):
        del reread.dependencies["my-experiment"]
    assert reread.dependencies["my-experiment"].load_artifact("features") == [0, 1, 2]


def test_dependencies_resolve_through_the_reading_project_and_survive_pickling(
    tmp_path: Path,
) -> None:
    upstream = make_project(tmp_path / "up" / "project.json")
    project = Project(tmp_path / "project.json", mode="w")
    with project.log("downstream") as exp:
        exp.dependencies["my-experiment"] = upstream["my-experiment"]
    project.save()
    reread = Project(tmp_path / "project.json", mode="r")["downstream"]
    copy = pickle.loads(pickle.dumps(reread))  # before any upstream project was opened
    assert copy.dependencies["my-experiment"].load_artifact("features") == [0, 1, 2]
    assert reread.dependencies["my-experiment"].slug == upstream["my-experiment"].slug


def test_a_reference_without_a_project_to_resolve_it_says_so() -> None:
    exp = Experiment(name="by hand", dependencies=["elsewhere/project.json|run-20250101000000"])
    assert list(exp.dependencies) == ["run"]
    with pytest.raises(ExperimentNotFoundError, match="read the experiment from its Project"):
        exp.dependencies["run"]


def test_a_standalone_test_waits_for_its_experiment() -> None:
    test = Test(name="North")
    assert test.path == Path(".")
    test.log_artifact("sample", [1], handler="json")
    with pytest.raises(ArtifactNotFoundError, match="not saved yet"):
        test.load_artifact("sample")


def test_the_slug_of_saved_files_cannot_change(tmp_path: Path) -> None:
    make_project(tmp_path / "project.json")
    editor = Project(tmp_path / "project.json", mode="w+")
    exp = editor["my-experiment"]
    with pytest.raises(UnsupportedOperationError, match="'features'"):
        exp.slug = "renamed"
    exp.slug = exp.slug  # unchanged: fine
    assert exp.load_artifact("features") == [0, 1, 2]


# -- artifacts are handler objects: what archivist keeps beside them -------------------------


def test_an_artifact_object_pointed_elsewhere_is_not_vouched_for(tmp_path: Path) -> None:
    """A digest counts only for the file it was computed for: a renamed object's is dropped."""
    path = tmp_path / "project.json"
    make_project(path)
    project = Project(path, mode="w+", trust="verified")
    exp = project["my-experiment"]
    model = exp.artifacts[1]
    assert exp.load_artifact("model") == {"w": [1.5]}  # verified against its digest
    (exp.path / "other.pkl").write_bytes((exp.path / model.fname).read_bytes())
    model.fname = "other.pkl"
    [_, record] = exp.to_dict()["artifacts"]
    assert "sha256" not in record and record["fname"] == "other.pkl"
    with pytest.raises(UntrustedArtifactError):  # pickle without a digest: refused
        exp.load_artifact("model")
    project.save()
    reread = Project(path, mode="r", trust="verified")["my-experiment"]
    with pytest.raises(UntrustedArtifactError):
        reread.load_artifact("model")
    assert reread.load_artifact("features") == [0, 1, 2]  # the other keeps its digest


def test_an_artifact_object_cannot_name_a_file_outside_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "project.json"
    project = Project(path, mode="w")
    with project.log("my-experiment") as exp:
        exp.log_artifact(name="features", value=[1], handler="json")
    exp.artifacts[0].fname = "../../escaped.json"
    with pytest.raises(InvalidNameError):
        project.save()
    assert not (tmp_path.parent / "escaped.json").exists()
    assert not path.exists()
    assert exp.artifacts[0].dirty
    exp.artifacts[0].fname = "features.json"
    project.save()
    assert Project(path, mode="r")["my-experiment"].load_artifact("features") == [1]


def test_a_failed_save_restores_the_artifact_objects(tmp_path: Path) -> None:
    path = tmp_path / "project.json"
    project = Project(path, mode="w")
    with project.log("my-experiment") as exp:
        exp.log_artifact(name="features", value=[1], handler="json")
        exp.log_artifact(name="broken", value={1, 2}, handler="json")  # json cannot write a set
    features = exp.artifacts[0]
    fname = features.fname
    with pytest.raises(EncodingError):
        project.save()
    assert (features.fname, features.dirty) == (fname, True)
    assert files_below(tmp_path) == []  # the file written before the failure was removed
    exp.artifacts[1].value = [1, 2]  # settable: the next save writes the new value
    project.save()
    assert Project(path, mode="r")["my-experiment"].load_artifact("broken") == [1, 2]


def test_saved_digests_survive_pickling(tmp_path: Path) -> None:
    import pickle

    path = tmp_path / "project.json"
    make_project(path)
    exp = Project(path, mode="w+")["my-experiment"]
    copy = pickle.loads(pickle.dumps(exp))
    assert copy.to_dict() == exp.to_dict()
    assert "sha256" in copy.to_dict()["artifacts"][0]
    assert copy.load_artifact("features") == [0, 1, 2]


def test_an_artifact_appended_by_hand_is_read_through_the_regular_file_opener(
    tmp_path: Path,
) -> None:
    import os

    from archivist.artifacts.json import JSONArtifact

    project = Project(tmp_path / "project.json", mode="w")
    with project.log("my-experiment") as exp:
        pass
    exp.path.mkdir()
    os.mkfifo(exp.path / "notes.json")  # would block a plain open for ever
    exp.artifacts.append(JSONArtifact.construct(name="notes", fname="notes.json", dirty=False))
    with pytest.raises(IrregularFileError):
        exp.load_artifact("notes")
    (exp.path / "notes.json").unlink()
    (exp.path / "notes.json").write_text('{"by": "hand"}')
    assert exp.load_artifact("notes") == {"by": "hand"}
