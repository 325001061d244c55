"""lazyscribe's how-to "Open existing projects" (docs/how-to/readonly.rst), import changed only.

The guide describes three modes; each statement of it is one check here. lazyscribe refuses
attribute changes on read-only experiments with attrs' ``FrozenInstanceError``; archivist
raises :class:`~archivist.errors.ReadOnlyExperimentError`, a subclass of it and of
:class:`~archivist.errors.ReadOnlyError`.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from archivist import Project
from archivist.errors import ReadOnlyError
from archivist.experiment import Experiment, ReadOnlyExperiment
from archivist.test import ReadOnlyTest, Test


@pytest.fixture(autouse=True)
def saved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    project = Project("project.json", mode="w", author="ada")
    with project.log("My experiment") as exp, exp.log_test("My test") as test:
        exp.log_metric("metric", 0.5)
        test.log_metric("metric", 0.4)
    project.save()
    return tmp_path / "project.json"


def test_read_only_mode() -> None:
    project = Project("project.json", mode="r")
    exp = project["my-experiment"]
    assert isinstance(exp, ReadOnlyExperiment)
    assert isinstance(exp.tests[0], ReadOnlyTest)
    # 1. set any attributes directly for an experiment
    for attribute, value in [
        ("name", "x"),
        ("slug", "x"),
        ("created_at", datetime(2020, 1, 1)),
        ("last_updated", datetime(2020, 1, 1)),
        ("metrics", {}),
        ("tags", ["x"]),
    ]:
        with pytest.raises(ReadOnlyError):
            setattr(exp, attribute, value)
    with pytest.raises(ReadOnlyError):
        exp.log_metric("metric", 1.0)
    with pytest.raises(ReadOnlyError):
        exp.tests[0].log_metric("metric", 1.0)
    with pytest.raises(ReadOnlyError):
        exp.metrics["metric"] = 1.0  # type: ignore[index]
    with pytest.raises(ReadOnlyError):
        exp.tests.append(Test("another"))  # type: ignore[attr-defined]
    assert json.loads(json.dumps(exp.metrics)) == {"metric": 0.5}
    # 2. save the project file
    with pytest.raises(ReadOnlyError):
        project.save()
    # 3. add any experiments to the project
    with pytest.raises(ReadOnlyError), project.log("Another"):
        pass


def test_append_mode(saved: Path) -> None:
    project = Project("project.json", mode="a")
    assert isinstance(project["my-experiment"], ReadOnlyExperiment)
    with project.log("Second experiment") as exp:
        exp.log_metric("metric", 0.6)
    project.save()
    assert [e["name"] for e in json.loads(saved.read_text())] == [
        "My experiment",
        "Second experiment",
    ]


def test_editable_mode(saved: Path) -> None:
    project = Project("project.json", mode="w+", author="bob")
    exp = project["my-experiment"]
    assert type(exp) is Experiment
    assert type(exp.tests[0]) is Test
    exp.log_parameter("features", ["col1"])
    exp.created_at = datetime(2022, 1, 1, 9, 30)
    project.save()
    [entry] = json.loads(saved.read_text())
    assert entry["parameters"] == {"features": ["col1"]}
    assert entry["created_at"] == "2022-01-01T09:30:00"
    # the note: last_updated_by becomes the author who opened the project in editable mode
    assert entry["last_updated_by"] == "bob"
    assert entry["author"] == "ada"


def test_same_as_lazyscribe_types(saved: Path) -> None:
    import lazyscribe.experiment
    import lazyscribe.test
    from lazyscribe import Project as LazyscribeProject

    ours = Project("project.json", mode="r")["my-experiment"]
    theirs = LazyscribeProject("project.json", mode="r")["my-experiment"]
    assert type(theirs) is lazyscribe.experiment.ReadOnlyExperiment
    assert type(theirs.tests[0]) is lazyscribe.test.ReadOnlyTest
    assert type(ours).__name__ == type(theirs).__name__
    assert type(ours.tests[0]).__name__ == type(theirs.tests[0]).__name__
