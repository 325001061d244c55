"""The session: what a repository read and will write, and its lookups, without a Repository."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from archivist._commit.session import Pending, Session
from archivist.errors import (
    AlreadyExistsError,
    ArtifactNotFoundError,
    ReadOnlyError,
    RepositoryNotFoundError,
    UnsavedChangesError,
)
from archivist.manifest import VersionRecord
from archivist.plugin.manager import get_handler
from archivist.stores import ManifestStore


@pytest.fixture
def store(tmp_path: Path) -> ManifestStore:
    store = ManifestStore(str(tmp_path / "repository.json"))
    store.commit([_record("model", v, f"m{v}.json") for v in range(3)], None)
    return store


def _record(name: str, version: int, fname: str) -> VersionRecord:
    return VersionRecord(name, version, "json", fname, datetime(2026, 1, 1, 0, 0, version))


def test_mode_r_needs_a_manifest(tmp_path: Path) -> None:
    with pytest.raises(RepositoryNotFoundError, match="mode='w'"):
        Session.open(ManifestStore(str(tmp_path / "none.json")), "r")


def test_mode_w_reads_nothing(store: ManifestStore) -> None:
    session = Session.open(store, "w")
    assert session.fresh and session.token is None and not session.committed


def test_lookups_see_pending_versions(store: ManifestStore) -> None:
    session = Session.open(store, "a")
    assert session.find("model", None, "exact").version == 2
    record = VersionRecord(
        "model", session.next_version("model"), "json", "m3.json", datetime(2026, 2, 1)
    )
    session.add(Pending(record, [3], get_handler("json")(), {}, False))
    assert session.find("model", None, "exact") is record and session.is_pending(record)
    assert ("model", "m3.json") in session.referenced(store)
    with pytest.raises(AlreadyExistsError):
        session.file_name("model", "m1.json", datetime(2026, 2, 1), "json")
    with pytest.raises(ArtifactNotFoundError, match="'model'"):
        session.find("other", None, "exact")


def test_a_refresh_keeps_expiry_changes(store: ManifestStore) -> None:
    session = Session.open(store, "w+")
    when = datetime(2026, 1, 2)
    session.expire_saved("model", 0, when)
    records = list(store.read().records)
    store.commit([*records, _record("model", 3, "m3.json")], store.current_token())
    session.refresh(store)
    assert session.committed.by_number("model", 3).fname == "m3.json"
    assert session.committed.by_number("model", 0).expiry == when


def test_a_filtered_session_is_read_only_and_holds_one_version_each(store: ManifestStore) -> None:
    session = Session.open(store, "a")
    view = session.filtered([("model", 1)])
    assert [r.version for r in view.committed] == [1] and view.mode == "r"
    with pytest.raises(ReadOnlyError):
        view.require_writable()
    session.expire_saved("model", 0, datetime(2026, 1, 2))
    with pytest.raises(UnsavedChangesError):
        session.filtered([("model", 1)])
