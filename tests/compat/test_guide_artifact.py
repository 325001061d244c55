"""lazyscribe's "Save and examine experiment artifacts" guide, run with only the import changed.

Its joblib estimator runs with the joblib plugin, in ``plugins/archivist-joblib/tests``.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_persistence_path() -> None:
    from archivist import Project

    project = Project(fpath="project.json", mode="w")
    with project.log("My experiment") as exp:
        exp.path  # noqa: B018 - the guide's line

    # "./my-experiment-YYYYMMDDHHMMSS", created only when an artifact is logged
    assert Path(exp.path).name == exp.slug
    assert exp.slug.startswith("my-experiment-")
    assert not Path(exp.path).exists()


def test_builtin_artifact_classes_are_importable() -> None:
    from archivist.artifacts import Artifact, JSONArtifact, PickleArtifact

    assert issubclass(JSONArtifact, Artifact) and JSONArtifact.alias == "json"
    assert issubclass(PickleArtifact, Artifact) and PickleArtifact.alias == "pickle"
