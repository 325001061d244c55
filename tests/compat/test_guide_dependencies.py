"""lazyscribe's how-to "Specify cross-project dependencies" (docs/how-to/dependencies.rst).

Run with the import changed only: a stored ``"<project>|<slug>"`` dependency shows as the
upstream experiment under its short slug, and one added in python is stored as lazyscribe
stores it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lazyscribe import Project as LazyscribeProject

UPSTREAM: dict[str, Any] = {
    "author": "Me",
    "created_at": "2022-01-01T09:30:00",
    "last_updated": "2022-01-01T09:30:00",
    "last_updated_by": "Me",
    "metrics": {"auroc": 0.4},
    "name": "My experiment",
    "parameters": {},
    "short_slug": "my-experiment",
    "slug": "my-experiment-20220101093000",
    "tests": [],
    "artifacts": [],
}


def downstream(dependencies: list[str]) -> dict[str, Any]:
    return {
        **UPSTREAM,
        "name": "Base performance",
        "short_slug": "base-performance",
        "slug": "base-performance-20220102093000",
        "created_at": "2022-01-02T09:30:00",
        "last_updated": "2022-01-02T09:30:00",
        "dependencies": dependencies,
    }


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    Path("other-project.json").write_text(json.dumps([UPSTREAM]))
    return tmp_path


def test_stored_dependency_is_the_upstream_experiment() -> None:
    Path("project.json").write_text(
        json.dumps([downstream(["other-project.json|my-experiment-20220101093000"])])
    )
    from archivist import Project

    project = Project("project.json", mode="r")
    exp = project["base-performance"]

    assert "my-experiment" in exp.dependencies
    upstream = exp.dependencies["my-experiment"]
    assert upstream.slug == "my-experiment-20220101093000"
    assert upstream.metrics == {"auroc": 0.4}
    lazy = LazyscribeProject("project.json", mode="r")["base-performance"]
    assert list(exp.dependencies) == list(lazy.dependencies)
    assert exp.to_dict()["dependencies"] == lazy.to_dict()["dependencies"]


def test_add_a_dependency_in_python(in_tmp: Path) -> None:
    Path("project.json").write_text(json.dumps([downstream([])]))
    from archivist import Project

    myproject = Project("project.json", mode="w+")
    otherproject = Project("other-project.json")

    exp = myproject["base-performance"]
    exp.dependencies["my-experiment"] = otherproject["my-experiment"]

    myproject.save()
    [entry] = json.loads((in_tmp / "project.json").read_text())
    assert entry["dependencies"] == ["other-project.json|my-experiment-20220101093000"]
    assert LazyscribeProject("project.json", mode="r")["base-performance"].dependencies[
        "my-experiment"
    ].metrics == {"auroc": 0.4}


def test_a_missing_upstream_project_does_not_stop_loading() -> None:
    Path("project.json").write_text(
        json.dumps([downstream(["moved-project.json|my-experiment-20220101093000"])])
    )
    from archivist import Project
    from archivist.errors import RepositoryNotFoundError

    exp = Project("project.json", mode="r")["base-performance"]
    assert "my-experiment" in exp.dependencies
    with pytest.raises(RepositoryNotFoundError, match=r"moved-project\.json"):
        exp.dependencies["my-experiment"]
    assert exp.to_dict()["dependencies"] == ["moved-project.json|my-experiment-20220101093000"]


def test_registry_keys_are_used() -> None:
    from archivist import Project
    from archivist.registry import registry

    upstream = Project("other-project.json", mode="r")
    registry.add_project("upstream", upstream)
    try:
        Path("project.json").write_text(json.dumps([downstream([])]))
        project = Project("project.json", mode="w+")
        project["base-performance"].dependencies["my-experiment"] = upstream["my-experiment"]
        assert project["base-performance"].to_dict()["dependencies"] == [
            "upstream|my-experiment-20220101093000"
        ]
        project.save()
        reread = Project("project.json", mode="r")["base-performance"]
        assert reread.dependencies["my-experiment"] is upstream["my-experiment"]
    finally:
        registry.projects.pop("upstream")
