"""lazyscribe's "Version artifacts" guide, run with only the import changed.

Each block is the guide's code (``from lazyscribe ...`` -> ``from archivist ...``); the
guide's placeholders (``"YYYY-MM-DDTHH:MM:SS"``, ``Repository(...)``) are filled in with
real values, and the asserts check what the guide says happens.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import pytest


def _next_second() -> None:
    time.sleep(1.0 - datetime.now().microsecond / 1e6 + 0.01)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_standalone_repository_versions_and_time_travel() -> None:
    from archivist import Repository

    repository = Repository("repository.json", mode="w")
    repository.log_artifact(name="features", value=[0, 1, 2], handler="json", indent=4)

    repository.save()

    repository = Repository("repository.json", mode="r")  # read-only mode
    features = repository.load_artifact(name="features")
    assert features == [0, 1, 2]

    _next_second()  # the guide's versions are minutes apart; a time to the second names one
    # append-only mode reads in the existing repository and allows for new artifacts
    repository = Repository("repository.json", mode="a")
    repository.log_artifact(name="features", value=[0, 1, 2, 3], handler="json", indent=4)

    repository.save()

    repository = Repository("repository.json", mode="r")
    first = repository.artifacts[0].created_at.strftime("%Y-%m-%dT%H:%M:%S")

    # Without any additional parameters, Repository will retrieve the most recent version
    newest = repository.load_artifact("features")

    # You can specify a specific integer version (0-indexed)
    oldest = repository.load_artifact("features", version=0)

    # Or the exact datetime
    on_this_date = repository.load_artifact("features", version=first)

    # To "time-travel", use `match="asof"` with a datetime version to get the most recent version
    # as of the given date
    as_of_this_date = repository.load_artifact("features", version=first, match="asof")

    assert newest == [0, 1, 2, 3]
    assert oldest == on_this_date == as_of_this_date == [0, 1, 2]
    stored = json.loads(Path("repository.json").read_text())
    assert [(r["name"], r["version"], r["handler"]) for r in stored] == [
        ("features", 0, "json"),
        ("features", 1, "json"),
    ]
    assert (Path("features") / stored[0]["fname"]).read_text() == json.dumps([0, 1, 2], indent=4)


def test_promote_artifacts_from_experiments() -> None:
    from archivist import Project

    project = Project("project.json")
    with project.log("my-experiment") as exp:
        exp.log_artifact(name="features", value=[0, 1, 2], handler="json", indent=4)

    project.save()

    from archivist import Project, Repository

    project = Project("project.json", mode="r")
    repository = Repository("repository.json")

    project["my-experiment"].promote_artifact(repository, "features")

    assert Repository("repository.json", mode="r").load_artifact("features") == [0, 1, 2]


def test_releases_dump_load_find_and_filter() -> None:
    from archivist import Repository

    writer = Repository("repository.json", mode="w")
    writer.log_artifact(name="features", value=[0, 1, 2], handler="json")
    writer.log_artifact(name="model", value={"w": 1}, handler="pickle")
    writer.save()

    from archivist import Repository
    from archivist import release as lzr

    repository = Repository("repository.json", mode="r")
    release = lzr.create_release(repository, "v0.1.0")
    assert release.tag == "v0.1.0"
    assert release.artifacts == [("features", 0), ("model", 0)]
    assert release.created_at is not None

    with open("releases.json", "w") as outfile:
        lzr.dump([release], outfile)

    writer = Repository("repository.json", mode="a")
    writer.log_artifact(name="features", value=[9], handler="json")
    writer.save()

    complete_repository = Repository("repository.json", mode="r")
    with open("releases.json") as infile:
        releases = lzr.load(infile)

    my_release = lzr.find_release(releases, "v0.1.0")

    filtered_repo_ = complete_repository.filter(my_release.artifacts)

    assert filtered_repo_.mode == "r"
    assert [(a.name, a.version) for a in filtered_repo_.artifacts] == [
        ("features", 0),
        ("model", 0),
    ]
    assert filtered_repo_.load_artifact("features") == [0, 1, 2]
    found = lzr.find_release(releases, release.created_at, match="asof")
    # dump() writes the time to the second, as lazyscribe's does
    assert (found.tag, found.artifacts) == (release.tag, release.artifacts)
    assert found.created_at == release.created_at.replace(microsecond=0)


def test_release_from_toml() -> None:
    from archivist import Repository

    for model in ("model-1", "model-2"):
        Path("src", model).mkdir(parents=True)
        repository = Repository(f"src/{model}/repository.json", mode="w")
        repository.log_artifact(name="features", value=[model], handler="json")
        repository.save()
    Path("pyproject.toml").write_text(
        '[project]\nversion = "1.0.0"\n\n'
        "[tool.lazyscribe]\n"
        'repositories = [\n    "src/model-1/repository.json",\n'
        '    "src/model-2/repository.json"\n]\n'
    )

    import archivist.release as lzr

    with open("pyproject.toml") as infile:
        lzr.release_from_toml(infile.read())

    for model in ("model-1", "model-2"):
        with open(f"src/{model}/releases.json") as infile:
            (release,) = lzr.load(infile)
        # documented difference: archivist tags releases v{version} (lazyscribe: the version)
        assert release.tag == "v1.0.0"
        assert release.artifacts == [("features", 0)]
