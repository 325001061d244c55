"""Count the HTTP requests each repository operation makes against S3 (moto's server).

Every request the S3 client sends is recorded through a botocore ``before-send`` hook, so
retries would show too. The expected counts are the protocol's minimum:

* open a repository: 1 GET of the manifest (mode ``a`` or ``w+`` also GETs the kept digests,
  sent with it, so that a save needs no GET of them);
* load the latest version: manifest GET + file GET;
* refresh: 1 GET with ``If-None-Match: <ETag>``, answered 304 with no body when the
  manifest is unchanged (200 and the manifest when another writer committed);
* save k new versions: k file PUTs + 1 conditional PUT of the manifest (no GET: it is still
  as the open or the last save read it; a GET and another PUT only when another writer
  committed first), plus the save journal that lets gc prove ownership (1 PUT sent with
  the files, 1 PUT of the written files' digests, and 1 DELETE of each, sent while
  ``save()`` returns; mode ``w`` also lists the journals it forgets) and the kept digests
  (1 conditional PUT, after a GET unless this repository's last save left them as they
  are). ``journal=False`` (or ``ARCHIVIST_SAVE_JOURNAL=0``) saves without either: a fresh
  process's open + save of one version is then 3 requests (manifest GET, file PUT,
  conditional manifest PUT), and gc never collects the files of a save killed mid-way;
* a file larger than the part size: a multipart upload (create, parts, complete) instead of
  its one PUT; past 8 MiB, 1 PUT of its block list (the BLAKE3 of each 4 MiB block);
* once per bucket and machine (remembered for a week in the user's cache folder, here a
  temporary one), before the first write: the conditional-write probe (3 PUTs and a DELETE
  of a probe key, the DELETE not waited for). A fresh process that saves to a bucket
  probed before sends none;
* a save of many files uploads them concurrently: the same requests, in a fraction of the
  time (the time of the same save with one upload after another is printed beside it).

Run it with ``python3 dev.py -s bench -- bench_s3_requests`` or directly with a Python that
has archivist-s3 and ``moto[s3] flask flask-cors`` installed:
``python bench/bench_s3_requests.py``. It exits non-zero if any count is above the minimum.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
# passed probes are remembered here, not in the user's cache folder (children inherit it)
os.environ.setdefault("ARCHIVIST_CACHE_DIR", tempfile.mkdtemp(prefix="archivist-bench-"))

from fsspec.asyn import sync
from s3fs import S3FileSystem

from archivist import Repository
from archivist._backends._background import wait_deferred
from archivist.storage.object_store import ObjectStoreBackend
from archivist.testing.emulators import start_moto

REQUESTS: list[str] = []
#: The status of each response, in order (a 304 carries no body).
STATUSES: list[int] = []


def record(request: Any, **_: Any) -> None:
    """Record one HTTP request as ``METHOD /key?query`` (the bucket left out) and its conditions."""
    url = str(request.url).split("://", 1)[-1]  # host/bucket/key?query
    condition = "".join(
        f" {header}" for header in ("If-None-Match", "If-Match") if request.headers.get(header)
    )
    REQUESTS.append(f"{request.method} /{url.split('/', 2)[-1]}{condition}")


def received(response_dict: Any = None, **_: Any) -> None:
    """Record the status of one response."""
    STATUSES.append(int(response_dict["status_code"]) if response_dict else 0)


def measure(
    label: str,
    expected: int,
    action: Callable[[], object],
    show: int = 0,
    statuses: list[int] | None = None,
) -> bool:
    """Run ``action``, print the requests it made, and tell whether it met ``expected``.

    With ``statuses``, the responses must also have exactly those statuses.
    """
    REQUESTS.clear()
    STATUSES.clear()
    action()
    wait_deferred()  # a committed save's journal is deleted while save() returns
    made = list(REQUESTS)
    met = len(made) <= expected and (statuses is None or statuses == STATUSES)
    verdict = "ok" if met else "TOO MANY" if len(made) > expected else f"answered {STATUSES}"
    print(f"{label:<48} {len(made):>4} (minimum {expected:>4})  {verdict}")
    shown = (
        made if not show or len(made) <= show else [*made[:show], f"... {len(made) - show} more"]
    )
    for request in shown:
        short = request if len(request) < 90 else request[:87] + "..."
        print(f"      {short}")
    return met


def fresh_process_save(url: str, options: dict[str, Any], journal: bool) -> None:
    """In a child process: open mode 'a', log one version, save; print the requests sent."""
    fs = S3FileSystem(**options)
    sync(fs.loop, fs.set_session)
    fs.s3.meta.events.register("before-send.s3", record)
    repository = Repository(url, mode="a", journal=journal, **options)
    repository.log_artifact(name="features", value=[9], handler="json")
    repository.save()
    wait_deferred()
    print(json.dumps(REQUESTS))


def in_fresh_process(url: str, options: dict[str, Any], journal: bool = True) -> None:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--fresh-process-save",
            url,
            json.dumps(options),
            json.dumps(journal),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    REQUESTS.extend(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> int:
    """Measure each operation once on a fresh bucket; return 1 if any made extra requests."""
    with start_moto() as moto:
        options = dict(moto.storage_options)
        bucket = f"bench-{uuid.uuid4().hex[:12]}"
        fs = S3FileSystem(**options)  # the instance every backend below shares (fsspec cache)
        fs.mkdir(bucket)
        sync(fs.loop, fs.set_session)
        fs.s3.meta.events.register("before-send.s3", record)
        fs.s3.meta.events.register("response-received.s3", received)
        url = f"s3://{bucket}/team/repository.json"
        ok = True
        print(f"S3 requests per operation (moto {moto.endpoint})\n")

        def first_save() -> None:
            repository = Repository(url, mode="w", **options)
            repository.log_artifact(name="features", value=[0, 1, 2], handler="json")
            repository.save()

        # mode "w" also lists the journals of the saves whose manifest it replaces
        # probe, mode w's listing of journals, 1 file, the manifest, the journal, the kept digests
        ok &= measure(
            "first save (probe + journal + 1 file + manifest)", 4 + 1 + 2 + 4 + 2, first_save
        )

        opened: dict[str, Repository] = {}

        def open_append() -> None:
            opened["a"] = Repository(url, mode="a", **options)

        # the manifest and the kept digests, sent together
        ok &= measure("open mode='a'", 2, open_append)

        def save_one() -> None:
            opened["a"].log_artifact(name="features", value=[0, 1, 2, 3], handler="json")
            opened["a"].save()

        # the kept digests were read at the open: their PUT alone
        ok &= measure("save 1 new version", 1 + 1 + 4 + 1, save_one)

        def save_five() -> None:
            for i in range(5):
                opened["a"].log_artifact(name=f"model-{i}", value={"i": i}, handler="json")
            opened["a"].save()

        # the kept digests as the last save left them: their PUT alone
        ok &= measure("save 5 new versions", 5 + 1 + 4 + 1, save_five)

        def save_large() -> None:
            opened["a"].log_artifact(name="weights", value=os.urandom(20 << 20), handler="pickle")
            opened["a"].save()

        # 20 MiB in 8 MiB parts: create + 3 parts + complete, its block list, then the manifest.
        ok &= measure("save a 20 MiB version (multipart upload)", 5 + 1 + 1 + 4 + 1, save_large)

        def load_latest() -> None:
            Repository(url, mode="r", **options).load_artifact("features")

        ok &= measure("open mode='r' + load latest", 2, load_latest)

        def load_as_of() -> None:
            repository = Repository(url, mode="r", **options)
            created = repository.get_artifact_metadata("features", version=0)["created_at"]
            repository.load_artifact("features", version=created, match="asof")

        ok &= measure("open mode='r' + load as-of", 2, load_as_of)

        def refresh() -> None:
            opened["a"].refresh()

        # a GET with If-None-Match: the ETag read; 304 Not Modified, no body
        ok &= measure("refresh (manifest unchanged: 304, no body)", 1, refresh, statuses=[304])

        def commit_elsewhere() -> None:
            other = Repository(url, mode="a", **options)
            other.log_artifact(name="features", value=[7], handler="json")
            other.save()

        commit_elsewhere()
        wait_deferred()
        # the same conditional GET, answered with the new manifest
        ok &= measure("refresh (manifest changed: 200)", 1, refresh, statuses=[200])

        # A CLI call or a CI job: a new process, whose probe of this bucket is remembered.
        ok &= measure(
            "fresh process: open 'a' + save 1 (no probe)",
            1 + 1 + 1 + 4 + 2,
            lambda: in_fresh_process(url, options),
        )
        # The same without the save journal: GET manifest, PUT file, conditional PUT.
        ok &= measure(
            "fresh process: open a + save one, journal=False",
            1 + 1 + 1,
            lambda: in_fresh_process(url, options, journal=False),
        )

        seconds: dict[int, float] = {}

        def save_many(workers: int) -> Callable[[], None]:
            def save() -> None:
                repository = Repository(url, mode="a", **options)
                for i in range(1000):
                    repository.log_artifact(name=f"m{i:04d}", value=[i], handler="json")
                previous = ObjectStoreBackend.write_concurrency
                ObjectStoreBackend.write_concurrency = workers  # type: ignore[misc]
                start = time.perf_counter()
                try:
                    repository.save()
                finally:
                    ObjectStoreBackend.write_concurrency = previous  # type: ignore[misc]
                seconds[workers] = time.perf_counter() - start

            return save

        REQUESTS.clear()
        save_many(1)()  # one upload after another, for the time only
        wait_deferred()
        ok &= measure(
            "open 'a' + save 1,000 new versions (concurrent)",
            1 + 1000 + 1 + 4 + 2,
            save_many(ObjectStoreBackend.write_concurrency),
            show=6,
        )
        concurrent = seconds[ObjectStoreBackend.write_concurrency]
        print(
            f"      1,000-file save: {concurrent:.2f} s with "
            f"{ObjectStoreBackend.write_concurrency} concurrent uploads, {seconds[1]:.2f} s one "
            f"after another ({seconds[1] / concurrent:.1f}x)"
        )
        fs.s3.meta.events.unregister("before-send.s3", record)
        fs.s3.meta.events.unregister("response-received.s3", received)
    print("\nall at the minimum" if ok else "\nsome operations made extra requests")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--fresh-process-save":
        fresh_process_save(sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4]))
        sys.exit(0)
    sys.exit(main())
