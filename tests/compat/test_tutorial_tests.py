"""lazyscribe's tutorial "Logging non-global metrics and artifacts with tests" (tutorials/tests.py).

The same code under both libraries logs a test with a metric, a parameter and an artifact,
saves the project, prints the test and loads the artifact back in a later session; each
library also reads the other's project.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lazyscribe
from sklearn.datasets import make_classification
from sklearn.svm import SVC

import archivist

X, Y = make_classification(n_samples=1000, n_features=10, random_state=0)
X_SUB, Y_SUB = X[800:], Y[800:]


def tutorial(lib: Any, tmpdir: Path) -> tuple[dict[str, Any], Any]:
    project = lib.Project(fpath=tmpdir / "project.json", mode="w")
    with project.log(name="base-performance") as exp:
        model = SVC(kernel="linear", random_state=0)
        model.fit(X, Y)
        exp.log_metric("score", model.score(X, Y))
        with exp.log_test(name="subpopulation-a") as test:
            sub_score = model.score(X_SUB, Y_SUB)
            predictions = model.predict(X_SUB).tolist()
            test.log_metric("score", sub_score)
            test.log_parameter("n_samples", len(Y_SUB))
            test.log_artifact(name="predictions", value=predictions, handler="json")
    project.save()
    exp_data = project["base-performance"]
    test_data = exp_data.tests[0]
    printed = json.loads(json.dumps(test_data.to_dict(), indent=4, default=str))
    project_read = lib.Project(fpath=tmpdir / "project.json", mode="r")
    loaded_predictions = project_read["base-performance"].tests[0].load_artifact("predictions")
    return printed, loaded_predictions


def test_the_tests_tutorial(tmp_path: Path) -> None:
    results = {}
    for lib in (lazyscribe, archivist):
        folder = tmp_path / lib.__name__
        folder.mkdir()
        results[lib.__name__] = tutorial(lib, folder)
    (their_test, their_predictions) = results["lazyscribe"]
    (our_test, our_predictions) = results["archivist"]
    assert our_predictions == their_predictions
    assert len(our_predictions) == len(Y_SUB)
    for key in ("name", "metrics", "parameters"):
        assert our_test[key] == their_test[key], key
    assert [a["name"] for a in our_test["artifacts"]] == ["predictions"]
    assert [a["name"] for a in their_test["artifacts"]] == ["predictions"]
    # each library loads the other's test artifact
    for reader, writer in ((lazyscribe, "archivist"), (archivist, "lazyscribe")):
        project = reader.Project(fpath=tmp_path / writer / "project.json", mode="r")
        assert project["base-performance"].tests[0].load_artifact("predictions") == (
            our_predictions
        )
