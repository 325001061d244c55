"""Aliases, prune and the cache on the local disk: the lifecycle kit, plus local-only cases."""

from __future__ import annotations

import hashlib
import io
import os
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any, ClassVar, Literal

import lazyscribe
import pytest

from archivist._backends.memory import MemoryBackend
from archivist._formats.names import alias_file_name
from archivist._io import verified
from archivist._io.cache import (
    DEFAULT_CACHE_SIZE,
    ArtifactCache,
    cache_for,
    cache_info,
    clear_cache,
    default_cache_dir,
    parse_size,
)
from archivist._lifecycle import retention as _retention
from archivist._lifecycle.aliases import (
    AliasMove,
    alias_store_for,
    parse_alias_file,
    serialize_alias_file,
)
from archivist.errors import (
    ArchivistWarning,
    ArtifactNotFoundError,
    IntegrityError,
    InvalidArgumentError,
    ManifestError,
    PinnedVersionError,
    ReadOnlyError,
    StaleTokenError,
    UnsavedChangesError,
    VersionNotFoundError,
)
from archivist.repository import Repository
from archivist.stores import ManifestStore
from archivist.stores._aliases import AliasStore
from archivist.testing.lifecycle import LifecycleOnBackendTests


class TestLocalLifecycle(LifecycleOnBackendTests):
    remote = False

    @pytest.fixture
    def repository_location(self, tmp_path: Path) -> tuple[str, dict[str, Any]]:
        return str(tmp_path / "repo" / "repository.json"), {}


# -- aliases -------------------------------------------------------------------------------


def saved(path: Path, name: str, values: list[Any], mode: Literal["w", "w+"] = "w+") -> Repository:
    repository = Repository(path, mode=mode)
    for value in values:
        repository.log_artifact(name=name, value=value, handler="json")
        repository.save()
    return repository


def test_alias_file_is_named_per_manifest(tmp_path: Path) -> None:
    assert alias_file_name("repository.json") == "repository.aliases.json"
    assert alias_file_name("models") == "models.aliases.json"
    first = saved(tmp_path / "repository.json", "model", [1, 2])
    second = saved(tmp_path / "other.json", "model", [3, 4])
    first.set_alias("model", "production", 0)
    second.set_alias("model", "production", 1)
    assert Repository(tmp_path / "repository.json", mode="r").aliases("model") == {"production": 0}
    assert (
        Repository(tmp_path / "other.json", mode="r").load_artifact("model", alias="production")
        == 4
    )
    assert sorted(p.name for p in tmp_path.glob("[!.]*.json")) == [
        "other.aliases.json",
        "other.json",
        "repository.aliases.json",
        "repository.json",
    ]


def test_alias_file_round_trips_and_refuses_damage() -> None:
    moves = [
        AliasMove("model", "production", datetime(2026, 3, 1, 9), None, 0, "a"),
        AliasMove("model", "production", datetime(2026, 3, 2, 9), 0, 1, "b"),
        AliasMove("model", "production", datetime(2026, 3, 3, 9), 1, None, "c"),
    ]
    assert parse_alias_file(serialize_alias_file(moves)) == moves
    assert parse_alias_file(serialize_alias_file([])) == []
    for damaged in (
        b"not json",
        b"[]",
        b'{"format": 2, "moves": []}',
        b'{"format": 1}',
        b'{"format": 1, "moves": [{"name": "m", "alias": "a", "to": -1, "at": "2026-01-01"}]}',
        b'{"format": 1, "moves": [{"name": "m", "alias": "a", "to": 1, "at": "yesterday"}]}',
        b'{"format": 1, "moves": [{"alias": "a", "to": 1, "at": "2026-01-01"}]}',
        b'{"format": 1, "moves": [], "moves": []}',
        b'{"format": 1, "moves": [{"name": "..", "alias": "a", "to": 1, "at": "2026-01-01"}]}',
        b'{"format": 1, "moves": [{"name": "m", "alias": "1a", "to": 1, "at": "2026-01-01"}]}',
    ):
        with pytest.raises(ManifestError):
            parse_alias_file(damaged)


def test_as_of_takes_the_time_to_its_precision(tmp_path: Path) -> None:
    repository = saved(tmp_path / "repository.json", "model", ["a", "b"])
    repository.set_alias("model", "production", 0)
    repository.set_alias("model", "production", 1)
    day = repository.alias_history("model", "production")[0].when.date().isoformat()
    # "what was production on that day": by the end of the day, the last move counts
    assert repository.load_artifact("model", alias="production", as_of=day) == "b"
    with pytest.raises(InvalidArgumentError, match="as_of"):
        repository.load_artifact("model", alias="production", as_of=3)  # type: ignore[arg-type]


def test_unknown_alias_lists_the_existing_ones(tmp_path: Path) -> None:
    repository = saved(tmp_path / "repository.json", "model", ["a"])
    repository.set_alias("model", "staging", 0)
    with pytest.raises(VersionNotFoundError, match="'staging'"):
        repository.load_artifact("model", alias="production")
    with pytest.raises(VersionNotFoundError, match="now or before"):
        repository.alias_history("model", "production")
    with pytest.raises(ArtifactNotFoundError):
        repository.aliases("nothing")


def test_an_alias_set_while_a_prune_removes_its_version_is_taken_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "repository.json"
    repository = saved(path, "model", ["a", "b", "c"])
    repository.set_alias("model", "production", 2)
    original = AliasStore.move

    def prune_meanwhile(self: AliasStore, *args: Any, **kwargs: Any) -> Any:
        move = original(self, *args, **kwargs)
        if kwargs.get("undo") is None:
            # a prune that read the aliases before this move commits now
            records = Repository(path, mode="r").records
            Repository(path, mode="r").store.commit(
                [r for r in records if r.version != 0], repository._session.token
            )
        return move

    monkeypatch.setattr(AliasStore, "move", prune_meanwhile)
    repository.refresh()
    with pytest.raises(VersionNotFoundError, match="removed"):
        repository.set_alias("model", "production", 0)
    monkeypatch.undo()
    history = repository.alias_history("model", "production")
    assert [(m.from_version, m.to_version) for m in history] == [(None, 2), (2, 0), (0, 2)]
    assert repository.aliases("model") == {"production": 2}


def test_an_undo_never_overrides_a_later_move(tmp_path: Path) -> None:
    repository = saved(tmp_path / "repository.json", "model", ["a", "b"])
    store = alias_store_for(repository.store)
    mine = store.move("model", "production", 0)
    store.move("model", "production", 1)
    assert store.move("model", "production", None, undo=mine) is None
    assert repository.aliases("model") == {"production": 1}


def test_alias_moves_survive_a_lost_acknowledgement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = saved(tmp_path / "repository.json", "model", ["a"])
    backend = repository.store.backend  # type: ignore[attr-defined]
    original = type(backend).replace_if_unchanged
    calls = {"n": 0}

    def lose_first_answer(self: Any, path: str, data: bytes, token: str | None) -> str:
        calls["n"] += 1
        result = original(self, path, data, token)
        if calls["n"] == 1:
            raise StaleTokenError("the answer was lost")  # the write landed all the same
        return result

    monkeypatch.setattr(type(backend), "replace_if_unchanged", lose_first_answer)
    repository.set_alias("model", "production", 0)
    monkeypatch.undo()
    assert len(repository.alias_history("model", "production")) == 1


# -- retention -----------------------------------------------------------------------------


def test_prune_needs_a_rule_and_a_writable_repository(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    repository = saved(path, "model", ["a", "b"])
    with pytest.raises(InvalidArgumentError, match="needs a rule"):
        repository.prune()
    for bad in ({"keep_last": -1}, {"keep_last": True}, {"keep_within": 3}):
        with pytest.raises(InvalidArgumentError):
            repository.prune(**bad)  # type: ignore[arg-type]
    with pytest.raises(ReadOnlyError):
        Repository(path, mode="r").prune(keep_last=1)
    with pytest.raises(ReadOnlyError, match="'w\\+'"):
        Repository(path, mode="a").prune(keep_last=1)
    with pytest.raises(ReadOnlyError, match="before its first save"):
        Repository(path, mode="w").prune(keep_last=1)
    assert Repository(path, mode="r").prune(keep_last=0, dry_run=True).pairs == [("model", 0)]
    repository.log_artifact(name="model", value="c", handler="json")
    with pytest.raises(UnsavedChangesError):
        repository.prune(keep_last=1)


def test_keep_within_and_keep_last_each_keep(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    repository = saved(path, "model", ["a", "b", "c", "d"])
    old = datetime(2020, 1, 1)
    records = [
        r.replace(created_at=old + timedelta(days=r.version)) if r.version < 2 else r
        for r in repository.records
    ]
    repository.store.commit(records, repository._session.token)
    repository.refresh()
    assert repository.prune(keep_within=timedelta(days=1), dry_run=True).pairs == [
        ("model", 0),
        ("model", 1),
    ]
    assert repository.prune(keep_within=timedelta(days=1), keep_last=3) == [("model", 0)]
    assert repository.versions("model") == [1, 2, 3]


def test_a_crash_after_the_commit_leaves_files_gc_deletes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "repository.json"
    repository = saved(path, "model", ["a", "b", "c"])
    pruned_file = tmp_path / "model" / repository.records[0].fname

    def crash(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(_retention, "_put_back_pinned", crash)
    with pytest.raises(KeyboardInterrupt):
        repository.prune(keep_last=1)
    monkeypatch.undo()
    assert Repository(path, mode="r").versions("model") == [2]
    assert pruned_file.exists()  # committed first, files second: the crash left them
    assert repository.gc(older_than=timedelta(hours=1)) == []  # young journal: maybe running
    removed = repository.gc(older_than=timedelta(0))
    assert len(removed) == 2
    assert not pruned_file.exists()
    assert Repository(path, mode="r").load_artifact("model") == "c"


def test_prune_deletes_the_files_of_lazyscribe_records_itself(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    theirs = lazyscribe.Repository(str(path), mode="w")
    for value in ("a", "b"):
        theirs.log_artifact("model", [value], handler="json", fname=f"{value}.json")
        theirs.save()
    ours = Repository(path, mode="w+")
    first = tmp_path / "model" / ours.records[0].fname
    assert ours.records[0].sha256 is None and first.exists()
    assert ours.prune(keep_last=1) == [("model", 0)]
    assert not first.exists()
    # lazyscribe still opens it, looks versions up by number, and numbers after the last
    theirs = lazyscribe.Repository(str(path), mode="w+")
    assert theirs.load_artifact("model", version=1) == ["b"]
    theirs.log_artifact("model", ["c"], handler="json")
    theirs.save()
    assert Repository(path, mode="r").versions("model") == [1, 2]


def test_a_version_aliased_during_a_prune_is_put_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "repository.json"
    repository = saved(path, "model", ["a", "b", "c"])
    original = _retention._commit_removal

    def alias_meanwhile(*args: Any, **kwargs: Any) -> Any:
        removed = original(*args, **kwargs)
        # a set_alias that read the manifest before the commit appends its move now
        alias_store_for(repository.store).move("model", "production", 0)
        return removed

    monkeypatch.setattr(_retention, "_commit_removal", alias_meanwhile)
    with pytest.warns(ArchivistWarning, match="skipped model v0.*put back"):
        assert repository.prune(keep_last=1) == [("model", 1)]
    reader = Repository(path, mode="r")
    assert reader.versions("model") == [0, 2]
    assert reader.load_artifact("model", alias="production") == "a"
    assert reader.verify().checked == 2


# -- the cache -----------------------------------------------------------------------------


def test_parse_size() -> None:
    assert parse_size(0) == 0
    assert parse_size("1000") == 1000
    assert parse_size("2kb") == 2000
    assert parse_size("1.5 MB") == 1_500_000
    assert parse_size("2GiB") == 2 << 30
    assert parse_size("3Ki") == 3072
    for bad in ("-1", "ten", "5 XB", -5, "ib"):
        with pytest.raises(InvalidArgumentError):
            parse_size(bad)  # type: ignore[arg-type]


def test_cache_location_and_size_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ARCHIVIST_CACHE_DIR", raising=False)
    monkeypatch.delenv("ARCHIVIST_CACHE_SIZE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert default_cache_dir() == tmp_path / "xdg" / "archivist"
    monkeypatch.setenv("ARCHIVIST_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert default_cache_dir() == tmp_path / "elsewhere"
    assert ArtifactCache().max_size == DEFAULT_CACHE_SIZE
    monkeypatch.setenv("ARCHIVIST_CACHE_SIZE", "1MB")
    assert ArtifactCache().max_size == 1_000_000
    repository = saved(tmp_path / "repository.json", "model", ["a"])
    assert repository.cache is None  # local: off by default
    assert Repository(tmp_path / "repository.json", mode="r", cache=True).cache is not None
    monkeypatch.setenv("ARCHIVIST_CACHE_SIZE", "0")
    assert Repository(tmp_path / "repository.json", mode="r", cache=True).cache is None
    assert Repository("memory://cache-off/repository.json", mode="w").cache is None


def test_cache_is_on_by_default_for_a_remote_backend(tmp_path: Path) -> None:
    class RemoteBackend(MemoryBackend):
        protocols = ("remote-test",)

    assert cache_for(ManifestStore("memory://x/repository.json"), None, tmp_path, None) is None
    store = ManifestStore("memory://y/repository.json", backend=RemoteBackend())
    cache = cache_for(store, None, tmp_path, None)
    assert cache is not None and cache.folder == tmp_path
    assert cache_for(store, False, tmp_path, None) is None


def test_cache_info_clear_and_lru_eviction(tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache", max_size=25)
    blobs = [bytes([i]) * 10 for i in range(3)]
    digests = [hashlib.sha256(b).hexdigest() for b in blobs]
    for blob, digest in zip(blobs[:2], digests[:2], strict=True):
        assert cache.open(digest, 10, lambda blob=blob: io.BytesIO(blob)).read() == blob
    os.utime(cache.entry_path(digests[1]), (1, 1))  # entry 1 is now the least recently used
    cache.open(digests[2], 10, lambda: io.BytesIO(blobs[2])).close()
    assert not cache.entry_path(digests[1]).exists()
    assert cache.entry_path(digests[0]).exists() and cache.entry_path(digests[2]).exists()
    info = cache_info(tmp_path / "cache")
    assert (info.entries, info.size) == (2, 20)

    def refuse() -> IO[bytes]:
        raise AssertionError("a cached digest must not be fetched")

    assert cache.open(digests[0], 10, refuse).read() == blobs[0]
    assert clear_cache(tmp_path / "cache").entries == 2
    assert cache_info(tmp_path / "cache").entries == 0


def test_a_fetch_that_does_not_match_is_not_cached(tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path, max_size=100)
    digest = hashlib.sha256(b"right").hexdigest()
    with pytest.raises(IntegrityError):
        cache.open(digest, 5, lambda: io.BytesIO(b"wrong"))
    assert cache.info().entries == 0
    temps = tmp_path / "tmp"
    assert not temps.exists() or list(temps.iterdir()) == []  # no unfinished entry left


def test_large_entries_are_verified_by_streaming(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verified, "IN_MEMORY_LIMIT", 4)  # the reader the cache reads through
    cache = ArtifactCache(tmp_path, max_size=100)
    blob = b"0123456789"
    digest = hashlib.sha256(blob).hexdigest()
    with cache.open(digest, 10, lambda: io.BytesIO(blob)) as stream:
        assert stream.read() == blob
    cache.entry_path(digest).write_bytes(b"9876543210")
    with cache.open(digest, 10, lambda: io.BytesIO(blob)) as stream:
        assert stream.read() == blob
    assert cache.entry_path(digest).read_bytes() == blob


def test_records_without_a_digest_are_read_directly(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    theirs = lazyscribe.Repository(str(path), mode="w")
    theirs.log_artifact("model", [1], handler="json")
    theirs.save()
    ours = Repository(path, mode="r", cache=True, cache_dir=tmp_path / "cache")
    assert ours.load_artifact("model") == [1]
    assert cache_info(tmp_path / "cache").entries == 0


def test_prune_keeps_a_file_that_a_remaining_record_names(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    theirs = lazyscribe.Repository(str(path), mode="w")
    for value in ("a", "b"):  # within one second: lazyscribe gives both the same file name
        theirs.log_artifact("model", [value], handler="json", fname="shared.json")
        theirs.save()
    ours = Repository(path, mode="w+")
    assert ours.prune(keep_last=1) == [("model", 0)]
    assert ours.load_artifact("model") == ["b"]


@pytest.mark.parametrize("page", ["aliases.md", "retention.md", "cache.md"])
def test_docs_page_examples_run(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = (Path(__file__).resolve().parents[1] / "docs" / page).read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    assert blocks
    namespace: dict[str, Any] = {}
    for index, block in enumerate(blocks):
        exec(compile(block, f"{page} block {index}", "exec"), namespace)


def test_docs_pages_are_in_the_nav() -> None:
    nav = (Path(__file__).resolve().parents[1] / "mkdocs.yml").read_text(encoding="utf-8")
    for page in ("aliases.md", "retention.md", "cache.md"):
        assert page in nav


def test_an_unsaved_mode_w_repository_sets_no_alias(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    saved(path, "model", ["a"])
    with pytest.raises(UnsavedChangesError, match="mode 'w'"):
        Repository(path, mode="w").set_alias("model", "production", 0)


def test_an_alias_set_after_an_expiry_was_staged_stops_the_save(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    repository = saved(path, "model", ["a", "b"])
    repository.set_artifact_expiry("model", 0)
    move = Repository(path, mode="w+").set_alias("model", "production", 0)
    assert (move.from_version, move.to_version) == (None, 0)
    with pytest.raises(PinnedVersionError):
        repository.save()
    assert Repository(path, mode="r").get_artifact_metadata("model", 0)["expiry"] is None


class CountingBackend(MemoryBackend):
    """Counts the requests a repository makes to its storage."""

    protocols = ("counting-test",)
    calls: ClassVar[list[str]] = []

    def read_with_token(self, path: str) -> tuple[bytes, str]:
        self.calls.append(f"read_with_token {path}")
        return super().read_with_token(path)

    def read_bytes(self, path: str) -> bytes:
        self.calls.append(f"read_bytes {path}")
        return super().read_bytes(path)

    def open_read(self, path: str) -> IO[bytes]:
        self.calls.append(f"open_read {path}")
        return super().open_read(path)


def test_a_cached_load_makes_one_manifest_request(tmp_path: Path) -> None:
    url = f"memory://counting-{tmp_path.name}/repository.json"
    writer = Repository(store=ManifestStore(url, backend=CountingBackend()), mode="w")
    writer.log_artifact(name="model", value={"w": 1}, handler="json")
    writer.save()

    def load() -> list[str]:
        CountingBackend.calls.clear()
        store = ManifestStore(url, backend=CountingBackend())
        repository = Repository(store=store, mode="r", cache=True, cache_dir=tmp_path)
        assert repository.load_artifact("model") == {"w": 1}
        return list(CountingBackend.calls)

    first = load()
    assert any("/model/" in call for call in first)  # fetched the file
    second = load()
    assert second and all(call.endswith("/repository.json") for call in second)
    assert sum(call.startswith("read_with_token") for call in second) == 1  # one request
