"""lazyscribe's how-to "Filter experiments" (docs/how-to/filter.rst), import changed only."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_filter_guide() -> None:
    from archivist import Experiment, Project

    project = Project(fpath="project.json", mode="w")

    with project.log(name="My first experiment") as exp:
        exp.log_metric("metric", 0.75)
        exp.log_parameter("build_period", "10M")

    with project.log(name="My second experiment") as exp:
        exp.log_metric("metric", 0.8)
        exp.log_parameter("build_period", "6M")

    with project.log(name="My third experiment") as exp:
        exp.log_metric("metric", 0.9)
        exp.log_parameter("build_period", "6M")

    out_ = list(project.filter(func=lambda x: x.parameters["build_period"] == "6M"))

    assert [e.name for e in out_] == ["My second experiment", "My third experiment"]
    assert all(isinstance(e, Experiment) for e in out_)


def test_filter_matches_lazyscribe_on_a_saved_project() -> None:
    from lazyscribe import Project as LazyscribeProject

    from archivist import Project

    project = Project(fpath="project.json", mode="w")
    for name, period in [("a", "10M"), ("b", "6M"), ("c", "6M")]:
        with project.log(name=name) as exp:
            exp.log_parameter("build_period", period)
    project.save()

    def six_months(exp: object) -> bool:
        return exp.parameters["build_period"] == "6M"  # type: ignore[attr-defined, no-any-return]

    ours = [e.to_dict() for e in Project("project.json", mode="r").filter(func=six_months)]
    theirs = [e.to_dict() for e in LazyscribeProject("project.json", mode="r").filter(six_months)]
    assert ours == theirs
