"""File names with sub-folders: stored, listed, verified and collected like the others."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from tests.conftest import make_orphan

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
    hand_made = repo_path.parent / "a" / "deep" / "hand-made.json"
    hand_made.write_text("[]")  # no save wrote it: never an orphan
    orphan = make_orphan(repo_path, "a", "deep/stray.json")
    assert repository.verify().orphans == [str(orphan)]
    assert repository.gc(older_than=timedelta(hours=1)) == [str(orphan)]
    assert not orphan.exists() and hand_made.exists()
    assert Repository(repo_path, mode="r").load_artifact("a") == [1]
