"""A passed conditional-write probe is remembered for a week; anything odd means "probe again"."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archivist._backends import _probes


class Store:
    """Stands for a backend class."""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(_probes.CACHE_DIR_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache" / "conditional-writes.json"


def _claimed(cache: Path) -> None:
    """Let archivist make its cache folder (it writes nowhere in a folder of the user's)."""
    _probes.remember(float, "claim")
    assert cache.exists()


def _stamped(cache: Path, when: str) -> None:
    key = json.dumps([f"{Store.__module__}.{Store.__qualname__}", repr(("host", "bucket"))])
    _claimed(cache)
    cache.write_text(json.dumps({"format": 1, "stores": {key: when}}))


def test_a_passed_probe_is_remembered_per_class_and_scope(cache: Path) -> None:
    assert _probes.cache_file() == str(cache)
    assert not _probes.remembered(Store, ("host", "bucket"))
    _probes.remember(Store, ("host", "bucket"))
    assert _probes.remembered(Store, ("host", "bucket"))
    assert not _probes.remembered(Store, ("host", "other-bucket"))
    assert not _probes.remembered(int, ("host", "bucket"))


def test_a_scope_of_none_is_never_remembered(cache: Path) -> None:
    _probes.remember(Store, None)
    assert not cache.exists()
    assert not _probes.remembered(Store, None)


@pytest.mark.parametrize(
    "when",
    [
        (datetime.now(UTC) - _probes.REMEMBER_FOR - timedelta(minutes=1)).isoformat(),  # expired
        (datetime.now(UTC) + timedelta(hours=1)).isoformat(),  # from the future
        datetime.now().isoformat(),  # no time zone
        "yesterday",
    ],
    ids=["expired", "future", "naive", "not-a-time"],
)
def test_a_stamp_that_is_not_recent_means_probe_again(cache: Path, when: str) -> None:
    _stamped(cache, when)
    assert not _probes.remembered(Store, ("host", "bucket"))
    _probes.remember(int, "scope")  # a remember drops what is not fresh
    assert list(json.loads(cache.read_text())["stores"]) == [
        json.dumps(["builtins.int", "'scope'"])
    ]


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"[]",
        json.dumps({"format": 2, "stores": {}}).encode(),
        json.dumps({"format": 1, "stores": []}).encode(),
        b"[" * 100_000,
    ],
    ids=["corrupt", "a-list", "another-format", "stores-not-a-dict", "deep"],
)
def test_a_foreign_file_means_nothing_remembered_and_is_replaced(
    cache: Path, content: bytes
) -> None:
    _claimed(cache)
    cache.write_bytes(content)
    assert not _probes.remembered(Store, ("host", "bucket"))
    _probes.remember(Store, ("host", "bucket"))
    assert _probes.remembered(Store, ("host", "bucket"))


def test_a_fresh_stamp_is_kept_by_the_next_remember(cache: Path) -> None:
    _stamped(cache, (datetime.now(UTC) - timedelta(days=1)).isoformat())
    _probes.remember(int, "scope")
    assert _probes.remembered(Store, ("host", "bucket"))
    assert _probes.remembered(int, "scope")


def test_a_folder_of_the_users_is_never_written(cache: Path) -> None:
    cache.parent.mkdir(parents=True)
    (cache.parent / "notes.txt").write_text("mine")
    _probes.remember(Store, ("host", "bucket"))
    assert not _probes.remembered(Store, ("host", "bucket"))
    assert [p.name for p in cache.parent.iterdir()] == ["notes.txt"]


def test_a_cache_folder_that_cannot_be_written_costs_a_probe_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(_probes.CACHE_DIR_ENV, str(blocker / "cache"))
    _probes.remember(Store, ("host", "bucket"))
    assert not _probes.remembered(Store, ("host", "bucket"))
    assert blocker.read_text() == "not a folder"


def test_without_the_variable_the_users_cache_folder_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import platformdirs

    monkeypatch.delenv(_probes.CACHE_DIR_ENV, raising=False)
    expected = platformdirs.user_cache_dir("archivist", appauthor=False)
    assert _probes.cache_file() == str(Path(expected) / "conditional-writes.json")
