"""The parquet handler vs pyarrow writing and reading the same table directly, in one process.

Scenario: a pandas DataFrame of about 1 GiB in memory (SIZE_GIB, first argument), numeric
and categorical columns, on local disk:

1. write: ``repository.log_artifact(..., handler="parquet"); repository.save()`` vs
   ``pq.write_table(pa.Table.from_pandas(frame), path)`` and an fsync of the file;
2. read: ``repository.load_artifact(...)`` (digest verified first, as always) vs
   ``pq.read_table(path).to_pandas()``; also shown: a tuned direct read
   (``ParquetFile(path, pre_buffer=False)``, ``to_pandas(self_destruct=True)``).

The handler's write includes what a save adds: the SHA-256 of the file, the write-if-absent
link into place and the fsync before the commit.

Throughput is the in-memory size over the median wall time; the ratio is handler / pyarrow
(targets: at least 0.90 for writes, issue 11, and 0.80 for reads). Peak memory is the
largest resident-set growth during the call, sampled from /proc/self/statm every 5 ms, over
the table's in-memory size (target: at most 1.5). Run with
``python3 dev.py -s bench -- bench_parquet`` or ``python bench/bench_parquet.py [SIZE_GIB] [RUNS]``.
"""

from __future__ import annotations

import gc
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import archivist

THROUGHPUT_TARGETS = {"write": 0.90, "read": 0.80}
MEMORY_TARGET = 1.5
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


class PeakSampler:
    """Sample the resident set size in a background thread; keep the largest value."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss())
            time.sleep(self.interval)

    def __enter__(self) -> PeakSampler:
        self.peak = rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss())


def settle() -> None:
    """Start each measurement from the same floor: freed memory returned, no writeback due."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    os.sync()  # the previous file's dirty pages would slow this call's writes and fsync


@contextmanager
def measured(results: dict[str, list[tuple[float, int]]], label: str) -> Iterator[None]:
    settle()
    before = rss()
    with PeakSampler() as sampler:
        start = time.perf_counter()
        yield
        elapsed = time.perf_counter() - start
    results.setdefault(label, []).append((elapsed, sampler.peak - before))


def make_frame(size_gib: float) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    row_bytes = 5 * 8 + 2 * 8 + 1  # five float64, two int64, one int8-coded categorical
    rows = int(size_gib * (1 << 30) / row_bytes)
    columns: dict[str, Any] = {f"f{i}": rng.standard_normal(rows) for i in range(5)}
    columns["id"] = np.arange(rows, dtype=np.int64)
    columns["count"] = rng.integers(0, 1000, rows, dtype=np.int64)
    columns["segment"] = pd.Categorical.from_codes(
        rng.integers(0, 8, rows, dtype=np.int8), categories=[f"segment-{i}" for i in range(8)]
    )
    return pd.DataFrame(columns)


def main() -> None:
    size_gib = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    frame = make_frame(size_gib)
    nbytes = int(frame.memory_usage(index=True, deep=True).sum())
    print(
        f"parquet benchmark: {len(frame):,} rows, {nbytes / (1 << 30):.2f} GiB in memory, "
        f"{runs} runs; Python {platform.python_version()}, pyarrow {pa.__version__}, "
        f"pandas {pd.__version__}, archivist {archivist.__version__}, "
        f"archivist-parquet {version('archivist-parquet')}, {os.cpu_count()} cores"
    )
    results: dict[str, list[tuple[float, int]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-parquet-") as tmp:
        root = Path(tmp)
        for run in range(runs):
            direct = root / f"direct-{run}.parquet"
            url = str(root / f"repo-{run}" / "repository.json")

            def pyarrow_write(direct: Path = direct) -> None:
                pq.write_table(pa.Table.from_pandas(frame), direct)
                with open(direct, "rb") as written:
                    os.fsync(written.fileno())  # a save makes its file durable too

            def handler_write(url: str = url) -> None:
                repository = archivist.Repository(url, mode="w")
                repository.log_artifact("frame", frame, handler="parquet")
                repository.save()

            def pyarrow_read(direct: Path = direct) -> Any:
                return pq.read_table(direct).to_pandas()

            def pyarrow_read_tuned(direct: Path = direct) -> Any:
                table = pq.ParquetFile(direct, pre_buffer=False).read(use_pandas_metadata=True)
                return table.to_pandas(split_blocks=True, self_destruct=True)

            def handler_read(url: str = url) -> Any:
                return archivist.Repository(url, mode="r").load_artifact("frame")

            # Alternate who goes first, so neither always meets a warmer cache.
            writes = [("pyarrow write", pyarrow_write), ("handler write", handler_write)]
            reads = [
                ("pyarrow read", pyarrow_read),
                ("pyarrow read, tuned", pyarrow_read_tuned),
                ("handler read", handler_read),
            ]
            if run % 2:
                writes.reverse()
                reads.reverse()
            for label, write in writes:
                with measured(results, label):
                    write()
            for label, read in reads:
                with measured(results, label):
                    loaded = read()
                if run == 0 and label == "handler read":
                    pd.testing.assert_frame_equal(loaded, frame)
                del loaded
            file_size = direct.stat().st_size
            direct.unlink()
            shutil.rmtree(Path(url).parent)

    print(f"file size: {file_size / (1 << 30):.2f} GiB (snappy)\n")

    def median(label: str) -> float:
        return statistics.median(t for t, _ in results[label])

    def peak(label: str) -> float:
        return max(m for _, m in results[label]) / nbytes

    print(f"{'operation':<22}{'median s':>10}{'GiB/s':>8}{'peak mem / table':>18}")
    for label in results:
        seconds = median(label)
        print(
            f"{label:<22}{seconds:>10.2f}{nbytes / (1 << 30) / seconds:>8.2f}{peak(label):>17.2f}x"
        )
    print()
    ok = True
    for op in ("write", "read"):
        ratio = median(f"pyarrow {op}") / median(f"handler {op}")
        memory = peak(f"handler {op}")
        verdict = ratio >= THROUGHPUT_TARGETS[op] and memory <= MEMORY_TARGET
        ok &= verdict
        print(
            f"{op}: throughput {ratio:.2f}x pyarrow's (target >= {THROUGHPUT_TARGETS[op]}), "
            f"peak memory {memory:.2f}x the table (target <= {MEMORY_TARGET}): "
            + ("met" if verdict else "MISSED")
        )
    tuned = median("pyarrow read, tuned") / median("handler read")
    print(
        f"read vs the tuned pyarrow read (ParquetFile pre_buffer=False, to_pandas "
        f"self_destruct): {tuned:.2f}x; the handler's read includes the SHA-256 check of the "
        "whole file before decoding"
    )
    print("all targets met" if ok else "some targets missed")


if __name__ == "__main__":
    main()
