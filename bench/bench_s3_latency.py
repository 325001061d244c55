"""Sequential round trips of S3 operations: moto's server behind a proxy that adds latency.

Each row runs in fresh processes (as a CLI call or a CI job would), against moto's S3
server reached through :class:`latency_proxy.LatencyProxy` twice: once with ``--rtt``
seconds of round trip (50 ms by default) and once with none. The difference of the two
wall times, divided by the round-trip time, is how many round trips the operation waited
for one after another: CPU time, imports and the emulator's own work cancel out (on a busy
machine, only roughly). Each figure is from the fastest of ``--runs`` runs.

Rows (each timed in the child from the open on; imports come first, untimed):

* open (mode ``a``) + save one small version, with the conditional-write probe remembered
  (the bucket was probed from this machine before), with the save journal (the default);
* the same with ``journal=False``;
* the first save on a machine that has not probed the bucket (an empty cache folder);
* open (mode ``r``) + load the latest version;
* the same with the version's file in the local cache.

The floor is one ``PutObject`` of the same bytes in a fresh process (without ``Expect:
100-continue``). Round trips are counted from the proxy's record of each request (when the
client sent it, when its answer arrived): the longest chain of requests each sent after an
answer it waited for, a new connection's handshake and a wait for ``100 Continue`` counting
one each. That count does not move with the machine's load; the difference of wall times
is printed beside it. Beside each row: the HTTP requests the proxy saw (how many asked for
``Expect: 100-continue``, how many connections were opened); ``--show`` lists them.

    python bench/bench_s3_latency.py [--rtt 0.05] [--runs 3]

It needs archivist-s3 and ``moto[s3] flask flask-cors``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from latency_proxy import LatencyProxy, sequential_round_trips

#: The child: import everything first, then time one operation; print what it measured.
_CHILD = r"""
import json, logging, sys, time
operation, url, options = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
import s3fs, botocore, aiobotocore  # imported before the clock starts
from archivist import Repository
import archivist_s3.backend

calls = []
class Calls(logging.Handler):
    def emit(self, record):
        calls.append(record.getMessage())
log = logging.getLogger("archivist.storage")
log.addHandler(Calls())
log.setLevel(logging.DEBUG)
log.propagate = False

began = time.perf_counter()
if operation == "floor":
    fs = s3fs.S3FileSystem(**options)
    bucket, key = url[len("s3://"):].split("/", 1)
    from fsspec.asyn import sync
    client = sync(fs.loop, fs.set_session)
    def no_expect(params, **_):  # the floor waits for no 100 Continue
        params["headers"].pop("Expect", None)
    client.meta.events.register_last("before-call.s3", no_expect)
    fs.call_s3("put_object", Bucket=bucket, Key=key + ".floor", Body=json.dumps([9]).encode())
    opened, opened_at = began, 0.0
elif operation.startswith("save"):
    repository = Repository(url, mode="a", journal=operation != "save-nojournal", **options)
    opened, opened_at = time.perf_counter(), time.monotonic()
    repository.log_artifact(name="features", value=[9], handler="json")
    repository.save()
else:
    repository = Repository(url, mode="r", **options)
    opened, opened_at = time.perf_counter(), time.monotonic()
    repository.load_artifact("features")
ended, ended_at = time.perf_counter(), time.monotonic()
print(json.dumps({
    "total": ended - began, "after_open": ended - opened, "opened_at": opened_at,
    "ended_at": ended_at, "calls": calls,
}))
"""


def run_child(operation: str, url: str, endpoint: str, cache: str) -> dict[str, Any]:
    """Run one operation in a fresh process against ``endpoint``; return its figures."""
    options = {"key": "testing", "secret": "testing", "client_kwargs": {"endpoint_url": endpoint}}
    env = {**os.environ, "ARCHIVIST_CACHE_DIR": cache}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, operation, url, json.dumps(options)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if out.returncode:
        raise RuntimeError(f"{operation} failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


#: label, operation, cache setup ("warm": probe remembered and file cached, "cold": empty)
ROWS = [
    ("open 'a' + save 1 small version (probe remembered)", "save", "warm"),
    ("same, journal=False", "save-nojournal", "warm"),
    ("first save on a new machine (probes the bucket)", "save", "cold"),
    ("open 'r' + load latest", "load", "cold"),
    ("open 'r' + load latest, file cached", "load", "warm"),
    ("floor: one PutObject of the same bytes", "floor", "cold"),
]


def measure(
    operation: str,
    setup: str,
    url: str,
    slow: LatencyProxy,
    fast: LatencyProxy,
    warm: dict[str, str],
    runs: int,
) -> dict[str, Any]:
    """Return the row's minimum wall times, round trips, requests and backend calls."""
    best: dict[str, Any] = {}
    for _ in range(runs):
        for proxy, key in ((fast, "fast"), (slow, "slow")):
            cold = tempfile.mkdtemp(prefix="archivist-bench-cache-")
            try:
                cache = warm[key] if setup == "warm" else cold
                proxy.reset()
                result = run_child(operation, url, proxy.endpoint, cache)
            finally:
                shutil.rmtree(cold, ignore_errors=True)
            # what the operation waited for: requests answered before it returned (a
            # committed save's journal is deleted after, before the process exits)
            waited = [r for r in proxy.requests if r.answered <= result["ended_at"]]
            if key not in best or result["total"] < best[key]["total"]:
                best[key] = {
                    **result,
                    "requests": [f"{r.method} {r.target.split('?')[0]}" for r in proxy.requests],
                    "expect": sum(r.expects_continue for r in proxy.requests),
                    "connections": proxy.connections,
                    "chain": sequential_round_trips(waited, proxy.rtt),
                    "chain_after_open": sequential_round_trips(
                        [r for r in waited if r.sent >= result["opened_at"]], proxy.rtt
                    ),
                    "after_return": len(proxy.requests) - len(waited),
                }
    rtt = slow.rtt
    slow_run, fast_run = best["slow"], best["fast"]
    return {
        "total_rt": (slow_run["total"] - fast_run["total"]) / rtt,
        "after_open_rt": (slow_run["after_open"] - fast_run["after_open"]) / rtt,
        "total_s": slow_run["total"],
        "requests": slow_run["requests"],
        "expect": slow_run["expect"],
        "connections": slow_run["connections"],
        "calls": slow_run["calls"],
        "chain": slow_run["chain"],
        "chain_after_open": slow_run["chain_after_open"],
        "after_return": slow_run["after_return"],
    }


def main() -> int:
    """Measure every row and print them side by side with the floor."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtt", type=float, default=0.05, help="round trip added (s)")
    parser.add_argument("--runs", type=int, default=3, help="runs per row; the minimum counts")
    parser.add_argument("--show", action="store_true", help="list each row's requests")
    args = parser.parse_args()

    from s3fs import S3FileSystem

    from archivist import Repository
    from archivist.testing.emulators import start_moto

    # one warm cache folder per proxy: a probe is remembered per endpoint and bucket
    warm = {key: tempfile.mkdtemp(prefix="archivist-bench-warm-") for key in ("slow", "fast")}
    try:
        with start_moto() as moto:
            host, port = moto.endpoint.split("://")[1].split(":")
            options = dict(moto.storage_options)
            bucket = f"bench-{uuid.uuid4().hex[:12]}"
            S3FileSystem(skip_instance_cache=True, **options).mkdir(bucket)
            url = f"s3://{bucket}/team/repository.json"
            repository = Repository(url, mode="w", **options)
            repository.log_artifact(name="features", value=[0, 1, 2], handler="json")
            repository.save()
            with (
                LatencyProxy(host, int(port), rtt=args.rtt) as slow,
                LatencyProxy(host, int(port), rtt=0.0) as fast,
            ):
                for key, proxy in (("slow", slow), ("fast", fast)):
                    # the probe passed and remembered, the latest version's file cached
                    run_child("save", url, proxy.endpoint, warm[key])
                    run_child("load", url, proxy.endpoint, warm[key])
                print(
                    f"S3 (moto) behind a proxy adding {args.rtt * 1000:.0f} ms of round trip, "
                    f"fresh processes, minimum of {args.runs} runs.\nround trips: the longest "
                    "chain of requests each sent after the previous one's answer (a new "
                    "connection's handshake and a wait for 100 Continue count one each), "
                    "until the operation returned; 'after return': requests sent after it "
                    "returned (a committed save's journal deletions, before the process exits); "
                    "'after open': the same from the end of the open on; 'by wall time': "
                    "(wall time - wall time without delay) / RTT.\n"
                )
                print(
                    f"{'operation':<52} {'round trips':>11} {'after open':>10} "
                    f"{'by wall time':>12} {'requests':>8} {'after return':>12} {'Expect':>6} "
                    f"{'conns':>5}"
                )
                for label, operation, setup in ROWS:
                    row = measure(operation, setup, url, slow, fast, warm, args.runs)
                    print(
                        f"{label:<52} {row['chain']:>11} {row['chain_after_open']:>10} "
                        f"{row['total_rt']:>12.1f} {len(row['requests']):>8} "
                        f"{row['after_return']:>12} "
                        f"{row['expect']:>6} {row['connections']:>5}"
                    )
                    if args.show:
                        for request in row["requests"]:
                            print(f"      {request}")
    finally:
        for folder in warm.values():
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
