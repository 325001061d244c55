"""The Azure backend keeps the storage contract on Azurite."""

from __future__ import annotations

from typing import Any

import pytest
from archivist_azure import AzureBlobBackend

from archivist import Repository, StorageError, get_backend
from archivist.testing.backends import (
    BackendTarget,
    ObjectStoreConformanceTests,
    RepositoryOnBackendTests,
)


class TestAzureConformance(ObjectStoreConformanceTests):
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


def test_only_azure_itself_is_known_to_enforce_conditions(
    azure_container: str, azure_options: dict[str, Any]
) -> None:
    path = f"{azure_container}/team/repository.json"
    assert not AzureBlobBackend(**azure_options).known_to_enforce_conditions(path)  # Azurite
    azure = AzureBlobBackend(account_name="example", anon=True, skip_instance_cache=True)
    assert azure.known_to_enforce_conditions(path)
    subclass = type("MyAzureBlobBackend", (AzureBlobBackend,), {})
    assert not subclass(account_name="example", anon=True).known_to_enforce_conditions(path)
