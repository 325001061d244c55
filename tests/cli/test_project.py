"""``archivist project ls|show|diff|promote``, through a subprocess."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from tests.cli.conftest import Run

from archivist import Project, Repository


def _make_project(tmp_path: Path, gap: float = 0.0) -> Path:
    """A project folder: 'baseline' (a metric, a parameter, a test, an artifact), 'better'.

    ``gap`` seconds pass between the two experiments (their times are kept to the second).
    """
    folder = tmp_path / "proj"
    made = Project(folder / "project.json", mode="w")
    with made.log("baseline") as experiment:
        experiment.log_metric("auc", 0.9)
        experiment.log_parameter("lr", 0.1)
        experiment.log_artifact(name="features", value=["age", "income"], handler="json")
        with experiment.log_test("holdout") as test:
            test.log_metric("auc", 0.8)
    made.save()
    time.sleep(gap)
    with made.log("better") as experiment:
        experiment.log_metric("auc", 0.95)
        experiment.log_parameter("lr", 0.1)
        experiment.log_artifact(name="features", value=["age", "income"], handler="json")
    made.save()
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder: 'baseline' (a metric, a parameter, a test, an artifact), 'better'."""
    return _make_project(tmp_path)


def test_ls_lists_every_experiment(project: Path, run: Run) -> None:
    rows = json.loads(run("project", "ls", str(project), "--json").stdout)
    assert [row["short_slug"] for row in rows] == ["baseline", "better"]
    assert rows[0]["metrics"] == {"auc": 0.9} and rows[0]["tests"] == ["holdout"]
    assert rows[0]["artifacts"] == ["features"]
    out = run("project", "ls", str(project / "project.json")).stdout
    assert "baseline-" in out and "auc=0.9" in out


def test_project_left_out_is_found_from_a_folder_below(project: Path, run: Run) -> None:
    below = project / "deeper"
    below.mkdir()
    assert "better-" in run("project", "ls", cwd=below).stdout
    assert json.loads(run("project", "show", "better", "--json", cwd=below).stdout)["name"] == (
        "better"
    )


def test_show_prints_metrics_parameters_tests_artifacts(project: Path, run: Run) -> None:
    out = run("project", "show", str(project), "baseline").stdout
    for words in ("auc: 0.9", "lr: 0.1", "holdout: metrics auc=0.8", "features: json"):
        assert words in out, words
    data = json.loads(run("project", "show", str(project), "baseline", "--json").stdout)
    assert data["parameters"] == {"lr": 0.1} and data["tests"][0]["name"] == "holdout"


def test_show_of_a_missing_experiment_lists_the_experiments(project: Path, run: Run) -> None:
    err = run("project", "show", str(project), "nope", code=1).stderr
    assert "baseline" in err and err.count("\n") == 1


def test_diff_lists_what_differs(project: Path, run: Run) -> None:
    out = run("project", "diff", str(project), "baseline", "better").stdout
    assert "metrics.auc: 0.9 -> 0.95" in out and "tests.holdout.metrics.auc: 0.8 -> null" in out
    assert "parameters.lr" not in out and "artifacts.features" not in out  # equal
    document = json.loads(
        run("project", "diff", str(project), "baseline", "better", "--json").stdout
    )
    assert document["changes"]["metrics.auc"] == [0.9, 0.95]
    run("project", "diff", str(project), "baseline", "better", "--exit-code", code=1)
    same = run("project", "diff", str(project), "better", "better", "--exit-code").stdout
    assert "the same" in same


def test_promote_copies_the_file_into_a_repository(repo: Path, run: Run, tmp_path: Path) -> None:
    # An experiment keeps its times to the second, and only an artifact newer than the
    # repository's latest version may be promoted: the experiments come a second later.
    time.sleep(1.0)
    project = _make_project(tmp_path, gap=1.0)
    out = run("project", "promote", str(project), "baseline", "features", "--to", str(repo)).stdout
    assert "version 2" in out
    repository = Repository(repo / "repository.json")
    assert repository.load_artifact("features") == ["age", "income"]
    assert repository.get_artifact_metadata("features")["source"]["experiment"].startswith(
        "baseline-"
    )
    # the repository is found from the current folder when --to is left out
    run("project", "promote", str(project), "better", "features", cwd=repo)
    assert Repository(repo / "repository.json").versions("features") == [0, 1, 2, 3]


def test_promote_into_a_missing_repository_changes_nothing(
    project: Path, run: Run, tmp_path: Path
) -> None:
    err = run("project", "promote", str(project), "baseline", "features", "--to", "nowhere", code=1)
    assert "no repository at" in err.stderr and not (tmp_path / "nowhere").exists()


def test_a_manifest_given_as_project_names_ls(repo: Path, run: Run) -> None:
    err = run("project", "ls", str(repo / "repository.json"), code=1).stderr
    assert "repository manifest" in err and "archivist ls" in err


def test_no_project_anywhere(run: Run, tmp_path: Path) -> None:
    err = run("project", "ls", cwd=tmp_path, code=1).stderr
    assert "no project.json in" in err and "mode" not in err
