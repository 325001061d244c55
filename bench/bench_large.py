"""Large artifacts on local disk: archivist vs the raw floor, in one process (issue 11).

Rows, each archivist / raw as a speed ratio (raw time over archivist time; 1.0 is parity):

1. read a pickle: ``Repository(url, mode="r").load_artifact(name)`` (the file opened once,
   read at most to its recorded size plus one byte, SHA-256 checked before unpickling) vs
   ``pickle.load`` from the open file. Target >= 0.7.
2. write a pickle: ``log_artifact(name, value, handler="pickle")`` + ``save()`` (hashing,
   write-if-absent link, fsync of the file and its folder, the manifest commit) vs
   ``pickle.dump`` to a file + ``fsync``. Target >= 0.8.
3. write a parquet frame: ``log_artifact(name, frame, handler="parquet")`` + ``save()`` vs
   ``pyarrow.parquet.write_table(pa.Table.from_pandas(frame), path)`` + ``fsync``. Target
   >= 0.9.

The pickled value is what a model checkpoint looks like: a dict of eight float64 numpy
arrays of random numbers (incompressible, SIZE / 8 each), pickled with the default protocol
of both sides (``pickle.DEFAULT_PROTOCOL``). The frame is bench_parquet's: five float64,
two int64 and one categorical column, SIZE in memory. Files are read right after they
were written (page cache warm, as for a model loaded after training); before each timed
call the previous call's garbage is collected and dirty pages are flushed (``os.sync``), so
no call pays for another's writeback. Runs alternate who goes first; medians are shown.

Run with ``python3 dev.py -s bench -- bench_large`` (1 GiB) or
``python bench/bench_large.py --size-mib 256 --runs 3``.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import pickle
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import archivist

TARGETS = {"pickle read": 0.7, "pickle write": 0.8, "parquet write": 0.9}


def make_weights(size: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    return {f"layer{i}": rng.standard_normal(size // 8 // 8) for i in range(8)}


def settle() -> None:
    gc.collect()
    os.sync()  # the previous call's dirty pages would slow this call's writes and fsync


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    settle()
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def raw_dump(value: Any, path: Path) -> None:
    with open(path, "wb") as stream:
        pickle.dump(value, stream)
        stream.flush()
        os.fsync(stream.fileno())


def raw_load(path: Path) -> Any:
    with open(path, "rb") as stream:
        return pickle.load(stream)


def archivist_save(value: Any, url: str, handler: str) -> None:
    repository = archivist.Repository(url, mode="w")
    repository.log_artifact("value", value, handler=handler)
    repository.save()


def archivist_load(url: str) -> Any:
    return archivist.Repository(url, mode="r").load_artifact("value")


def parquet_write(frame: Any, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pandas(frame), path)
    with open(path, "rb") as stream:
        os.fsync(stream.fileno())


def verified_floor(path: Path) -> float:
    """Seconds a verified load cannot beat: SHA-256 of the bytes, then unpickling them.

    Only checked bytes may be unpickled, so the two cannot overlap; the bytes are already
    in memory here (no read, no page faults), which makes this a lower bound.
    """
    data = path.read_bytes()
    settle()
    start = time.perf_counter()
    hashlib.sha256(data).hexdigest()
    value = pickle.loads(data)
    seconds = time.perf_counter() - start
    del value, data
    return seconds


def same_weights(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="value size (default 1024)")
    parser.add_argument("--runs", type=int, default=3, help="runs per row (default 3)")
    parser.add_argument(
        "--rows", default="pickle,parquet", help="pickle, parquet or both (default)"
    )
    args = parser.parse_args()
    size = args.size_mib << 20
    rows = set(args.rows.split(","))
    print(
        f"large artifacts: {args.size_mib} MiB, {args.runs} runs; Python "
        f"{platform.python_version()}, numpy {np.__version__}, archivist "
        f"{archivist.__version__}, pickle protocol {pickle.DEFAULT_PROTOCOL}, "
        f"{os.cpu_count()} cores"
    )
    times: dict[str, dict[str, list[float]]] = {}

    def record(row: str, side: str, seconds: float) -> None:
        times.setdefault(row, {}).setdefault(side, []).append(seconds)

    with tempfile.TemporaryDirectory(prefix="bench-large-") as tmp:
        root = Path(tmp)
        if "pickle" in rows:
            weights = make_weights(size)
            for run in range(args.runs):
                path, url = root / f"raw-{run}.pkl", str(root / f"repo-{run}" / "repo.json")
                writes = [
                    ("raw", lambda path=path: raw_dump(weights, path)),
                    ("archivist", lambda url=url: archivist_save(weights, url, "pickle")),
                ]
                reads = [
                    ("raw", lambda path=path: raw_load(path)),
                    ("archivist", lambda url=url: archivist_load(url)),
                ]
                if run % 2:
                    writes.reverse()
                    reads.reverse()
                for side, write in writes:
                    record("pickle write", side, timed(write)[0])
                for side, read in reads:
                    seconds, loaded = timed(read)
                    record("pickle read", side, seconds)
                    if run == 0:
                        assert same_weights(loaded, weights), side
                    del loaded
                record("pickle read", "floor", verified_floor(path))
                path.unlink()
                shutil.rmtree(Path(url).parent)
            del weights
        if "parquet" in rows:
            sys.path.insert(0, str(Path(__file__).parent))
            from bench_parquet import make_frame

            frame = make_frame(size / (1 << 30))
            for run in range(args.runs):
                path, url = root / f"raw-{run}.parquet", str(root / f"repo-{run}" / "repo.json")
                writes = [
                    ("raw", lambda path=path: parquet_write(frame, path)),
                    ("archivist", lambda url=url: archivist_save(frame, url, "parquet")),
                ]
                if run % 2:
                    writes.reverse()
                for side, write in writes:
                    record("parquet write", side, timed(write)[0])
                path.unlink()
                shutil.rmtree(Path(url).parent)

    print(f"\n{'row':<15}{'raw s':>8}{'archivist s':>13}{'ratio':>8}{'target':>8}")
    missed = []
    for row, sides in times.items():
        raw, ours = statistics.median(sides["raw"]), statistics.median(sides["archivist"])
        ratio = raw / ours
        if ratio < TARGETS[row]:
            missed.append(row)
        print(f"{row:<15}{raw:>8.2f}{ours:>13.2f}{ratio:>7.2f}x{TARGETS[row]:>7.2f}x")
    if "floor" in times.get("pickle read", {}):
        floor = statistics.median(times["pickle read"]["floor"])
        raw = statistics.median(times["pickle read"]["raw"])
        print(
            f"\npickle read ceiling: SHA-256 + unpickling from memory take {floor:.2f} s, so a "
            f"verified load is at most {raw / floor:.2f}x pickle.load on this machine"
        )
    print("\nall targets met" if not missed else f"\nmissed: {', '.join(missed)}")


if __name__ == "__main__":
    main()
