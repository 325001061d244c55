"""lazyscribe's tutorial "Creating a basic project" (tutorials/basic.py), under both libraries.

The same code fits a model, logs its score and prints the project as sorted JSON: the same
document but for the times (and the slug made of one).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lazyscribe
import pytest
from sklearn.datasets import make_classification
from sklearn.svm import SVC

import archivist

VOLATILE = {"created_at", "last_updated", "slug"}


def tutorial(lib: Any, folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    folder.mkdir()
    monkeypatch.chdir(folder)
    X, y = make_classification(n_samples=1000, n_features=10, random_state=0)
    project = lib.Project(fpath="project.json", author="The Best")
    with project.log(name="Base performance") as exp:
        model = SVC(kernel="linear")
        model.fit(X, y)
        exp.log_metric("score", model.score(X, y))
    printed = json.dumps(list(project), indent=4, sort_keys=True)
    project.save()
    return printed


def test_the_basic_tutorial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (theirs,) = json.loads(tutorial(lazyscribe, tmp_path / "theirs", monkeypatch))
    (ours,) = json.loads(tutorial(archivist, tmp_path / "ours", monkeypatch))
    assert sorted(ours) == sorted(theirs)
    assert {k: v for k, v in ours.items() if k not in VOLATILE} == {
        k: v for k, v in theirs.items() if k not in VOLATILE
    }
    assert ours["author"] == "The Best"
    assert 0.5 < ours["metrics"]["score"] <= 1.0
    saved = archivist.Project(str(tmp_path / "theirs" / "project.json"), mode="r")
    assert saved["base-performance"].metrics == {"score": theirs["metrics"]["score"]}
