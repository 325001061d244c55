"""lazyscribe's how-to "Tag experiments" (docs/how-to/tag.rst), import changed only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_tag_guide(in_tmp: Path) -> None:
    from archivist import Project

    project = Project(fpath="project.json", mode="w")

    with project.log(name="My experiment") as exp:
        exp.tag("success")
    assert exp.tags == ["success"]

    with project.log(name="My experiment") as exp:
        exp.tag("success", "best-model")
    assert exp.tags == ["success", "best-model"]

    for metric in (0.6, 0.8):
        with project.log(name="My experiment") as exp:
            if metric > 0.5:
                exp.tag("success")
            if metric > 0.75:
                exp.tag("best-model")
    assert exp.tags == ["success", "best-model"]

    exp.tag("replaced", overwrite=True)
    assert exp.tags == ["replaced"]
    # with no tags and overwrite=True, all existing tags are deleted
    exp.tag(overwrite=True)
    assert exp.tags == []

    project.save()
    stored = json.loads((in_tmp / "project.json").read_text())
    assert [entry["tags"] for entry in stored] == [
        ["success"],
        ["success", "best-model"],
        ["success"],
        [],
    ]


def test_tags_can_be_set(in_tmp: Path) -> None:
    from archivist import Project

    project = Project(fpath="project.json", mode="w")
    with project.log(name="My experiment") as exp:
        exp.tags = ["set", "directly"]
        exp.tags.append("appended")
    project.save()
    [entry] = json.loads((in_tmp / "project.json").read_text())
    assert entry["tags"] == ["set", "directly", "appended"]
