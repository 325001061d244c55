"""lazyscribe's README example ("Basic Usage"), run under lazyscribe 2.2.2 and archivist.

The same code logs an experiment, prints the project as JSON (the same document but for the
author and times), saves it, and refuses a new experiment in read-only mode (the README says
``RuntimeError``; lazyscribe 2.2.2 raises its ``ReadOnlyError``, and archivist a subclass of
it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lazyscribe
import lazyscribe.exception
import pytest

import archivist
import archivist.exception

#: Values that differ between two runs: times, and the slug made of one.
VOLATILE = {"created_at", "last_updated", "slug"}


def readme(lib: Any, folder: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    read_only = lib.exception.ReadOnlyError
    folder.mkdir()
    monkeypatch.chdir(folder)
    project = lib.Project(fpath="project.json")
    with project.log(name="My experiment") as exp:
        exp.log_metric("auroc", 0.5)
        exp.log_parameter("algorithm", "lightgbm")
    printed = json.loads(json.dumps(list(project), indent=4))
    project.save()
    project = lib.Project("project.json", mode="r")
    with pytest.raises(read_only), project.log(name="New experiment"):
        pass
    assert isinstance(printed, list)
    return printed


def test_the_readme_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    theirs = readme(lazyscribe, tmp_path / "theirs", monkeypatch)
    ours = readme(archivist, tmp_path / "ours", monkeypatch)
    (their_experiment,), (our_experiment,) = theirs, ours
    assert list(our_experiment) == list(their_experiment)
    for key, value in their_experiment.items():
        if key not in VOLATILE:
            assert our_experiment[key] == value, key
    assert our_experiment["short_slug"] == "my-experiment"
    assert our_experiment["slug"].startswith("my-experiment-")
