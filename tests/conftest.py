"""Shared fixtures for the core tests."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest


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


@pytest.fixture(autouse=True)
def _no_trust_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test under the default trust policy, whatever ARCHIVIST_TRUST says."""
    monkeypatch.delenv("ARCHIVIST_TRUST", raising=False)


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
