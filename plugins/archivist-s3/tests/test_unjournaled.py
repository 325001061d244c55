"""Saves without a journal reach S3's request minimum (issue 11), on moto's S3 server."""

from __future__ import annotations

from typing import Any

import pytest
from fsspec.asyn import sync
from s3fs import S3FileSystem

from archivist import Repository
from archivist._backends import _conditional
from archivist._backends._background import wait_deferred


@pytest.mark.parametrize("how", ["keyword", "environment"])
def test_a_fresh_process_opens_and_saves_one_version_in_three_requests(
    s3_bucket: str, s3_options: dict[str, Any], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Open mode a (manifest GET) + save one version: the file's conditional PUT and the
    manifest's conditional PUT. No journal PUT or DELETE, no probe."""
    url = f"s3://{s3_bucket}/team/repository.json"
    first = Repository(url, mode="w", **s3_options)
    first.log_artifact(name="features", value=[1], handler="json")
    first.save()  # probes the bucket, and remembers (in the test's cache folder) it passed
    wait_deferred()  # its journal is deleted while save() returns
    # A new process has probed nothing in memory; it finds the passed probe remembered.
    monkeypatch.setattr(_conditional, "_PROBED", set())
    if how == "environment":
        monkeypatch.setenv("ARCHIVIST_SAVE_JOURNAL", "off")
    options = s3_options if how == "environment" else {**s3_options, "journal": False}
    fs = S3FileSystem(**s3_options)  # the instance the backends share (fsspec's cache)
    client = sync(fs.loop, fs.set_session)
    sent: list[tuple[str, str, str]] = []

    def record(request: Any, **_: Any) -> None:
        condition = next(
            (h for h in ("If-None-Match", "If-Match") if request.headers.get(h)), "unconditional"
        )
        key = str(request.url).split("?")[0].split(f"/{s3_bucket}/", 1)[-1]
        sent.append((request.method, key, condition))

    client.meta.events.register("before-send.s3", record)
    try:
        repository = Repository(url, mode="a", **options)
        repository.log_artifact(name="features", value=[2], handler="json")
        repository.save()
    finally:
        client.meta.events.unregister("before-send.s3", record)
    assert [(method, condition) for method, _, condition in sent] == [
        ("GET", "unconditional"),
        ("PUT", "If-None-Match"),  # the new file, written only if absent
        ("PUT", "If-Match"),  # the manifest, replaced only if unchanged
    ], sent
    assert sent[0][1] == sent[2][1] == "team/repository.json"
    assert sent[1][1].startswith("team/features/")
    reader = Repository(url, mode="r", **s3_options)
    assert reader.load_artifact("features") == [2]
    assert reader.verify().checked == 2
    # no journal left behind (the private folder holds the kept digests of the first save)
    assert not fs.glob(f"{s3_bucket}/team/.repository.json.archivist/*.journal")
