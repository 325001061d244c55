"""Saves without a journal (``journal=False``): fewer requests, and every safety rule kept."""

from __future__ import annotations

import logging
import re
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import crash_at_commit, files_of, journals

from archivist import Project, Repository
from archivist._commit.unjournaled import JOURNAL_ENV, resolve_journal
from archivist.errors import (
    ConfigError,
    ConflictError,
    InvalidArgumentError,
    StaleTokenError,
    StorageError,
)


class JournalCalls:
    """Every journal call a store receives, by name."""

    def __init__(self, store: Any) -> None:
        self.calls: list[str] = []
        for method in ("write_journal", "delete_journal", "list_journals", "read_journal"):
            real = getattr(store, method)
            setattr(store, method, self._spy(method, real))

    def _spy(self, method: str, real: Any) -> Any:
        def call(*args: Any) -> Any:
            self.calls.append(method)
            return real(*args)

        return call


def seeded(location: str | Path, **kwargs: Any) -> Repository:
    """A repository holding one version of ``a``, reopened in mode ``a``."""
    first = Repository(location, mode="w")
    first.log_artifact("a", [1], handler="json")
    first.save()
    return Repository(location, mode="a", **kwargs)


@pytest.fixture(autouse=True)
def few_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give up after three refused commits (not 64) when every commit is refused."""
    monkeypatch.setattr("archivist._commit.protocol.MAX_COMMIT_ATTEMPTS", 3)


@pytest.fixture
def unjournaled(repo_path: Path) -> Repository:
    return seeded(repo_path, journal=False)


# -- the keyword and the environment -----------------------------------------------------------


def test_saves_write_a_journal_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(JOURNAL_ENV, raising=False)
    assert resolve_journal(None) is True


@pytest.mark.parametrize("value", ["0", "false", "no", "off", " OFF ", "False"])
def test_the_environment_turns_journals_off(
    monkeypatch: pytest.MonkeyPatch, repo_path: Path, value: str
) -> None:
    monkeypatch.setenv(JOURNAL_ENV, value)
    assert resolve_journal(None) is False
    assert Repository(repo_path, mode="w").journal is False


@pytest.mark.parametrize("value", ["1", "true", "yes", "on", ""])
def test_the_environment_can_keep_journals_on(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(JOURNAL_ENV, value)
    assert resolve_journal(None) is True


def test_an_explicit_keyword_wins_over_the_environment(
    monkeypatch: pytest.MonkeyPatch, repo_path: Path
) -> None:
    monkeypatch.setenv(JOURNAL_ENV, "off")
    assert Repository(repo_path, mode="w", journal=True).journal is True
    monkeypatch.setenv(JOURNAL_ENV, "on")
    assert Repository(repo_path, mode="w", journal=False).journal is False


def test_a_bad_environment_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(JOURNAL_ENV, "maybe")
    with pytest.raises(ConfigError, match=f"{JOURNAL_ENV} must be one of .*set it to 0"):
        resolve_journal(None)


@pytest.mark.parametrize("value", [0, 1, "false", "no", [], 0.0])
def test_a_value_that_is_not_a_bool_is_refused(repo_path: Path, value: Any) -> None:
    with pytest.raises(InvalidArgumentError, match=r"journal as True or False.*journal=False"):
        Repository(repo_path, mode="w", journal=value)
    assert not repo_path.parent.exists()  # nothing was created


def test_the_keyword_is_not_a_storage_option(repo_path: Path, memory_url: str) -> None:
    # a local path refuses options its filesystem does not know: journal never reaches it
    assert Repository(repo_path, mode="w", journal=False).storage_options == {}
    assert Repository(memory_url, mode="w", journal=False).storage_options == {}
    with pytest.raises(InvalidArgumentError, match="did you mean 'journal'"):
        Repository(repo_path, mode="w", jurnal=False)


# -- no journal is written ---------------------------------------------------------------------


@pytest.mark.parametrize("where", ["local", "memory"])
def test_a_save_without_a_journal_writes_and_deletes_none(
    where: str, repo_path: Path, memory_url: str
) -> None:
    location = repo_path if where == "local" else memory_url
    seeded(location)
    for journal, expected in ((True, ["delete_journal", "write_journal"]), (False, [])):
        repository = Repository(location, mode="a", journal=journal)
        spy = JournalCalls(repository.store)
        repository.log_artifact("a", [2], handler="json")
        repository.log_artifact("b", [3], handler="json", fname=f"given-{journal}.json")
        repository.save()
        # a given name adds the digests' journal object (and its deletion) with a journal
        assert sorted(set(spy.calls)) == expected
        assert spy.calls.count("write_journal") == (2 if journal else 0)
        if where == "local" and not journal:
            assert journals(repo_path) == []
    reader = Repository(location, mode="r")
    assert reader.load_artifact("b", version=1) == [3]
    assert reader.verify().checked == 5


def test_a_promotion_without_a_journal_writes_none(tmp_path: Path) -> None:
    project_path = tmp_path / "project.json"
    project = Project(project_path, mode="w")
    with project.log("experiment") as experiment:
        experiment.log_artifact(name="features", value=[7, 8], handler="json")
    project.save()
    repository = seeded(tmp_path / "repository.json", journal=False)
    spy = JournalCalls(repository.store)
    Project(project_path, mode="r")["experiment"].promote_artifact(repository, "features")
    assert spy.calls == []
    assert Repository(tmp_path / "repository.json", mode="r").load_artifact("features") == [7, 8]


# -- a failed save: its files go only when the commit provably did not land --------------------


def test_a_commit_that_was_refused_removes_its_files(
    unjournaled: Repository, repo_path: Path
) -> None:
    before = files_of(repo_path, "a")
    unjournaled.log_artifact("a", [2], handler="json")
    unjournaled.log_artifact("b", [3], handler="json", fname="given.json")
    with crash_at_commit(unjournaled, error=StaleTokenError, dies=False, raises=ConflictError):
        unjournaled.save()
    assert files_of(repo_path, "a") == before and files_of(repo_path, "b") == set()
    assert journals(repo_path) == []


def test_a_save_that_fails_before_its_commit_request_removes_its_files(
    unjournaled: Repository, repo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def merge(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("archivist._commit.protocol.merge", merge)
    before = files_of(repo_path, "a")
    unjournaled.log_artifact("a", [2], handler="json")
    with pytest.raises(KeyboardInterrupt):
        unjournaled.save()
    assert files_of(repo_path, "a") == before


@pytest.mark.parametrize("error", [KeyboardInterrupt, StorageError, OSError])
def test_an_unanswered_commit_keeps_its_files(
    unjournaled: Repository,
    repo_path: Path,
    error: type[BaseException],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An error from the commit request: it may have landed, its answer lost."""
    before = files_of(repo_path, "a")
    unjournaled.log_artifact("a", [2], handler="json")
    with (
        caplog.at_level(logging.WARNING, "archivist"),
        crash_at_commit(unjournaled, error=error, dies=False),
    ):
        unjournaled.save()
    assert len(files_of(repo_path, "a") - before) == 1
    assert "cannot prove that its commit did not land" in caplog.text


def test_a_commit_that_landed_keeps_its_files(unjournaled: Repository, repo_path: Path) -> None:
    unjournaled.log_artifact("a", [2], handler="json")
    reset = StorageError("connection reset after the write")
    with crash_at_commit(unjournaled, landed=True, error=reset, dies=False):
        unjournaled.save()
    unjournaled.save()  # the changes count as saved: nothing is committed twice
    reader = Repository(repo_path, mode="r")
    assert reader.versions("a") == [0, 1] and reader.load_artifact("a") == [2]
    assert reader.verify().checked == 2


def _replaced_by_mode_w(repo_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mode "w" warns what it replaces; not under test
        replacing = Repository(repo_path, mode="w")
        replacing.log_artifact("c", [0], handler="json")
        replacing.save()


def test_files_a_replaced_manifest_named_are_kept(
    unjournaled: Repository, repo_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The commit lands, its answer is lost, and a mode w save replaces the manifest before
    the re-read: the re-read names none of the files, yet they stay."""
    before = files_of(repo_path, "a")
    unjournaled.log_artifact("a", [2], handler="json")
    with (
        caplog.at_level(logging.WARNING, "archivist"),
        crash_at_commit(
            unjournaled,
            landed=True,
            error=StorageError("connection reset after the write"),
            dies=False,
            then=lambda: _replaced_by_mode_w(repo_path),
        ),
    ):
        unjournaled.save()
    kept = files_of(repo_path, "a") - before
    assert len(kept) == 1
    assert "gc will never delete them" in caplog.text and kept.pop() in caplog.text


def test_an_empty_manifest_proves_nothing(repo_path: Path) -> None:
    """A mode w save of nothing writes the same empty manifest: the token cannot tell."""
    Repository(repo_path, mode="w").save()
    repository = Repository(repo_path, mode="a", journal=False)
    repository.log_artifact("a", [2], handler="json")
    with crash_at_commit(repository, error=StaleTokenError, dies=False, raises=ConflictError):
        repository.save()
    assert len(files_of(repo_path, "a")) == 1


def test_no_manifest_before_and_after_proves_it(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w+", journal=False)
    repository.log_artifact("a", [2], handler="json")
    with crash_at_commit(repository, error=StaleTokenError, dies=False, raises=ConflictError):
        repository.save()
    assert files_of(repo_path, "a") == set()


def test_a_save_that_cannot_reread_keeps_its_files(
    unjournaled: Repository, repo_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    before = files_of(repo_path, "a")
    unjournaled.log_artifact("a", [2], handler="json")
    with caplog.at_level(logging.WARNING, "archivist"), crash_at_commit(unjournaled, landed=False):
        unjournaled.save()
    assert len(files_of(repo_path, "a") - before) == 1
    assert "cannot prove that its commit did not land" in caplog.text


# -- gc never deletes what a journal-less save left --------------------------------------------


@pytest.fixture
def crashed(unjournaled: Repository, repo_path: Path) -> set[str]:
    """The files a journal-less save left when it died before its commit."""
    before = files_of(repo_path, "a")
    unjournaled.log_artifact("a", [2], handler="json")
    unjournaled.log_artifact("b", [3], handler="json", fname="given.json")
    with crash_at_commit(unjournaled, landed=False):
        unjournaled.save()
    left = {f"a/{f}" for f in files_of(repo_path, "a") - before} | {"b/given.json"}
    assert len(left) == 2
    return left


def test_gc_never_deletes_the_files_of_a_crashed_save_without_a_journal(
    crashed: set[str], repo_path: Path
) -> None:
    for journal in (True, False):
        fresh = Repository(repo_path, mode="a", journal=journal)
        assert fresh.verify().orphans == []  # exactly what gc(older_than=0) would delete
        assert fresh.gc(older_than=timedelta(0), dry_run=True).locations == []
        assert fresh.gc(older_than=timedelta(0)) == []
    assert all((repo_path.parent / path).exists() for path in crashed)
    assert Repository(repo_path, mode="r").load_artifact("a") == [1]


def test_gc_collects_a_journaled_crash_beside_a_journal_less_one(
    crashed: set[str], repo_path: Path
) -> None:
    journaled = Repository(repo_path, mode="a")
    journaled.log_artifact("c", [4], handler="json", fname="journaled.json")
    with crash_at_commit(journaled, landed=False):
        journaled.save()
    orphan = str(repo_path.parent / "c" / "journaled.json")
    fresh = Repository(repo_path, mode="a", journal=False)
    assert fresh.verify().orphans == [orphan]
    assert fresh.gc(older_than=timedelta(0)) == [orphan]
    assert all((repo_path.parent / path).exists() for path in crashed)


def test_mode_w_without_a_journal_still_forgets_replaced_journals(repo_path: Path) -> None:
    """Other processes may save with journals: mode w settles theirs as always."""
    repository = seeded(repo_path)
    repository.log_artifact("a", [2], handler="json")
    with crash_at_commit(repository, landed=True):
        repository.save()
    committed = files_of(repo_path, "a")
    assert len(journals(repo_path)) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        replacing = Repository(repo_path, mode="w", journal=False)
        replacing.log_artifact("c", [0], handler="json")
        replacing.save()
    assert journals(repo_path) == []
    assert Repository(repo_path, mode="a").gc(older_than=timedelta(0)) == []
    assert files_of(repo_path, "a") == committed


def test_the_cloud_storage_example_runs() -> None:
    doc = Path(__file__).resolve().parents[1] / "docs" / "cloud-storage.md"
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(), re.DOTALL)
    [example] = [block for block in blocks if "journal=False" in block]
    namespace: dict[str, Any] = {}
    exec(compile(example, str(doc), "exec"), namespace)
    assert namespace["fast"].store.list_journals() == []
