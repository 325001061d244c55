"""Large artifacts on local disk: archivist vs the raw floor, in one process (issue 11).

Rows, each archivist / raw as a speed ratio (raw time over archivist time; 1.0 is parity):

1. read a pickle: ``Repository(url, mode="r").load_artifact(name)`` (the file opened once,
   read at most to its recorded size plus one byte, its recorded BLAKE3 checked before
   unpickling) vs ``pickle.load`` from the open file. Target >= 0.7 (issue 21).
   ``pickle read sha256`` is the same load of a record that carries only ``sha256`` (an
   older record, verified with SHA-256 as before), side by side; no target.
2. write a pickle: ``log_artifact(name, value, handler="pickle")`` + ``save()`` (SHA-256,
   BLAKE3 and the block list hashed in the pass that writes, write-if-absent link, fsync
   of the file and its folder, the block list, the manifest commit) vs ``pickle.dump`` to a
   file + ``fsync``. Target >= 0.9 (issue 21).
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
import json
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

import blake3
import numpy as np

import archivist

TARGETS = {
    "pickle read": 0.7,
    "pickle read sha256": None,
    "pickle write": 0.9,
    "parquet write": 0.9,
}


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


def sha256_only(url: str) -> str:
    """Write a second manifest beside ``url`` naming the same files with only sha256.

    Its records are what an earlier archivist wrote; they share the version's file, so both
    read rows read the same bytes.
    """
    manifest = Path(url)
    records = [
        {k: v for k, v in record.items() if k not in ("blake3", "blocks")}
        for record in json.loads(manifest.read_text())
    ]
    older = manifest.with_name("sha256-only.json")
    older.write_text(json.dumps(records))
    return str(older)


def verified_floor(path: Path, digest: Callable[[bytes], object]) -> float:
    """Seconds a verified load cannot beat: the digest of the bytes, then unpickling them.

    Only checked bytes may be unpickled, so the two cannot overlap; the bytes are already
    in memory here (no read, no page faults), which makes this a lower bound.
    """
    data = path.read_bytes()
    settle()
    start = time.perf_counter()
    digest(data)
    value = pickle.loads(data)
    seconds = time.perf_counter() - start
    del value, data
    return seconds


def hash_seconds(path: Path) -> dict[str, float]:
    """Seconds each digest a save computes takes over the file's bytes, in memory."""
    from archivist._formats.hashes import DigestSet

    def every(data: bytes) -> object:
        digests = DigestSet()
        digests.update(data)
        return digests.result()

    data = path.read_bytes()
    out = {}
    for name, digest in (("sha256", sha256_of), ("blake3", blake3_of), ("all (a save)", every)):
        settle()
        start = time.perf_counter()
        digest(data)
        out[name] = time.perf_counter() - start
    return out


def sha256_of(data: bytes) -> object:
    return hashlib.sha256(data).hexdigest()


def blake3_of(data: bytes) -> object:
    return blake3.blake3(data, max_threads=blake3.blake3.AUTO).hexdigest()


def sides_raw(times: dict[str, dict[str, list[float]]]) -> float:
    """The raw read of this run, the floor both read rows are held against."""
    return times["pickle read"]["raw"][-1]


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
    hashing: dict[str, float] = {}

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
                if run % 2:
                    writes.reverse()
                for side, write in writes:
                    record("pickle write", side, timed(write)[0])
                older = sha256_only(url)
                reads = [
                    ("pickle read", "raw", lambda path=path: raw_load(path)),
                    ("pickle read", "archivist", lambda url=url: archivist_load(url)),
                    ("pickle read sha256", "archivist", lambda url=older: archivist_load(url)),
                ]
                reads = reads[run % 3 :] + reads[: run % 3]  # each goes first once in 3 runs
                for row, side, read in reads:
                    seconds, loaded = timed(read)
                    record(row, side, seconds)
                    if run == 0:
                        assert same_weights(loaded, weights), side
                    del loaded
                record("pickle read sha256", "raw", sides_raw(times))
                record("pickle read", "floor", verified_floor(path, blake3_of))
                record("pickle read", "floor sha256", verified_floor(path, sha256_of))
                if run == 0:
                    hashing = hash_seconds(path)
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

    print(f"\n{'row':<20}{'raw s':>8}{'archivist s':>13}{'ratio':>8}{'target':>8}")
    missed = []
    for row, sides in times.items():
        raw, ours = statistics.median(sides["raw"]), statistics.median(sides["archivist"])
        ratio, target = raw / ours, TARGETS[row]
        if target is not None and ratio < target:
            missed.append(row)
        shown = "-" if target is None else f"{target:.2f}x"
        print(f"{row:<20}{raw:>8.2f}{ours:>13.2f}{ratio:>7.2f}x{shown:>8}")
    if "floor" in times.get("pickle read", {}):
        raw = statistics.median(times["pickle read"]["raw"])
        for side, digest in (("floor", "BLAKE3"), ("floor sha256", "SHA-256")):
            floor = statistics.median(times["pickle read"][side])
            print(
                f"\npickle read ceiling, {digest}: the digest + unpickling from memory take "
                f"{floor:.2f} s, so a verified load is at most {raw / floor:.2f}x pickle.load"
            )
    if hashing:
        print(
            "\nhashing the pickle in memory (what a save adds, on worker threads): "
            + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in hashing.items())
        )
    print("\nall targets met" if not missed else f"\nmissed: {', '.join(missed)}")


if __name__ == "__main__":
    main()
