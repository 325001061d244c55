"""lazyscribe's how-to "Create a basic project" (docs/how-to/basic.rst), import changed only.

The guide's ``...`` placeholders are filled with a metric and a parameter; the project is
then saved and read back by archivist and by lazyscribe 2.2.2.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lazyscribe import Project as LazyscribeProject


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_basic_guide(in_tmp: Path) -> None:
    from archivist import Project

    project = Project()

    with project.log(name="My experiment") as exp:
        exp.log_metric("auc", 0.5)
        exp.log_parameter("depth", 3)

    from archivist import Experiment

    exp = Experiment(name="My experiment", project=project.fpath, author=project.author)
    exp.log_metric("auc", 0.7)
    exp.log_parameter("depth", 4)
    exp.log_artifact(name="features", value=["a", "b"], handler="json")
    project.experiments.append(exp)

    project.save()

    reread = Project("project.json", mode="r")
    assert [e.metrics["auc"] for e in reread.experiments] == [0.5, 0.7]
    assert reread.experiments[1].load_artifact("features") == ["a", "b"]
    # the standalone experiment's files went into the project's folder, as for project.log
    assert (in_tmp / exp.slug).is_dir()
    assert exp.path == Path(exp.slug)
    lazy = LazyscribeProject("project.json", mode="r")
    assert [e.metrics for e in lazy.experiments] == [{"auc": 0.5}, {"auc": 0.7}]
    assert lazy.experiments[1].load_artifact("features") == ["a", "b"]


def test_experiment_defaults_match_lazyscribe() -> None:
    from lazyscribe import Experiment as LazyscribeExperiment

    from archivist import Experiment

    ours = Experiment(name="My experiment", project=Path("project.json"), author="ada")
    theirs = LazyscribeExperiment(
        name="My experiment",
        project=Path("project.json"),
        author="ada",
        created_at=ours.created_at,
        last_updated=ours.last_updated,
    )
    for attribute in ("name", "short_slug", "slug", "author", "last_updated_by", "dirty"):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    assert ours.path == theirs.path
    assert ours.dir == theirs.dir
    assert ours.project == theirs.project
    assert isinstance(ours.path, Path)
    assert ours.fs.protocol == theirs.fs.protocol
