"""crash_at_commit fails exactly the commit, and a save that "dies" there reaches nothing after."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import files_of, journals

from archivist import Repository
from archivist.errors import ConflictError, StaleTokenError, StorageError
from archivist.testing import crash_at_commit


@pytest.fixture
def repository(repo_path: Path) -> Repository:
    first = Repository(repo_path, mode="w")
    first.log_artifact("a", [1], handler="json")
    first.save()
    return Repository(repo_path, mode="a")


def test_a_save_that_dies_before_its_commit_leaves_its_files_and_journal(
    repository: Repository, repo_path: Path
) -> None:
    before = files_of(repo_path, "a")
    repository.log_artifact("a", [2], handler="json")
    with crash_at_commit(repository) as crash:
        repository.save()
    assert crash.commits == 1
    [(name, fname)] = crash.written
    assert name == "a" and files_of(repo_path, "a") - before == {fname}
    assert len(journals(repo_path)) == 1  # dead: not even the journal's clean-up ran
    assert Repository(repo_path, mode="r").versions("a") == [0]
    assert repository.store.read().records  # the store is itself again after the block


def test_a_landed_commit_is_committed_then_dies(repository: Repository, repo_path: Path) -> None:
    seen: list[list[int]] = []
    repository.log_artifact("a", [2], handler="json")
    with crash_at_commit(
        repository,
        landed=True,
        error=SystemExit,
        then=lambda: seen.append(Repository(repo_path, mode="r").versions("a")),
    ):
        repository.save()
    assert seen == [[0, 1]]
    assert len(journals(repo_path)) == 1


def test_a_save_that_lives_on_settles(
    repository: Repository, repo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``dies=False`` the save re-reads, finds its commit refused, and cleans up."""
    monkeypatch.setattr("archivist._commit.protocol.MAX_COMMIT_ATTEMPTS", 3)  # not 64 backoffs
    before = files_of(repo_path, "a")
    repository.log_artifact("a", [2], handler="json")
    with crash_at_commit(
        repository, error=StaleTokenError, dies=False, raises=ConflictError
    ) as crash:
        repository.save()
    assert crash.commits == 3  # refused rounds are retried
    assert files_of(repo_path, "a") == before and journals(repo_path) == []


def test_a_save_that_never_commits_fails_the_test(repository: Repository) -> None:
    with pytest.raises(pytest.fail.Exception, match="DID NOT RAISE"):  # noqa: SIM117
        with crash_at_commit(repository, error=StorageError):
            pass  # nothing to save: no commit, no crash
