"""The commit protocol over a store and a session, without a Repository."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from archivist._commit import protocol
from archivist._commit.journal import JournalEntry, SaveJournal
from archivist._commit.session import Pending, Session
from archivist._commit.unjournaled import NoJournal
from archivist.errors import ConflictError, LogError, StaleTokenError, StorageError
from archivist.manifest import ManifestIndex, VersionRecord, utcnow
from archivist.plugin.manager import get_handler
from archivist.stores import ManifestStore


@pytest.fixture
def store(tmp_path: Path) -> ManifestStore:
    return ManifestStore(str(tmp_path / "repository.json"))


def log(session: Session, name: str, value: Any, fname: str | None = None) -> Pending:
    """Add a pending version to ``session`` as log_artifact would (json handler)."""
    handler = get_handler("json")
    created_at = utcnow()
    record = VersionRecord(
        name=name,
        version=session.next_version(name),
        handler=handler.alias,
        fname=session.file_name(name, fname, created_at, handler.suffix),
        created_at=created_at,
    )
    pending = Pending(record, value, handler(), {}, fname is None)
    session.add(pending)
    return pending


def stored_files(store: ManifestStore, name: str) -> set[str]:
    folder = Path(store.path).parent / name
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def test_a_save_writes_the_files_and_commits_them(store: ManifestStore) -> None:
    session = Session.open(store, "w")
    log(session, "model", [1])
    log(session, "model", [2])
    written, added = protocol.save(store, session, journal=True)
    assert [r.version for r in added] == [0, 1]
    assert {r.fname for r in written} == stored_files(store, "model")
    snapshot = store.read()
    assert [(r.name, r.version, r.sha256) for r in snapshot.records] == [
        (r.name, r.version, r.sha256) for r in added
    ]
    # the session now holds what it committed, and no changes
    assert session.token == snapshot.token and not session.has_changes and not session.fresh
    assert session.find("model", None, "exact").version == 1


def test_a_lost_race_renumbers_after_the_other_writers_versions(store: ManifestStore) -> None:
    protocol.save(store, _with(Session.open(store, "w"), "model", [0]), journal=True)
    mine, theirs = Session.open(store, "a"), Session.open(store, "a")
    log(mine, "model", ["mine"])
    log(theirs, "model", ["theirs"])
    protocol.save(store, theirs, journal=True)
    _, added = protocol.save(store, mine, journal=True)  # refused once, then merged
    assert [r.version for r in added] == [2]
    assert [r.version for r in store.read().records] == [0, 1, 2]


def test_a_commit_whose_answer_was_lost_is_not_committed_twice(
    store: ManifestStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    protocol.save(store, _with(Session.open(store, "w"), "model", [0]), journal=True)
    session = Session.open(store, "a")
    log(session, "model", [1])
    commit = store.commit
    calls: list[int] = []

    def lands_then_refused(records: Any, token: str | None) -> str:
        calls.append(1)
        if len(calls) == 1:
            commit(records, token)  # lands, but the writer hears a refusal
            raise StaleTokenError("lost answer")
        return commit(records, token)

    monkeypatch.setattr(store, "commit", lands_then_refused)
    _, added = protocol.save(store, session, journal=True)
    assert len(calls) == 1  # the re-read found it: no second request
    assert [r.version for r in store.read().records] == [0, 1]
    assert added == [store.read().records[1]]


def _second_save(store: ManifestStore) -> tuple[Session, set[str]]:
    """Save version 0, then open a session logging version 1; return it and the files."""
    protocol.save(store, _with(Session.open(store, "w"), "model", [0]), journal=True)
    return _with(Session.open(store, "a"), "model", [1]), stored_files(store, "model")


def test_a_commit_refused_to_the_end_removes_its_files(
    store: ManifestStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, before = _second_save(store)
    monkeypatch.setattr(protocol, "MAX_COMMIT_ATTEMPTS", 2)

    def refused(records: Any, token: str | None) -> str:
        raise StaleTokenError("someone else keeps committing")

    monkeypatch.setattr(store, "commit", refused)
    with pytest.raises(ConflictError):
        protocol.save(store, session, journal=True)
    assert stored_files(store, "model") == before
    assert store.list_journals() == []
    assert session.has_changes  # nothing was saved: a later save may retry


def test_an_unanswered_commit_keeps_its_files(
    store: ManifestStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, before = _second_save(store)

    def unanswered(records: Any, token: str | None) -> str:
        raise StorageError("connection reset")

    monkeypatch.setattr(store, "commit", unanswered)
    with pytest.raises(StorageError):
        protocol.save(store, session, journal=True)
    assert len(stored_files(store, "model") - before) == 1  # may have landed: kept
    assert len(store.list_journals()) == 1  # for gc to prove them later


class TestDidNotLand:
    """The one "did it land?" rule, with and without a journal."""

    def test_an_unanswered_request_never_proves_it(self, store: ManifestStore) -> None:
        journal = SaveJournal.begin(store, [JournalEntry("model", "a.json", auto=True)])
        assert protocol.did_not_land(journal, None, answered=True)
        assert not protocol.did_not_land(journal, None, answered=False)

    def test_a_settled_journal_proves_nothing(self, store: ManifestStore) -> None:
        journal = SaveJournal.begin(store, [JournalEntry("model", "a.json", auto=True)])
        for journal_id in store.list_journals():  # as a mode "w" save replacing it would
            store.delete_journal(journal_id)
        assert not protocol.did_not_land(journal, None, answered=True)

    @pytest.mark.parametrize(
        ("base", "now", "base_empty", "proven"),
        [
            (None, None, True, True),  # no manifest before and after
            ("t1", "t1", False, True),  # the same manifest, which held versions
            ("t1", "t1", True, False),  # an empty manifest: a mode "w" save writes it again
            ("t1", "t2", False, False),  # the manifest changed meanwhile
            (None, "t1", True, False),  # a manifest appeared meanwhile
        ],
    )
    def test_without_a_journal_only_an_unchanged_manifest_proves_it(
        self,
        store: ManifestStore,
        base: str | None,
        now: str | None,
        base_empty: bool,
        proven: bool,
    ) -> None:
        journal = NoJournal(store, [], base, base_empty)
        assert protocol.did_not_land(journal, now, answered=True) is proven
        assert not protocol.did_not_land(journal, now, answered=False)


def test_merge_numbers_after_each_names_last_version() -> None:
    base = [_record("a", 0), _record("a", 1), _record("b", 0)]
    new = [_record("a", 0), _record("c", 0)]
    merged, added = protocol.merge(base, new, {}, ManifestIndex(base))
    assert [(r.name, r.version) for r in added] == [("a", 2), ("c", 0)]
    assert [(r.name, r.version) for r in merged] == [
        ("a", 0),
        ("a", 1),
        ("b", 0),
        ("a", 2),
        ("c", 0),
    ]


@pytest.mark.parametrize("expiry_changes", [False, True], ids=["append", "rewrite"])
def test_merge_keeps_a_kept_time_or_refuses_it(expiry_changes: bool) -> None:
    newest = _record("a", 0)
    base = [newest]
    stale = _record("a", 0).replace(created_at=newest.created_at)
    changes = {("a", 0): newest.created_at} if expiry_changes else {}
    # a time that need not be kept moves a microsecond after the last version's
    _, (moved,) = protocol.merge(base, [stale], changes, ManifestIndex(base))
    assert moved.created_at > newest.created_at
    # one that must be kept (a promotion's) is refused, naming the version that is newer
    kept = {("a", stale.fname)}
    with pytest.raises(LogError, match="not newer than the latest version") as info:
        protocol.merge(base, [stale], changes, ManifestIndex(base), kept_times=kept)
    assert "version 0 of" in str(info.value)
    later = stale.replace(created_at=newest.created_at + timedelta(seconds=1))
    kept = {("a", later.fname)}
    _, (added,) = protocol.merge(base, [later], changes, ManifestIndex(base), kept_times=kept)
    assert (added.version, added.created_at) == (1, later.created_at)


def _with(session: Session, name: str, value: Any) -> Session:
    log(session, name, value)
    return session


def _record(name: str, version: int) -> VersionRecord:
    return VersionRecord(
        name, version, "json", f"{name}-{version}-{uuid.uuid4().hex}.json", utcnow()
    )
