"""lazyscribe-joblib next to archivist's core: the same code under both libraries.

A lazyscribe user has ``lazyscribe-joblib`` installed; archivist adapts its ``joblib``
handler. Files lazyscribe writes with it load in archivist, files archivist writes load in
lazyscribe, and both record the same fields (``package``, ``package_version``,
``joblib_version``) and check them on load as lazyscribe does. With archivist's core alone
(the ``lazyscribe_plugins`` session) ``handler="joblib"`` is lazyscribe-joblib's adapter,
found through its entry point, and these tests use it as it is; where archivist-joblib is
installed too (the full test run), that one wins, and these tests choose lazyscribe-joblib's
as its user would, with ``archivist.register(..., override=True)`` (see ``_plugins.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lazyscribe
import lazyscribe.exception
import numpy as np
import pytest
from lazyscribe_joblib import JoblibArtifact
from sklearn.linear_model import LinearRegression
from tests.compat._plugins import check_alias, lazyscribe_s

import archivist
import archivist.exception
from archivist.errors import ArchivistWarning

LIBRARIES = (lazyscribe, archivist)
X = np.array([[1.0], [2.0], [3.0]])


#: The distribution of the handler class, and the archivist plugin that claims its alias too.
PROVIDER, RIVAL = "lazyscribe-joblib", "archivist-joblib"


@pytest.fixture
def lazyscribe_joblib() -> Iterator[None]:
    """Make ``handler="joblib"`` lazyscribe-joblib's, as its user has it."""
    with lazyscribe_s(JoblibArtifact, PROVIDER, RIVAL):
        yield


def test_the_alias_is_lazyscribe_joblib_s_unless_archivist_joblib_is_installed() -> None:
    check_alias("joblib", JoblibArtifact, PROVIDER, RIVAL)


def model() -> LinearRegression:
    return LinearRegression().fit(X, np.array([1.0, 2.0, 3.5]))


def load(lib: Any, path: Path, writer: Any, **kwargs: Any) -> Any:
    repository = lib.Repository(str(path), mode="r")
    if lib is archivist and writer is lazyscribe:  # no digest, and joblib runs code
        with pytest.warns(ArchivistWarning, match="no recorded digest"):
            return repository.load_artifact("model", **kwargs)
    return repository.load_artifact("model", **kwargs)


def write_repository(lib: Any, path: Path) -> dict[str, Any]:
    repository = lib.Repository(str(path), mode="w")
    repository.log_artifact(name="model", value=model(), handler="joblib")
    repository.save()
    (record,) = json.loads(path.read_text())
    assert isinstance(record, dict)
    return record


@pytest.mark.usefixtures("lazyscribe_joblib")
@pytest.mark.parametrize("writer", LIBRARIES, ids=lambda lib: lib.__name__)
def test_a_repository_file_loads_in_both(tmp_path: Path, writer: Any) -> None:
    path = tmp_path / "repository.json"
    record = write_repository(writer, path)
    assert record["package"] == "sklearn"
    expected = model().predict(X)
    for reader in LIBRARIES:
        loaded = load(reader, path, writer)
        assert isinstance(loaded, LinearRegression)
        np.testing.assert_allclose(loaded.predict(X), expected)


@pytest.mark.usefixtures("lazyscribe_joblib")
def test_both_record_the_same_fields(tmp_path: Path) -> None:
    theirs = write_repository(lazyscribe, tmp_path / "theirs" / "repository.json")
    ours = write_repository(archivist, tmp_path / "ours" / "repository.json")
    assert set(ours) == set(theirs) | {"sha256", "blake3", "size"}
    for key in ("handler", "package", "package_version", "joblib_version"):
        assert ours[key] == theirs[key], key
    assert ours["fname"].endswith(".joblib")


@pytest.mark.usefixtures("lazyscribe_joblib")
@pytest.mark.parametrize("writer", LIBRARIES, ids=lambda lib: lib.__name__)
def test_another_package_version_fails_in_both(tmp_path: Path, writer: Any) -> None:
    path = tmp_path / "repository.json"
    record = write_repository(writer, path)
    record["package_version"] = "0.0.1"
    path.write_text(json.dumps([record]))
    with pytest.raises(lazyscribe.exception.ArtifactLoadError):
        lazyscribe.Repository(str(path), mode="r").load_artifact("model")
    with pytest.raises(archivist.exception.ArtifactLoadError, match="package_version"):
        archivist.Repository(str(path), mode="r").load_artifact("model")
    # both load anyway when asked not to validate
    assert isinstance(
        lazyscribe.Repository(str(path), mode="r").load_artifact("model", validate=False),
        LinearRegression,
    )
    with pytest.warns(ArchivistWarning, match="package_version"):
        loaded = archivist.Repository(str(path), mode="r").load_artifact("model", validate=False)
    assert isinstance(loaded, LinearRegression)


@pytest.mark.usefixtures("lazyscribe_joblib")
@pytest.mark.parametrize("writer", LIBRARIES, ids=lambda lib: lib.__name__)
def test_an_experiment_artifact_loads_in_both(tmp_path: Path, writer: Any) -> None:
    path = tmp_path / "project.json"
    project = writer.Project(str(path), mode="w")
    with project.log("fit") as exp:
        exp.log_artifact(name="model", value=model(), handler="joblib")
    assert isinstance(exp.artifacts[0], JoblibArtifact)  # the handler object, as in lazyscribe
    project.save()
    expected = model().predict(X)
    for reader in LIBRARIES:
        experiment = reader.Project(str(path), mode="r")["fit"]
        assert isinstance(experiment.artifacts[0], JoblibArtifact), reader.__name__
        assert experiment.artifacts[0].package == "sklearn"
        if reader is archivist and writer is lazyscribe:
            with pytest.warns(ArchivistWarning, match="no recorded digest"):
                loaded = experiment.load_artifact("model")
        else:
            loaded = experiment.load_artifact("model")
        np.testing.assert_allclose(loaded.predict(X), expected)
