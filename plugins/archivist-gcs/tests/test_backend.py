"""The GCS backend keeps the storage contract on fake-gcs-server."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from archivist_gcs import GCSBackend

from archivist import Backend, Repository, StorageError, get_backend
from archivist.stores import AbstractRepositoryStore, ManifestStore
from archivist.testing import RepositoryStoreTests
from archivist.testing.backends import (
    BackendTarget,
    ObjectStoreConformanceTests,
    RepositoryOnBackendTests,
    SaveProgressTests,
)


class TestGCSConformance(ObjectStoreConformanceTests):
    large_file_size = 17 << 20  # sixteen full chunks and a short last one

    @pytest.fixture
    def backend_target(self, gcs_bucket: str, gcs_options: dict[str, Any]) -> BackendTarget:
        # 1 MiB resumable chunks, so the streaming test sends many of them cheaply
        options = {**gcs_options, "part_size": 1 << 20}
        return BackendTarget(f"gs://{gcs_bucket}/conformance", options)

    def test_a_large_write_never_overwrites(self, opened: tuple[Backend, str]) -> None:
        """fake-gcs-server ignores preconditions on resumable uploads (real GCS enforces
        them), so check what is sent: the session is opened with ``ifGenerationMatch=0``."""
        backend, base = opened
        assert isinstance(backend, GCSBackend)
        sent: list[tuple[str, dict[str, Any]]] = []
        call = backend.fs._call

        async def recording(method: str, path: str, *args: Any, **kwargs: Any) -> Any:
            sent.append((method, kwargs))
            return await call(method, path, *args, **kwargs)

        backend.fs._call = recording
        try:
            with backend.open_new(backend.join(base, "streamed.bin")) as stream:
                for _ in range(3):
                    stream.write(b"x" * backend.part_size)
        finally:
            del backend.fs._call
        sessions = [kw for method, kw in sent if kw.get("uploadType") == "resumable"]
        assert len(sessions) == 1
        assert sessions[0]["ifGenerationMatch"] == "0"
        assert backend.read_bytes(backend.join(base, "streamed.bin")) == b"x" * (
            3 * backend.part_size
        )


class TestGCSStore(RepositoryStoreTests):
    @pytest.fixture
    def store(self, gcs_bucket: str, gcs_options: dict[str, Any]) -> AbstractRepositoryStore:
        return ManifestStore(f"gs://{gcs_bucket}/{uuid.uuid4().hex}/repository.json", **gcs_options)


class TestGCSRepository(RepositoryOnBackendTests):
    @pytest.fixture
    def repository_location(
        self, gcs_bucket: str, gcs_options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        return f"gs://{gcs_bucket}/team/repository.json", gcs_options


class TestGCSSaveProgress(SaveProgressTests):
    part_size = 1 << 20  # chunks of a resumable upload: multiples of 256 KiB

    @pytest.fixture
    def repository_location(
        self, gcs_bucket: str, gcs_options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        options = {**gcs_options, "part_size": self.part_size}
        return f"gs://{gcs_bucket}/team/repository.json", options


def test_both_protocols_are_registered() -> None:
    assert get_backend("gs") is GCSBackend
    assert get_backend("gcs") is GCSBackend


def test_gcs_urls_reach_the_same_objects(gcs_bucket: str, gcs_options: dict[str, Any]) -> None:
    repository = Repository(f"gcs://{gcs_bucket}/repository.json", mode="w", **gcs_options)
    repository.log_artifact(name="features", value=[1], handler="json")
    repository.save()
    same = Repository(f"gs://{gcs_bucket}/repository.json", mode="r", **gcs_options)
    assert same.load_artifact("features") == [1]


def test_the_token_is_the_generation(gcs_bucket: str, gcs_options: dict[str, Any]) -> None:
    backend = GCSBackend(**gcs_options)
    path = f"{gcs_bucket}/repository.json"
    token = backend.replace_if_unchanged(path, b"[]", None)
    assert token == str(backend.fs.info(path)["generation"])


def test_a_missing_bucket_is_a_clear_storage_error(gcs_options: dict[str, Any]) -> None:
    repository = Repository("gs://no-such-bucket-here/repository.json", mode="w", **gcs_options)
    repository.log_artifact(name="features", value=[1], handler="json")
    with pytest.raises(StorageError, match="no-such-bucket-here' does not exist"):
        repository.save()


def test_only_google_itself_is_known_to_enforce_preconditions(
    gcs_bucket: str, gcs_options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = f"{gcs_bucket}/team/repository.json"
    assert not GCSBackend(**gcs_options).known_to_enforce_conditions(path)  # the emulator
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    google = GCSBackend(token="anon", skip_instance_cache=True)
    assert google.known_to_enforce_conditions(path)
    subclass = type("MyGCSBackend", (GCSBackend,), {})(token="anon", skip_instance_cache=True)
    assert not subclass.known_to_enforce_conditions(path)


def test_refresh_sends_one_conditional_download(
    gcs_bucket: str, gcs_options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unchanged: one download with ``ifGenerationNotMatch``, and the index is kept.

    Real GCS answers it 304 with no body. fake-gcs-server ignores download preconditions
    and sends the object anyway (see TESTING.md); the generation it returns then tells
    that nothing changed, so the same request is checked here, and the result.
    """
    url = f"gs://{gcs_bucket}/team/repository.json"
    writer = Repository(url, mode="w", **gcs_options)
    writer.log_artifact(name="features", value=[1], handler="json")
    writer.save()
    reader = Repository(url, mode="r", **gcs_options)
    token = reader.store.current_token()
    committed = reader.records
    fs = reader.store.backend.fs  # type: ignore[attr-defined]
    sent: list[tuple[str, str | None]] = []
    request = fs._request

    async def recording(method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        sent.append((method, kwargs.get("ifGenerationNotMatch")))
        return await request(method, path, *args, **kwargs)

    monkeypatch.setattr(fs, "_request", recording)
    reader.refresh()
    assert sent == [("GET", token)]
    assert all(new is old for new, old in zip(reader.records, committed, strict=True))
    writer.log_artifact(name="features", value=[2], handler="json")
    writer.save()
    sent.clear()
    reader.refresh()
    assert sent == [("GET", token)]
    assert [r.version for r in reader.records] == [0, 1]
    assert reader.load_artifact("features") == [2]
