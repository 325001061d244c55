"""The same repository scenario under lazyscribe 2.2.2 and archivist: same results, files
and log records (except the documented differences: random file-name part, microseconds,
digests)."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import lazyscribe
import lazyscribe.release as lazy_release
import pytest
from fsspec.implementations.memory import MemoryFileSystem

import archivist
from archivist import release as lzr
from archivist.errors import InvalidNameError

ATTRIBUTES = ("name", "fname", "value", "writer_kwargs", "created_at", "expiry", "version")


def build(lib: Any, path: Path) -> Any:
    repository = lib.Repository(str(path), mode="w")
    repository.log_artifact(name="features", value=["a", "b"], handler="json", indent=2)
    repository.log_artifact(name="model", value={"w": 1}, handler="pickle")
    repository.save()
    return repository


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("pair")
    theirs, ours = root / "theirs" / "repository.json", root / "ours" / "repository.json"
    build(lazyscribe, theirs)
    build(archivist, ours)
    time.sleep(1.05)  # lazyscribe names files to the second
    for lib, path in ((lazyscribe, theirs), (archivist, ours)):
        repository = lib.Repository(str(path), mode="w+")
        repository.log_artifact(name="features", value=["a", "b", "c"], handler="json")
        repository.save()
    return theirs, ours


def test_artifact_objects_have_lazyscribe_attributes(tmp_path: Path) -> None:
    theirs = lazyscribe.Repository(str(tmp_path / "t" / "repository.json"), mode="w")
    ours = archivist.Repository(str(tmp_path / "o" / "repository.json"), mode="w")
    for repository in (theirs, ours):
        repository.log_artifact(name="features", value=[1], handler="json", indent=2)
        repository.log_artifact(name="model", value={"w": 1}, handler="pickle")
    for mine, other in zip(ours.artifacts, theirs.artifacts, strict=True):
        assert type(mine).__name__ == type(other).__name__
        assert mine.alias == other.alias and mine.binary == other.binary
        for attribute in (*ATTRIBUTES, "dirty"):
            if attribute not in ("fname", "created_at"):
                assert getattr(mine, attribute) == getattr(other, attribute), attribute
        assert mine.dirty is True
    assert ours.artifacts[1].python_version == theirs.artifacts[1].python_version
    for repository in (theirs, ours):
        repository.save()
    assert (
        [a.dirty for a in ours.artifacts]
        == [a.dirty for a in theirs.artifacts]
        == [
            False,
            False,
        ]
    )
    assert [a.value for a in ours.artifacts] == [None, None]
    record = ours.artifacts[0].record
    assert record is not None and record.sha256 is not None  # typed access stays


def test_getitem_is_the_first_version(pair: tuple[Path, Path]) -> None:
    theirs = lazyscribe.Repository(str(pair[0]), mode="r")
    ours = archivist.Repository(str(pair[1]), mode="r")
    assert ours["features"].version == theirs["features"].version == 0
    assert ours["model"].python_version == theirs["model"].python_version
    assert "features" in ours


def test_protocol_and_fs(pair: tuple[Path, Path], memory_url: str) -> None:
    theirs = lazyscribe.Repository(str(pair[0]), mode="r")
    ours = archivist.Repository(str(pair[1]), mode="r")
    assert ours.protocol == theirs.protocol == "file"
    assert type(ours.fs) is type(theirs.fs)
    memory = archivist.Repository(memory_url, mode="w")
    assert memory.protocol == lazyscribe.Repository(memory_url, mode="w").protocol == "memory"
    assert isinstance(memory.fs, MemoryFileSystem)


def test_version_diff_output_is_lazyscribe_s(pair: tuple[Path, Path]) -> None:
    theirs = lazyscribe.Repository(str(pair[0]), mode="r")
    ours = archivist.Repository(str(pair[1]), mode="r")
    assert ours.get_version_diff("features", 0) == theirs.get_version_diff("features", 0)
    assert ours.get_version_diff("features", (1, 0)) == theirs.get_version_diff("features", (1, 0))
    assert ours.get_version_diff("features", 0).startswith("--- \n\n+++ \n\n@@")


def test_warnings_go_where_lazyscribe_s_go(
    pair: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    theirs = lazyscribe.Repository(str(pair[0]), mode="r")
    ours = archivist.Repository(str(pair[1]), mode="r")
    messages = []
    for repository, logger in ((theirs, "lazyscribe"), (ours, "archivist")):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger=logger):
            repository.get_version_diff("features", 1)
            first = min(a.created_at for a in repository.artifacts if a.name == "model")
            repository.filter(first.strftime("%Y-%m-%dT%H:%M:%S"))
            repository.filter("2000-01-01T00:00:00")
        messages.append([(r.name.split(".")[0], r.levelno, r.getMessage()) for r in caplog.records])
    theirs_messages, ours_messages = messages
    # lazyscribe walks the names of a set, in no fixed order
    assert sorted(m[1:] for m in ours_messages) == sorted(m[1:] for m in theirs_messages)
    assert {m[0] for m in ours_messages} == {"archivist"}
    assert any("Only version '1' was supplied" in m[2] for m in ours_messages)
    assert any("does not have a version that predates" in m[2] for m in ours_messages)


def test_release_to_dict_and_minimal_repository(pair: tuple[Path, Path], tmp_path: Path) -> None:
    results = []
    for lib, module, path in ((lazyscribe, lazy_release, pair[0]), (archivist, lzr, pair[1])):
        repository = lib.Repository(str(path), mode="r")
        release = module.create_release(repository, "v1")
        release.artifacts = [("features", 0), ("model", 0)]
        location = tmp_path / lib.__name__
        module.minimal_repository_from_release(location, repository, release)
        manifest = json.loads((location / "repository.json").read_text())
        files = sorted(
            str(Path(root, f).relative_to(location))
            for root, _, names in os.walk(location)
            for f in names
            if not f.startswith(".") and ".archivist" not in root  # archivist's private folder
        )
        reopened = lib.Repository(str(location / "repository.json"), mode="r")
        results.append((release.to_dict(), manifest, files, reopened))
    (theirs_dict, theirs_manifest, theirs_files, theirs_repo) = results[0]
    (ours_dict, ours_manifest, ours_files, ours_repo) = results[1]
    assert ours_dict["artifacts"] == theirs_dict["artifacts"] == [("features", 0), ("model", 0)]
    assert all(isinstance(pair, tuple) for pair in ours_dict["artifacts"])
    assert [(r["name"], r["version"]) for r in ours_manifest] == [
        (r["name"], r["version"]) for r in theirs_manifest
    ]
    assert [f.split(os.sep)[0] for f in ours_files] == [f.split(os.sep)[0] for f in theirs_files]
    for name in ("features", "model"):
        assert ours_repo.load_artifact(name) == theirs_repo.load_artifact(name)
    # and lazyscribe reads archivist's minimal repository
    assert lazyscribe.Repository(
        str(tmp_path / "archivist" / "repository.json"), mode="r"
    ).load_artifact("features") == ["a", "b"]


def test_sub_folder_file_names_land_where_lazyscribe_puts_them(tmp_path: Path) -> None:
    trees = []
    for lib in (lazyscribe, archivist):
        folder = tmp_path / lib.__name__
        repository = lib.Repository(str(folder / "repository.json"), mode="w")
        repository.log_artifact(name="features", value=[1], handler="json", fname="d/sub/x.json")
        repository.save()
        trees.append(  # archivist's private folder (its kept digests) aside
            sorted(
                str(p.relative_to(folder))
                for p in folder.rglob("*.json")
                if not p.relative_to(folder).parts[0].endswith(".archivist")
            )
        )
        reader = lib.Repository(str(folder / "repository.json"), mode="r")
        assert reader.load_artifact("features") == [1]
    assert trees[0] == trees[1] == sorted(["repository.json", "features/d/sub/x.json"])
    # archivist's copy opens in lazyscribe and vice versa
    assert lazyscribe.Repository(
        str(tmp_path / "archivist" / "repository.json"), mode="r"
    ).load_artifact("features") == [1]


@pytest.mark.parametrize(
    "fname",
    ["../x.json", "d/../../x.json", "/abs/x.json", "d//x.json", "d/", "d\\x.json", "d/.hidden"],
)
def test_sub_folder_file_names_cannot_escape(memory_url: str, fname: str) -> None:
    repository = archivist.Repository(memory_url, mode="w")
    with pytest.raises(InvalidNameError):
        repository.log_artifact(name="features", value=[1], handler="json", fname=fname)
    assert repository.artifacts == []


def test_a_manifest_with_an_escaping_fname_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    build(archivist, path)
    records = json.loads(path.read_text())
    records[0]["fname"] = "sub/../../../etc/passwd"
    path.write_text(json.dumps(records))
    with pytest.raises(archivist.ManifestError, match=r"fname|file name"):
        archivist.Repository(str(path), mode="r")


def test_load_artifact_takes_lazyscribe_s_positional_order(pair: tuple[Path, Path]) -> None:
    theirs = lazyscribe.Repository(str(pair[0]), mode="r")
    ours = archivist.Repository(str(pair[1]), mode="r")
    assert ours.load_artifact("features", False, 0) == theirs.load_artifact("features", False, 0)
    assert ours.load_artifact("features", True) == ["a", "b", "c"]
    with pytest.raises(archivist.InvalidVersionError, match=r"version=0"):
        ours.load_artifact("features", 0)  # a version where lazyscribe takes validate
