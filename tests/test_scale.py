"""Scale: lookups stay O(log n), and operations keep their complexity as repositories grow.

The timing checks here are complexity smoke tests, not speed tests: each compares one
operation at n and at 10 n versions in the same process, and fails only when the larger
costs far more than the complexity allows. They time the process's CPU (user and system),
not the wall clock: on a loaded machine the wall clock of a run long enough to be preempted
grows with the load while a short one slips between preemptions, which inflates the ratio
(a ratio of 39 for open, where the CPU ratio was 14, at a load of 8 on 2 cores). The sizes
are measured in turns, several rounds, and the best of each compared, so a burst of load
hits both. ``bench/bench_scale.py`` measures the absolute figures.
"""

from __future__ import annotations

import json
import time
import timeit
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, SupportsIndex

import pytest

from archivist import Repository
from archivist.manifest import ManifestIndex, VersionRecord, serialize_manifest
from archivist.stores import _index_cache as index_cache

T0 = datetime(2026, 1, 31, 12, 0, 0)
SECOND = timedelta(seconds=1)


def _records(name: str, count: int) -> list[VersionRecord]:
    return [
        VersionRecord(name, v, "json", f"{name}-{v}.json", T0 + v * SECOND) for v in range(count)
    ]


class _NoSlices(list[VersionRecord]):
    """A list that refuses to be sliced (a slice is an O(n) copy)."""

    def __getitem__(self, key: SupportsIndex | slice) -> Any:
        if isinstance(key, slice):
            raise AssertionError("the time index was copied")
        return super().__getitem__(key)


def test_as_of_does_not_copy_the_time_index() -> None:
    index = ManifestIndex(_records("a", 1000))
    entry = index._entry("a")
    entry._by_time = _NoSlices(entry.by_time)
    assert index.as_of("a", T0 + 500 * SECOND, SECOND).version == 500
    assert index.as_of("a", T0 + 5000 * SECOND, SECOND).version == 999
    with pytest.raises(Exception, match="predates"):
        index.as_of("a", T0 - SECOND, SECOND)


# -- complexity smoke tests ------------------------------------------------------------------

SMALL, LARGE = 300, 3000  # versions; LARGE = 10 x SMALL
#: At 10x the versions, a lookup on an open repository (O(log n)) may cost at most this
#: many times as much.
LOOKUP_BOUND = 3.0
#: At 10x the versions, open, open + append and bulk save (O(n) today: the manifest is
#: parsed whole) may cost at most this many times as much: O(n^2) would be ~100x.
LINEAR_BOUND = 30.0
#: At 10x the versions, appending to an open repository (O(new records): the new lines are
#: spliced into the manifest text, the old records are not serialized again) may cost at
#: most this many times as much.
APPEND_BOUND = 3.0


#: Rounds of measurements, each timing the small and then the large repository.
ROUNDS = 3


def _cpu_seconds() -> float:
    return time.process_time()


def _best(action: Callable[[], object], repeat: int) -> float:
    """The least CPU time of ``repeat`` runs of ``action`` (garbage collection paused)."""
    return min(timeit.repeat(action, number=1, repeat=repeat, timer=_cpu_seconds))


def _filled(count: int) -> str:
    """A memory repository of one artifact with ``count`` versions."""
    url = f"memory://archivist-scale/{uuid.uuid4().hex}/repository.json"
    repository = Repository(url, mode="w")
    for i in range(count):
        repository.log_artifact(name="model", value=[i], handler="json")
    repository.save()
    return url


@pytest.fixture(scope="module")
def sized() -> dict[int, str]:
    return {count: _filled(count) for count in (SMALL, LARGE)}


def _interleaved_ratio(measure: Callable[[int], float]) -> float:
    """``measure(LARGE) / measure(SMALL)``, each the best of :data:`ROUNDS` taken in turns."""
    best = {SMALL: float("inf"), LARGE: float("inf")}
    for _ in range(ROUNDS):
        for count in best:
            best[count] = min(best[count], measure(count))
    return best[LARGE] / max(best[SMALL], 1e-6)


def _ratio(sized: dict[int, str], measure: Callable[[str, int], float]) -> float:
    return _interleaved_ratio(lambda count: measure(sized[count], count))


def test_the_ratio_sees_quadratic_work() -> None:
    """The measure is not drowned by noise: quadratic work exceeds the linear bound."""

    def quadratic(count: int) -> float:
        return _best(lambda: sum(range(count * count // 10)), 3)

    assert _interleaved_ratio(quadratic) > LINEAR_BOUND


@pytest.mark.parametrize("lookup", ["latest", "number", "as-of"])
def test_lookups_stay_logarithmic(sized: dict[int, str], lookup: str) -> None:
    def measure(url: str, count: int) -> float:
        repository = Repository(url, mode="r")
        at = repository.get_artifact_metadata("model", version=count // 2)["created_at"]
        load: dict[str, Callable[[], object]] = {
            "latest": lambda: repository.load_artifact("model"),
            "number": lambda: repository.load_artifact("model", version=count // 2),
            "as-of": lambda: repository.load_artifact("model", version=at, match="asof"),
        }
        return _best(load[lookup], 200)

    assert _ratio(sized, measure) < LOOKUP_BOUND


@pytest.mark.parametrize("operation", ["open", "append one"])
def test_open_and_append_stay_linear(sized: dict[int, str], operation: str) -> None:
    def measure(url: str, count: int) -> float:
        def append() -> None:
            repository = Repository(url, mode="a")
            repository.log_artifact(name="model", value=[-1], handler="json")
            repository.save()

        action = append if operation == "append one" else lambda: Repository(url, mode="r")
        return _best(action, 5)

    assert _ratio(sized, measure) < LINEAR_BOUND


def test_append_to_an_open_repository_costs_o_new_records(sized: dict[int, str]) -> None:
    def measure(url: str, count: int) -> float:
        repository = Repository(url, mode="a")

        def append() -> None:
            repository.log_artifact(name="model", value=[-1], handler="json")
            repository.save()

        return _best(append, 7)

    assert _ratio(sized, measure) < APPEND_BOUND


def test_bulk_save_stays_linear(tmp_path: Path) -> None:
    """On local disk (fsspec's memory filesystem looks files up in O(files) itself)."""

    def bulk(count: int) -> float:
        folder = tmp_path / uuid.uuid4().hex
        repository = Repository(folder / "repository.json", mode="w")
        for i in range(count):
            repository.log_artifact(name="model", value=[i], handler="json")
        start = _cpu_seconds()  # every thread's: the files are written on several
        repository.save()
        return _cpu_seconds() - start

    assert _interleaved_ratio(bulk) < LINEAR_BOUND


# -- reads through the index cache: records built, counted --------------------------------------

#: At 10x the versions, a read through the index cache may build at most this many times as
#: many records: ls, log --limit and the lookups build O(names + log n), never one per version.
BUILDS_BOUND = 3.0


def _indexed(folder: Path, count: int, names: tuple[str, ...]) -> Path:
    """A manifest of ``count`` versions of each name (no files), its index cached."""
    records = [
        VersionRecord(
            name, v, "json", f"{name}-{v}.json", T0 + (v * len(names) + i) * SECOND, size=2
        )
        for v in range(count)
        for i, name in enumerate(names)
    ]
    path = folder / f"{count}" / "repository.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(serialize_manifest(records))
    Repository(path, mode="r")  # parses it and saves its columns
    return path


_READS: dict[str, Callable[[Path, int], object]] = {
    "ls": lambda path, count: _cli("ls", str(path), "--json"),
    "log --limit 20": lambda path, count: _cli("log", str(path), "b", "--limit", "20", "--json"),
    "show b@-1": lambda path, count: _cli("show", str(path), "b@-1", "--json"),
    "open+latest": lambda path, count: Repository(path, mode="r").get_artifact_metadata("b"),
    "by number": lambda path, count: Repository(path, mode="r").get_artifact_metadata(
        "b", version=count // 3
    ),
    "as-of": lambda path, count: Repository(path, mode="r").get_artifact_metadata(
        "b", version=(T0 + count * SECOND).isoformat(), match="asof"
    ),
}


def _cli(*args: str) -> object:
    from click.testing import CliRunner

    from archivist.cli import cli

    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("read", list(_READS))
def test_reads_through_the_index_build_o_log_n_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read: str
) -> None:
    """10x the versions: ls, log --limit 20 and lookups build about as many records."""
    monkeypatch.setattr(index_cache, "MIN_BYTES", 0)  # these small manifests are indexed too
    monkeypatch.delenv(index_cache.ENV, raising=False)
    monkeypatch.setenv("ARCHIVIST_CACHE_DIR", str(tmp_path / "cache"))
    built: list[int] = []
    real = VersionRecord.from_dict.__func__  # type: ignore[attr-defined]

    def counting(cls: type[VersionRecord], data: Any, position: int = 0) -> VersionRecord:
        built.append(position)
        return real(cls, data, position)  # type: ignore[no-any-return]

    monkeypatch.setattr(VersionRecord, "from_dict", classmethod(counting))
    builds = {}
    for count in (SMALL, LARGE):
        path = _indexed(tmp_path, count, ("a", "b"))
        built.clear()
        _READS[read](path, count)
        builds[count] = len(built)
    assert 0 < builds[LARGE] <= BUILDS_BOUND * builds[SMALL], builds
