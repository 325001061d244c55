"""lazyscribe's tutorial "Creating a basic repository" (tutorials/repository.py), both libraries.

The same code logs two model versions, saves after each, and loads the latest and version 0
back; each library then reads the other's repository to the same models.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import lazyscribe
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

import archivist
from archivist.errors import ArchivistWarning

X, Y = make_classification(n_samples=1000, n_features=10, random_state=0)


def tutorial(lib: Any, tmpdir: Path) -> tuple[Any, Any]:
    model = SVC(kernel="linear")
    model.fit(X, Y)
    repository = lib.Repository(tmpdir / "repository.json", mode="w")
    repository.log_artifact("model", model, handler="pickle")
    repository.save()
    repository_read = lib.Repository(tmpdir / "repository.json", mode="r")
    repository_read.load_artifact("model")
    time.sleep(1.1)  # lazyscribe names and times versions to the second
    modelv1 = LogisticRegression()
    modelv1.fit(X, Y)
    repository.log_artifact("model", modelv1, handler="pickle")
    repository.save()
    repository_read = lib.Repository(tmpdir / "repository.json", mode="r")
    latest = repository_read.load_artifact("model")
    first = repository_read.load_artifact("model", version=0)
    return latest, first


def same_predictions(models: tuple[Any, Any], kinds: tuple[type, type]) -> None:
    for model, kind in zip(models, kinds, strict=True):
        assert isinstance(model, kind)
    assert not np.array_equal(models[0].predict_proba(X[:5]), np.zeros((5, 2)))


def test_the_repository_tutorial(tmp_path: Path) -> None:
    kinds = (LogisticRegression, SVC)
    for lib in (lazyscribe, archivist):
        folder = tmp_path / lib.__name__
        folder.mkdir()
        same_predictions(tutorial(lib, folder), kinds)
    # each reads the other's repository
    ours = lazyscribe.Repository(tmp_path / "archivist" / "repository.json", mode="r")
    assert isinstance(ours.load_artifact("model", version=0), SVC)
    theirs = archivist.Repository(tmp_path / "lazyscribe" / "repository.json", mode="r")
    with pytest.warns(ArchivistWarning, match="no recorded digest"):
        assert isinstance(theirs.load_artifact("model"), LogisticRegression)
