"""lazyscribe's how-to "Filter repository artifacts" (docs/how-to/filter-artifacts.rst).

The guide's two filters, by time and by an explicit list of versions, run under lazyscribe
2.2.2 and archivist on the same repository file (written by lazyscribe, its times set to
known dates), and give the same read-only repository.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lazyscribe
import pytest

import archivist

LIBRARIES = (lazyscribe, archivist)
#: When each version was created: name -> one time per version.
CREATED = {
    "my-first-artifact": ["2024-11-01T00:00:00", "2024-12-01T00:00:00", "2025-02-01T00:00:00"],
    "my-second-artifact": ["2024-10-01T00:00:00", "2025-03-01T00:00:00"],
    "my-third-artifact": ["2024-09-01T00:00:00", "2024-09-02T00:00:00", "2024-09-03T00:00:00"],
}


@pytest.fixture
def repo_file(tmp_path: Path) -> Path:
    path = tmp_path / "repository.json"
    repository = lazyscribe.Repository(str(path), mode="w")
    for name, times in CREATED.items():
        for version in range(len(times)):
            repository.log_artifact(
                name, {"name": name, "version": version}, handler="json", fname=f"{version}.json"
            )
    repository.save()
    records = json.loads(path.read_text())
    for record in records:
        record["created_at"] = CREATED[record["name"]][record["version"]]
    path.write_text(json.dumps(records, indent=4))
    return path


def summary(repository: Any) -> list[tuple[str, int, Any]]:
    return sorted(
        (row["name"], row["version"], repository.load_artifact(row["name"])) for row in repository
    )


def test_datetime_filtering(repo_file: Path) -> None:
    results = []
    for lib in LIBRARIES:
        repo = lib.Repository(str(repo_file), mode="r")
        new_repo = repo.filter("2025-01-01T00:00:00")
        assert new_repo.mode == "r"
        results.append(summary(new_repo))
    theirs, ours = results
    assert ours == theirs
    assert [(name, version) for name, version, _ in ours] == [
        ("my-first-artifact", 1),
        ("my-second-artifact", 0),
        ("my-third-artifact", 2),
    ]


def test_explicit_versioning(repo_file: Path) -> None:
    results = []
    for lib in LIBRARIES:
        repo = lib.Repository(str(repo_file), mode="r")
        new_repo = repo.filter(
            version=[("my-first-artifact", 1), ("my-second-artifact", 0), ("my-third-artifact", 2)]
        )
        assert new_repo.mode == "r"
        results.append(summary(new_repo))
    theirs, ours = results
    assert ours == theirs
    assert [value for _, _, value in ours] == [
        {"name": "my-first-artifact", "version": 1},
        {"name": "my-second-artifact", "version": 0},
        {"name": "my-third-artifact", "version": 2},
    ]
