"""Conformance kit for repository stores: one class per operation, run against every store.

A repository store (:class:`~archivist.stores.AbstractRepositoryStore`) implements a few
primitives and declares capabilities (``supports_journals``, ``supports_deletes``,
``supports_listing``, ``is_remote``) and side documents (``aliases()``, ``releases()``).
Each class below checks one operation; a capability a store declares must work, and one it
does not declare must be refused loudly, with
:class:`~archivist.errors.UnsupportedOperationError` naming it. Provide a ``store`` fixture
returning a fresh, empty store, and subclass :class:`RepositoryStoreTests` (all of them) or
the classes you want::

    import pytest
    from archivist.testing import RepositoryStoreTests

    class TestMyStore(RepositoryStoreTests):
        @pytest.fixture
        def store(self, tmp_path):
            return MyStore(tmp_path / "db")
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import IO

import pytest

from archivist._lifecycle.aliases import pinned_by_aliases
from archivist._lifecycle.retention import release_pins
from archivist.errors import (
    AlreadyExistsError,
    ArtifactNotFoundError,
    ConflictError,
    IntegrityError,
    StaleTokenError,
    UnsupportedOperationError,
)
from archivist.manifest import ManifestIndex, VersionRecord, utcnow
from archivist.release import Release
from archivist.repository import Repository
from archivist.stores import AbstractRepositoryStore
from archivist.stores._documents import Tally, update

__all__ = [
    "RepositoryStoreTests",
    "StoreAliasTests",
    "StoreCapabilityTests",
    "StoreDeleteTests",
    "StoreFileTests",
    "StoreFixtures",
    "StoreJournalTests",
    "StoreListingTests",
    "StoreManifestTests",
    "StoreReleaseTests",
    "StoreRepositoryTests",
]

_CONTENT = b"conformance bytes\n"
_DIGEST = hashlib.sha256(_CONTENT).hexdigest()


def _record(name: str, version: int, fname: str, at: datetime | None = None) -> VersionRecord:
    return VersionRecord(
        name,
        version,
        "json",
        fname,
        at or utcnow(),
        sha256=_DIGEST,
        size=len(_CONTENT),
    )


def _write(store: AbstractRepositoryStore, name: str, fname: str, data: bytes = _CONTENT) -> None:
    def write(stream: IO[bytes]) -> None:
        stream.write(data)

    store.write_file(name, fname, write)


class StoreFixtures:
    """The fixture every class of the kit uses: provide ``store``, a fresh empty store."""

    @pytest.fixture
    def store(self) -> AbstractRepositoryStore:
        """Return a fresh, empty store (override in the subclass)."""
        raise NotImplementedError("provide a store fixture returning a fresh, empty store")


class StoreManifestTests(StoreFixtures):
    """The manifest: read with a token, commit only against that token."""

    def test_an_empty_store_has_no_manifest(self, store: AbstractRepositoryStore) -> None:
        """An empty store reads no records and no token."""
        snapshot = store.read()
        assert list(snapshot.records) == []
        assert snapshot.token is None
        assert store.current_token() is None

    def test_a_commit_is_read_back_with_its_token(self, store: AbstractRepositoryStore) -> None:
        """A commit is read back, in order, with the token it returned."""
        records = [_record("a", 0, "a-0.json"), _record("b", 0, "b-0.json")]
        token = store.commit(records, None)
        snapshot = store.read()
        assert [(r.name, r.version, r.fname) for r in snapshot.records] == [
            ("a", 0, "a-0.json"),
            ("b", 0, "b-0.json"),
        ]
        assert snapshot.token == token == store.current_token()

    def test_a_stale_token_is_refused_and_nothing_written(
        self, store: AbstractRepositoryStore
    ) -> None:
        """A commit against an old token (or None over a manifest) is refused, writing nothing."""
        first = store.commit([_record("a", 0, "a-0.json")], None)
        second = store.commit([_record("a", 0, "a-0.json"), _record("a", 1, "a-1.json")], first)
        assert second != first
        with pytest.raises(StaleTokenError):
            store.commit([_record("x", 0, "x-0.json")], first)
        with pytest.raises(StaleTokenError):
            store.commit([_record("x", 0, "x-0.json")], None)  # create only if absent
        assert [r.fname for r in store.read().records] == ["a-0.json", "a-1.json"]

    def test_read_if_changed_reads_only_a_changed_manifest(
        self, store: AbstractRepositoryStore
    ) -> None:
        """read_if_changed answers None while the token is current."""
        token = store.commit([_record("a", 0, "a-0.json")], None)
        assert store.read_if_changed(token) is None
        store.commit([_record("a", 0, "a-0.json"), _record("a", 1, "a-1.json")], token)
        changed = store.read_if_changed(token)
        assert changed is not None
        assert len(changed.records) == 2

    def test_the_manifest_document_retries_after_another_writer(
        self, store: AbstractRepositoryStore
    ) -> None:
        """store.manifest() is a document: a stale first round is refused, re-read and merged."""
        document = store.manifest()
        stale = document.read()
        store.commit([_record("a", 0, "a-0.json")], None)  # another writer, meanwhile
        tally = Tally()
        done = update(
            document,
            lambda base: base.appended([_record("b", 0, "b-0.json")]),
            first=stale,
            what="conformance",
            tally=tally,
        )
        assert (done.status, tally.refused) == ("written", 1)
        assert [r.name for r in store.read().records] == ["a", "b"]
        assert isinstance(done.value, ManifestIndex)
        assert done.token == store.current_token()


class StoreFileTests(StoreFixtures):
    """Versions' files: written once, read back verified."""

    def test_write_returns_digest_and_size_and_reads_back(
        self, store: AbstractRepositoryStore
    ) -> None:
        """write_file returns the digest and size; the file reads back verified."""

        def write(stream: IO[bytes]) -> None:
            stream.write(_CONTENT[:5])
            stream.write(_CONTENT[5:])

        written = store.write_file("a", "a-0.json", write)
        assert (written.sha256, written.size) == (_DIGEST, len(_CONTENT))
        with store.open_file("a", "a-0.json", _DIGEST, len(_CONTENT)) as stream:
            assert stream.read() == _CONTENT
        store.check_file("a", "a-0.json", _DIGEST, len(_CONTENT))
        assert store.digest_file("a", "a-0.json") == (_DIGEST, len(_CONTENT))
        assert isinstance(store.file_location("a", "a-0.json"), str)

    def test_a_file_is_never_overwritten(self, store: AbstractRepositoryStore) -> None:
        """A second write under the same names is refused; the first file stays."""
        _write(store, "a", "a-0.json")
        with pytest.raises(AlreadyExistsError):
            _write(store, "a", "a-0.json", b"other")
        with store.open_file("a", "a-0.json", _DIGEST, len(_CONTENT)) as stream:
            assert stream.read() == _CONTENT

    def test_a_file_that_does_not_match_its_record_is_refused(
        self, store: AbstractRepositoryStore
    ) -> None:
        """A digest or size that does not match raises IntegrityError."""
        _write(store, "a", "a-0.json")
        wrong = hashlib.sha256(b"other").hexdigest()
        with pytest.raises(IntegrityError):
            store.open_file("a", "a-0.json", wrong, len(_CONTENT)).close()
        with pytest.raises(IntegrityError):
            store.open_file("a", "a-0.json", _DIGEST, len(_CONTENT) + 1).close()
        with pytest.raises(IntegrityError):
            store.check_file("a", "a-0.json", wrong, len(_CONTENT))

    def test_a_missing_file_is_not_found(self, store: AbstractRepositoryStore) -> None:
        """A missing file raises ArtifactNotFoundError."""
        with pytest.raises(ArtifactNotFoundError):
            store.open_file("a", "missing.json", None, None).close()
        with pytest.raises(ArtifactNotFoundError):
            store.check_file("a", "missing.json", None, None)


class StoreDeleteTests(StoreFixtures):
    """Deleting a file: done when ``supports_deletes``, refused loudly otherwise."""

    def test_delete(self, store: AbstractRepositoryStore) -> None:
        """delete_file deletes, or refuses naming supports_deletes and keeps the file."""
        _write(store, "a", "a-0.json")
        if not store.supports_deletes:
            with pytest.raises(UnsupportedOperationError, match="supports_deletes"):
                store.delete_file("a", "a-0.json")
            store.check_file("a", "a-0.json", _DIGEST, len(_CONTENT))  # still there
            return
        store.delete_file("a", "a-0.json")
        with pytest.raises(ArtifactNotFoundError):
            store.check_file("a", "a-0.json", None, None)


class StoreListingTests(StoreFixtures):
    """Listing files: every written file when ``supports_listing``, refused otherwise."""

    def test_list_files(self, store: AbstractRepositoryStore) -> None:
        """list_files yields every written file, or refuses naming supports_listing."""
        _write(store, "a", "a-0.json")
        _write(store, "b", "b-0.json")
        if not store.supports_listing:
            with pytest.raises(UnsupportedOperationError, match="supports_listing"):
                list(store.list_files())
            return
        assert {("a", "a-0.json"), ("b", "b-0.json")} <= set(store.list_files())


class StoreJournalTests(StoreFixtures):
    """Save journals: stored, listed, read and deleted when ``supports_journals``."""

    def test_journals(self, store: AbstractRepositoryStore) -> None:
        """Journals are written once, listed, read and deleted; without support none is kept."""
        if not store.supports_journals:
            store.write_journal("j1", b"{}")  # accepted, kept nowhere
            assert store.list_journals() == []
            return
        store.write_journal("j1", b'{"entries": []}')
        with pytest.raises(FileExistsError):
            store.write_journal("j1", b"other")
        assert store.list_journals() == ["j1"]
        assert store.read_journal("j1") == b'{"entries": []}'
        store.delete_journal("j1")
        store.delete_journal("j1")  # a missing one is no error
        assert store.list_journals() == []
        with pytest.raises(FileNotFoundError):
            store.read_journal("j1")


class StoreCapabilityTests(StoreFixtures):
    """What a repository does with the store's capabilities: refuse loudly what it lacks."""

    def _repository(self, store: AbstractRepositoryStore) -> Repository:
        repository = Repository(mode="w", store=store)
        repository.log_artifact("a", [0], handler="json")
        repository.log_artifact("a", [1], handler="json")
        repository.save()
        return repository

    def test_gc_needs_journals_and_deletes(self, store: AbstractRepositoryStore) -> None:
        """Gc refuses, naming the capability, on a store without journals or deletes."""
        repository = self._repository(store)
        if not store.supports_journals:
            with pytest.raises(UnsupportedOperationError, match="supports_journals"):
                repository.gc(dry_run=True)
        elif not store.supports_deletes:
            assert repository.gc(dry_run=True).locations == []
            with pytest.raises(UnsupportedOperationError, match="supports_deletes"):
                repository.gc()
        else:
            assert repository.gc(older_than=timedelta(0)) == []
        assert repository.load_artifact("a", version=0) == [0]

    def test_prune_needs_deletes(self, store: AbstractRepositoryStore) -> None:
        """Prune runs where files can be deleted and refuses, naming it, elsewhere."""
        repository = self._repository(store)
        assert repository.prune(keep_last=1, dry_run=True).pairs == [("a", 0)]
        if not store.supports_deletes:
            with pytest.raises(UnsupportedOperationError, match="supports_deletes"):
                repository.prune(keep_last=1)
            assert repository.load_artifact("a", version=0) == [0]
            return
        assert repository.prune(keep_last=1) == [("a", 0)]
        assert repository.versions("a") == [1]

    def test_the_cache_default_follows_is_remote(self, store: AbstractRepositoryStore) -> None:
        """A repository reads through a cache by default exactly when the store is remote."""
        repository = Repository(mode="w", store=store, cache_size="1MiB")
        assert (repository.cache is not None) == store.is_remote


class StoreAliasTests(StoreFixtures):
    """Aliases live in the store's alias document, or are refused when it keeps none."""

    def test_aliases(self, store: AbstractRepositoryStore) -> None:
        """Aliases live in the store's alias document; without one, alias calls refuse."""
        repository = Repository(mode="w", store=store)
        repository.log_artifact("a", [0], handler="json")
        repository.save()
        if store.aliases() is None:
            with pytest.raises(UnsupportedOperationError, match="alias"):
                repository.set_alias("a", "production", 0)
            return
        repository.set_alias("a", "production", 0)
        assert repository.aliases("a") == {"production": 0}
        aliases = store.aliases()
        assert aliases is not None
        assert [m.to_version for m in aliases.moves()] == [0]

    def test_an_aliased_version_is_pinned_against_prune(
        self, store: AbstractRepositoryStore
    ) -> None:
        """A version an alias names is never among prune's removals."""
        repository = Repository(mode="w", store=store)
        for value in ([0], [1], [2]):
            repository.log_artifact("a", value, handler="json")
        repository.save()
        if store.aliases() is None:
            assert pinned_by_aliases(store) == set()  # no alias can exist: none pins
            return
        repository.set_alias("a", "production", 0)
        assert repository.prune(keep_last=1, dry_run=True).pairs == [("a", 1)]


class StoreReleaseTests(StoreFixtures):
    """Releases beside the repository: appended atomically, and they pin versions."""

    def test_releases(self, store: AbstractRepositoryStore) -> None:
        """Releases append atomically with unique tags; without a release store none pins."""
        releases = store.releases()
        if releases is None:
            assert release_pins(store) == set()  # no release beside it pins a version
            return
        releases.add(Release("v1", [("a", 0)]))
        with pytest.raises(ConflictError):  # tags are unique: AlreadyExistsError
            releases.add(Release("v1", [("a", 1)]))
        assert [(r.tag, r.artifacts) for r in releases.list()] == [("v1", [("a", 0)])]


class StoreRepositoryTests(StoreFixtures):
    """A repository over the store: save, reload, look up, concurrent commits merge."""

    def test_save_and_load(self, store: AbstractRepositoryStore) -> None:
        """A repository saves through the store and another reads and verifies it."""
        repository = Repository(mode="w", store=store)
        repository.log_artifact("features", {"x": [1, 2]}, handler="json")
        repository.save()
        reader = Repository(mode="r", store=store)
        assert reader.load_artifact("features") == {"x": [1, 2]}
        report = reader.verify()
        assert (report.checked, report.orphans) == (1, [])

    def test_two_writers_both_land(self, store: AbstractRepositoryStore) -> None:
        """Two writers' saves both land, the second renumbered after the first."""
        Repository(mode="w", store=store).save()
        first = Repository(mode="a", store=store)
        second = Repository(mode="a", store=store)
        first.log_artifact("a", [1], handler="json")
        second.log_artifact("a", [2], handler="json")
        first.save()
        second.save()  # renumbered after the first writer's version
        reader = Repository(mode="r", store=store)
        assert [reader.load_artifact("a", version=v) for v in (0, 1)] == [[1], [2]]


class RepositoryStoreTests(
    StoreManifestTests,
    StoreFileTests,
    StoreDeleteTests,
    StoreListingTests,
    StoreJournalTests,
    StoreCapabilityTests,
    StoreAliasTests,
    StoreReleaseTests,
    StoreRepositoryTests,
):
    """Every class of the kit: subclass it and provide ``store``."""
