"""The user guide's flow on a backend: a repository's whole life, end to end.

:class:`RepositoryOnBackendTests` runs log, versions, as-of lookups, filters, promotion,
releases, verified reads, ``adopt`` and concurrent saves on any storage; the core runs it on
local disk and in memory, and every cloud plugin on its emulator.
"""

from __future__ import annotations

import concurrent.futures
import json
import posixpath
from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from archivist._io import verified as _verified
from archivist.errors import IntegrityError, UntrustedArtifactError
from archivist.repository import Repository
from archivist.stores import open_backend
from archivist.testing.backends._target import process_context

__all__ = ["RepositoryOnBackendTests", "run_concurrent_saves", "save_versions"]


def save_versions(
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
    threads: bool = False,
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
    threads : bool, optional
        Save from threads of this process instead, each with its own repository (for
        storage private to one process, such as ``memory://``).

    Returns
    -------
    list[tuple[int, int]]
        Every ``(worker, save)`` pair that was saved, for comparing with what loads back.
    """
    options = dict(storage_options or {})
    pool: concurrent.futures.Executor = (
        concurrent.futures.ThreadPoolExecutor(processes)
        if threads
        else concurrent.futures.ProcessPoolExecutor(processes, mp_context=process_context())
    )
    with pool:
        futures = [
            pool.submit(save_versions, url, options, name, worker, saves)
            for worker in range(processes)
        ]
        for future in futures:
            future.result(timeout=300)
    return [(worker, i) for worker in range(processes) for i in range(saves)]


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
    cross_process : bool
        Whether other processes can reach the storage; ``False`` (``memory://``) runs the
        concurrent saves from threads instead.
    """

    processes: ClassVar[int] = 4
    saves: ClassVar[int] = 10
    cross_process: ClassVar[bool] = True

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
        # Without a journal a save keeps no digests beside the manifest, as lazyscribe's.
        repository = Repository(url, mode="w", journal=False, **options)
        repository.log_artifact(name="model", value={"w": 1}, handler="pickle")
        repository.log_artifact(name="features", value=[0, 1], handler="json")
        repository.save()
        backend, path = open_backend(url, **options)
        data, token = backend.read_with_token(path)
        stripped = [
            {k: v for k, v in record.items() if k not in ("sha256", "blake3", "size")}
            for record in json.loads(data)
        ]
        backend.replace_if_unchanged(path, json.dumps(stripped).encode(), token)
        # as lazyscribe wrote it: no digest archivist kept beside the manifest either
        folder, name = posixpath.split(path)
        backend.discard(posixpath.join(folder, f".{name}.archivist", "digests.json"))
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
        expected = run_concurrent_saves(
            url,
            options,
            processes=self.processes,
            saves=self.saves,
            threads=not self.cross_process,
        )
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
