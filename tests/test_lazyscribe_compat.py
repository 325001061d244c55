"""lazyscribe 2.2.2's files open in archivist, and archivist's files open in lazyscribe."""

from __future__ import annotations

import json
import time
from pathlib import Path

import lazyscribe
import lazyscribe.release as lazy_release
import pytest

from archivist import ArchivistWarning, Project, Release, ReleaseStore, Repository
from archivist import release as lzr


def lazyscribe_repository(path: Path) -> None:
    repository = lazyscribe.Repository(str(path), mode="w")
    repository.log_artifact("features", [0, 1], handler="json", indent=2)
    repository.log_artifact("model", {"w": 1}, handler="pickle")
    repository.save()
    time.sleep(1.1)  # lazyscribe names files to the second
    repository = lazyscribe.Repository(str(path), mode="w+")
    repository.log_artifact("features", [0, 1, 2], handler="json")
    repository.save()


def test_lazyscribe_repository_opens_loads_and_stays_loadable(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    lazyscribe_repository(path)
    ours = Repository(path, mode="r")
    assert ours.versions("features") == [0, 1]
    assert ours.load_artifact("features", version=0) == [0, 1]
    assert ours.load_artifact("features") == [0, 1, 2]
    with pytest.warns(ArchivistWarning, match="adopt"):
        assert ours.load_artifact("model") == {"w": 1}

    appender = Repository(path, mode="a")
    appender.log_artifact("features", [9], handler="json")
    appender.log_artifact("config", {"a": 1}, handler="yaml")
    appender.save()
    theirs = lazyscribe.Repository(str(path), mode="r")
    for version, expected in enumerate([[0, 1], [0, 1, 2], [9]]):
        assert theirs.load_artifact("features", version=version) == expected
    assert theirs.load_artifact("model") == {"w": 1}
    assert theirs.load_artifact("config") == {"a": 1}


def test_archivist_repository_opens_in_lazyscribe(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    repository = Repository(path, mode="w")
    for i in range(3):
        repository.log_artifact("features", list(range(i)), handler="json")
    repository.log_artifact("model", {"w": 2}, handler="pickle")
    repository.save()
    theirs = lazyscribe.Repository(str(path), mode="r")
    for i in range(3):
        assert theirs.load_artifact("features", version=i) == list(range(i))
    assert theirs.load_artifact("model") == {"w": 2}


def test_a_spliced_manifest_opens_in_lazyscribe(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    repository = Repository(path, mode="w")
    repository.log_artifact("features", [0], handler="json")
    repository.save()
    appender = Repository(path, mode="a")
    for i in range(1, 3):  # each save appends by splicing lines into the text it read
        appender.log_artifact("features", [i], handler="json")
        appender.log_artifact(f"model-{i}", {"w": i}, handler="pickle")
        appender.save()
    assert path.read_bytes().count(b"\n") == 7  # "[", five records, "]"
    theirs = lazyscribe.Repository(str(path), mode="r")
    for i in range(3):
        assert theirs.load_artifact("features", version=i) == [i]
    assert theirs.load_artifact("model-2") == {"w": 2}


def lazyscribe_project(path: Path) -> None:
    project = lazyscribe.Project(str(path), mode="w", author="lazy")
    with project.log("baseline") as exp:
        exp.log_metric("auc", 0.8)
        exp.log_parameter("depth", 2)
        exp.tag("old")
        exp.log_artifact("features", [1, 2], handler="json")
        exp.log_artifact("model", {"m": 1}, handler="pickle")
        with exp.log_test("segment", "a slice") as test:
            test.log_metric("auc", 0.7)
            test.log_artifact("rows", [3], handler="json")
    project.save()


def test_lazyscribe_project_opens_and_appending_keeps_it_loadable(tmp_path: Path) -> None:
    path = tmp_path / "project.json"
    lazyscribe_project(path)
    ours = Project(path, mode="a", author="arch")
    exp = ours["baseline"]
    assert exp.author == "lazy"
    assert exp.metrics == {"auc": 0.8}
    assert list(exp.tags) == ["old"]
    assert exp.load_artifact("features") == [1, 2]
    with pytest.warns(ArchivistWarning, match="no recorded digest"):
        assert exp.load_artifact("model") == {"m": 1}
    assert exp.tests[0].load_artifact("rows") == [3]
    assert exp.tests[0].metrics == {"auc": 0.7}

    with ours.log("follow-up") as new:
        new.log_metric("auc", 0.9)
        new.log_artifact("features", [1, 2, 3], handler="json")
        new.log_artifact("config", {"k": "v"}, handler="yaml")
        with new.log_test("segment") as test:
            test.log_artifact("rows", [4], handler="pickle")
    ours.save()

    theirs = lazyscribe.Project(str(path), mode="r")
    old, follow = theirs["baseline"], theirs["follow-up"]
    assert old.load_artifact("features") == [1, 2]
    assert old.tests[0].load_artifact("rows") == [3]
    assert follow.metrics == {"auc": 0.9}
    assert follow.author == "arch"
    assert follow.load_artifact("features") == [1, 2, 3]
    assert follow.load_artifact("config") == {"k": "v"}
    assert follow.tests[0].load_artifact("rows") == [4]


def test_promote_from_a_lazyscribe_project(tmp_path: Path) -> None:
    lazyscribe_project(tmp_path / "project.json")
    exp = Project(tmp_path / "project.json", mode="r")["baseline"]
    exp.promote_artifact(Repository(tmp_path / "repository.json"), "model")
    ours = Repository(tmp_path / "repository.json", mode="r")
    # nothing vouched for lazyscribe's bytes: the promoted version carries no digest either
    assert ours.get_artifact_metadata("model")["sha256"] is None
    with pytest.warns(ArchivistWarning, match="no recorded digest"):
        assert ours.load_artifact("model") == {"m": 1}
    assert ours.get_artifact_metadata("model")["source"]["experiment"] == exp.slug
    assert lazyscribe.Repository(str(tmp_path / "repository.json"), mode="r").load_artifact(
        "model"
    ) == {"m": 1}


def test_releases_both_ways(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    lazyscribe_repository(path)
    theirs = lazy_release.create_release(lazyscribe.Repository(str(path), mode="r"), "1.0.0")
    releases_path = tmp_path / "releases.json"
    with open(releases_path, "w") as outfile:
        lazy_release.dump([theirs], outfile, indent=4)

    with open(releases_path) as infile:
        ours = lzr.load(infile)
    assert ours[0].tag == "1.0.0"
    assert ours[0].artifacts == [("features", 1), ("model", 0)]
    store = ReleaseStore(releases_path)
    store.add(Release("2.0.0", [("features", 0)]))

    with open(releases_path) as infile:
        reread = lazy_release.load(infile)
    assert [r.tag for r in reread] == ["1.0.0", "2.0.0"]
    found = lazy_release.find_release(reread, "2.0.0")
    assert [tuple(pair) for pair in found.artifacts] == [("features", 0)]
    view = lazyscribe.Repository(str(path), mode="r").filter(found.artifacts)
    assert view.load_artifact("features") == [0, 1]


def test_lazyscribe_release_from_toml_file_is_readable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    lazyscribe_repository(tmp_path / "model" / "repository.json")
    config = (
        '[project]\nversion = "1.0.0"\n'
        '[tool.lazyscribe]\nrepositories = ["model/repository.json"]\n'
    )
    lazy_release.release_from_toml(config)
    store = ReleaseStore(tmp_path / "model" / "releases.json")
    assert store.get("1.0.0").artifacts == [("features", 1), ("model", 0)]
    # archivist records its own tag beside lazyscribe's, in the same file
    lzr.release_from_toml(config)
    assert [r.tag for r in store.list()] == ["1.0.0", "v1.0.0"]
    with open(tmp_path / "model" / "releases.json") as infile:
        assert [r.tag for r in lazy_release.load(infile)] == ["1.0.0", "v1.0.0"]
    assert json.loads((tmp_path / "model" / "releases.json").read_text())[1]["tag"] == "v1.0.0"
