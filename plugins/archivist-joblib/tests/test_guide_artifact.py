"""lazyscribe's "Save and examine experiment artifacts" guide: its joblib estimator.

The guide's code, with only the import changed; the rest of the page runs in the core's
``tests/compat/test_guide_artifact.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_joblib_estimator_then_load_with_and_without_validation() -> None:
    from sklearn.svm import SVC

    from archivist import Project

    project = Project(fpath="project.json", mode="w")
    with project.log("My experiment") as exp:
        X, y = [[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]], [0, 1, 1, 0]
        model = SVC()
        model.fit(X, y)
        exp.log_artifact(name="estimator", value=model, handler="joblib")
    # artifacts are not persisted until the project is saved
    assert not Path(exp.path).exists()
    project.save()
    assert len(os.listdir(exp.path)) == 1

    from archivist import Project

    project = Project("project.json", mode="r")
    exp = project["my-experiment"]
    model = exp.load_artifact(name="estimator")
    assert list(model.predict([[1.0, 1.0]])) == [1]

    model = exp.load_artifact(name="estimator", validate=False)
    assert list(model.predict([[0.0, 0.0]])) == [0]
