"""The Azure backend keeps the storage contract on Azurite."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from archivist_azure import AzureBlobBackend

from archivist import Repository, StorageError, get_backend
from archivist.stores import AbstractRepositoryStore, ManifestStore
from archivist.testing import RepositoryStoreTests
from archivist.testing.backends import (
    BackendTarget,
    ObjectStoreConformanceTests,
    RepositoryOnBackendTests,
    SaveProgressTests,
)


class TestAzureConformance(ObjectStoreConformanceTests):
    large_file_size = 17 << 20  # sixteen full blocks and a short last one

    @pytest.fixture
    def backend_target(self, azure_container: str, azure_options: dict[str, Any]) -> BackendTarget:
        # 1 MiB blocks, so the streaming test stages many of them cheaply
        options = {**azure_options, "part_size": 1 << 20}
        return BackendTarget(f"az://{azure_container}/conformance", options)


class TestAzureStore(RepositoryStoreTests):
    @pytest.fixture
    def store(self, azure_container: str, azure_options: dict[str, Any]) -> AbstractRepositoryStore:
        return ManifestStore(
            f"az://{azure_container}/{uuid.uuid4().hex}/repository.json", **azure_options
        )


class TestAzureRepository(RepositoryOnBackendTests):
    @pytest.fixture
    def repository_location(
        self, azure_container: str, azure_options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        return f"az://{azure_container}/team/repository.json", azure_options


class TestAzureSaveProgress(SaveProgressTests):
    part_size = 1 << 20  # blocks of 1 MiB: the 12 MiB value is staged in thirteen

    @pytest.fixture
    def repository_location(
        self, azure_container: str, azure_options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        options = {**azure_options, "part_size": self.part_size}
        return f"az://{azure_container}/team/repository.json", options


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


def test_refresh_of_an_unchanged_manifest_downloads_nothing(
    azure_container: str, azure_options: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Unchanged: one Get Blob with If-None-Match, refused with no body; changed: the records."""
    url = f"az://{azure_container}/team/repository.json"
    writer = Repository(url, mode="w", **azure_options)
    writer.log_artifact(name="features", value=[1], handler="json")
    writer.save()
    reader = Repository(url, mode="r", **azure_options)
    token = reader.store.current_token()
    assert token is not None
    with caplog.at_level(logging.INFO, logger="azure.core.pipeline.policies.http_logging_policy"):
        reader.refresh()
    requests = _logged_requests(caplog.records)
    assert [(method, headers.get("If-None-Match")) for method, headers, _ in requests] == [
        ("GET", token)
    ]
    [(_, _, (status, length))] = requests
    assert (status, length) == (304, None)  # Not Modified: no content
    writer.log_artifact(name="features", value=[2], handler="json")
    writer.save()
    reader.refresh()
    assert [r.version for r in reader.records] == [0, 1]
    assert reader.load_artifact("features") == [2]


def _logged_requests(
    records: list[logging.LogRecord],
) -> list[tuple[str, dict[str, str], tuple[int, str | None]]]:
    """(method, request headers, (status, Content-Length)) of each request azure-core logged."""
    found: list[tuple[str, dict[str, str], tuple[int, str | None]]] = []
    method, headers = "", {}
    for record in records:
        lines = record.getMessage().splitlines()
        pairs = dict(_header(line) for line in lines if line.startswith("    "))
        if lines[0].startswith("Request URL"):
            method = next(line.split("'")[1] for line in lines if line.startswith("Request method"))
            headers = pairs
        elif lines[0].startswith("Response status"):
            status = int(lines[0].split(":")[1])
            found.append((method, headers, (status, pairs.get("Content-Length"))))
    return found


def _header(line: str) -> tuple[str, str]:
    name, _, value = line.strip().partition(": ")
    return name.strip("'"), value.strip("'")
