"""lazyscribe's how-to "Run lazyscribe concurrently" (docs/how-to/concurrency.rst), project parts.

The guide's code with the import changed only: experiments logged from threads, projects
sent to worker processes (pickled) and merged back, and tests logged from threads.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from archivist import Experiment, Project


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_experiments_from_threads() -> None:
    project = Project("project.json", mode="w")

    def _closure(project: Project, name: str, metric: float) -> None:
        with project.log(name) as exp:
            exp.log_metric("metric", metric)

    threads = [
        threading.Thread(target=_closure, args=(project, *params))
        for params in [
            ("First experiment", 0.5),
            ("Second experiment", 0.75),
            ("Third experiment", 1.0),
        ]
    ]

    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert project["second-experiment"].metrics == {"metric": 0.75}
    assert len(project.experiments) == 3


def _closure(project: Project, name: str, metric: float) -> Project:
    with project.log(name) as exp:
        exp.log_metric("metric", metric)

    return project


def test_projects_from_processes(in_tmp: Path) -> None:
    project = Project("project.json", mode="w")

    with ProcessPoolExecutor(max_workers=2) as ppe:
        futures = [
            ppe.submit(_closure, project, *params)
            for params in [
                ("First experiment", 0.5),
                ("Second experiment", 0.75),
                ("Third experiment", 1.0),
            ]
        ]
        outputs_ = [f.result() for f in futures]

    project = project.merge(*outputs_)

    assert project["second-experiment"].metrics == {"metric": 0.75}
    project.save()
    stored = json.loads((in_tmp / "project.json").read_text())
    assert sorted(e["name"] for e in stored) == [
        "First experiment",
        "Second experiment",
        "Third experiment",
    ]


def test_tests_from_threads() -> None:
    project = Project("project.json", mode="w")

    def _closure(experiment: Experiment, name: str, metric: float) -> None:
        with experiment.log_test(name) as test:
            test.log_metric("metric", metric)

    with project.log(name="My experiment") as exp:
        threads = [
            threading.Thread(target=_closure, args=(exp, *params))
            for params in [
                ("Subpopulation 1", 0.5),
                ("Subpopulation 2", 0.75),
                ("Subpopulation 3", 1.0),
            ]
        ]

        for t in threads:
            t.start()
        for t in threads:
            t.join()

    assert sorted(t.name for t in project["my-experiment"].tests) == [
        "Subpopulation 1",
        "Subpopulation 2",
        "Subpopulation 3",
    ]


def test_a_pickled_project_keeps_saving_to_its_file(in_tmp: Path) -> None:
    import pickle

    project = Project("project.json", mode="w")
    with project.log("My experiment") as exp:
        exp.log_artifact("features", [1], handler="json")
    clone = pickle.loads(pickle.dumps(project))
    assert clone.experiments == project.experiments
    clone.save()
    assert Project("project.json", mode="r")["my-experiment"].load_artifact("features") == [1]
