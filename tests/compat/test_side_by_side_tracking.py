"""Projects, experiments and tests side by side with lazyscribe 2.2.2.

The same scenario runs under lazyscribe and under archivist; the public names, the values
(``to_dict()``), equality, pickling, paths and files must agree. Also the experiment parts of
lazyscribe's "artifact" and "version-artifacts" guides (their repository parts are tested
with the repository).
"""

from __future__ import annotations

import json
import pickle
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import lazyscribe
import lazyscribe.experiment
import lazyscribe.project
import lazyscribe.test
import pytest

import archivist
import archivist.experiment
import archivist.project
import archivist.test

CREATED = datetime(2024, 3, 1, 12, 0, 0)


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def public_names(cls: type) -> set[str]:
    names = {n for n in dir(cls) if not n.startswith("_")}
    if attrs.has(cls):
        names |= {f.name for f in attrs.fields(cls)}
    return names


def test_every_public_name_exists() -> None:
    project = archivist.Project("project.json", mode="w")
    project.experiments.append(scenario(archivist))
    project.save()
    editable = archivist.Project("project.json", mode="w+")["my-experiment"]
    read_only = archivist.Project("project.json", mode="r")["my-experiment"]
    for theirs, ours in [
        (lazyscribe.experiment.Experiment, editable),
        (lazyscribe.experiment.ReadOnlyExperiment, read_only),
        (lazyscribe.test.Test, editable.tests[0]),
        (lazyscribe.test.ReadOnlyTest, read_only.tests[0]),
    ]:
        assert type(ours).__name__ == theirs.__name__
        assert public_names(theirs) - set(dir(ours)) == set(), theirs


def test_project_instance_attributes_exist() -> None:
    theirs = lazyscribe.Project("project.json", mode="w")
    ours = archivist.Project("project.json", mode="w")
    missing = {n for n in vars(theirs) if not n.startswith("_")} - set(dir(ours))
    assert missing == set()
    assert public_names(lazyscribe.Project) - public_names(archivist.Project) == set()
    assert (ours.fpath, ours.protocol, ours.mode) == (theirs.fpath, theirs.protocol, theirs.mode)
    assert type(ours.fs) is type(theirs.fs)


def test_top_level_names() -> None:
    for name in lazyscribe.__all__:
        assert hasattr(archivist, name), name
    assert archivist.Test is archivist.test.Test
    assert archivist.ReadOnlyExperiment is archivist.experiment.ReadOnlyExperiment
    assert archivist.ReadOnlyTest is archivist.test.ReadOnlyTest


def scenario(module: Any, project: str = "project.json") -> Any:
    """Build the same experiment through either library's public API."""
    exp = module.Experiment(
        name="My experiment", project=Path(project), author="ada", created_at=CREATED
    )
    exp.log_metric("auc", 0.5)
    exp.log_parameter("depth", 3)
    exp.tag("baseline")
    with exp.log_test(name="Region", description="North") as test:
        test.log_metric("auc", 0.4)
        test.log_parameter("rows", 10)
    exp.last_updated = CREATED
    return exp


def test_same_to_dict() -> None:
    assert scenario(archivist).to_dict() == scenario(lazyscribe).to_dict()


def test_same_paths() -> None:
    ours, theirs = scenario(archivist), scenario(lazyscribe)
    assert (ours.project, ours.dir, ours.path) == (theirs.project, theirs.dir, theirs.path)
    assert ours.tests[0].path == theirs.tests[0].path
    assert all(isinstance(p, Path) for p in (ours.project, ours.dir, ours.path))


@pytest.mark.parametrize("module", [lazyscribe, archivist], ids=["lazyscribe", "archivist"])
def test_value_equality_and_pickling(module: Any) -> None:
    one, two = scenario(module), scenario(module)
    assert one == two
    assert one.tests[0] == two.tests[0]
    assert pickle.loads(pickle.dumps(one)) == one
    assert pickle.loads(pickle.dumps(one.tests[0])) == one.tests[0]
    two.log_metric("auc", 0.9)
    assert one != two
    project = module.Project("project.json", mode="w")
    project.experiments.append(one)
    project.save()
    first = module.Project("project.json", mode="r")["my-experiment"]
    second = module.Project("project.json", mode="r")["my-experiment"]
    assert first is not second
    assert first == second
    assert first.tests == second.tests
    if module is archivist:  # lazyscribe 2.2.2 cannot pickle a ReadOnlyExperiment (its lock)
        assert pickle.loads(pickle.dumps(first)) == first


@pytest.mark.parametrize("module", [lazyscribe, archivist], ids=["lazyscribe", "archivist"])
def test_settable_attributes(module: Any) -> None:
    project = module.Project("project.json", mode="w")
    with project.log("My experiment") as exp:
        exp.created_at = CREATED
        exp.last_updated = CREATED
        exp.slug = "custom-slug"
        exp.metrics = {"auc": 1}
    assert exp.path == Path("custom-slug")
    project.save()
    [entry] = json.loads(Path("project.json").read_text())
    assert (entry["created_at"], entry["slug"], entry["metrics"]) == (
        "2024-03-01T12:00:00",
        "custom-slug",
        {"auc": 1},
    )


def test_same_files_and_records(tmp_path: Path) -> None:
    for module, folder in ((lazyscribe, "theirs"), (archivist, "ours")):
        exp = scenario(module, f"{folder}/project.json")
        exp.log_artifact(name="features", value=[1, 2], handler="json")
        exp.tests[0].log_artifact(name="sample", value={"a": 1}, handler="json")
        project = module.Project(f"{folder}/project.json", mode="w")
        project.experiments.append(exp)
        project.save()

    def layout(folder: str) -> list[str]:
        root = tmp_path / folder
        return sorted(
            str(p.relative_to(root))
            for p in root.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )

    # Each library names an artifact's file after the time it was logged, to the second: the
    # two runs may straddle a second, so each of their stamps is read as our matching file's.
    def unstamped(path: str) -> str:
        return re.sub(r"-\d{14}\.", "-STAMP.", path)

    ours_files, theirs_files = layout("ours"), layout("theirs")
    assert [unstamped(p) for p in ours_files] == [unstamped(p) for p in theirs_files]
    clock: dict[str, str] = {}
    for ours_path, theirs_path in zip(ours_files, theirs_files, strict=True):
        for mine, other in zip(
            re.findall(r"-(\d{14})\.", ours_path),
            re.findall(r"-(\d{14})\.", theirs_path),
            strict=True,
        ):
            assert abs(int(mine) - int(other)) <= 60  # the same minute, give or take one
            clock[other] = mine
            when = "%Y%m%d%H%M%S"
            clock[datetime.strptime(other, when).isoformat()] = datetime.strptime(
                mine, when
            ).isoformat()
    text = (tmp_path / "theirs" / "project.json").read_text()
    for other, mine in clock.items():
        text = text.replace(other, mine)
    ours = json.loads((tmp_path / "ours" / "project.json").read_text())
    theirs = json.loads(text)
    for entry in ours:  # archivist's additive fields: digest and size
        for artifact in [*entry["artifacts"], *entry["tests"][0]["artifacts"]]:
            artifact.pop("sha256")
            artifact.pop("size")
    assert ours == theirs
    ours_exp = archivist.Project("theirs/project.json", mode="r")["my-experiment"]
    theirs_exp = lazyscribe.Project("ours/project.json", mode="r")["my-experiment"]
    assert ours_exp.load_artifact("features") == theirs_exp.load_artifact("features")
    assert ours_exp.tests[0].load_artifact("sample") == {"a": 1}
    assert theirs_exp.tests[0].load_artifact("sample") == {"a": 1}


def test_same_errors_for_unknown_experiments() -> None:
    for module in (lazyscribe, archivist):
        project = module.Project("project.json", mode="w")
        with pytest.raises(KeyError):
            project["missing"]


def test_artifact_objects_have_lazyscribe_attributes() -> None:
    ours, theirs = scenario(archivist), scenario(lazyscribe)
    for exp in (ours, theirs):
        exp.log_artifact(name="features", value=[1], handler="json")
    mine, other = ours.artifacts[0], theirs.artifacts[0]
    for attribute in ("name", "fname", "value", "alias", "suffix", "binary", "output_only"):
        assert getattr(mine, attribute) == getattr(other, attribute), attribute
    assert mine.dirty and other.dirty


def test_artifact_guide_experiment_parts() -> None:
    from archivist import Project

    project = Project(fpath="project.json", mode="w")
    with project.log("My experiment") as exp:
        assert exp.path == Path(f"./my-experiment-{exp.created_at:%Y%m%d%H%M%S}")
        exp.log_artifact(name="estimator", value={"weights": [1, 2]}, handler="pickle")
    # Unless you log an artifact, this directory will not be created automatically
    assert not exp.path.exists()
    project.save()
    assert exp.path.is_dir()

    project = Project("project.json", mode="r")
    exp = project["my-experiment"]
    model = exp.load_artifact(name="estimator")
    assert model == {"weights": [1, 2]}
    model = exp.load_artifact(name="estimator", validate=False)
    assert model == {"weights": [1, 2]}


def test_version_artifacts_guide_experiment_parts() -> None:
    from archivist import Project, Repository

    project = Project("project.json")
    with project.log("my-experiment") as exp:
        exp.log_artifact(name="features", value=[0, 1, 2], handler="json", indent=4)

    project.save()

    project = Project("project.json", mode="r")
    repository = Repository("repository.json")

    project["my-experiment"].promote_artifact(repository, "features")

    assert Repository("repository.json", mode="r").load_artifact("features") == [0, 1, 2]


@pytest.mark.parametrize(
    ("theirs", "ours"),
    [
        (lazyscribe.experiment.Experiment, archivist.experiment.Experiment),
        (lazyscribe.test.Test, archivist.test.Test),
        (lazyscribe.project.Project, archivist.project.Project),
    ],
    ids=["Experiment", "Test", "Project"],
)
def test_signatures_accept_lazyscribe_calls(theirs: type, ours: type) -> None:
    """Every parameter of lazyscribe's methods exists, and positional ones in its order."""
    import inspect

    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    for name in ["__init__", *(n for n in dir(theirs) if not n.startswith("_"))]:
        method = getattr(theirs, name)
        if isinstance(method, property | type) or not callable(method):
            continue
        their_parameters = inspect.signature(method).parameters.values()
        our_parameters = inspect.signature(getattr(ours, name)).parameters
        for parameter in their_parameters:
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                continue
            assert parameter.name in our_parameters, f"{name}({parameter.name}=...)"
        their_order = [p.name for p in their_parameters if p.kind is positional]
        our_order = [p.name for p in our_parameters.values() if p.kind is positional]
        assert our_order[: len(their_order)] == their_order, name


@pytest.mark.parametrize(
    "module_name",
    ["lazyscribe", "lazyscribe.experiment", "lazyscribe.project", "lazyscribe.test"],
)
def test_module_names_have_counterparts(module_name: str) -> None:
    import importlib

    theirs = importlib.import_module(module_name)
    ours = importlib.import_module("archivist" + module_name.removeprefix("lazyscribe"))
    names = set(getattr(theirs, "__all__", ())) | {
        name
        for name in dir(theirs)
        if not name.startswith("_")
        and getattr(getattr(theirs, name), "__module__", None) == theirs.__name__
    }
    assert names
    assert sorted(name for name in names if not hasattr(ours, name)) == []
