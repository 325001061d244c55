"""What a save waits for on S3: no round trip that a request need not cost."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from archivist_s3 import S3Backend
from archivist_s3.backend import SMALL_BODY
from fsspec.asyn import sync
from s3fs import S3FileSystem

from archivist import Repository


@contextmanager
def sent_requests(s3_options: dict[str, Any]) -> Iterator[list[tuple[str, str, bool]]]:
    """Record each request the shared client sends: method, key, whether it expects 100."""
    fs = S3FileSystem(**s3_options)  # the instance the backends share (fsspec's cache)
    client = sync(fs.loop, fs.set_session)
    sent: list[tuple[str, str, bool]] = []

    def record(request: Any, **_: Any) -> None:
        expect = request.headers.get("Expect", b"")
        expect = expect.decode() if isinstance(expect, bytes) else expect
        key = str(request.url).split("?")[0].rsplit("/", 1)[-1]
        sent.append((request.method, key, expect.lower() == "100-continue"))

    client.meta.events.register("before-send.s3", record)
    try:
        yield sent
    finally:
        client.meta.events.unregister("before-send.s3", record)


def test_no_small_put_waits_for_100_continue(s3_bucket: str, s3_options: dict[str, Any]) -> None:
    """botocore makes every PutObject body file-like and then asks for ``100 Continue``, a
    round trip before the body leaves; a small body is sent at once instead."""
    with sent_requests(s3_options) as sent:
        repository = Repository(f"s3://{s3_bucket}/team/repository.json", mode="w", **s3_options)
        repository.log_artifact(name="features", value=[1], handler="json")
        repository.save()  # probe, journal, file, kept digests, manifest
        S3Backend(**s3_options).write_if_absent(f"{s3_bucket}/big", b"x" * (SMALL_BODY + 1))
    puts = [(key, expect) for method, key, expect in sent if method == "PUT"]
    assert len(puts) >= 8, sent
    assert [key for key, expect in puts if expect] == ["big"], sent
