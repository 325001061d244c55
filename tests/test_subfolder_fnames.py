"""File names with sub-folders: stored, listed, verified and collected like the others."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest

from archivist import Repository
from archivist.errors import InvalidNameError
from archivist.manifest import check_file_name


@pytest.mark.parametrize("fname", ["a/b.json", "a/b/c/d.json", "x.json", "dir.v1/file"])
def test_valid_file_names(fname: str) -> None:
    assert check_file_name(fname) == fname


@pytest.mark.parametrize(
    "fname",
    ["", "/a.json", "a//b.json", "a/", "a/../b", "../a", "a/./b", "a\\b", "a/.b", "C:/x", "a/\x00"],
)
def test_invalid_file_names(fname: str) -> None:
    with pytest.raises(InvalidNameError):
        check_file_name(fname)


def test_verify_and_gc_see_files_in_sub_folders(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("a", [1], handler="json", fname="deep/er/one.json")
    repository.save()
    assert repository.verify().checked == 1
    assert repository.verify().orphans == []
    orphan = repo_path.parent / "a" / "deep" / "stray.json"
    orphan.write_text("[]")
    bookkeeping = repo_path.parent / ".repository.json.archivist" / "journal" / "x.json"
    bookkeeping.parent.mkdir(parents=True)
    bookkeeping.write_text("{}")
    stamp = time.time() - 7200
    os.utime(orphan, (stamp, stamp))
    os.utime(bookkeeping, (stamp, stamp))
    assert repository.verify().orphans == [str(orphan)]
    assert repository.gc(older_than=timedelta(hours=1)) == [str(orphan)]
    assert not orphan.exists() and bookkeeping.exists()
    assert Repository(repo_path, mode="r").load_artifact("a") == [1]
