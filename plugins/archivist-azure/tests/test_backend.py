"""The Azure backend keeps the storage contract on Azurite."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from archivist_azure import AzureBlobBackend

from archivist import Repository, StaleTokenError, StorageError, get_backend
from archivist.testing.backends import (
    BackendConformanceTests,
    BackendTarget,
    RepositoryOnBackendTests,
)


class TestAzureConformance(BackendConformanceTests):
    large_file_size = 17 << 20  # sixteen full blocks and a short last one

    @pytest.fixture
    def backend_target(self, azure_container: str, azure_options: dict[str, Any]) -> BackendTarget:
        # 1 MiB blocks, so the streaming test stages many of them cheaply
        options = {**azure_options, "part_size": 1 << 20}
        return BackendTarget(f"az://{azure_container}/conformance", options)


class TestAzureRepository(RepositoryOnBackendTests):
    @pytest.fixture
    def repository_location(
        self, azure_container: str, azure_options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        return f"az://{azure_container}/team/repository.json", azure_options


def test_all_protocols_are_registered() -> None:
    for protocol in ("az", "abfs", "abfss"):
        assert get_backend(protocol) is AzureBlobBackend


def test_abfs_urls_reach_the_same_blobs(
    azure_container: str, azure_options: dict[str, Any]
) -> None:
    repository = Repository(f"abfs://{azure_container}/repository.json", mode="w", **azure_options)
    repository.log_artifact(name="features", value=[1], handler="json")
    repository.save()
    same = Repository(f"az://{azure_container}/repository.json", mode="r", **azure_options)
    assert same.load_artifact("features") == [1]


def test_the_token_is_the_etag(azure_container: str, azure_options: dict[str, Any]) -> None:
    backend = AzureBlobBackend(**azure_options)
    path = f"{azure_container}/repository.json"
    token = backend.replace_if_unchanged(path, b"[]", None)
    assert token == backend.read_with_token(path)[1]
    assert token.strip('"') == str(backend.fs.info(path)["etag"]).strip('"')


def test_a_missing_container_is_a_clear_storage_error(azure_options: dict[str, Any]) -> None:
    url = "az://no-such-container/repository.json"
    repository = Repository(url, mode="w", **azure_options)
    repository.log_artifact(name="features", value=[1], handler="json")
    with pytest.raises(StorageError, match="no-such-container' does not exist"):
        repository.save()
    with pytest.raises(StorageError, match="does not exist"):
        Repository(url, mode="a", **azure_options)


class IgnoringAzureBackend(AzureBlobBackend):
    """Talks to Azurite as to an endpoint that ignores conditions: it never sends them."""

    def _put(self, path: str, data: bytes, condition: dict[str, Any]) -> str:
        return super()._put(path, data, {"overwrite": True})


def test_an_endpoint_without_conditions_is_refused(
    azure_container: str, azure_options: dict[str, Any]
) -> None:
    backend = IgnoringAzureBackend(**azure_options)
    with pytest.raises(StorageError, match="single_writer=True"):
        backend.replace_if_unchanged(f"{azure_container}/team/repository.json", b"[]", None)
    with pytest.raises(StorageError, match="ignores conditional writes"):
        backend.write_if_absent(f"{azure_container}/team/model/v0.json", b"{}")
    assert list(backend.list(azure_container)) == []


def test_single_writer_mode_works_without_conditions(
    azure_container: str, azure_options: dict[str, Any]
) -> None:
    backend = IgnoringAzureBackend(single_writer=True, **azure_options)
    path = f"{azure_container}/team/repository.json"
    token = backend.replace_if_unchanged(path, b"[1]", None)
    with pytest.raises(StaleTokenError):
        backend.replace_if_unchanged(path, b"[2]", None)
    token = backend.replace_if_unchanged(path, b"[2]", token)
    assert backend.read_with_token(path) == (b"[2]", token)
    backend.write_if_absent(f"{azure_container}/team/a.bin", b"a")
    with pytest.raises(FileExistsError):
        backend.write_if_absent(f"{azure_container}/team/a.bin", b"b")
    url = f"az://{azure_container}/other/repository.json"
    repository = Repository(url, mode="w", single_writer=True, **azure_options)
    repository.log_artifact(name="features", value=[1], handler="json")
    repository.save()
    assert Repository(url, mode="r", **azure_options).load_artifact("features") == [1]


def test_the_probe_runs_once_per_container(
    azure_container: str, azure_options: dict[str, Any]
) -> None:
    puts: list[dict[str, Any]] = []

    class CountingAzureBackend(AzureBlobBackend):
        def _put(self, path: str, data: bytes, condition: dict[str, Any]) -> str:
            puts.append(condition)
            return super()._put(path, data, condition)

    first, second = CountingAzureBackend(**azure_options), CountingAzureBackend(**azure_options)
    first.write_if_absent(f"{azure_container}/a/one", b"1")
    assert len(puts) == 4
    puts.clear()
    second.write_if_absent(f"{azure_container}/a/two", b"2")
    with contextlib.suppress(StaleTokenError):
        second.replace_if_unchanged(f"{azure_container}/a/two", b"3", None)
    assert puts == [{"overwrite": False}, {"overwrite": False}]
