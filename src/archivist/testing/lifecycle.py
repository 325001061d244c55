"""Aliases, retention and the local cache on a backend, as a pytest suite to subclass.

Provide the ``repository_location`` fixture, as for
:class:`~archivist.testing.backends.RepositoryOnBackendTests`: the manifest URL of a
repository that does not exist yet and the (picklable) storage options to reach it::

    class TestMyStoreLifecycle(LifecycleOnBackendTests):
        @pytest.fixture
        def repository_location(self) -> tuple[str, dict[str, Any]]:
            return f"mystore://bucket/{uuid.uuid4().hex}/repository.json", {}

Worker processes reach the repository through the URL, so it must be shared storage (not
``memory://``). The suite checks that concurrent alias moves from several processes lose
none, that a prune racing saves loses no version, that parallel readers share a cache, and
that the digests archivist keeps beside a manifest verify a record rewritten without one.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import posixpath
import random
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from archivist.errors import (
    ArchivistWarning,
    ArtifactNotFoundError,
    InvalidArgumentError,
    InvalidNameError,
    PinnedVersionError,
    ReadOnlyError,
    VersionNotFoundError,
)
from archivist.release import Release
from archivist.repository import Repository
from archivist.stores import ManifestStore, ReleaseStore
from archivist.testing.backends._target import process_context
from archivist.testing.backends.repository import save_versions

__all__ = ["LifecycleOnBackendTests"]


def _move_aliases(url: str, options: Mapping[str, Any], worker: int, moves: int) -> int:
    """Move ``production`` (shared) and ``w<worker>`` (own) ``moves`` times each."""
    repository = Repository(url, mode="a", cache=False, **options)
    for i in range(moves):
        repository.set_alias("model", "production", (worker + i) % 3)
        repository.set_alias("model", f"w{worker}", i % 3)
    return moves


def _read_through_cache(
    url: str, options: Mapping[str, Any], cache_dir: str, cache_size: int, rounds: int, seed: int
) -> list[tuple[int, list[int]]]:
    """Load random versions through a shared, small cache; return what each load gave."""
    repository = Repository(url, mode="r", cache=True, cache_dir=cache_dir, **options)
    assert repository.cache is not None
    repository.cache.max_size = cache_size
    chooser = random.Random(seed)
    loaded = []
    for _ in range(rounds):
        version = chooser.randrange(4)
        loaded.append((version, repository.load_artifact("data", version=version)))
    return loaded


class LifecycleOnBackendTests:
    """Aliases with history, prune, and the verified cache on one storage backend.

    Attributes
    ----------
    remote : bool
        Whether the backend counts as remote (the cache is then on by default).
    processes : int
        Processes working at once in the concurrency tests.
    """

    remote: ClassVar[bool] = True
    processes: ClassVar[int] = 3

    @pytest.fixture
    def repository_location(self) -> tuple[str, dict[str, Any]]:
        """Override: a fresh manifest URL and the storage options to reach it."""
        raise NotImplementedError("provide a repository_location fixture")

    @staticmethod
    def _saved(url: str, options: Mapping[str, Any], name: str, values: list[Any]) -> None:
        repository = Repository(url, mode="w+", cache=False, **options)
        for value in values:
            repository.log_artifact(name=name, value=value, handler="json")
            repository.save()

    # -- kept digests -----------------------------------------------------------------------

    def test_kept_digests_survive_a_rewrite_without_them(
        self, repository_location: tuple[str, dict[str, Any]]
    ) -> None:
        """A manifest rewritten without digests still verifies against the kept ones.

        One lazyscribe save rewrites it so; every version archivist saved still verifies.
        """
        url, options = repository_location
        repository = Repository(url, mode="w", cache=False, **options)
        repository.log_artifact(name="model", value={"w": 1}, handler="pickle")
        repository.log_artifact(name="features", value=[1], handler="json")
        repository.save()
        store = ManifestStore(url, **options)
        snapshot = store.read()
        stripped = [  # as lazyscribe rewrites them: no digest, no size
            r.replace(
                sha256=None, size=None, extra={k: v for k, v in r.extra.items() if k != "blake3"}
            )
            for r in snapshot.records
        ]
        store.commit(stripped, snapshot.token)
        strict = Repository(url, mode="r", cache=False, trust="verified", **options)
        assert strict.get_artifact_metadata("model")["sha256"] is None
        assert strict.load_artifact("model") == {"w": 1}  # verified, so trusted
        report = strict.verify()
        assert sorted(report.recovered) == [("features", 0), ("model", 0)]
        assert (report.checked, report.unverifiable) == (2, [])

    # -- aliases ----------------------------------------------------------------------------

    def test_alias_moves_history_and_as_of(
        self, repository_location: tuple[str, dict[str, Any]]
    ) -> None:
        """An alias moves at once, keeps its history, and answers what it named when."""
        url, options = repository_location
        self._saved(url, options, "model", ["a", "b", "c"])
        repository = Repository(url, mode="w+", cache=False, **options)
        repository.set_alias("model", "production", 0)
        repository.set_alias("model", "staging", 2)
        repository.set_alias("model", "production", 1)
        reader = Repository(url, mode="r", cache=False, **options)
        assert reader.aliases("model") == {"production": 1, "staging": 2}
        assert reader.load_artifact("model", alias="production") == "b"
        assert reader.get_artifact_metadata("model", alias="staging")["version"] == 2
        first, second = reader.alias_history("model", "production")
        assert (first.from_version, first.to_version) == (None, 0)
        assert (second.from_version, second.to_version) == (0, 1)
        assert first.when < second.when
        assert reader.load_artifact("model", alias="production", as_of=first.when) == "a"
        with pytest.raises(VersionNotFoundError, match="did not exist"):
            reader.load_artifact("model", alias="production", as_of=first.when - timedelta(1))
        # lazyscribe-compatible files: the manifest is untouched, the aliases are beside it
        store = ManifestStore(f"{posixpath.dirname(url)}/repository.aliases.json", **options)
        assert store.backend.exists(store.path)

    def test_alias_refusals(self, repository_location: tuple[str, dict[str, Any]]) -> None:
        """Missing, expired or unknown targets, bad names and read-only mode are refused."""
        url, options = repository_location
        self._saved(url, options, "model", ["a", "b"])
        repository = Repository(url, mode="w+", cache=False, **options)
        with pytest.raises(VersionNotFoundError):
            repository.set_alias("model", "production", 7)
        with pytest.raises(ArtifactNotFoundError):
            repository.set_alias("nothing", "production", 0)
        for bad in ("prod uction", "x@y", "3", "2026-01-01", "", "latest"):
            with pytest.raises(InvalidNameError):
                repository.set_alias("model", bad, 0)
        repository.set_artifact_expiry("model", 0)
        repository.save()
        with pytest.raises(VersionNotFoundError, match="expired"):
            repository.set_alias("model", "production", 0)
        repository.set_alias("model", "production", 1)
        with pytest.raises(PinnedVersionError, match="production"):
            repository.set_artifact_expiry("model", 1)
        with pytest.raises(ReadOnlyError):
            Repository(url, mode="r", **options).set_alias("model", "production", 1)
        with pytest.raises(InvalidArgumentError):
            repository.load_artifact("model", version=1, alias="production")
        with pytest.raises(InvalidArgumentError):
            repository.load_artifact("model", as_of="2026-01-01")
        repository.remove_alias("model", "production")
        assert repository.aliases("model") == {}
        repository.set_artifact_expiry("model", 1)  # no alias names it any more
        assert Repository(url, mode="r", **options).aliases("model") == {}

    def test_concurrent_alias_moves_lose_none(
        self, repository_location: tuple[str, dict[str, Any]]
    ) -> None:
        """Several processes moving aliases at once: every move is in the history, chained."""
        url, options = repository_location
        self._saved(url, options, "model", [0, 1, 2])
        moves = 4
        with concurrent.futures.ProcessPoolExecutor(
            self.processes, mp_context=process_context()
        ) as pool:
            futures = [
                pool.submit(_move_aliases, url, options, worker, moves)
                for worker in range(self.processes)
            ]
            assert [f.result(timeout=300) for f in futures] == [moves] * self.processes
        repository = Repository(url, mode="r", **options)
        shared = repository.alias_history("model", "production")
        assert len(shared) == moves * self.processes
        for before, after in itertools.pairwise(shared):
            assert after.from_version == before.to_version  # no move was overwritten
            assert after.when > before.when
        for worker in range(self.processes):
            own = repository.alias_history("model", f"w{worker}")
            assert [m.to_version for m in own] == [i % 3 for i in range(moves)]

    # -- retention --------------------------------------------------------------------------

    def test_prune_keeps_what_is_pinned_and_never_reuses_numbers(
        self, repository_location: tuple[str, dict[str, Any]]
    ) -> None:
        """keep_last, releases, aliases, latest unexpired and the highest number all keep."""
        url, options = repository_location
        self._saved(url, options, "model", list(range(8)))
        repository = Repository(url, mode="w+", cache=False, **options)
        folder = posixpath.dirname(url)
        ReleaseStore(f"{folder}/releases.json", **options).add(Release("v1", [("model", 1)]))
        repository.set_alias("model", "production", 3)
        repository.set_artifact_expiry("model", 7)
        repository.save()
        assert repository.prune(keep_last=2, dry_run=True).pairs == [
            ("model", 0),
            ("model", 2),
            ("model", 4),
            ("model", 5),
        ]
        assert repository.versions("model") == list(range(8))  # a dry run removes nothing
        removed = repository.prune(keep_last=2)
        assert removed == [("model", 0), ("model", 2), ("model", 4), ("model", 5)]
        reader = Repository(url, mode="r", cache=False, **options)
        assert reader.versions("model") == [1, 3, 6, 7]
        assert reader.load_artifact("model", version=3) == 3
        assert reader.load_artifact("model", version=-1) == 7  # negative numbers count what exists
        assert reader.load_artifact("model", version=-3) == 3
        with pytest.raises(VersionNotFoundError, match="numbered 1, 3, 6, 7"):
            reader.load_artifact("model", version=2)
        assert reader.load_artifact("model") == 6  # 7 has expired
        files = {fname for name, fname in reader.store.list_files() if name == "model"}
        assert files == {r.fname for r in reader.records}  # the pruned files are gone
        assert reader.verify().orphans == []
        # the highest number (7, expired) is kept, so the next version is 8, not a reused one
        assert repository.prune(keep_last=0) == []  # everything left is pinned
        self._saved(url, options, "model", ["new"])
        assert Repository(url, mode="r", **options).versions("model")[-1] == 8

    def test_a_prune_plan_removes_exactly_what_it_listed(
        self, repository_location: tuple[str, dict[str, Any]]
    ) -> None:
        """A version saved after the plan makes no other go; one aliased since is kept."""
        url, options = repository_location
        self._saved(url, options, "model", list(range(4)))
        plan = Repository(url, mode="r", cache=False, **options).prune(keep_last=1, dry_run=True)
        assert plan.pairs == [("model", 0), ("model", 1), ("model", 2)]
        self._saved(url, options, "model", [4])  # 3 is removable now, but was never listed
        repository = Repository(url, mode="w+", cache=False, **options)
        repository.set_alias("model", "production", 2)
        with pytest.warns(ArchivistWarning, match="skipped model v2"):
            assert repository.prune(plan=plan) == [("model", 0), ("model", 1)]
        reader = Repository(url, mode="r", cache=False, **options)
        assert reader.versions("model") == [2, 3, 4]
        files = {fname for name, fname in reader.store.list_files() if name == "model"}
        assert files == {r.fname for r in reader.records}

    def test_prune_racing_saves_loses_no_version(
        self, repository_location: tuple[str, dict[str, Any]]
    ) -> None:
        """Prunes in this process while other processes save: no committed version is lost."""
        url, options = repository_location
        self._saved(url, options, "model", ["seed"])
        pruner = Repository(url, mode="w+", cache=False, **options)
        pruned: list[tuple[str, int]] = []
        saves = 6
        with concurrent.futures.ProcessPoolExecutor(
            self.processes - 1, mp_context=process_context()
        ) as pool:
            futures = [
                pool.submit(save_versions, url, dict(options), "model", worker, saves)
                for worker in range(self.processes - 1)
            ]
            while not all(f.done() for f in futures):
                pruned += pruner.prune(keep_last=1)
            for future in futures:
                future.result(timeout=300)
        pruned += pruner.prune(keep_last=1)
        total = 1 + saves * (self.processes - 1)
        reader = Repository(url, mode="r", cache=False, **options)
        remaining = [("model", v) for v in reader.versions("model")]
        assert len(pruned) == len(set(pruned))  # nothing removed twice
        assert sorted(remaining + pruned) == [("model", v) for v in range(total)]
        assert remaining == [("model", total - 1)]
        files = {fname for name, fname in reader.store.list_files() if name == "model"}
        assert files == {r.fname for r in reader.records}

    # -- the cache --------------------------------------------------------------------------

    def test_cache_reads_locally_and_drops_a_damaged_entry(
        self,
        repository_location: tuple[str, dict[str, Any]],
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A cached digest loads without the remote file; a damaged entry is fetched again."""
        url, options = repository_location
        monkeypatch.setenv("ARCHIVIST_CACHE_DIR", str(tmp_path / "default"))
        self._saved(url, options, "data", [[1, 2, 3]])
        default = Repository(url, mode="r", **options)
        assert (default.cache is not None) == self.remote
        cache_dir = tmp_path / "cache"
        first = Repository(url, mode="r", cache=True, cache_dir=cache_dir, **options)
        assert first.load_artifact("data") == [1, 2, 3]
        assert first.cache is not None
        assert first.cache.info().entries == 1
        [record] = first.records
        assert record.digest is not None
        entry = first.cache.entry_path(record.digest)  # the entry of the record's digest
        entry.write_bytes(b"damaged")  # corruption of the cache is caught and repaired
        assert first.load_artifact("data") == [1, 2, 3]
        assert entry.read_bytes() != b"damaged"
        first.store.delete_file("data", record.fname)  # the remote copy is gone...
        again = Repository(url, mode="r", cache=True, cache_dir=cache_dir, **options)
        assert again.load_artifact("data") == [1, 2, 3]  # ...a cached digest reads locally
        entry.write_bytes(b"damaged")
        with pytest.raises(ArtifactNotFoundError):
            again.load_artifact("data")  # re-verified: never served damaged
        assert not entry.exists()

    def test_cache_shared_by_parallel_readers(
        self, repository_location: tuple[str, dict[str, Any]], tmp_path: Path
    ) -> None:
        """Processes sharing one small cache (evicting as they go) all load the right values."""
        url, options = repository_location
        values = [list(range(v, v + 200)) for v in range(4)]
        self._saved(url, options, "data", values)
        size = max(r.size or 0 for r in Repository(url, mode="r", **options).records)
        cache_dir = str(tmp_path / "shared")
        with concurrent.futures.ProcessPoolExecutor(
            self.processes, mp_context=process_context()
        ) as pool:
            futures = [
                pool.submit(_read_through_cache, url, dict(options), cache_dir, 2 * size, 12, w)
                for w in range(self.processes)
            ]
            results = [f.result(timeout=300) for f in futures]
        for loaded in results:
            for version, value in loaded:
                assert value == values[version]
        info = Repository(url, mode="r", cache=True, cache_dir=cache_dir, **options).cache
        assert info is not None
        assert 1 <= info.info().entries <= 4
