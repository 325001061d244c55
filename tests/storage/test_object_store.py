"""ObjectStoreBackend on an in-process object store: the kits, and what only it derives.

The fake store (``fake_object_store.py``) answers conditional PUTs as S3, GCS and Azure do,
so the object-store half of the core runs here without a plugin: the backend contract and
the object-store kit, a repository's whole life, gc's safety, and saves that fail at every
store call through the fault kit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.storage.fake_object_store import (
    PROTOCOL,
    FakeObjectStoreBackend,
    RefusedConditions,
)

from archivist import ManifestStore, Repository
from archivist._backends import _probes
from archivist.errors import StaleTokenError, StorageError
from archivist.storage.object_store import ObjectStoreBackend
from archivist.testing import FaultyBackend, RepositoryStoreTests, registered
from archivist.testing.backends import (
    BackendTarget,
    ObjectStoreConformanceTests,
    RepositoryOnBackendTests,
    SaveProgressTests,
)
from archivist.testing.faults import Fault, FaultPlan, InjectedFault
from archivist.testing.safety import GcSafetyTests


@pytest.fixture(autouse=True)
def fake_store_registered(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """``fakeobj://`` opens the fake store; passed probes are remembered in a test folder."""
    monkeypatch.setenv(_probes.CACHE_DIR_ENV, str(tmp_path_factory.mktemp("archivist-cache")))
    with registered(FakeObjectStoreBackend):
        yield


def _bucket() -> str:
    return f"{PROTOCOL}://bucket-{uuid.uuid4().hex[:12]}"


class TestFakeObjectStoreConformance(ObjectStoreConformanceTests):
    cross_process = False  # the objects live in this process
    streams_writes = False  # the fake keeps the parts of an upload in memory
    large_file_size = 5 << 20  # five parts of 1 MiB: the multi-part path runs

    @pytest.fixture
    def backend_target(self) -> BackendTarget:
        return BackendTarget(f"{_bucket()}/conformance", backend_class=FakeObjectStoreBackend)


class TestFakeObjectStoreRepository(RepositoryOnBackendTests):
    cross_process = False

    @pytest.fixture
    def repository_location(self) -> tuple[str, dict[str, Any]]:
        return f"{_bucket()}/team/repository.json", {}


class TestFakeObjectStoreSaveProgress(SaveProgressTests):
    part_size = 1 << 20

    @pytest.fixture
    def repository_location(self) -> tuple[str, dict[str, Any]]:
        return f"{_bucket()}/team/repository.json", {"part_size": self.part_size}


class TestFakeObjectStoreStore(RepositoryStoreTests):
    @pytest.fixture
    def store(self) -> ManifestStore:
        return ManifestStore(f"{_bucket()}/team/repository.json")


class TestFakeObjectStoreGcSafety(GcSafetyTests):
    @pytest.fixture
    def gc_root(self) -> tuple[str, dict[str, Any]]:
        return _bucket(), {}


# -- the fault kit: a save failing at each call of the object store ---------------------------

NEW = [("model", {"save": "new"}), ("weights", bytes(range(256)) * 40)]  # 10 KiB: in parts


def _seeded(url: str) -> None:
    repository = Repository(url, mode="w")
    repository.log_artifact("model", {"save": "first"}, handler="json")
    repository.save()


def _attempt(save: Callable[[], object]) -> BaseException | None:
    """Run ``save``; return what it raised (Ctrl-C included), or ``None``."""
    try:
        save()
    except BaseException as exc:
        return exc
    return None


def _committed(url: str) -> list[tuple[str, int, Any]]:
    """Open cleanly, verify every named file, and load every committed version."""
    repository = Repository(url, mode="r", cache=False)
    assert repository.verify().checked == len(repository)
    return [
        (name, version, repository.load_artifact(name, version=version))
        for name in sorted({record.name for record in repository.artifacts})
        for version in repository.versions(name)
    ]


@pytest.mark.parametrize(
    ("primitive", "phase"),
    [
        ("open_new", "before"),
        ("open_new", "during"),
        ("open_new", "after"),
        ("replace_if_unchanged", "before"),
        ("replace_if_unchanged", "after"),
        ("delete", "before"),
    ],
)
@pytest.mark.parametrize("error", [InjectedFault, KeyboardInterrupt], ids=["oserror", "ctrl-c"])
def test_a_failed_save_commits_all_or_nothing_and_leaves_no_upload_open(
    primitive: Any, phase: Any, error: type[BaseException]
) -> None:
    """Each call of each kind fails in turn; multi-part uploads end completed or aborted."""
    for nth in range(1, 16):
        url = f"{_bucket()}/team/repository.json"
        _seeded(url)
        inner = FakeObjectStoreBackend(part_size=1024)
        backend = FaultyBackend(inner, FaultPlan(Fault(primitive, phase, error, nth=nth)))
        repository = Repository(url, mode="a", store=ManifestStore(url, backend=backend))
        for name, value in NEW:
            repository.log_artifact(name, value, handler="pickle")
        raised = _attempt(repository.save)
        if not backend.plan.fired:
            assert raised is None, f"nothing was injected, yet the save raised {raised!r}"
        elif error is KeyboardInterrupt:
            assert isinstance(raised, KeyboardInterrupt), f"Ctrl-C was swallowed: {raised!r}"
        values = _committed(url)
        assert ("model", 0, {"save": "first"}) in values
        counts = {sum(1 for n, _, v in values if (n, v) == item) for item in NEW}
        assert counts in ({0}, {1}), f"a save committed part of its versions, or twice: {counts}"
        begun = [p for method, p in inner.requests if method == "CREATE-UPLOAD"]
        ended = [p for method, p in inner.requests if method in ("COMPLETE-UPLOAD", "ABORT-UPLOAD")]
        assert sorted(begun) == sorted(ended), "a multi-part upload was left open"
        if not backend.plan.fired:
            assert nth > 1, f"a save makes no {primitive} call: the case injects nothing"
            assert begun, "no multi-part upload ran"
            return
    raise AssertionError(f"a save made more than 15 {primitive} calls")


# -- what ObjectStoreBackend derives ------------------------------------------------------------


@pytest.fixture
def object_store() -> tuple[FakeObjectStoreBackend, str]:
    backend = FakeObjectStoreBackend()
    return backend, backend.strip_protocol(_bucket())


def test_a_conditional_read_asks_for_the_etag_first(
    object_store: tuple[FakeObjectStoreBackend, str],
) -> None:
    """Without a native conditional GET: a HEAD, then a GET only if the object changed."""
    backend, bucket = object_store
    path = f"{bucket}/repository.json"
    first = backend.replace_if_unchanged(path, b"[1]", None)
    backend.requests.clear()
    assert backend.read_if_changed(path, first) is None
    assert backend.requests == [("HEAD", path)]
    second = backend.replace_if_unchanged(path, b"[1]", first)  # the same bytes, a new ETag
    assert second != first
    assert backend.read_if_changed(path, first) == (b"[1]", second)
    with pytest.raises(FileNotFoundError):
        backend.read_if_changed(f"{bucket}/nothing.json", first)


def test_an_endpoint_that_ignores_if_none_match_counts_as_unchanged(
    object_store: tuple[FakeObjectStoreBackend, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend, bucket = object_store
    path = f"{bucket}/repository.json"
    token = backend.replace_if_unchanged(path, b"[1]", None)
    monkeypatch.setattr(backend, "get_if_none_match", lambda p, t: backend.read_with_token(p))
    assert backend.read_if_changed(path, token) is None


def test_reads_are_one_request_and_bounded(
    object_store: tuple[FakeObjectStoreBackend, str],
) -> None:
    backend, bucket = object_store
    path = f"{bucket}/file.bin"
    backend.write_if_absent(path, b"0123456789")
    backend.requests.clear()
    assert backend.read_bytes(path) == b"0123456789"
    assert backend.exists(path) and not backend.exists(f"{bucket}/other.bin")
    assert backend.requests == [("GET", path), ("HEAD", path), ("HEAD", f"{bucket}/other.bin")]
    assert backend.read_at_most(path, 4) == b"0123"
    assert backend.read_at_most(path, 0) == b""


def test_single_writer_mode_checks_the_etag_and_streams_unconditionally() -> None:
    backend = FakeObjectStoreBackend(single_writer=True, part_size=4)
    bucket = backend.strip_protocol(_bucket())
    path = f"{bucket}/big.bin"
    with backend.open_new(path) as stream:
        stream.write(b"0123456789")
    assert backend.read_bytes(path) == b"0123456789"
    assert ("CREATE-UPLOAD", path) in backend.requests
    assert not any(method == "PUT-IF" for method, _ in backend.requests)
    with pytest.raises(FileExistsError), backend.open_new(path) as stream:
        stream.write(b"x")
    assert backend.read_bytes(path) == b"0123456789"


def test_a_store_that_rejects_conditions_is_refused_naming_the_fix() -> None:
    class Rejecting(FakeObjectStoreBackend):
        def put_if(self, path: str, data: bytes, token: str | None) -> str:
            raise RefusedConditions("501 Not Implemented")

    backend = Rejecting(reprobe=True)
    bucket = backend.strip_protocol(_bucket())
    with pytest.raises(StorageError, match="rejects conditional writes") as refused:
        backend.replace_if_unchanged(f"{bucket}/repository.json", b"[]", None)
    assert "single_writer=True" in str(refused.value)
    assert "501 Not Implemented" in str(refused.value)
    assert list(backend.list(bucket)) == []
    assert not _probes.remembered(Rejecting, backend.conditional_write_scope(bucket))


def test_another_storage_error_of_the_probe_is_reported_as_it_is() -> None:
    class Failing(FakeObjectStoreBackend):
        def put_if(self, path: str, data: bytes, token: str | None) -> str:
            raise StorageError("the bucket does not exist")

    backend = Failing(reprobe=True)
    with pytest.raises(StorageError, match=r"^the bucket does not exist$"):
        backend.write_if_absent(f"{backend.strip_protocol(_bucket())}/a.bin", b"a")


def test_a_probe_whose_first_write_is_refused_still_checks_the_stale_token() -> None:
    """The probe's first PUT lands, its answer is lost and the retry refused: still probed.

    A fresh random name "existing" means the condition was evaluated (an SDK retrying a
    request whose answer it lost); the probe goes on with a stale token.
    """
    sent: list[str | None] = []

    class Refusing(FakeObjectStoreBackend):
        def put_if(self, path: str, data: bytes, token: str | None) -> str:
            sent.append(token)
            answer = super().put_if(path, data, token)
            if ".archivist-probe" in path and len(sent) == 1:
                raise StaleTokenError("412 on the retry of a request that landed")
            return answer

    backend = Refusing(reprobe=True)
    backend.write_if_absent(f"{backend.strip_protocol(_bucket())}/a.bin", b"a")
    assert sent[:3] == [None, None, backend.stale_token(None)]


def test_utc_reads_the_stores_timestamps() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from archivist.storage.object_store import utc

    naive = datetime(2026, 1, 31, 12, 0)
    assert utc(naive) == naive.replace(tzinfo=UTC)
    east = datetime(2026, 1, 31, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    assert utc(east) == naive.replace(tzinfo=UTC)
    assert utc("2026-01-31") is None
    assert utc(None) is None


def test_only_an_object_store_backend_derives_from_four_calls() -> None:
    assert issubclass(FakeObjectStoreBackend, ObjectStoreBackend)
    abstract = ObjectStoreBackend.__abstractmethods__
    assert {"current_token", "put_if", "put_unconditionally", "start_upload"} <= abstract
