"""A release copy is committed through the commit protocol, as a mode ``w`` save is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from archivist import Repository
from archivist import release as lzr
from archivist.errors import StorageError
from archivist.stores import ManifestStore


def make_source(path: Path) -> Repository:
    repository = Repository(path, mode="w")
    repository.log_artifact("features", [0, 1], handler="json")
    repository.log_artifact("model", {"w": 1}, handler="pickle")
    repository.save()
    repository = Repository(path, mode="a")
    repository.log_artifact("features", [0, 1, 2], handler="json")
    repository.save()
    return Repository(path, mode="r")


RELEASE = lzr.Release("v1", [("features", 1), ("model", 0)])


def test_the_copy_keeps_numbers_times_and_digests(tmp_path: Path) -> None:
    source = make_source(tmp_path / "source" / "repository.json")
    lzr.minimal_repository_from_release(tmp_path / "copy", source, RELEASE)
    copy = Repository(tmp_path / "copy" / "repository.json", mode="r")
    for name, version in RELEASE.artifacts:
        ours = copy.get_artifact_metadata(name, version=version)
        theirs = source.get_artifact_metadata(name, version=version)
        assert ours == theirs
    assert copy.load_artifact("features") == [0, 1, 2]
    assert not list((tmp_path / "copy").glob(".repository.json.archivist/*.journal"))


def test_a_failed_commit_of_a_rerun_keeps_the_copy_it_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_source(tmp_path / "source" / "repository.json")
    lzr.minimal_repository_from_release(tmp_path / "copy", source, RELEASE)
    manifest = tmp_path / "copy" / "repository.json"
    before = manifest.read_bytes()
    files = sorted(p for p in (tmp_path / "copy").rglob("*") if p.is_file())

    def refuse(self: ManifestStore, *args: object, **kwargs: object) -> str:
        raise StorageError("the bucket refused the write")

    monkeypatch.setattr(ManifestStore, "commit", refuse)
    with pytest.raises(StorageError, match="refused"):
        lzr.minimal_repository_from_release(tmp_path / "copy", source, RELEASE)
    # the files the re-run found in place were not its own: none is removed
    assert manifest.read_bytes() == before
    assert all(p.is_file() for p in files)
    monkeypatch.undo()
    assert Repository(manifest, mode="r").load_artifact("model") == {"w": 1}


_KILLED_COPY = """
import os, sys
from archivist import Repository, release
from archivist.stores import ManifestStore

def die(self, *args, **kwargs):
    os._exit(9)  # killed after the files, before the manifest

ManifestStore.commit = die
source = Repository(sys.argv[1], mode="r")
release.minimal_repository_from_release(
    sys.argv[2], source, release.Release("v1", [("features", 1), ("model", 0)])
)
"""


def test_a_copy_killed_before_its_commit_is_journaled_and_a_rerun_completes(
    tmp_path: Path,
) -> None:
    source_path = tmp_path / "source" / "repository.json"
    make_source(source_path)
    target = tmp_path / "copy"
    done = subprocess.run(
        [sys.executable, "-c", _KILLED_COPY, str(source_path), str(target)],
        capture_output=True,
        check=False,
    )
    assert done.returncode == 9, done.stderr.decode()
    assert not (target / "repository.json").exists()
    journals = list(target.glob(".repository.json.archivist/*.journal"))
    assert journals, "the killed copy named its files in a save journal"
    named = json.dumps([json.loads(p.read_text()) for p in journals])
    assert "features" in named and "model" in named
    source = Repository(source_path, mode="r")
    lzr.minimal_repository_from_release(target, source, RELEASE)
    copy = Repository(target / "repository.json", mode="r")
    assert copy.load_artifact("features") == [0, 1, 2]
    assert copy.versions("features") == [1]
