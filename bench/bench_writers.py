"""Concurrent writers: N processes each save small versions into one repository at once.

Each writer is a fresh process that opens the repository, waits for a common start signal,
then saves ``SAVES`` versions one at a time (one small JSON version per save). Reported per
row: commits per second over the whole run, the median and 99th percentile of one save's
time, and the checks that matter more than speed: every committed version is in the
manifest exactly once (no version lost or duplicated) and how many saves raised
``ConflictError``. The single writer's row is the floor: throughput at N writers is given as
a ratio to it, measured in the same run.

    python bench/bench_writers.py [URL-or-folder] [--writers 1,16,64] [--saves 10]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_WRITER = r"""
import json, os, sys, time
from archivist import Repository
from archivist.errors import ConflictError

url, start_file, saves, writer = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
Repository(url, mode="r")  # imports and plugin discovery before the start
print("ready", flush=True)
while not os.path.exists(start_file):
    time.sleep(0.001)
times, conflicts = [], 0
for i in range(saves):
    began = time.perf_counter()
    try:
        repository = Repository(url, mode="a")
        repository.log_artifact(f"w{writer}", {"writer": writer, "i": i}, handler="json")
        repository.save()
    except ConflictError:
        conflicts += 1
    times.append(time.perf_counter() - began)
print(json.dumps({"times": times, "conflicts": conflicts, "end": time.time()}), flush=True)
"""


def run(url: str, writers: int, saves: int, scratch: Path) -> dict[str, float]:
    """Start ``writers`` writer processes together; return the row's figures."""
    from archivist import Repository

    Repository(url, mode="w").save()
    start_file = scratch / f"start-{writers}"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, url, str(start_file), str(saves), str(n)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(writers)
    ]
    for process in processes:
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n"
    began = time.time()
    start_file.touch()
    results = []
    for process in processes:
        out, _ = process.communicate()
        results.append(json.loads(out))
    elapsed = max(r["end"] for r in results) - began  # to the last save's end
    times = sorted(t for r in results for t in r["times"])
    conflicts = sum(r["conflicts"] for r in results)
    repository = Repository(url, mode="r")
    committed = 0
    for n in range(writers):
        name = f"w{n}"
        if name in repository:
            values = [
                repository.load_artifact(name, version=v)["i"] for v in repository.versions(name)
            ]
            assert len(values) == len(set(values)), f"{name}: a version is duplicated: {values}"
            committed += len(values)
    lost = writers * saves - conflicts - committed
    return {
        "commits_per_s": committed / elapsed,
        "p50": statistics.median(times),
        "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
        "conflicts": conflicts,
        "lost": lost,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "url", nargs="?", help="a repository folder or URL (default: a temporary folder)"
    )
    parser.add_argument("--writers", default="1,16,64")
    parser.add_argument("--saves", type=int, default=10)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="archivist-writers-"))
    try:
        base = args.url or str(scratch / "repo")
        rows = {}
        for writers in [int(w) for w in args.writers.split(",")]:
            url = f"{base.rstrip('/')}/{writers}/repository.json"
            if "://" not in url:
                os.makedirs(os.path.dirname(url), exist_ok=True)
            rows[writers] = run(url, writers, args.saves, scratch)
        floor = rows[min(rows)]["commits_per_s"]
        print(f"concurrent writers, {args.saves} saves each ({base}):")
        for writers, row in rows.items():
            print(
                f"  {writers:3d} writers: {row['commits_per_s']:6.1f} commits/s "
                f"({row['commits_per_s'] / floor:.2f}x the single writer's), "
                f"save p50 {row['p50']:.3f} s, p99 {row['p99']:.3f} s "
                f"({row['p99'] / row['p50']:.1f}x p50), {row['conflicts']} ConflictError, "
                f"{row['lost']} lost"
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
