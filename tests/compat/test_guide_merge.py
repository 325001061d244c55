"""lazyscribe's how-to "Merge project files" (docs/how-to/merge.rst), import changed only.

The guide's JSON files are written as shown; the merged project must hold the experiments
the guide lists, exactly as lazyscribe 2.2.2 merges them.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from lazyscribe import Project as LazyscribeProject

FIRST: dict[str, Any] = {
    "author": "Me",
    "created_at": "2022-01-01T09:30:00",
    "last_updated": "2022-01-01T09:30:00",
    "last_updated_by": "Me",
    "metrics": {"auroc": 0.4},
    "name": "First experiment",
    "parameters": {},
    "short_slug": "first-experiment",
    "slug": "first-experiment-20220101093000",
    "tests": [],
    "artifacts": [],
}
SECOND: dict[str, Any] = {
    "author": "My Friend",
    "created_at": "2022-01-05T10:30:00",
    "last_updated": "2022-01-05T10:30:00",
    "last_updated_by": "My Friend",
    "metrics": {"auroc": 0.5},
    "name": "Second experiment",
    "parameters": {"features": ["col1", "col2"]},
    "short_slug": "second-experiment",
    "slug": "second-experiment-20220105103000",
    "tests": [],
    "artifacts": [],
}
FIRST_UPDATED = {
    **copy.deepcopy(FIRST),
    "last_updated": "2022-01-05T11:30:00",
    "parameters": {"features": ["col1"]},
}


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(name: str, entries: list[dict[str, Any]]) -> None:
    Path(name).write_text(json.dumps(entries, indent=4))


def merged_dicts(project: Any) -> list[dict[str, Any]]:
    keys = set(FIRST)
    return [{k: v for k, v in entry.items() if k in keys} for entry in project]


def run_guide(module: str) -> Any:
    Project = __import__(module).Project  # the guide's code, with either import
    myversion = Project(fpath="project.json")
    otherversion = Project(fpath="other-project.json")

    new = myversion.merge(otherversion)
    return new


@pytest.mark.parametrize(
    ("mine", "other", "expected"),
    [
        pytest.param([FIRST], [FIRST, SECOND], [FIRST, SECOND], id="appending"),
        pytest.param([FIRST_UPDATED], [FIRST, SECOND], [FIRST_UPDATED, SECOND], id="updating"),
    ],
)
def test_merge_guide(
    mine: list[dict[str, Any]], other: list[dict[str, Any]], expected: list[dict[str, Any]]
) -> None:
    write("project.json", mine)
    write("other-project.json", other)
    new = run_guide("archivist")
    assert merged_dicts(new) == expected
    assert new.fpath == Path("project.json")
    assert new.author == run_guide("lazyscribe").author
    assert merged_dicts(new) == merged_dicts(run_guide("lazyscribe"))


def test_merge_accepts_the_deprecated_other_keyword() -> None:
    from archivist import Project

    write("project.json", [FIRST])
    write("other-project.json", [FIRST, SECOND])
    myversion = Project(fpath="project.json")
    otherversion = Project(fpath="other-project.json")
    with pytest.warns(DeprecationWarning, match="``other`` is deprecated") as ours:
        new = myversion.merge(other=otherversion)
    with pytest.warns(DeprecationWarning, match="``other`` is deprecated") as theirs:
        LazyscribeProject(fpath="project.json").merge(
            other=LazyscribeProject(fpath="other-project.json")
        )
    assert str(ours[0].message) == str(theirs[0].message)
    assert merged_dicts(new) == [FIRST, SECOND]
