"""Scale: archivist against the raw floor and lazyscribe 2.2.2, at 1k, 10k and 100k versions.

Two shapes of repository, on local disk, with small JSON values:

* ``one``: one artifact with N versions;
* ``many``: N / 100 artifacts with 100 versions each (1,000 artifacts x 100 at 100k).

For each shape and N, in one run:

* ``bulk save``: log N versions into a new repository and save once (in this process);
  ``durable bulk save`` sets archivist's figure against a raw floor that also fsyncs every
  file and folder it wrote, as archivist does before its commit (16 threads, after writing);
* ``open``, ``open+latest``, ``append one``: each in a *fresh process*, the way a CLI call or
  a CI job meets them: the child imports first (untimed), then times only the operation, so
  only what persists on disk can help. ``append one`` is open (mode ``a``), log one, save.
  The child also reports its peak memory (max RSS) above what the imports took;
* ``open+latest cold``: the same with archivist's manifest index cache off
  (``ARCHIVIST_INDEX_CACHE=0``): the full parse a first open of a manifest pays (the other
  fresh-process figures find the columns the save left in the cache, as users' opens do);
* ``load by number``, ``load as-of``: the median of many loads on an open repository.

Each is set against the raw floor, which does the same work with no library: read the
manifest's bytes and ``json.loads`` them, read one file and ``json.loads`` it, append a
record and write the manifest and one file; write N files and one manifest (no fsync: the
floor) and against lazyscribe 2.2.2 (``w+`` for append; one fresh process per figure, its
figures are seconds), up to 10k versions.

Run it with ``python3 dev.py -s bench -- bench_scale`` or ``python bench/bench_scale.py
[--sizes 1000,10000] [--runs 3]``. The figures are what a shared machine gives: noisy.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

SIZES = (1_000, 10_000, 100_000)
LAZYSCRIBE_UP_TO = 10_000
SHAPES = ("one", "many")
LOADS = 200  # loads per in-process lookup figure


def artifact_names(shape: str, n: int) -> list[str]:
    return ["model"] if shape == "one" else [f"a{i:04d}" for i in range(max(1, n // 100))]


# -- the child: one operation in a fresh process, imports untimed ------------------------------


def child(lib: str, op: str, path: str, name: str) -> None:
    if lib == "archivist":
        from archivist import Repository
    elif lib == "lazyscribe":
        from lazyscribe import Repository  # type: ignore[no-redef]
    base_kb = reset_peak_kb()
    start = time.perf_counter()
    if lib == "raw":
        raw_op(op, Path(path), name)
    elif op == "open":
        Repository(path, mode="r")
    elif op == "open+latest":
        Repository(path, mode="r").load_artifact(name)
    elif op == "append one":
        repository = Repository(path, mode="a" if lib == "archivist" else "w+")
        repository.log_artifact(name=name, value=[-1, -2], handler="json")
        repository.save()
    seconds = time.perf_counter() - start
    peak_kb = peak_rss_kb()
    print(json.dumps({"seconds": seconds, "peak_mb": (peak_kb - base_kb) / 1024}))


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_kb() -> int:
    """Reset the peak RSS to the current RSS (Linux) and return it, in KiB.

    ``ru_maxrss`` would not do: a process started by a large parent inherits its peak.
    """
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        pass
    found = _status_kb("VmRSS")
    return found if found is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_rss_kb() -> int:
    found = _status_kb("VmHWM")
    return found if found is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def raw_op(op: str, path: Path, name: str) -> None:
    records = json.loads(path.read_bytes())
    if op == "open":
        return
    latest = next(r for r in reversed(records) if r["name"] == name)
    if op == "open+latest":
        json.loads((path.parent / name / latest["fname"]).read_bytes())
        return
    fname = f"{name}-raw-{time.time_ns()}.json"
    (path.parent / name / fname).write_bytes(json.dumps([-1, -2]).encode())
    records.append({**latest, "version": latest["version"] + 1, "fname": fname})
    write_manifest(path, records)


def write_manifest(path: Path, records: list[dict[str, Any]]) -> None:
    lines = ",\n".join(json.dumps(r, sort_keys=True) for r in records)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(f"[\n{lines}\n]\n".encode())
    os.replace(tmp, path)


#: The children run as a user's process does: with bytecode caches (a shell that sets
#: PYTHONDONTWRITEBYTECODE would make every child compile what it imports on first use).
CHILD_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def in_fresh_process(
    lib: str, op: str, path: Path, name: str, runs: int, env: dict[str, str] | None = None
) -> dict[str, float]:
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, __file__, "--child", lib, op, str(path), name],
            capture_output=True,
            text=True,
            check=True,
            env=env or CHILD_ENV,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "seconds": statistics.median(r["seconds"] for r in results),
        "peak_mb": max(r["peak_mb"] for r in results),
    }


# -- in-process figures --------------------------------------------------------------------------


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def bulk_save(lib: str, path: Path, shape: str, n: int, durable: bool = False) -> float:
    """Seconds to save N versions; ``durable`` raw also fsyncs every file and folder.

    The durable floor does what archivist guarantees before its commit, the plain way: every
    new file and folder fsynced (on 16 threads, once all are written), then the manifest.
    """
    names = artifact_names(shape, n)
    os.sync()  # untimed: the previous figure's writeback must not slow this one
    start = time.perf_counter()
    if lib == "raw":
        records = []
        now = datetime(2026, 1, 1)
        for i in range(n):
            name = names[i % len(names)]
            fname = f"{name}-{i}.json"
            folder = path.parent / name
            if i < len(names):
                folder.mkdir(parents=True, exist_ok=True)
            (folder / fname).write_bytes(json.dumps([i, i + 1]).encode())
            created = (now + timedelta(microseconds=i)).isoformat()
            records.append(
                {"name": name, "fname": fname, "version": i // len(names), "created_at": created}
            )
        if durable:
            written = [path.parent / r["name"] / r["fname"] for r in records]
            folders = [path.parent / name for name in names] + [path.parent]
            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                list(pool.map(_fsync, written + folders))
        write_manifest(path, records)
        if durable:
            _fsync(path)
        return time.perf_counter() - start
    module = __import__(lib)
    repository = module.Repository(str(path), mode="w")
    for i in range(n):
        repository.log_artifact(name=names[i % len(names)], value=[i, i + 1], handler="json")
    repository.save()
    return time.perf_counter() - start


def lookups(lib: str, path: Path, name: str) -> dict[str, float]:
    """Median seconds of one load by number and one as-of load, on an open repository."""
    records = [r for r in json.loads(path.read_bytes()) if r["name"] == name]
    rng = random.Random(0)
    picks = [rng.choice(records) for _ in range(LOADS)]
    if lib == "raw":
        folder = path.parent / name

        def by_number(record: dict[str, Any]) -> None:
            json.loads((folder / record["fname"]).read_bytes())

        by_time = by_number
    else:
        repository = __import__(lib).Repository(str(path), mode="r")

        def by_number(record: dict[str, Any]) -> None:
            repository.load_artifact(name, version=record["version"])

        def by_time(record: dict[str, Any]) -> None:
            repository.load_artifact(name, version=record["created_at"], match="asof")

    out = {}
    for label, load in (("load by number", by_number), ("load as-of", by_time)):
        samples = []
        for record in picks:
            start = time.perf_counter()
            load(record)
            samples.append(time.perf_counter() - start)
        out[label] = statistics.median(samples)
    return out


# -- the run -------------------------------------------------------------------------------------

OPS = (
    "bulk save",
    "durable bulk save",
    "open",
    "open+latest",
    "open+latest cold",
    "load by number",
    "load as-of",
    "append one",
)


def measure(
    lib: str, root: Path, shape: str, n: int, runs: int, ops: tuple[str, ...] = OPS
) -> dict[str, dict[str, float]]:
    folder = root / f"{lib}-{shape}-{n}"
    path = folder / "repository.json"
    name = artifact_names(shape, n)[-1]
    out: dict[str, dict[str, float]] = {"bulk save": {"seconds": bulk_save(lib, path, shape, n)}}
    if lib == "raw":  # the floor with archivist's durability, in a folder of its own
        durable = root / f"raw-durable-{shape}-{n}" / "repository.json"
        out["durable bulk save"] = {"seconds": bulk_save(lib, durable, shape, n, durable=True)}
        shutil.rmtree(durable.parent)
    elif lib == "archivist":  # its save is durable: set against the durable floor too
        out["durable bulk save"] = dict(out["bulk save"])
    if {"load by number", "load as-of"} & set(ops):
        for label, seconds in lookups(lib, path, name).items():
            out[label] = {"seconds": seconds}
    for op in ("open", "open+latest", "append one"):  # lazyscribe's take seconds: once
        if op in ops:
            out[op] = in_fresh_process(lib, op, path, name, 1 if lib == "lazyscribe" else runs)
    if "open+latest cold" in ops and lib == "archivist":  # no index cache: a full parse
        cold = {**CHILD_ENV, "ARCHIVIST_INDEX_CACHE": "0"}
        out["open+latest cold"] = in_fresh_process(lib, "open+latest", path, name, runs, cold)
    shutil.rmtree(folder)
    return out


def fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1e3:.3f} ms" if seconds < 0.01 else f"{seconds:.3f} s"


def report(shape: str, n: int, figures: dict[str, dict[str, dict[str, float]]]) -> None:
    ours, raw, theirs = figures["archivist"], figures["raw"], figures.get("lazyscribe")
    print(f"\n{shape} ({len(artifact_names(shape, n))} artifact(s)), N = {n:,} versions")
    header = f"{'operation':<16}{'archivist':>12}{'raw':>12}{'x raw':>8}"
    header += f"{'lazyscribe':>13}{'lzs/arch':>10}  peak MB (archivist/raw/lazyscribe)"
    print(header)
    for op in OPS:
        if op not in ours:
            continue
        a = ours[op]["seconds"]
        r = raw.get(op, raw.get(op.removesuffix(" cold"), {})).get("seconds", a)
        lz = theirs.get(op, {}).get("seconds") if theirs else None
        ratio = f"{lz / a:.1f}x" if lz else "-"
        peaks = [f.get(op, {}).get("peak_mb") for f in (ours, raw, theirs or {})]
        memory = "/".join("-" if p is None else f"{p:.0f}" for p in peaks)
        print(
            f"{op:<16}{fmt(a):>12}{fmt(r):>12}{a / r:>7.1f}x{fmt(lz):>13}{ratio:>10}  "
            + (memory if peaks[0] is not None else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per figure")
    parser.add_argument("--ops", default=",".join(OPS), help="bulk save always runs")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"bench_scale: Python {platform.python_version()}, archivist {version('archivist')}, "
        f"lazyscribe {version('lazyscribe')}, {os.cpu_count()} CPUs, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; fresh-process figures: median of {args.runs}",
        flush=True,
    )
    all_figures: dict[tuple[str, int], dict[str, dict[str, dict[str, float]]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        # archivist's index cache lives in this run's folder (the children inherit it)
        os.environ["ARCHIVIST_CACHE_DIR"] = CHILD_ENV["ARCHIVIST_CACHE_DIR"] = f"{tmp}/cache"
        for shape in args.shapes.split(","):
            for n in sizes:
                libs = ["archivist", "raw"] + (["lazyscribe"] if n <= LAZYSCRIBE_UP_TO else [])
                ops = tuple(args.ops.split(","))
                figures = {lib: measure(lib, Path(tmp), shape, n, args.runs, ops) for lib in libs}
                all_figures[(shape, n)] = figures
                report(shape, n, figures)
                sys.stdout.flush()
    if set(args.ops.split(",")) >= set(OPS):
        targets(all_figures)


def targets(all_figures: dict[tuple[str, int], dict[str, dict[str, dict[str, float]]]]) -> None:
    """Print issue 11's targets against the largest N measured, each met or missed."""
    checks: list[tuple[str, float, float, str]] = []  # label, measured, bound, unit
    largest = max(k[1] for k in all_figures)
    for (shape, n), figures in sorted(all_figures.items()):
        if n != largest:
            continue
        ours, raw = figures["archivist"], figures["raw"]
        bulk = ours["bulk save"]["seconds"]
        checks += [
            (f"{shape} {n:,}: open+latest", ours["open+latest"]["seconds"], 0.2, "s"),
            (f"{shape} {n:,}: append one", ours["append one"]["seconds"], 0.3, "s"),
            (f"{shape} {n:,}: bulk save / raw", bulk / raw["bulk save"]["seconds"], 1.5, "x"),
            (
                f"{shape} {n:,}: bulk save / durable raw",
                bulk / raw["durable bulk save"]["seconds"],
                1.5,
                "x",
            ),
        ]
    small = min(k[1] for k in all_figures)
    for (shape, n), figures in sorted(all_figures.items()):
        if n == small or (shape, small) not in all_figures:
            continue
        base = all_figures[(shape, small)]["archivist"]["load as-of"]["seconds"]
        grow = figures["archivist"]["load as-of"]["seconds"] / base
        # O(log N): 100x the versions may cost a few times as much, not 100x
        checks.append((f"{shape}: as-of at {n:,} / at {small:,}", grow, 5.0, "x"))
    print("\nissue 11 targets (measured in this run)")
    for label, measured, bound, unit in checks:
        verdict = "met" if measured <= bound else "MISSED"
        print(f"  {label:<44} {measured:>8.3f} {unit}  (target <= {bound} {unit})  {verdict}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:6])
    else:
        main()
