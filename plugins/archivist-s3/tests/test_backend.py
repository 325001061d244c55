"""The S3 backend keeps the storage contract on moto's S3 server."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import pytest
from archivist_s3 import S3Backend
from fsspec.asyn import sync
from s3fs import S3FileSystem

from archivist import InvalidArgumentError, Repository, StaleTokenError, StorageError, get_backend
from archivist._backends import _conditional
from archivist.storage.object_store import ObjectStoreBackend
from archivist.stores import AbstractRepositoryStore, ManifestStore
from archivist.testing import RepositoryStoreTests
from archivist.testing.backends import (
    BackendTarget,
    ObjectStoreConformanceTests,
    RepositoryOnBackendTests,
    SaveProgressTests,
)


class TestS3Conformance(ObjectStoreConformanceTests):
    large_file_size = 41 << 20  # eight full parts and a short last one
    # moto's server checks If-None-Match / If-Match and then stores without a lock, so under
    # heavy contention two conditional PUTs can both be acknowledged (real S3 serializes
    # them). Two contending processes keep the contention tests meaningful and not flaky.
    workers = 2

    @pytest.fixture
    def backend_target(self, s3_bucket: str, s3_options: dict[str, Any]) -> BackendTarget:
        # S3's smallest part size, so the streaming test runs a multipart upload cheaply
        options = {**s3_options, "part_size": 5 << 20}
        return BackendTarget(f"s3://{s3_bucket}/conformance", options)


class TestS3Store(RepositoryStoreTests):
    @pytest.fixture
    def store(self, s3_bucket: str, s3_options: dict[str, Any]) -> AbstractRepositoryStore:
        return ManifestStore(f"s3://{s3_bucket}/{uuid.uuid4().hex}/repository.json", **s3_options)


class TestS3Repository(RepositoryOnBackendTests):
    @pytest.fixture
    def repository_location(
        self, s3_bucket: str, s3_options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        return f"s3://{s3_bucket}/team/repository.json", s3_options


class TestS3SaveProgress(SaveProgressTests):
    part_size = 5 << 20  # S3's smallest part: the 12 MiB value is uploaded in three parts

    @pytest.fixture
    def repository_location(
        self, s3_bucket: str, s3_options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        options = {**s3_options, "part_size": self.part_size}
        return f"s3://{s3_bucket}/team/repository.json", options


def test_both_protocols_are_registered() -> None:
    assert get_backend("s3") is S3Backend
    assert get_backend("s3a") is S3Backend


def test_s3a_urls_reach_the_same_objects(s3_bucket: str, s3_options: dict[str, Any]) -> None:
    repository = Repository(f"s3a://{s3_bucket}/repository.json", mode="w", **s3_options)
    repository.log_artifact(name="features", value=[1], handler="json")
    repository.save()
    same = Repository(f"s3://{s3_bucket}/repository.json", mode="r", **s3_options)
    assert same.load_artifact("features") == [1]


def test_a_missing_bucket_is_a_clear_storage_error(s3_options: dict[str, Any]) -> None:
    repository = Repository("s3://no-such-bucket-here/repository.json", mode="w", **s3_options)
    repository.log_artifact(name="features", value=[1], handler="json")
    with pytest.raises(StorageError, match="no-such-bucket-here' does not exist"):
        repository.save()
    with pytest.raises(StorageError, match="does not exist"):
        Repository("s3://no-such-bucket-here/repository.json", mode="a", **s3_options)


class IgnoringS3Backend(S3Backend):
    """Talks to moto as to a store that ignores conditions: it never sends them."""

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        kwargs.pop("IfNoneMatch", None)
        kwargs.pop("IfMatch", None)
        return super()._call(method, path, **kwargs)


class RejectingS3Backend(S3Backend):
    """Talks to moto as to a store that rejects conditional requests (501)."""

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        if "IfNoneMatch" in kwargs or "IfMatch" in kwargs:
            from botocore.exceptions import ClientError

            refusal = ClientError(
                {
                    "Error": {"Code": "NotImplemented", "Message": "no conditional writes"},
                    "ResponseMetadata": {"HTTPStatusCode": 501},
                },
                "PutObject",
            )
            raise self._translate(refusal, method, path) from refusal
        return super()._call(method, path, **kwargs)


@pytest.mark.parametrize("backend_class", [IgnoringS3Backend, RejectingS3Backend])
def test_a_store_without_conditional_writes_is_refused(
    backend_class: type[S3Backend], s3_bucket: str, s3_options: dict[str, Any]
) -> None:
    backend = backend_class(**s3_options)
    path = f"{s3_bucket}/team/repository.json"
    with pytest.raises(StorageError, match="single_writer=True"):
        backend.replace_if_unchanged(path, b"[]", None)
    with pytest.raises(StorageError, match="conditional writes"):
        backend.write_if_absent(f"{s3_bucket}/team/model/v0.json", b"{}")
    assert list(backend.list(s3_bucket)) == []  # nothing written, the probe cleaned up


def test_the_probe_runs_once_per_bucket(s3_bucket: str, s3_options: dict[str, Any]) -> None:
    calls: list[str] = []

    class CountingS3Backend(S3Backend):
        def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
            calls.append(method)
            return super()._call(method, path, **kwargs)

    first, second = CountingS3Backend(**s3_options), CountingS3Backend(**s3_options)
    first.write_if_absent(f"{s3_bucket}/a/one", b"1")
    assert calls == ["put_object"] * 3 + ["delete_object", "put_object"]
    calls.clear()
    second.write_if_absent(f"{s3_bucket}/a/two", b"2")
    with contextlib.suppress(StaleTokenError):
        second.replace_if_unchanged(f"{s3_bucket}/a/two", b"3", None)
    assert calls == ["put_object", "put_object"]


def test_storage_options_as_one_mapping_reach_s3(
    s3_bucket: str, s3_options: dict[str, Any]
) -> None:
    url = f"s3://{s3_bucket}/team/repository.json"
    repository = Repository(url, mode="w", storage_options=s3_options)
    repository.log_artifact(name="features", value=[1], handler="json")
    repository.save()
    assert Repository(url, mode="r", storage_options=s3_options).load_artifact("features") == [1]
    with pytest.raises(InvalidArgumentError, match="did you mean 'mode'"):
        Repository(url, mdoe="r", storage_options=s3_options)  # type: ignore[call-arg]


def test_only_amazon_itself_is_known_to_enforce_conditions(
    s3_bucket: str, s3_options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    path = f"{s3_bucket}/team/repository.json"
    assert S3Backend(skip_instance_cache=True).known_to_enforce_conditions(path)
    assert not S3Backend(**s3_options).known_to_enforce_conditions(path)  # the emulator
    assert not IgnoringS3Backend(skip_instance_cache=True).known_to_enforce_conditions(path)
    endpoint = S3Backend(**s3_options).conditional_write_scope(path)[0]  # type: ignore[index]
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    redirected = S3Backend(skip_instance_cache=True)
    assert not redirected.known_to_enforce_conditions(path)
    assert redirected.conditional_write_scope(path) == (endpoint, s3_bucket)


def test_a_fresh_process_saves_with_the_minimum_requests(
    s3_bucket: str, s3_options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Open (manifest GET) + save: journal PUT, file PUT, the kept digests' GET and
    conditional PUT, the manifest's conditional PUT, journal DELETE."""
    url = f"s3://{s3_bucket}/team/repository.json"
    first = Repository(url, mode="w", **s3_options)
    first.log_artifact(name="features", value=[1], handler="json")
    first.save()  # probes the bucket, and remembers it passed
    monkeypatch.setattr(_conditional, "_PROBED", set())  # a new process has probed nothing
    fs = S3FileSystem(**s3_options)  # the instance the backends share (fsspec's cache)
    client = sync(fs.loop, fs.set_session)
    sent: list[str] = []

    def record(request: Any, **_: Any) -> None:
        sent.append(f"{request.method} {str(request.url).rsplit('/', 1)[-1].split('?')[0]}")

    client.meta.events.register("before-send.s3", record)
    try:
        repository = Repository(url, mode="a", **s3_options)
        repository.log_artifact(name="features", value=[2], handler="json")
        repository.save()
    finally:
        client.meta.events.unregister("before-send.s3", record)
    methods = [request.split()[0] for request in sent]
    assert methods == ["GET", "PUT", "PUT", "GET", "PUT", "PUT", "DELETE"], sent
    assert [request.split()[1] for request in sent][3:6] == [
        "digests.json",
        "digests.json",
        "repository.json",  # the kept digests are appended before the manifest commit
    ], sent
    assert not any(".archivist-probe" in request for request in sent)


def test_loading_a_small_version_is_two_requests(
    s3_bucket: str, s3_options: dict[str, Any]
) -> None:
    """Manifest GET, then one GET of at most the recorded size plus one byte (no HEAD)."""
    url = f"s3://{s3_bucket}/team/repository.json"
    writer = Repository(url, mode="w", **s3_options)
    writer.log_artifact(name="features", value=[1, 2, 3], handler="json")
    writer.save()
    fs = S3FileSystem(**s3_options)  # the instance the backends share (fsspec's cache)
    client = sync(fs.loop, fs.set_session)
    sent: list[str] = []

    def record(request: Any, **_: Any) -> None:
        span = request.headers.get("Range", b"")
        span = span.decode() if isinstance(span, bytes) else span
        sent.append(f"{request.method} {span}".strip())

    client.meta.events.register("before-send.s3", record)
    try:
        reader = Repository(url, mode="r", cache=False, **s3_options)
        assert reader.load_artifact("features") == [1, 2, 3]
    finally:
        client.meta.events.unregister("before-send.s3", record)
    size = reader.get_artifact_metadata("features")["size"]
    assert sent == ["GET", f"GET bytes=0-{size}"], sent


def test_refresh_of_an_unchanged_manifest_downloads_nothing(
    s3_bucket: str, s3_options: dict[str, Any]
) -> None:
    """Unchanged: one GET with If-None-Match, answered 304 with no body; changed: the records."""
    url = f"s3://{s3_bucket}/team/repository.json"
    writer = Repository(url, mode="w", **s3_options)
    writer.log_artifact(name="features", value=[1], handler="json")
    writer.save()
    reader = Repository(url, mode="r", **s3_options)
    token = reader.store.current_token()
    fs = S3FileSystem(**s3_options)  # the instance the backends share (fsspec's cache)
    client = sync(fs.loop, fs.set_session)
    sent: list[tuple[str, str | None]] = []
    answered: list[tuple[int, int]] = []

    def record(request: Any, **_: Any) -> None:
        condition = request.headers.get("If-None-Match")
        sent.append((request.method, condition.decode() if condition is not None else None))

    def received(response_dict: Any = None, exception: Any = None, **_: Any) -> None:
        body = response_dict["body"] if response_dict is not None else b""
        length = len(body) if isinstance(body, bytes) else -1  # -1: a body stream was opened
        answered.append((response_dict["status_code"] if response_dict else 0, length))

    client.meta.events.register("before-send.s3", record)
    client.meta.events.register("response-received.s3", received)
    try:
        reader.refresh()
        assert sent == [("GET", token)]
        assert answered == [(304, 0)]
        writer.log_artifact(name="features", value=[2], handler="json")
        writer.save()
        sent.clear()
        answered.clear()
        reader.refresh()
        assert sent == [("GET", token)]
        assert [status for status, _ in answered] == [200]
    finally:
        client.meta.events.unregister("before-send.s3", record)
        client.meta.events.unregister("response-received.s3", received)
    assert [r.version for r in reader.records] == [0, 1]
    assert reader.load_artifact("features") == [2]


def test_the_object_store_default_reads_a_changed_object_only(
    s3_bucket: str, s3_options: dict[str, Any]
) -> None:
    """Without a native conditional GET: a HEAD, then a GET only if the object changed."""
    calls: list[str] = []

    class HeadThenGetS3Backend(S3Backend):
        get_if_none_match = ObjectStoreBackend.get_if_none_match

        def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
            calls.append(method)
            return super()._call(method, path, **kwargs)

    backend = HeadThenGetS3Backend(**s3_options)
    path = f"{s3_bucket}/team/repository.json"
    first = backend.replace_if_unchanged(path, b"[1]", None)
    calls.clear()
    assert backend.read_if_changed(path, first) is None
    assert calls == ["head_object"]
    second = backend.replace_if_unchanged(path, b"[2]", first)
    assert backend.read_if_changed(path, first) == (b"[2]", second)
    assert backend.read_if_changed(path, None) == (b"[2]", second)
    with pytest.raises(FileNotFoundError):
        backend.read_if_changed(f"{s3_bucket}/team/nothing.json", first)


@pytest.mark.parametrize("how", ["storage options", "environment"])
def test_a_missing_bucket_names_the_endpoint_with_a_public_error(
    s3_options: dict[str, Any], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    endpoint = s3_options["client_kwargs"]["endpoint_url"]
    options = dict(s3_options)
    if how == "environment":
        del options["client_kwargs"]
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    url = f"s3://archivist-missing-{uuid.uuid4().hex[:12]}/repository.json"
    with pytest.raises(StorageError) as caught:
        Repository(url, mode="r", skip_instance_cache=True, **options)
    message = str(caught.value)
    assert "does not exist" in message and endpoint in message and "AWS" not in message
    assert type(caught.value) is StorageError  # archivist's own class, not a private one
