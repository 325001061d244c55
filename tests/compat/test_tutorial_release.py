"""lazyscribe's tutorial "Create deployment releases" (tutorials/release.py), both libraries.

The same code, with its ``time_machine`` travels: fit and log a model, create and dump a
release, log a newer model, find the release again and load the model it pins, then create
the next release from a ``pyproject.toml``. Both libraries pin and load the same versions.
The release ``release_from_toml`` makes is tagged ``0.2.0`` by lazyscribe 2.2.2 and
``v0.2.0`` by archivist (the tag form both document; a release recorded under the bare
version is the same release to archivist's lookups).
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from pathlib import Path
from typing import Any

import lazyscribe
import lazyscribe.release
import time_machine
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

import archivist
import archivist.release

UTC = zoneinfo.ZoneInfo("UTC")
LIBRARIES = ((lazyscribe, lazyscribe.release), (archivist, archivist.release))


def tutorial(lib: Any, lzr: Any, tmpdir: Path) -> dict[str, Any]:
    repository = lib.Repository(tmpdir / "repository.json", mode="w")
    with time_machine.travel(datetime(2025, 12, 8, 0, 0, tzinfo=UTC), tick=False):
        X, y = make_classification(n_samples=1000, n_features=10, random_state=0)
        model = SVC(kernel="linear")
        model.fit(X, y)
        repository.log_artifact("model", model, handler="pickle")
        repository.log_artifact("features", list(range(10)), handler="json", indent=4)
        repository.save()
        saved_ = lib.Repository(tmpdir / "repository.json", mode="r")
        release = lzr.create_release(saved_, "v0.1.0")
    with open(tmpdir / "releases.json", "w") as outfile:
        lzr.dump([release], outfile, indent=4)
    with time_machine.travel(datetime(2025, 12, 25, 0, 0, tzinfo=UTC), tick=False):
        modelv1 = LogisticRegression()
        modelv1.fit(X, y)
        repository.log_artifact("model", modelv1, handler="pickle")
    repository.save()
    saved_ = lib.Repository(tmpdir / "repository.json", mode="r")
    with open(tmpdir / "releases.json") as infile:
        releases = lzr.load(infile)
    my_release = lzr.find_release(releases, "v0.1.0")
    filtered_ = saved_.filter(my_release.artifacts)
    first_model_ = filtered_.load_artifact(name="model")
    with time_machine.travel(datetime(2025, 12, 31, 0, 0, tzinfo=UTC), tick=False):
        pyproject_data_ = f"""
        [project]
        name = "my-complex-deployment"
        version = "0.2.0"

        [tool.lazyscribe]
        repositories = [
            "{tmpdir / "repository.json"}"
        ]
        """
        lzr.release_from_toml(pyproject_data_)
    with open(tmpdir / "releases.json") as infile:
        releases = lzr.load(infile)
    return {
        "pinned": sorted((name, version) for name, version in release.artifacts),
        "first model": type(first_model_),
        "latest model": type(saved_.load_artifact("model")),
        "releases": [(r.tag.lstrip("v"), sorted(tuple(a) for a in r.artifacts)) for r in releases],
        "tags": [r.tag for r in releases],
        "created": [r.created_at for r in releases],
    }


def test_the_release_tutorial(tmp_path: Path) -> None:
    results = []
    for lib, lzr in LIBRARIES:
        folder = tmp_path / lib.__name__
        folder.mkdir()
        results.append(tutorial(lib, lzr, folder))
    theirs, ours = results
    assert theirs.pop("tags") == ["v0.1.0", "0.2.0"]
    assert ours.pop("tags") == ["v0.1.0", "v0.2.0"]
    assert ours == theirs
    assert ours["first model"] is SVC
    assert ours["latest model"] is LogisticRegression
