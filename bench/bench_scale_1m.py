"""Scale at a million versions: the read side and one append, each beside its floor, in one run.

Opt-in (building a repository of a million versions takes minutes): set
``ARCHIVIST_BENCH_1M=1`` (``ARCHIVIST_BENCH_1M=1 python3 dev.py -s bench -- bench_scale_1m``),
or run ``python bench/bench_scale_1m.py --sizes 1000,1000000``. Without it, the script says
so and exits, so the bench session stays short.

For each N (default 1k, 100k and 1M versions of one artifact, small JSON values on local
disk, built with ``bench_scale.bulk_save``), each figure in a *fresh process* (imports
untimed, the minimum of ``--runs``), the child's peak memory above its imports beside it:

* ``open+latest``: open (mode ``r``) and load the latest, the index cache warm;
* ``open+latest cold``: the same with ``ARCHIVIST_INDEX_CACHE=0`` (a full parse);
* ``first open``: the same with the index cache emptied first (parses, writes the index);
* ``first as-of``, ``first by number``: open, then time only the first lookup;
* ``ls`` and ``log --limit 20``: the commands, in process (``click``'s runner);
* ``append one``: open (mode ``a``), log one, save (the index warm); ``append one (no
  journal)`` the same with ``journal=False``: no save journal and no kept digests
  (``digests.json``, which a save with a journal reads whole), the manifest's part alone.

The floors, measured in the same run on the same manifest: ``read+sha256`` (what an open
must do to know the manifest's state on local disk), ``read+json.loads`` and ``read+write``
(the manifest's bytes read, then written to a new file and fsynced, as a commit does).
The ratios printed are archivist's figure over its floor, and each figure at N over the
same figure at the smallest N (flat means O(log N)).

``--reuse DIR`` keeps the repositories in ``DIR/one-<N>`` (built once, reused by later
runs; ``append one`` adds a version per run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import CHILD_ENV, bulk_save, peak_rss_kb, reset_peak_kb

ENV = "ARCHIVIST_BENCH_1M"
SIZES = (1_000, 100_000, 1_000_000)
NAME = "model"

OPS = (
    "open+latest",
    "open+latest cold",
    "first open",
    "first as-of",
    "first by number",
    "ls",
    "log --limit 20",
    "append one",
    "append one (no journal)",
)
FLOORS = ("read+sha256", "read+json.loads", "read+write")
#: Each figure's floor (None: no floor, only the growth from the smallest N counts).
FLOOR_OF = {
    "open+latest": "read+sha256",
    "open+latest cold": "read+json.loads",
    "first open": "read+json.loads",
    "append one": "read+write",
    "append one (no journal)": "read+write",
}


def child(op: str, path: str) -> None:
    """Time one operation in this fresh process; print seconds and peak MB as JSON."""
    if op in FLOORS:
        import hashlib
    else:
        from click.testing import CliRunner

        from archivist import Repository
        from archivist.cli import cli
    base_kb = reset_peak_kb()
    start = time.perf_counter()
    manifest = Path(path)
    if op == "read+sha256":
        hashlib.sha256(manifest.read_bytes()).hexdigest()
    elif op == "read+json.loads":
        json.loads(manifest.read_bytes())
    elif op == "read+write":
        data = manifest.read_bytes()
        copy = manifest.with_name(".bench-copy")
        with open(copy, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        seconds = time.perf_counter() - start
        copy.unlink()
        start = time.perf_counter() - seconds
    elif op in ("open+latest", "open+latest cold", "first open"):
        Repository(path, mode="r").load_artifact(NAME)
    elif op in ("first as-of", "first by number"):
        repository = Repository(path, mode="r")
        count = len(repository)
        # untimed, and no lookup by time: the first and the last version's times
        first, last = (
            datetime.fromisoformat(repository.get_artifact_metadata(NAME, v)["created_at"])
            for v in (0, -1)
        )
        middle = (first + (last - first) / 3).isoformat()
        start = time.perf_counter()
        if op == "first as-of":
            repository.load_artifact(NAME, version=middle, match="asof")
        else:
            repository.load_artifact(NAME, version=count // 2)
    elif op in ("ls", "log --limit 20"):
        args = ["ls", path] if op == "ls" else ["log", path, NAME, "--limit", "20"]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
    elif op.startswith("append one"):
        repository = Repository(path, mode="a", journal=op == "append one")
        repository.log_artifact(name=NAME, value=[-1, -2], handler="json")
        repository.save()
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_mb": (peak_rss_kb() - base_kb) / 1024}))


def in_fresh_process(op: str, path: Path, runs: int, cache: Path) -> dict[str, float] | None:
    env = {**CHILD_ENV, "ARCHIVIST_CACHE_DIR": str(cache)}
    if op == "open+latest cold":
        env["ARCHIVIST_INDEX_CACHE"] = "0"
    results = []
    for _ in range(runs):
        if op == "first open":
            shutil.rmtree(cache / "manifests", ignore_errors=True)
        done = subprocess.run(
            [sys.executable, __file__, "--child", op, str(path)],
            capture_output=True,
            text=True,
            env=env,
        )
        if done.returncode:  # e.g. an option an older archivist lacks: no figure
            print(f"  {op} failed: {done.stderr.strip().splitlines()[-1:]}", flush=True)
            return None
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    if op == "first open":  # leave the index warm for the next figures
        in_fresh_process("open+latest", path, 1, cache)
    return {
        "seconds": min(r["seconds"] for r in results),
        "peak_mb": max(r["peak_mb"] for r in results),
    }


def fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds < 0.1 else f"{seconds:.3f} s"


def repository_of(n: int, root: Path) -> Path:
    path = root / f"one-{n}" / "repository.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        seconds = bulk_save("archivist", path, "one", n)
        print(f"  built {n:,} versions in {seconds:.0f} s", flush=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per figure")
    parser.add_argument("--ops", default=",".join(OPS + FLOORS))
    parser.add_argument("--reuse", type=Path, help="keep the repositories in this folder")
    args = parser.parse_args()
    if not os.environ.get(ENV) and len(sys.argv) == 1:
        print(f"bench_scale_1m: skipped; set {ENV}=1 to run it (it takes several minutes)")
        return
    sizes = sorted(int(s) for s in args.sizes.split(","))
    ops = args.ops.split(",")
    print(
        f"bench_scale_1m: Python {platform.python_version()}, archivist {version('archivist')}, "
        f"{os.cpu_count()} CPUs, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; fresh processes, "
        f"minimum of {args.runs}",
        flush=True,
    )
    figures: dict[int, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = args.reuse or Path(tmp)
        cache = Path(tmp) / "cache"
        for n in sizes:
            path = repository_of(n, root)
            size_mb = path.stat().st_size / 1e6
            in_fresh_process("open+latest", path, 1, cache)  # the index, built once
            out = figures[n] = {}
            print(f"\n{n:,} versions of one artifact ({size_mb:.0f} MB manifest)", flush=True)
            print(f"{'operation':<24}{'archivist':>12}{'peak MB':>9}{'floor':>18}{'x floor':>9}")
            for op in [*FLOORS, *OPS]:
                if op not in ops:
                    continue
                measured = in_fresh_process(op, path, args.runs, cache)
                if measured is None:
                    continue
                out[op] = measured
                floor = FLOOR_OF.get(op)
                base = out.get(floor or "", {}).get("seconds")
                line = f"{op:<24}{fmt(out[op]['seconds']):>12}{out[op]['peak_mb']:>9.0f}"
                if base:
                    line += f"{floor:>18}{out[op]['seconds'] / base:>8.2f}x"
                print(line, flush=True)
            if args.reuse is None:
                shutil.rmtree(path.parent)
    smallest = sizes[0]
    if len(sizes) > 1:
        print(f"\ngrowth: each figure at N over the same figure at {smallest:,}")
        for n in sizes[1:]:
            growth = [
                f"{op} {figures[n][op]['seconds'] / figures[smallest][op]['seconds']:.1f}x"
                for op in OPS
                if op in figures[n] and op in figures[smallest]
            ]
            print(f"  {n:,} / {smallest:,}: " + ", ".join(growth))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:4])
    else:
        main()
