"""Every repository store keeps the store contract: the built-in one and a second, minimal one.

``DictStore`` keeps the manifest and files in dictionaries and declares no capability: no
journals, deletes or listing, no alias or release document. The kit checks that what it
lacks is refused loudly, and that a repository still saves and loads through it. The same
kit runs against :class:`~archivist.stores.ManifestStore` on local disk and in memory.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO

import pytest

from archivist import Repository
from archivist.errors import (
    AlreadyExistsError,
    ArtifactFileNotFoundError,
    IntegrityError,
    StaleTokenError,
    UnsupportedOperationError,
)
from archivist.manifest import VersionRecord
from archivist.stores import (
    AbstractRepositoryStore,
    Digest,
    FileDigests,
    ManifestSnapshot,
    ManifestStore,
)
from archivist.testing import RepositoryStoreTests

_tokens = itertools.count(1)


class DictStore(AbstractRepositoryStore):
    """A repository store in two dictionaries: the smallest store there is."""

    def __init__(self) -> None:
        self.location = f"dict://{uuid.uuid4().hex}"
        self.records: list[VersionRecord] = []
        self.token: str | None = None
        self.files: dict[tuple[str, str], bytes] = {}

    def __repr__(self) -> str:
        return f"DictStore({self.location!r})"

    def read(self) -> ManifestSnapshot:
        return ManifestSnapshot(list(self.records), self.token)

    def commit(self, records: Sequence[VersionRecord], token: str | None) -> str:
        if token != self.token:
            raise StaleTokenError(f"{self.location} changed since {token!r}")
        self.records, self.token = list(records), f"t{next(_tokens)}"
        return self.token

    def write_file(self, name: str, fname: str, write: Callable[[IO[bytes]], None]) -> FileDigests:
        if (name, fname) in self.files:
            raise AlreadyExistsError(f"{name}/{fname} exists")
        buffer = io.BytesIO()
        write(buffer)
        data = buffer.getvalue()
        self.files[(name, fname)] = data
        return FileDigests(hashlib.sha256(data).hexdigest(), len(data))

    def open_file(
        self, name: str, fname: str, digest: Digest | str | None, size: int | None
    ) -> IO[bytes]:
        try:
            data = self.files[(name, fname)]
        except KeyError:
            raise ArtifactFileNotFoundError(f"{name}/{fname} is missing") from None
        expected = Digest("sha256", digest) if isinstance(digest, str) else digest
        if (size is not None and len(data) != size) or (
            expected is not None and expected.of(data) != expected.hexdigest
        ):
            raise IntegrityError(f"{name}/{fname} does not match its record")
        return io.BytesIO(data)

    def file_location(self, name: str, fname: str) -> str:
        return f"{self.location}/{name}/{fname}"


class ListingDictStore(DictStore):
    """The dictionary store, declaring that it can delete and list its files."""

    supports_deletes = True
    supports_listing = True

    def delete_file(self, name: str, fname: str) -> None:
        self.files.pop((name, fname), None)

    def list_files(self) -> Iterator[tuple[str, str]]:
        yield from list(self.files)


class TestDictStore(RepositoryStoreTests):
    @pytest.fixture
    def store(self) -> AbstractRepositoryStore:
        return DictStore()


class TestListingDictStore(RepositoryStoreTests):
    @pytest.fixture
    def store(self) -> AbstractRepositoryStore:
        return ListingDictStore()


class TestManifestStoreOnLocalDisk(RepositoryStoreTests):
    @pytest.fixture
    def store(self, tmp_path: Path) -> AbstractRepositoryStore:
        return ManifestStore(tmp_path / "repo" / "repository.json")


class TestManifestStoreInMemory(RepositoryStoreTests):
    @pytest.fixture
    def store(self) -> AbstractRepositoryStore:
        return ManifestStore(f"memory://store-kit/{uuid.uuid4().hex}/repository.json")


def test_a_store_without_journals_refuses_gc_naming_the_capability() -> None:
    store = ListingDictStore()
    repository = Repository(mode="w", store=store)
    repository.log_artifact("a", [0], handler="json")
    repository.save()
    with pytest.raises(UnsupportedOperationError, match=r"gc needs .*\(supports_journals\)"):
        repository.gc()


def test_a_store_that_cannot_delete_refuses_prune_and_keeps_every_version() -> None:
    store = DictStore()
    repository = Repository(mode="w", store=store)
    for value in ([0], [1]):
        repository.log_artifact("a", value, handler="json")
    repository.save()
    with pytest.raises(UnsupportedOperationError, match=r"prune needs .*\(supports_deletes\)"):
        repository.prune(keep_last=1)
    assert [r.version for r in store.records] == [0, 1] and len(store.files) == 2


def test_a_store_without_an_alias_document_refuses_aliases() -> None:
    repository = Repository(mode="w", store=DictStore())
    repository.log_artifact("a", [0], handler="json")
    repository.save()
    with pytest.raises(UnsupportedOperationError, match=r"aliases\(\)"):
        repository.set_alias("a", "production", 0)
    with pytest.raises(UnsupportedOperationError, match=r"aliases\(\)"):
        repository.aliases("a")


def test_the_manifest_path_is_the_manifest_file_or_none(tmp_path: Path) -> None:
    path = tmp_path / "models" / "repository.json"
    assert Path(ManifestStore(path).manifest_path) == path
    assert DictStore().manifest_path is None
