"""The backend contract as a pytest suite: subclass it to check a storage backend.

A backend passes when a repository can trust it with concurrent writers: write-if-absent
and replace-if-unchanged hold under contention from threads and processes, tokens name
exactly the bytes read, missing files raise :class:`FileNotFoundError`, large files stream
through in both directions, and a second reader sees a commit at once. Provide a fixture
``backend_target`` giving a :class:`BackendTarget` whose folder is fresh and writable::

    import uuid

    import pytest

    from archivist.testing.backends import BackendConformanceTests, BackendTarget


    class TestMyBackend(BackendConformanceTests):
        @pytest.fixture
        def backend_target(self) -> BackendTarget:
            return BackendTarget(f"mystore://bucket/{uuid.uuid4().hex}", {"token": "..."})

The target is pickled to worker processes (started with ``spawn``), which open their own
backend from it, so its storage options must be picklable.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import json
import logging
import multiprocessing
import posixpath
import re
import threading
import tracemalloc
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from importlib.util import find_spec
from typing import Any, ClassVar, TypeVar

import pytest

from archivist._backends import _probes, base
from archivist._backends.base import Backend
from archivist._backends.object_store import ObjectStoreBackend
from archivist._io import verified as _verified
from archivist.errors import IntegrityError, StaleTokenError, StorageError, UntrustedArtifactError
from archivist.repository import Repository
from archivist.stores import ManifestStore, open_backend

__all__ = [
    "BackendConformanceTests",
    "BackendTarget",
    "ObjectStoreConformanceTests",
    "RepositoryOnBackendTests",
    "run_concurrent_saves",
]

_T = TypeVar("_T")
_MIB = 1 << 20
#: Modules worth importing once in the fork server (the cloud plugins' filesystems).
_SDK_MODULES = ("s3fs", "botocore.exceptions", "gcsfs.core", "adlfs", "azure.core.exceptions")


@dataclass(frozen=True)
class BackendTarget:
    """Where the conformance suite may write, and how to reach it.

    Attributes
    ----------
    url : str
        A folder URL (or local path) that is empty and writable, unique to the test.
    storage_options : Mapping[str, Any]
        Passed to the backend (credentials, endpoint, ...). Must be picklable.
    backend_class : type[Backend] or None
        The backend to test; ``None`` picks the one registered for the URL's protocol.
        Worker processes import it by name, so define it in an installed module, not in
        a test module (tune a registered backend through ``storage_options`` instead).
    """

    url: str
    storage_options: Mapping[str, Any] = field(default_factory=dict)
    backend_class: type[Backend] | None = None

    def open(self) -> tuple[Backend, str]:
        """Create a new backend instance and turn :attr:`url` into its path form.

        Returns
        -------
        tuple[Backend, str]
            The backend and the folder's path.
        """
        if self.backend_class is None:
            return open_backend(self.url, **self.storage_options)
        backend = self.backend_class(**self.storage_options)
        return backend, backend.strip_protocol(self.url)


def _blocks(seed: int = 0) -> list[bytes]:
    """Three distinct 1 MiB blocks; a file cycles through them so misplaced parts show."""
    return [
        hashlib.sha256(f"archivist-{seed}-{i}".encode()).digest() * (_MIB // 32) for i in range(3)
    ]


def _pattern(blocks: list[bytes], size: int) -> Iterator[memoryview]:
    """Yield ``size`` bytes in 1 MiB pieces of ``blocks`` (no new allocations)."""
    count = 0
    while size > 0:
        block = memoryview(blocks[count % len(blocks)])[: min(size, _MIB)]
        yield block
        size -= len(block)
        count += 1


def _context() -> multiprocessing.context.BaseContext:
    """Start workers from a clean process: a fork server where there is one, else spawn.

    Forking the test process itself is unsafe (fsspec keeps an event-loop thread); a fork
    server is single-threaded, and has archivist and the installed plugins imported once,
    so workers start in milliseconds instead of re-importing cloud SDKs each.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    modules = ["archivist.testing.backends", "archivist.repository"]
    modules += sorted({ep.module for ep in entry_points(group="archivist")})
    # The plugins import their cloud SDKs on first use; import them once, here, instead.
    modules += [name for name in _SDK_MODULES if find_spec(name.split(".")[0]) is not None]
    context.set_forkserver_preload(modules)
    return context


# -- workers, importable by spawned processes ---------------------------------------------


def _append_entries(target: BackendTarget, name: str, worker: int, times: int) -> int:
    """Append ``times`` entries to the JSON list in ``name`` with compare-and-swap."""
    backend, base = target.open()
    return _append_with(backend, base, name, worker, times)


def _claim_all(target: BackendTarget, names: list[str], worker: int) -> list[str]:
    """Try write-if-absent on each name; return the names this worker won."""
    backend, base = target.open()
    won = []
    for name in names:
        try:
            backend.write_if_absent(backend.join(base, name), f"worker {worker}".encode())
        except FileExistsError:
            continue
        won.append(name)
    return won


def _commit_from_elsewhere(target: BackendTarget, name: str, token: str, new_file: str) -> str:
    """Replace ``name`` (expected at ``token``) and create ``new_file``; return the new token."""
    backend, base = target.open()
    new_token = backend.replace_if_unchanged(backend.join(base, name), b"second", token)
    backend.write_if_absent(backend.join(base, new_file), b"new")
    return new_token


def _save_versions(
    url: str, storage_options: Mapping[str, Any], name: str, worker: int, saves: int
) -> None:
    """Log and save ``saves`` versions of ``name`` into the repository at ``url``."""
    repository = Repository(url, mode="a", **storage_options)
    for i in range(saves):
        repository.log_artifact(name=name, value={"worker": worker, "save": i}, handler="json")
        repository.save()


def run_concurrent_saves(
    url: str,
    storage_options: Mapping[str, Any] | None = None,
    *,
    name: str = "model",
    processes: int = 4,
    saves: int = 10,
) -> list[tuple[int, int]]:
    """Save versions of one artifact from several processes at once into one repository.

    Each process opens the repository in mode ``a`` and saves ``saves`` versions of
    ``name``, whose values are ``{"worker": <process>, "save": <i>}``.

    Parameters
    ----------
    url : str
        The repository's manifest URL.
    storage_options : Mapping[str, Any], optional
        Passed to every process's :class:`~archivist.Repository` (must be picklable).
    name : str, optional
        The artifact name.
    processes : int, optional
        How many processes save at once (started with ``spawn``).
    saves : int, optional
        How many saves each process makes.

    Returns
    -------
    list[tuple[int, int]]
        Every ``(worker, save)`` pair that was saved, for comparing with what loads back.
    """
    options = dict(storage_options or {})
    with concurrent.futures.ProcessPoolExecutor(processes, mp_context=_context()) as pool:
        futures = [
            pool.submit(_save_versions, url, options, name, worker, saves)
            for worker in range(processes)
        ]
        for future in futures:
            future.result(timeout=300)
    return [(worker, i) for worker in range(processes) for i in range(saves)]


class BackendConformanceTests:
    """The storage contract every backend must keep, as a pytest test-class mixin.

    Subclasses provide a ``backend_target`` fixture (a fresh :class:`BackendTarget` per
    test) and may tune the class variables.

    Attributes
    ----------
    large_file_size : int
        Bytes streamed through ``open_new``/``open_read``; make it larger than the backend's
        upload part size so the multipart path runs.
    streams_writes : bool
        Whether ``open_new`` must keep memory use well below the file's size.
    cross_process : bool
        Whether other processes can reach the same storage (``False`` for ``memory://``,
        whose files live in one process).
    workers : int
        Threads and processes racing in the contention tests.
    rounds : int
        Compare-and-swap rounds each worker completes.
    """

    large_file_size: ClassVar[int] = 12 * _MIB
    streams_writes: ClassVar[bool] = True
    cross_process: ClassVar[bool] = True
    workers: ClassVar[int] = 4
    rounds: ClassVar[int] = 5

    @pytest.fixture
    def backend_target(self) -> BackendTarget:
        """Override: a fresh, writable folder for one test."""
        raise NotImplementedError("provide a backend_target fixture returning a BackendTarget")

    @pytest.fixture
    def opened(self, backend_target: BackendTarget) -> tuple[Backend, str]:
        """Return a backend instance and the test's folder, in the backend's path form."""
        return backend_target.open()

    def _processes(self, jobs: list[tuple[Callable[..., _T], tuple[Any, ...]]]) -> list[_T]:
        if not self.cross_process:
            pytest.skip(f"{type(self).__name__}: storage is private to one process")
        with concurrent.futures.ProcessPoolExecutor(len(jobs), mp_context=_context()) as pool:
            futures = [pool.submit(func, *args) for func, args in jobs]
            return [future.result(timeout=120) for future in futures]

    # -- write-if-absent --------------------------------------------------------------------

    def test_write_if_absent_never_overwrites(self, opened: tuple[Backend, str]) -> None:
        """write_if_absent and open_new refuse an existing path and leave it as it was."""
        backend, base = opened
        path = backend.join(base, "a", "file.bin")
        backend.write_if_absent(path, b"first")
        with pytest.raises(FileExistsError):
            backend.write_if_absent(path, b"second")
        with pytest.raises(FileExistsError), backend.open_new(path) as stream:
            stream.write(b"third")
        assert backend.read_bytes(path) == b"first"
        assert backend.exists(path)

    def test_write_if_absent_under_thread_contention(self, opened: tuple[Backend, str]) -> None:
        """Of threads creating one path at once, exactly one wins; its bytes are stored."""
        backend, base = opened
        path = backend.join(base, "contended.txt")
        barrier = threading.Barrier(self.workers)
        results: dict[int, bool] = {}

        def claim(worker: int) -> None:
            barrier.wait()
            try:
                backend.write_if_absent(path, f"worker {worker}".encode())
            except FileExistsError:
                results[worker] = False
            else:
                results[worker] = True

        threads = [threading.Thread(target=claim, args=(i,)) for i in range(self.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [worker for worker, won in results.items() if won]
        assert len(results) == self.workers
        assert len(winners) == 1
        assert backend.read_bytes(path) == f"worker {winners[0]}".encode()

    def test_write_if_absent_under_process_contention(
        self, backend_target: BackendTarget, opened: tuple[Backend, str]
    ) -> None:
        """Of processes creating the same paths at once, exactly one wins each path."""
        names = [f"claim-{i}" for i in range(10)]
        won = self._processes(
            [(_claim_all, (backend_target, names, worker)) for worker in range(self.workers)]
        )
        backend, base = opened
        for name in names:
            owners = [worker for worker, claimed in enumerate(won) if name in claimed]
            assert len(owners) == 1, f"{name} claimed by {owners}"
            assert backend.read_bytes(backend.join(base, name)) == f"worker {owners[0]}".encode()

    # -- replace-if-unchanged ---------------------------------------------------------------

    def test_replace_if_unchanged_is_compare_and_swap(self, opened: tuple[Backend, str]) -> None:
        """A replace lands only against the current token; ``None`` only creates."""
        backend, base = opened
        path = backend.join(base, "manifest.json")
        first = backend.replace_if_unchanged(path, b"one", None)
        with pytest.raises(StaleTokenError):
            backend.replace_if_unchanged(path, b"not created twice", None)
        data, token = backend.read_with_token(path)
        assert (data, token) == (b"one", first)
        second = backend.replace_if_unchanged(path, b"two", token)
        with pytest.raises(StaleTokenError):
            backend.replace_if_unchanged(path, b"stale", first)
        assert backend.read_with_token(path) == (b"two", second)

    def test_token_changes_on_every_write(self, opened: tuple[Backend, str]) -> None:
        """Every write gives a new token, and a read returns the token of what it read."""
        backend, base = opened
        path = backend.join(base, "manifest.json")
        tokens = [backend.replace_if_unchanged(path, b"0", None)]
        for i in range(1, 5):
            tokens.append(backend.replace_if_unchanged(path, str(i).encode(), tokens[-1]))
            assert backend.read_with_token(path) == (str(i).encode(), tokens[-1])
        assert len(set(tokens)) == len(tokens)

    def test_sha256_tokens_are_the_content_digest(self, opened: tuple[Backend, str]) -> None:
        """A backend that says its tokens are SHA-256 digests gives exactly those.

        The manifest index cache trusts such a token as the digest of what was read; on any
        other backend the manifest store hashes the text itself.
        """
        backend, base = opened
        path = backend.join(base, "manifest.json")
        store = ManifestStore(path, backend=backend)
        digest = hashlib.sha256(b"[1, 2]").hexdigest()
        written = backend.replace_if_unchanged(path, b"[1, 2]", None)
        assert store._digest(b"[1, 2]", written) == digest
        assert store._digest(*backend.read_with_token(path)) == digest

    def test_replace_of_a_deleted_file_is_stale(self, opened: tuple[Backend, str]) -> None:
        """A token of a file deleted since is stale; the file is not recreated."""
        backend, base = opened
        path = backend.join(base, "manifest.json")
        token = backend.replace_if_unchanged(path, b"one", None)
        backend.delete(path)
        with pytest.raises(StaleTokenError):
            backend.replace_if_unchanged(path, b"two", token)
        assert not backend.exists(path)

    def test_replace_under_thread_contention(self, opened: tuple[Backend, str]) -> None:
        """Threads appending with compare-and-swap lose no update."""
        backend, base = opened
        backend.replace_if_unchanged(backend.join(base, "log.json"), b"[]", None)
        target_url = base
        barrier = threading.Barrier(self.workers)
        errors: list[BaseException] = []

        def run(worker: int) -> None:
            barrier.wait()
            try:
                _append_with(backend, target_url, "log.json", worker, self.rounds)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(self.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors
        entries = json.loads(backend.read_bytes(backend.join(base, "log.json")))
        expected = {f"{w}-{i}" for w in range(self.workers) for i in range(self.rounds)}
        assert sorted(entries) == sorted(expected)

    def test_replace_under_process_contention(
        self, backend_target: BackendTarget, opened: tuple[Backend, str]
    ) -> None:
        """Processes appending with compare-and-swap lose no update."""
        backend, base = opened
        backend.replace_if_unchanged(backend.join(base, "log.json"), b"[]", None)
        self._processes(
            [
                (_append_entries, (backend_target, "log.json", worker, self.rounds))
                for worker in range(self.workers)
            ]
        )
        entries = json.loads(backend.read_bytes(backend.join(base, "log.json")))
        expected = {f"{w}-{i}" for w in range(self.workers) for i in range(self.rounds)}
        assert sorted(entries) == sorted(expected)

    # -- missing files ----------------------------------------------------------------------

    def test_missing_files_raise_file_not_found(self, opened: tuple[Backend, str]) -> None:
        """Every read, and delete, of a missing file raises FileNotFoundError."""
        backend, base = opened
        path = backend.join(base, "nothing", "here.json")
        with pytest.raises(FileNotFoundError):
            backend.read_with_token(path)
        with pytest.raises(FileNotFoundError):
            backend.read_bytes(path)
        with pytest.raises(FileNotFoundError):
            backend.open_read(path).close()
        with pytest.raises(FileNotFoundError):
            backend.delete(path)
        assert not backend.exists(path)
        with pytest.raises(StaleTokenError):
            backend.replace_if_unchanged(path, b"x", "a-token-that-never-was")
        for token in (None, "a-token-that-never-was"):
            with pytest.raises(FileNotFoundError):
                backend.read_if_changed(path, token)
        assert backend.current_token(path) is None

    def test_read_if_changed_reads_only_a_changed_file(self, opened: tuple[Backend, str]) -> None:
        """A conditional read returns ``None`` for the token read, else the content and token."""
        backend, base = opened
        path = backend.join(base, "manifest.json")
        first = backend.replace_if_unchanged(path, b"one", None)
        assert backend.current_token(path) == first
        assert backend.read_if_changed(path, None) == (b"one", first)
        assert backend.read_if_changed(path, first) is None
        assert backend.read_if_changed(path, backend.read_with_token(path)[1]) is None
        second = backend.replace_if_unchanged(path, b"two", first)
        assert backend.current_token(path) == second
        assert backend.read_if_changed(path, first) == (b"two", second)
        assert backend.read_if_changed(path, "a-token-that-never-was") == (b"two", second)
        assert backend.read_if_changed(path, second) is None

    def test_open_regular_reads_stored_files_only(self, opened: tuple[Backend, str]) -> None:
        """``open_regular`` reads a stored file; a missing one or a folder is refused."""
        backend, base = opened
        path = backend.join(base, "folder", "file.bin")
        backend.write_if_absent(path, b"content")
        with backend.open_regular(path) as stream:
            assert stream.read() == b"content"
        with pytest.raises(FileNotFoundError):
            backend.open_regular(backend.join(base, "folder", "missing.bin")).close()
        with pytest.raises((FileNotFoundError, IntegrityError)):
            backend.open_regular(backend.join(base, "folder")).close()

    # -- streaming --------------------------------------------------------------------------

    def test_large_files_stream_both_ways(self, opened: tuple[Backend, str]) -> None:
        """A file larger than the part and chunk sizes streams in and out intact."""
        backend, base = opened
        path = backend.join(base, "big", "blob.bin")
        digest = hashlib.sha256()
        blocks = _blocks()
        tracemalloc.start()
        try:
            with backend.open_new(path) as stream:
                for piece in _pattern(blocks, self.large_file_size):
                    stream.write(piece)
                    digest.update(piece)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        if self.streams_writes:
            assert peak < self.large_file_size // 2, (
                f"open_new held {peak} bytes for a {self.large_file_size}-byte file"
            )
        read_back, size = hashlib.sha256(), 0
        with backend.open_read(path) as stream:
            while chunk := stream.read(_MIB):
                read_back.update(chunk)
                size += len(chunk)
        assert size == self.large_file_size
        assert read_back.hexdigest() == digest.hexdigest()

    def test_a_large_write_never_overwrites(self, opened: tuple[Backend, str]) -> None:
        """A file streamed in parts is refused at an existing path, which stays as it was."""
        backend, base = opened
        path = backend.join(base, "taken.bin")
        backend.write_if_absent(path, b"first")
        blocks = _blocks(seed=1)

        def stream_over() -> None:
            with backend.open_new(path) as stream:
                for piece in _pattern(blocks, self.large_file_size):
                    stream.write(piece)

        with pytest.raises(FileExistsError):
            stream_over()
        assert backend.read_bytes(path) == b"first"

    def test_a_failed_stream_leaves_nothing(self, opened: tuple[Backend, str]) -> None:
        """An exception inside open_new leaves nothing at the path."""
        backend, base = opened
        path = backend.join(base, "failed.bin")

        def fail_midway() -> None:
            with backend.open_new(path) as stream:
                stream.write(b"partial")
                raise RuntimeError("handler failed")

        with pytest.raises(RuntimeError, match="handler failed"):
            fail_midway()
        assert not backend.exists(path)
        with pytest.raises(FileNotFoundError):
            backend.read_bytes(path)
        backend.write_if_absent(path, b"whole")
        assert backend.read_bytes(path) == b"whole"

    # -- listing and deleting ---------------------------------------------------------------

    def test_list_and_delete(self, opened: tuple[Backend, str]) -> None:
        """List finds every file below a folder; delete removes one."""
        backend, base = opened
        paths = [backend.join(base, *parts) for parts in (("m.json",), ("a", "1"), ("a", "2"))]
        for path in paths:
            backend.write_if_absent(path, b"x")
        assert _listed(backend, base) == sorted(paths)
        backend.delete(paths[1])
        assert _listed(backend, base) == sorted([paths[0], paths[2]])
        assert not backend.exists(paths[1])
        with pytest.raises(FileNotFoundError):
            backend.read_bytes(paths[1])

    # -- freshness --------------------------------------------------------------------------

    def test_another_instance_sees_a_commit_at_once(
        self, backend_target: BackendTarget, opened: tuple[Backend, str]
    ) -> None:
        """No cache of one instance hides another instance's writes and deletes."""
        reader, base = opened
        writer, writer_base = backend_target.open()
        path = reader.join(base, "manifest.json")
        token = writer.replace_if_unchanged(writer.join(writer_base, "manifest.json"), b"1", None)
        # Prime every cache the reader may have: content, listing, existence.
        assert reader.read_with_token(path) == (b"1", token)
        assert _listed(reader, base) == [path]
        new_file = reader.join(base, "v", "new.bin")
        assert not reader.exists(new_file)
        new_token = writer.replace_if_unchanged(
            writer.join(writer_base, "manifest.json"), b"2", token
        )
        writer.write_if_absent(writer.join(writer_base, "v", "new.bin"), b"new")
        assert reader.read_with_token(path) == (b"2", new_token)
        assert reader.exists(new_file)
        assert _listed(reader, base) == sorted([path, new_file])
        writer.delete(writer.join(writer_base, "v", "new.bin"))
        assert not reader.exists(new_file)
        assert _listed(reader, base) == [path]

    def test_another_process_sees_a_commit_at_once(
        self, backend_target: BackendTarget, opened: tuple[Backend, str]
    ) -> None:
        """A commit made by another process is visible at once."""
        backend, base = opened
        path = backend.join(base, "manifest.json")
        token = backend.replace_if_unchanged(path, b"first", None)
        assert backend.read_with_token(path) == (b"first", token)
        assert _listed(backend, base) == [path]
        [new_token] = self._processes(
            [(_commit_from_elsewhere, (backend_target, "manifest.json", token, "new.bin"))]
        )
        assert backend.read_with_token(path) == (b"second", new_token)
        assert backend.read_bytes(backend.join(base, "new.bin")) == b"new"
        assert _listed(backend, base) == sorted([path, backend.join(base, "new.bin")])


def _listed(backend: Backend, base: str) -> list[str]:
    """List ``base`` sorted, leaving out dot-files (a backend's own lock or probe files)."""
    return sorted(p for p in backend.list(base) if not p.rsplit("/", 1)[-1].startswith("."))


def _append_with(backend: Backend, base: str, name: str, worker: int, times: int) -> int:
    """Append ``times`` entries to a JSON list with read-with-token and compare-and-swap."""
    path = backend.join(base, name)
    retries = 0
    for i in range(times):
        while True:
            data, token = backend.read_with_token(path)
            entries = [*json.loads(data), f"{worker}-{i}"]
            try:
                backend.replace_if_unchanged(path, json.dumps(entries).encode(), token)
                break
            except StaleTokenError:
                retries += 1
    return retries


class RepositoryOnBackendTests:
    """The user guide's flow on a backend: log, version, as-of, filter, concurrent saves.

    Subclasses provide a ``repository_location`` fixture returning the manifest URL of a
    repository that does not exist yet, and the storage options to reach it.

    Attributes
    ----------
    processes : int
        Processes saving at once in the concurrency test.
    saves : int
        Saves each of them makes.
    """

    processes: ClassVar[int] = 4
    saves: ClassVar[int] = 10

    @pytest.fixture
    def repository_location(self) -> tuple[str, dict[str, Any]]:
        """Override: a fresh manifest URL and the storage options to reach it."""
        raise NotImplementedError("provide a repository_location fixture")

    def test_log_version_as_of_and_filter(
        self, repository_location: tuple[str, dict[str, Any]]
    ) -> None:
        """The user guide's flow: log, versions, exact and as-of times, filter."""
        url, options = repository_location
        repository = Repository(url, mode="w", **options)
        repository.log_artifact(name="features", value=[0, 1, 2], handler="json", indent=4)
        repository.save()
        assert Repository(url, mode="r", **options).load_artifact("features") == [0, 1, 2]

        repository = Repository(url, mode="a", **options)
        repository.log_artifact(name="features", value=[0, 1, 2, 3], handler="json", indent=4)
        repository.log_artifact(name="metrics", value={"auc": 0.5}, handler="json")
        repository.save()

        repository = Repository(url, mode="r", **options)
        assert repository.versions("features") == [0, 1]
        assert repository.load_artifact("features") == [0, 1, 2, 3]
        assert repository.load_artifact("features", version=0) == [0, 1, 2]
        first, second = (r for r in repository.artifacts if r.name == "features")
        exact = second.created_at.isoformat()
        assert repository.load_artifact("features", version=exact) == [0, 1, 2, 3]
        between = first.created_at + (second.created_at - first.created_at) / 2
        assert repository.load_artifact("features", version=between, match="asof") == [0, 1, 2]

        as_of_first = repository.filter(first.created_at.isoformat())
        assert [(r.name, r.version) for r in as_of_first.artifacts] == [("features", 0)]
        pinned = repository.filter([("features", 1), ("metrics", 0)])
        assert pinned.load_artifact("features") == [0, 1, 2, 3]
        assert pinned.load_artifact("metrics") == {"auc": 0.5}
        assert repository.verify().checked == 3

    def test_promotion_and_releases_in_the_same_storage(
        self, repository_location: tuple[str, dict[str, Any]]
    ) -> None:
        """Promote from a project, release, find and filter, release_from_toml: all stored here."""
        import posixpath

        from archivist import release as lzr
        from archivist.project import Project
        from archivist.repository import Repository
        from archivist.stores import ReleaseStore

        url, options = repository_location
        folder = posixpath.dirname(url)
        project = Project(f"{folder}/experiments/project.json", mode="w", **options)
        with project.log("my-experiment") as experiment:
            experiment.log_artifact(name="features", value=[0, 1, 2], handler="json", indent=4)
        project.save()
        project = Project(f"{folder}/experiments/project.json", mode="r", **options)
        repository = Repository(url, mode="w", **options)
        project["my-experiment"].promote_artifact(repository, "features")
        repository = Repository(url, mode="r", **options)
        assert repository.load_artifact("features") == [0, 1, 2]

        release = lzr.create_release(repository, "v0.1.0")
        store = ReleaseStore(f"{folder}/releases.json", **options)
        store.add(release)
        found = lzr.find_release(store.list(), "v0.1.0")
        assert found.artifacts == [("features", 0)]
        assert repository.filter(found.artifacts).load_artifact("features") == [0, 1, 2]

        toml = f'[project]\nversion = "1.0.0"\n\n[tool.archivist]\nrepositories = ["{url}"]\n'
        [recorded] = lzr.release_from_toml(toml, **options)
        assert recorded.tag == "v1.0.0"
        assert [r.tag for r in store.list()] == ["v0.1.0", "v1.0.0"]

    def test_a_reader_sees_each_commit_at_once(
        self, repository_location: tuple[str, dict[str, Any]]
    ) -> None:
        """New readers and refreshed ones see each commit at once; an unchanged one is kept."""
        url, options = repository_location
        writer = Repository(url, mode="w", **options)
        writer.log_artifact(name="model", value=1, handler="json")
        writer.save()
        reader = Repository(url, mode="r", **options)
        for value in range(2, 5):
            writer.log_artifact(name="model", value=value, handler="json")
            writer.save()
            assert Repository(url, mode="r", **options).load_artifact("model") == value
            reader.refresh()
            assert reader.load_artifact("model") == value
            read = reader.records
            reader.refresh()  # nothing committed since: the records read are kept
            assert all(new is old for new, old in zip(reader.records, read, strict=True))

    def test_changed_files_are_never_deserialized(
        self, repository_location: tuple[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Reads are bounded and verified: longer or changed files are refused, listed by verify."""
        url, options = repository_location
        monkeypatch.setattr(_verified, "IN_MEMORY_LIMIT", 1024)  # spool past 1 KiB
        small, large = b"s" * 16, bytes(range(256)) * 64
        repository = Repository(url, mode="w", **options)
        for value in (small, large, small, large):
            repository.log_artifact(name="model", value=value, handler="pickle")
        repository.save()
        backend, path = open_backend(url, **options)
        for version, change in ((2, b"longer"), (3, b"")):
            fname = repository.get_artifact_metadata("model", version=version)["fname"]
            stored = backend.join(posixpath.dirname(path), "model", fname)
            data = backend.read_bytes(stored)
            backend.delete(stored)
            backend.write_if_absent(stored, data + change if change else data[:-1] + b"!")
        reader = Repository(url, mode="r", cache=False, **options)  # the stored file itself
        assert reader.load_artifact("model", version=0) == small
        assert reader.load_artifact("model", version=1) == large
        with pytest.raises(IntegrityError, match="more than"):
            reader.load_artifact("model", version=2)
        with pytest.raises(IntegrityError, match="does not match"):
            reader.load_artifact("model", version=3)
        with pytest.raises(IntegrityError, match=r"2 version\(s\)") as failed:
            reader.verify()
        assert "version 2 of" in str(failed.value)
        assert "version 3 of" in str(failed.value)

    def test_adopt_records_digests_for_versions_without_one(
        self, repository_location: tuple[str, dict[str, Any]]
    ) -> None:
        """Versions without a digest (as lazyscribe writes them) are refused until adopted."""
        url, options = repository_location
        repository = Repository(url, mode="w", **options)
        repository.log_artifact(name="model", value={"w": 1}, handler="pickle")
        repository.log_artifact(name="features", value=[0, 1], handler="json")
        repository.save()
        backend, path = open_backend(url, **options)
        data, token = backend.read_with_token(path)
        stripped = [
            {k: v for k, v in record.items() if k not in ("sha256", "size")}
            for record in json.loads(data)
        ]
        backend.replace_if_unchanged(path, json.dumps(stripped).encode(), token)
        with pytest.raises(UntrustedArtifactError):
            Repository(url, mode="r", trust="verified", **options).load_artifact("model")
        assert Repository(url, mode="r", **options).adopt(dry_run=True) == [
            ("model", 0),
            ("features", 0),
        ]
        assert Repository(url, mode="a", **options).adopt() == [("model", 0), ("features", 0)]
        strict = Repository(url, mode="r", trust="verified", **options)
        assert strict.load_artifact("model") == {"w": 1}
        assert strict.verify().checked == 2
        assert Repository(url, mode="a", **options).adopt() == []

    def test_concurrent_saves_from_processes_lose_nothing(
        self, repository_location: tuple[str, dict[str, Any]]
    ) -> None:
        """Concurrent saves number every version, gap-free, and every value loads."""
        url, options = repository_location
        expected = run_concurrent_saves(url, options, processes=self.processes, saves=self.saves)
        repository = Repository(url, mode="r", **options)
        assert repository.versions("model") == list(range(len(expected)))
        loaded = [
            repository.load_artifact("model", version=v) for v in repository.versions("model")
        ]
        assert sorted((v["worker"], v["save"]) for v in loaded) == sorted(expected)
        for worker in range(self.processes):  # each process's saves land in its own order
            mine = [v["save"] for v in loaded if v["worker"] == worker]
            assert mine == sorted(mine)
        assert repository.verify().checked == len(expected)


class ObjectStoreConformanceTests(BackendConformanceTests):
    """The contract, plus what an :class:`~archivist.storage.object_store.ObjectStoreBackend` adds.

    On top of :class:`BackendConformanceTests`: a store that ignores conditional writes is
    refused (the probe), single-writer mode works without them, and the probe runs once per
    :meth:`~archivist.Backend.conditional_write_scope`. The stores that ignore conditions
    are simulated by subclasses of the tested backend whose ``put_if`` sends none.
    """

    @pytest.fixture
    def store_class(self, opened: tuple[Backend, str]) -> type[ObjectStoreBackend]:
        """Return the tested backend's class (an ObjectStoreBackend subclass)."""
        backend_class = type(opened[0])
        assert issubclass(backend_class, ObjectStoreBackend)
        return backend_class

    @pytest.fixture(autouse=True)
    def private_probe_memory(
        self, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Remember passed probes in a folder of this test, not in the user's cache folder."""
        folder = tmp_path_factory.mktemp("archivist-cache")
        monkeypatch.setenv(_probes.CACHE_DIR_ENV, str(folder))

    @staticmethod
    def _counting(
        store_class: type[ObjectStoreBackend], sent: list[str | None]
    ) -> type[ObjectStoreBackend]:
        def put_if(self: ObjectStoreBackend, path: str, data: bytes, token: str | None) -> str:
            sent.append(token)
            return store_class.put_if(self, path, data, token)

        return type(f"Counting{store_class.__name__}", (store_class,), {"put_if": put_if})

    @staticmethod
    def _ignoring(store_class: type[ObjectStoreBackend]) -> type[ObjectStoreBackend]:
        def put_if(self: ObjectStoreBackend, path: str, data: bytes, token: str | None) -> str:
            return self.put_unconditionally(path, data)

        return type(f"Ignoring{store_class.__name__}", (store_class,), {"put_if": put_if})

    def test_a_store_that_ignores_conditions_is_refused(
        self,
        backend_target: BackendTarget,
        opened: tuple[Backend, str],
        store_class: type[ObjectStoreBackend],
    ) -> None:
        """Without single-writer mode, no write reaches a store that ignores conditions."""
        backend, base = opened
        ignoring = self._ignoring(store_class)(**backend_target.storage_options)
        with pytest.raises(StorageError, match="single_writer=True"):
            ignoring.replace_if_unchanged(backend.join(base, "repository.json"), b"[]", None)
        with pytest.raises(StorageError, match=re.escape(f"ignores {store_class.conditions}")):
            ignoring.write_if_absent(backend.join(base, "model", "v0.json"), b"{}")
        assert list(backend.list(base)) == []  # nothing written, the probe cleaned up

    def test_single_writer_mode_works_without_conditions(
        self,
        backend_target: BackendTarget,
        opened: tuple[Backend, str],
        store_class: type[ObjectStoreBackend],
    ) -> None:
        """With ``single_writer=True`` the token is checked before each plain write."""
        backend, base = opened
        options = dict(backend_target.storage_options)
        single = self._ignoring(store_class)(single_writer=True, **options)
        assert "single_writer" not in single.storage_options
        path = backend.join(base, "repository.json")
        token = single.replace_if_unchanged(path, b"[1]", None)
        with pytest.raises(StaleTokenError):
            single.replace_if_unchanged(path, b"[2]", None)
        token = single.replace_if_unchanged(path, b"[2]", token)
        with pytest.raises(StaleTokenError):
            single.replace_if_unchanged(path, b"[3]", single.stale_token(token))
        assert single.read_with_token(path) == (b"[2]", token)
        single.write_if_absent(backend.join(base, "a.bin"), b"a")
        with pytest.raises(FileExistsError):
            single.write_if_absent(backend.join(base, "a.bin"), b"b")
        assert not any(".archivist-probe" in p for p in backend.list(base))

        url = backend_target.url.rstrip("/") + "/single/repository.json"
        repository = Repository(url, mode="w", single_writer=True, **options)
        repository.log_artifact(name="features", value=[1], handler="json")
        repository.save()
        assert Repository(url, mode="r", **options).load_artifact("features") == [1]

    def test_the_probe_runs_once_per_scope(
        self,
        backend_target: BackendTarget,
        opened: tuple[Backend, str],
        store_class: type[ObjectStoreBackend],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """The first write probes (three conditional uploads, logged); later ones, no more."""
        backend, base = opened
        sent: list[str | None] = []
        counting = self._counting(store_class, sent)
        first = counting(**backend_target.storage_options)
        second = counting(**backend_target.storage_options)
        with caplog.at_level(logging.INFO, logger="archivist"):
            first.write_if_absent(backend.join(base, "one"), b"1")
        assert [token is None for token in sent] == [True, True, False]
        assert f"the store enforces {store_class.conditions}" in caplog.text
        sent.clear()
        second.write_if_absent(backend.join(base, "two"), b"2")
        with contextlib.suppress(StaleTokenError):
            second.replace_if_unchanged(backend.join(base, "two"), b"3", None)
        assert sent == [None]

    def test_a_passed_probe_is_remembered_across_processes(
        self,
        backend_target: BackendTarget,
        opened: tuple[Backend, str],
        store_class: type[ObjectStoreBackend],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A later process skips the probe; ``reprobe=True`` or a corrupt record forces it."""
        backend, base_path = opened
        options = backend_target.storage_options
        sent: list[str | None] = []
        counting = self._counting(store_class, sent)
        probe = [True, True, False]  # what the probe sends: absent, absent again, stale

        def fresh_process_writes(name: str, **extra: Any) -> list[bool]:
            monkeypatch.setattr(base, "_PROBED", set())  # what this process probed: nothing
            sent.clear()
            counting(**extra, **options).replace_if_unchanged(
                backend.join(base_path, name), b"1", None
            )
            return [token is None for token in sent]

        assert fresh_process_writes("one") == [*probe, True]
        assert fresh_process_writes("two") == [True]  # remembered: no probe
        assert fresh_process_writes("three", reprobe=True) == [*probe, True]
        with open(_probes.cache_file(), "wb") as stream:
            stream.write(b"{not json")
        assert fresh_process_writes("four") == [*probe, True]  # corrupt: probed again
        assert fresh_process_writes("five") == [True]
        ignoring = self._ignoring(store_class)(**options)
        monkeypatch.setattr(base, "_PROBED", set())
        with pytest.raises(StorageError, match="single_writer=True"):  # refusals never remembered
            ignoring.replace_if_unchanged(backend.join(base_path, "six"), b"6", None)
        with pytest.raises(StorageError, match="single_writer=True"):
            ignoring.replace_if_unchanged(backend.join(base_path, "six"), b"6", None)
        assert not ignoring.known_to_enforce_conditions(backend.join(base_path, "six"))
