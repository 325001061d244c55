"""archivist vs lazyscribe 2.2.2, side by side in one process, on the same scenario.

Scenario: N = 10,000 versions over 10 names (json values), on local disk.

1. bulk: log N versions into a new repository and save once;
2. append one: open the N-version repository, log one version, save;
3. open + load latest: open it read-only and load the latest version of one name;
4. 50 loads: on an open repository, load 50 versions of one name by number.

Each archivist figure is the median of several runs; lazyscribe's slow operations run once
(the ratio is reported as lazyscribe time / archivist time: above 1 means archivist is faster).
Run with ``python3 dev.py -s bench`` or ``python bench/bench_repository.py [N]``.
"""

from __future__ import annotations

import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import lazyscribe

import archivist

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
NAMES = 10
TARGETS = {"bulk log+save": 3, "open+append one+save": 50, "open+load latest": 50, "50 loads": 5}


def timed(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def scenario(module: object, root: Path, runs: int, append_mode: str) -> dict[str, float]:
    Repository = module.Repository  # type: ignore[attr-defined]
    path = root / "repository.json"
    out: dict[str, float] = {}

    def bulk() -> None:
        repository = Repository(str(path), mode="w")
        for i in range(N):
            repository.log_artifact(name=f"name-{i % NAMES}", value=[i, i + 1], handler="json")
        repository.save()

    out["bulk log+save"] = timed(bulk, 1)

    def append_one() -> None:
        repository = Repository(str(path), mode=append_mode)
        repository.log_artifact(name="name-3", value=[-1], handler="json")
        repository.save()

    out["open+append one+save"] = timed(append_one, runs)

    def open_latest() -> None:
        assert Repository(str(path), mode="r").load_artifact("name-3") == [-1]

    out["open+load latest"] = timed(open_latest, runs)

    repository = Repository(str(path), mode="r")

    def loads() -> None:
        for v in range(50):
            repository.load_artifact("name-5", version=v)

    out["50 loads"] = timed(loads, max(runs, 5))
    # correctness: does each of the 50 versions load its own value?
    right = sum(
        repository.load_artifact("name-5", version=v) == [5 + NAMES * v, 5 + NAMES * v + 1]
        for v in range(50)
    )
    out["correct of 50"] = right
    return out


def main() -> None:
    print(
        f"bench_repository: N={N} versions over {NAMES} names; Python {platform.python_version()}, "
        f"archivist {version('archivist')}, lazyscribe {version('lazyscribe')}, "
        f"fsspec {version('fsspec')}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        theirs = scenario(lazyscribe, Path(a), runs=1, append_mode="w+")
        ours = scenario(archivist, Path(b), runs=5, append_mode="a")
    print(f"{'operation':<24}{'lazyscribe s':>14}{'archivist s':>14}{'ratio':>10}{'target':>9}")
    failed = []
    for op, target in TARGETS.items():
        ratio = theirs[op] / ours[op]
        ok = ratio >= target
        failed += [] if ok else [op]
        goal = f">={target}x"
        print(
            f"{op:<24}{theirs[op]:>14.4f}{ours[op]:>14.4f}{ratio:>9.1f}x{goal:>9}"
            + ("" if ok else "  MISSED")
        )
    print(
        f"versions that load their own value (of 50): lazyscribe {theirs['correct of 50']:.0f}, "
        f"archivist {ours['correct of 50']:.0f}"
    )
    if ours["correct of 50"] != 50:
        failed.append("archivist correctness")
    if failed:
        print(f"missed targets: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
