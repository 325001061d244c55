"""Shared fixtures for the core tests."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import fsspec
import pytest
from fsspec.implementations.memory import MemoryFileSystem

from archivist import Repository
from archivist.testing.commits import crash_at_commit
from archivist.testing.emulators import private_archivist_cache

__all__ = ["crash_at_commit", "private_archivist_cache"]


@pytest.fixture
def repo_path(tmp_path: Path) -> Path:
    """The manifest path of a repository in a fresh temporary folder."""
    return tmp_path / "repo" / "repository.json"


@pytest.fixture
def memory_url() -> str:
    """A manifest URL in the in-process memory filesystem, unique per test."""
    return f"memory://archivist-tests/{uuid.uuid4().hex}/repository.json"


@pytest.fixture
def snapshot_tree() -> Callable[[Path], dict[str, str]]:
    """Return :func:`tree_digest`, for byte-for-byte comparisons of a folder."""
    return tree_digest


def tree_digest(folder: Path) -> dict[str, str]:
    """Map every file and folder below ``folder`` to its SHA-256 (folders: "dir")."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            out[str((Path(root) / name).relative_to(folder))] = "dir"
        for name in files:
            path = Path(root) / name
            out[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def journals(repo_path: Path) -> list[Path]:
    """The save journals left in the private folder of the manifest ``repo_path``."""
    folder = repo_path.parent / f".{repo_path.name}.archivist"
    return sorted(folder.glob("*.journal")) if folder.exists() else []


def files_of(repo_path: Path, name: str) -> set[str]:
    """The names of the files in the folder of artifact ``name`` beside ``repo_path``."""
    folder = repo_path.parent / name
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def make_orphan(
    manifest: Path, name: str = "features", fname: str = "orphan.json", age_seconds: float = 7200
) -> Path:
    """Leave a real orphan: a save of ``manifest`` that died before its commit, aged.

    The save's file and journal are dated ``age_seconds`` back, as if it crashed then.
    """
    journals = manifest.parent / f".{manifest.name}.archivist"
    before = set(journals.glob("*.journal"))
    repository = Repository(manifest, mode="a")
    repository.log_artifact(name, [], handler="json", fname=fname)
    with crash_at_commit(repository, landed=False):
        repository.save()
    path = manifest.parent / name / fname
    old = time.time() - age_seconds
    for file in [path, *(set(journals.glob("*.journal")) - before)]:
        os.utime(file, (old, old))
    return path


@pytest.fixture(autouse=True)
def _no_trust_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test under the default trust policy and save journals, whatever
    ARCHIVIST_TRUST and ARCHIVIST_SAVE_JOURNAL say."""
    monkeypatch.delenv("ARCHIVIST_TRUST", raising=False)
    monkeypatch.delenv("ARCHIVIST_SAVE_JOURNAL", raising=False)


@pytest.fixture
def lazyscribe_repo(tmp_path: Path) -> Path:
    """A repository lazyscribe 2.2.2 wrote: a pickle and a JSON version, no digests."""
    import lazyscribe

    path = tmp_path / "repository.json"
    repository = lazyscribe.Repository(str(path), mode="w")
    repository.log_artifact("model", {"w": 1}, handler="pickle")
    repository.log_artifact("features", [0, 1], handler="json")
    repository.save()
    return path


class _FailingMemory(MemoryFileSystem):  # type: ignore[misc]
    """A memory filesystem whose artifact files fail to open for reading or writing."""

    protocol: ClassVar[tuple[str, ...]] = ("archfail",)
    store: ClassVar[dict[str, Any]] = {}
    pseudo_dirs: ClassVar[list[str]] = [""]
    fail: ClassVar[str] = ""

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        if path.startswith("archfail://"):
            path = path[len("archfail://") :]
        return "/" + path.lstrip("/").rstrip("/")

    def _open(self, path: str, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        artifact_file = "/features/" in path
        if artifact_file and _FailingMemory.fail == ("read" if "r" in mode else "write"):
            raise OSError(f"the disk is on fire ({mode})")
        return super()._open(path, mode, *args, **kwargs)


fsspec.register_implementation("archfail", _FailingMemory, clobber=True)


@pytest.fixture
def failing() -> Iterator[type[_FailingMemory]]:
    """``archfail://``: set ``fail`` to ``"read"`` or ``"write"`` to fail artifact files."""
    _FailingMemory.fail = ""
    try:
        yield _FailingMemory
    finally:
        _FailingMemory.fail = ""
