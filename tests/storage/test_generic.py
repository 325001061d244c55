"""The generic backend serves any protocol fsspec knows and no archivist plugin serves."""

from __future__ import annotations

import threading
import uuid
from typing import Any, ClassVar

import fsspec
import pytest
from fsspec.implementations.memory import MemoryFileSystem

import archivist.exception
from archivist import Repository, get_backend
from archivist._backends.generic import FsspecBackend, generic_backend
from archivist.errors import ArchivistWarning, ReadOnlyError, StaleTokenError, UnknownBackendError
from archivist.testing.backends import BackendConformanceTests, BackendTarget, SaveProgressTests


class _PrefixedMemory(MemoryFileSystem):  # type: ignore[misc]
    """A memory filesystem of its own under another protocol (a user's registered fs)."""

    protocol: ClassVar[tuple[str, ...]] = ("archtest",)
    store: ClassVar[dict[str, Any]] = {}
    pseudo_dirs: ClassVar[list[str]] = [""]

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        if path.startswith("archtest://"):
            path = path[len("archtest://") :]
        return "/" + path.lstrip("/").rstrip("/")


class _ReadOnlyMemory(_PrefixedMemory):
    """Shares the files of ``archtest://`` but cannot write (like ``github://``)."""

    protocol: ClassVar[tuple[str, ...]] = ("archtestro",)

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        if path.startswith("archtestro://"):
            path = path[len("archtestro://") :]
        return "/" + path.lstrip("/").rstrip("/")

    def _open(self, path: str, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        if "r" not in mode:
            raise NotImplementedError("this filesystem is read-only")
        return super()._open(path, mode, *args, **kwargs)

    def pipe_file(self, path: str, value: bytes, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("this filesystem is read-only")

    def rm_file(self, path: str) -> None:
        raise NotImplementedError("this filesystem is read-only")


fsspec.register_implementation("archtest", _PrefixedMemory, clobber=True)
fsspec.register_implementation("archtestro", _ReadOnlyMemory, clobber=True)


class TestGenericBackend(BackendConformanceTests):
    cross_process = False  # the registered filesystem keeps its files in this process
    streams_writes = False  # ... and holds every file whole

    @pytest.fixture
    def backend_target(self) -> BackendTarget:
        return BackendTarget(
            f"archtest://conformance/{uuid.uuid4().hex}", storage_options={"single_writer": True}
        )


class TestGenericBackendSaveProgress(SaveProgressTests):
    @pytest.fixture
    def repository_location(self) -> tuple[str, dict[str, Any]]:
        return f"archtest://progress/{uuid.uuid4().hex}/repository.json", {"single_writer": True}


def test_a_registered_protocol_gets_the_generic_backend() -> None:
    backend_class = get_backend("archtest")
    assert issubclass(backend_class, FsspecBackend)
    assert backend_class.protocols == ("archtest",)
    assert get_backend("archtest") is backend_class is generic_backend("archtest")
    for known in ("github", "hf"):  # fsspec knows them; no archivist plugin serves them
        assert get_backend(known).protocols == (known,)
    with pytest.raises(UnknownBackendError, match="no storage backend") as info:
        get_backend("no-such-protocol-anywhere")
    assert isinstance(info.value, ValueError)  # what fsspec (and so lazyscribe) raised


def test_a_repository_on_a_registered_protocol_warns_once_about_concurrent_writers() -> None:
    url = f"archtest://repos/{uuid.uuid4().hex}/repository.json"
    repository = Repository(url, mode="w")
    repository.log_artifact(name="features", value=[0, 1], handler="json")
    repository.log_artifact(name="more", value=[2], handler="json")
    with pytest.warns(ArchivistWarning, match="concurrent writers in other processes") as caught:
        repository.save()
    assert len([w for w in caught if issubclass(w.category, ArchivistWarning)]) == 1
    reader = Repository(url, mode="r")
    assert reader.load_artifact("features") == [0, 1]
    assert reader.protocol == "archtest"
    assert isinstance(reader.fs, _PrefixedMemory)


def test_single_writer_true_acknowledges_the_risk_without_a_warning() -> None:
    url = f"archtest://repos/{uuid.uuid4().hex}/repository.json"
    repository = Repository(url, mode="w", single_writer=True)
    repository.log_artifact(name="features", value=[0, 1], handler="json", fname="sub/f.json")
    repository.save()  # ArchivistWarning is an error in this test suite
    assert Repository(url, mode="r", single_writer=True).load_artifact("features") == [0, 1]
    assert _PrefixedMemory().exists(url.rsplit("/", 1)[0] + "/features/sub/f.json")


def test_threads_of_one_process_never_lose_an_update() -> None:
    backend = generic_backend("archtest")(single_writer=True)
    path = f"/cas/{uuid.uuid4().hex}"
    backend.write_if_absent(path, b"0")
    errors: list[BaseException] = []

    def bump() -> None:
        for _ in range(20):
            while True:
                data, token = backend.read_with_token(path)
                try:
                    backend.replace_if_unchanged(path, str(int(data) + 1).encode(), token)
                    break
                except StaleTokenError:
                    continue
                except BaseException as exc:  # pragma: no cover - reported below
                    errors.append(exc)
                    return

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert backend.read_bytes(path) == b"80"


def test_a_filesystem_that_cannot_write_is_read_only() -> None:
    folder = f"repos/{uuid.uuid4().hex}"
    writer = Repository(f"archtest://{folder}/repository.json", mode="w", single_writer=True)
    writer.log_artifact(name="features", value=[0, 1, 2], handler="json")
    writer.save()
    url = f"archtestro://{folder}/repository.json"
    assert Repository(url, mode="r").load_artifact("features") == [0, 1, 2]
    repository = Repository(url, mode="w+", single_writer=True)
    repository.log_artifact(name="features", value=[3], handler="json")
    with pytest.raises(ReadOnlyError, match=r"archtestro:// .* cannot write") as info:
        repository.save()
    assert isinstance(info.value, PermissionError)
    assert isinstance(info.value, archivist.exception.SaveError)  # lazyscribe's save failure
    reader = Repository(f"archtest://{folder}/repository.json", mode="r")
    assert reader.versions("features") == [0]  # nothing was written
    backend = generic_backend("archtestro")(single_writer=True)
    with pytest.raises(ReadOnlyError):
        backend.delete(f"/{folder}/repository.json")
