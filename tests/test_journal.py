"""Save journals: gc deletes only files a crashed save of this repository provably wrote."""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import crash_at_commit, files_of, journals

from archivist import Repository
from archivist.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidArgumentError,
    ReadOnlyError,
    RepositoryNotFoundError,
    StaleTokenError,
    StorageError,
)

Snapshot = Callable[[Path], dict[str, str]]


def age(path: Path, seconds: float = 7200) -> None:
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


@pytest.fixture
def repository(repo_path: Path) -> Repository:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("a", [1], handler="json")
    repository.save()
    return Repository(repo_path, mode="a")


def test_a_save_leaves_no_journal(repository: Repository, repo_path: Path) -> None:
    repository.log_artifact("a", [2], handler="json")
    repository.log_artifact("b", [3], handler="json", fname="given.json")
    repository.save()
    assert journals(repo_path) == []
    assert repository.verify().orphans == []


def test_gc_collects_the_files_of_a_save_that_died_before_its_commit(
    repository: Repository, repo_path: Path
) -> None:
    repository.log_artifact("a", [2], handler="json")
    repository.log_artifact("b", [3], handler="json", fname="given.json")
    before = files_of(repo_path, "a")
    with crash_at_commit(repository, landed=False):
        repository.save()
    new_a = files_of(repo_path, "a") - before
    assert len(new_a) == 1 and files_of(repo_path, "b") == {"given.json"}
    assert len(journals(repo_path)) == 2  # the intent, then the digests of given names

    fresh = Repository(repo_path, mode="a")
    orphans = {str(repo_path.parent / "a" / f) for f in new_a} | {
        str(repo_path.parent / "b" / "given.json")
    }
    assert set(fresh.verify().orphans) == orphans
    assert fresh.gc() == []  # the journal is younger than an hour: the save may be running
    assert set(fresh.gc(older_than=timedelta(0), dry_run=True).locations) == orphans
    assert files_of(repo_path, "a") == before | new_a
    assert set(fresh.gc(older_than=timedelta(0))) == orphans
    assert files_of(repo_path, "a") == before and files_of(repo_path, "b") == set()
    assert journals(repo_path) == []
    assert fresh.load_artifact("a") == [1]


def test_gc_waits_for_the_journal_to_age(repository: Repository, repo_path: Path) -> None:
    repository.log_artifact("a", [2], handler="json")
    with crash_at_commit(repository, landed=False):
        repository.save()
    fresh = Repository(repo_path, mode="a")
    assert fresh.gc() == []
    (journal,) = journals(repo_path)
    age(journal)
    assert len(fresh.gc()) == 1


def test_a_save_that_landed_then_died_keeps_its_files(
    repository: Repository, repo_path: Path
) -> None:
    repository.log_artifact("a", [2], handler="json")
    with crash_at_commit(repository, landed=True):
        repository.save()
    fresh = Repository(repo_path, mode="a")
    assert fresh.load_artifact("a") == [2]
    assert fresh.gc(older_than=timedelta(0)) == []
    assert journals(repo_path) == []  # gc forgets a journal whose files are all committed
    assert fresh.verify().checked == 2


def test_a_lost_acknowledgement_keeps_the_committed_files(
    repository: Repository, repo_path: Path
) -> None:
    repository.log_artifact("a", [2], handler="json")
    reset = StorageError("connection reset after the write")
    with crash_at_commit(repository, landed=True, error=reset, dies=False):
        repository.save()
    fresh = Repository(repo_path, mode="r")
    assert fresh.load_artifact("a") == [2]
    assert fresh.verify().checked == 2
    assert journals(repo_path) == []


def test_a_commit_that_was_refused_removes_its_files(
    repository: Repository, repo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every round refused (a failed precondition writes nothing): provably not landed."""
    monkeypatch.setattr("archivist._commit.protocol.MAX_COMMIT_ATTEMPTS", 3)
    before = files_of(repo_path, "a")
    repository.log_artifact("a", [2], handler="json")
    refused = StaleTokenError("refused")
    with crash_at_commit(repository, error=refused, dies=False, raises=ConflictError):
        repository.save()
    assert files_of(repo_path, "a") == before
    assert journals(repo_path) == []


@pytest.mark.parametrize("error", [KeyboardInterrupt, StorageError, OSError])
def test_an_unanswered_commit_keeps_its_files_for_gc(
    repository: Repository, repo_path: Path, error: type[BaseException]
) -> None:
    """An error while the replace was in flight: it may still land after any re-read.

    The files and the journal stay; gc collects the files once old enough if no manifest
    names them by then.
    """
    before = files_of(repo_path, "a")
    repository.log_artifact("a", [2], handler="json")
    with crash_at_commit(repository, error=error("no answer"), dies=False):
        repository.save()
    left = files_of(repo_path, "a") - before
    assert len(left) == 1 and len(journals(repo_path)) == 1
    collected = Repository(repo_path, mode="a").gc(older_than=timedelta(0))
    assert [Path(path).name for path in collected] == [left.pop()]
    assert files_of(repo_path, "a") == before and journals(repo_path) == []


def test_interrupted_while_writing_files(repository: Repository, repo_path: Path) -> None:
    class Boom:
        def __reduce__(self) -> Any:
            raise KeyboardInterrupt

    before = files_of(repo_path, "a")
    repository.log_artifact("a", [2], handler="json")
    repository.log_artifact("a", Boom(), handler="pickle")
    with pytest.raises(KeyboardInterrupt):
        repository.save()
    assert files_of(repo_path, "a") == before
    assert journals(repo_path) == []


def test_gc_never_touches_files_it_did_not_write(
    repository: Repository, repo_path: Path, snapshot_tree: Snapshot
) -> None:
    root = repo_path.parent
    for relative in [
        "a/hand-made.json",
        "a/.a.json.1234.tmp",
        "data/train.csv",
        "src/model.py",
        ".git/HEAD",
        "experiments/exp-1/model.pkl",
        "releases/releases.json",
        "project.json",
    ]:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text("mine")
        age(root / relative)
    nested = Repository(root / "team" / "repository.json", mode="w")
    nested.log_artifact("x", [1], handler="json")
    nested.save()
    sibling = Repository(root / "other.json", mode="w")
    sibling.log_artifact("a", [9], handler="json")
    sibling.save()
    # a crashed save of the *sibling* repository leaves a journal; it is not ours to judge
    sibling = Repository(root / "other.json", mode="a")
    sibling.log_artifact("a", [10], handler="json")
    with crash_at_commit(sibling, landed=False):
        sibling.save()
    before = snapshot_tree(root)
    assert repository.gc(older_than=timedelta(0)) == []
    assert repository.verify().orphans == []
    assert snapshot_tree(root) == before
    assert len(Repository(root / "other.json", mode="a").gc(older_than=timedelta(0))) == 1


def test_gc_refuses_without_a_manifest(tmp_path: Path, snapshot_tree: Snapshot) -> None:
    real = Repository(tmp_path / "repository.json", mode="w")
    real.log_artifact("a", [1], handler="json")
    real.save()
    (tmp_path / "a" / "hand-made.json").write_text("mine")
    before = snapshot_tree(tmp_path)
    typo = Repository(tmp_path / "repostory.json", mode="a")
    with pytest.raises(RepositoryNotFoundError, match="no manifest"):
        typo.gc(older_than=timedelta(0))
    assert snapshot_tree(tmp_path) == before


@pytest.mark.parametrize("older_than", [timedelta(seconds=-1), 3600, None])
def test_gc_rejects_a_bad_age(repository: Repository, older_than: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="older_than"):
        repository.gc(older_than=older_than)


def test_gc_in_read_only_mode(repository: Repository, repo_path: Path) -> None:
    with pytest.raises(ReadOnlyError):
        Repository(repo_path, mode="r").gc()
    assert Repository(repo_path, mode="r").gc(dry_run=True).locations == []


def test_a_journaled_file_that_changed_is_kept(repository: Repository, repo_path: Path) -> None:
    repository.log_artifact("b", [3], handler="json", fname="given.json")
    with crash_at_commit(repository, landed=False):
        repository.save()
    (repo_path.parent / "b" / "given.json").write_text("the user's own content now")
    assert Repository(repo_path, mode="a").gc(older_than=timedelta(0)) == []
    assert (repo_path.parent / "b" / "given.json").read_text() == "the user's own content now"


def test_a_user_file_in_the_way_of_a_given_name_is_kept(
    repository: Repository, repo_path: Path
) -> None:
    (repo_path.parent / "b").mkdir()
    (repo_path.parent / "b" / "given.json").write_text("mine")
    repository.log_artifact("b", [3], handler="json", fname="given.json")
    with pytest.raises(AlreadyExistsError):
        repository.save()
    # even if the save had died with its journal naming the file, nothing proves it wrote it
    journal_folder = repo_path.parent / f".{repo_path.name}.archivist"
    journal_folder.mkdir(parents=True, exist_ok=True)
    entry = {"name": "b", "fname": "given.json", "auto": False, "sha256": None, "size": None}
    (journal_folder / "20000101T000000000000-00.journal").write_text(
        json.dumps({"format": 1, "files": [entry]})
    )
    assert Repository(repo_path, mode="a").gc(older_than=timedelta(0)) == []
    assert (repo_path.parent / "b" / "given.json").read_text() == "mine"


def test_a_generated_name_older_than_its_journal_is_kept(
    repository: Repository, repo_path: Path
) -> None:
    """A generated name proves ownership only for a file written after the journal chose it."""
    repository.log_artifact("a", [2], handler="json")
    with crash_at_commit(repository, landed=False):
        repository.save()
    (journal,) = journals(repo_path)
    (new,) = files_of(repo_path, "a") - {Repository(repo_path).artifacts[0].fname}
    age(repo_path.parent / "a" / new, 7200)
    age(journal, 3600)
    assert Repository(repo_path, mode="a").gc(older_than=timedelta(0)) == []
    assert new in files_of(repo_path, "a")


def test_mode_w_forgets_journals_of_the_saves_it_replaces(
    repository: Repository, repo_path: Path
) -> None:
    """Files a replaced manifest named are never deleted, even if a journal names them."""
    repository.log_artifact("a", [2], handler="json")
    with crash_at_commit(repository, landed=True):
        repository.save()
    committed = files_of(repo_path, "a")
    assert len(journals(repo_path)) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mode "w" may warn what it replaces; not under test
        replacing = Repository(repo_path, mode="w")
        replacing.log_artifact("c", [0], handler="json")
        replacing.save()
    assert journals(repo_path) == []
    assert Repository(repo_path, mode="a").gc(older_than=timedelta(0)) == []
    assert files_of(repo_path, "a") == committed


def test_memory_backend_gc(memory_url: str) -> None:
    repository = Repository(memory_url, mode="w")
    repository.log_artifact("a", [1], handler="json")
    repository.save()
    repository = Repository(memory_url, mode="a")
    repository.log_artifact("a", [2], handler="json")
    with crash_at_commit(repository, landed=False):
        repository.save()
    fresh = Repository(memory_url, mode="a")
    assert len(fresh.verify().orphans) == 1
    assert len(fresh.gc(older_than=timedelta(0))) == 1
    assert fresh.verify().orphans == []
    assert fresh.load_artifact("a") == [1]


def test_gc_collects_what_a_write_killed_midway_left(
    repository: Repository, repo_path: Path, snapshot_tree: Snapshot
) -> None:
    """A save killed while streaming a file leaves a temporary file; gc takes it too."""
    repository.log_artifact("a", [2], handler="json", fname="big.json")
    repository.log_artifact("a", [3], handler="json")
    store: Any = repository.store

    def killed(name: str, fname: str, write: Any) -> Any:
        partial = repo_path.parent / name / f".{fname}.0123456789abcdef.tmp"
        partial.write_text("[half")
        raise KeyboardInterrupt  # the process dies mid-write: nothing runs after this

    store.write_file = killed
    store.delete_journal = lambda journal_id: None  # ... not even the journal's clean-up
    with pytest.raises(KeyboardInterrupt):
        repository.save()
    partial = repo_path.parent / "a" / ".big.json.0123456789abcdef.tmp"
    assert partial.exists()
    user_tmp = repo_path.parent / "a" / ".other.json.0123456789abcdef.tmp"
    user_tmp.write_text("not named by any journal")
    removed = Repository(repo_path, mode="a").gc(older_than=timedelta(0))
    # the save's other write may have started too (files are written concurrently): its
    # partial file is journaled as well, and collected with it
    assert str(partial) in removed and len(removed) <= 2
    assert all(p.endswith(".0123456789abcdef.tmp") for p in removed)
    assert not partial.exists() and user_tmp.exists()
    assert journals(repo_path) == []


def test_mode_w_after_the_manifest_was_deleted_keeps_what_it_named(
    repository: Repository, repo_path: Path
) -> None:
    """Nothing tells which files a manifest deleted by hand named: mode w keeps them all."""
    repository.log_artifact("a", [2], handler="json")
    with crash_at_commit(repository, landed=True):
        repository.save()
    committed = files_of(repo_path, "a")
    repo_path.unlink()
    replacing = Repository(repo_path, mode="w")
    replacing.log_artifact("c", [0], handler="json")
    replacing.save()
    assert journals(repo_path) == []
    assert Repository(repo_path, mode="a").gc(older_than=timedelta(0)) == []
    assert files_of(repo_path, "a") == committed
