"""The one path function and the one owned deletion (``archivist._io.paths``).

Every path the manifest store builds to an artifact file, a journal or a partial write goes
through ``path_under``, and every deletion through ``delete_owned``: a name that would leave
the repository folder is refused before storage is touched, on local disk and in memory (the
cloud plugins attack the same through the gc safety kit).
"""

from __future__ import annotations

import hashlib
import posixpath
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archivist import Repository
from archivist._backends.base import Backend
from archivist._backends.local import LocalBackend
from archivist._commit.journal import JournalEntry
from archivist._io.paths import check_under, delete_owned, path_under
from archivist.errors import InvalidNameError, ManifestError
from archivist.stores import ManifestStore

ESCAPES = [
    ("..", "repository.json"),
    ("", "repository.json"),
    (".", "repository.json"),
    ("/abs", "x"),
    ("model", "../../victim.bin"),
    ("model", "../repository.json"),
    ("model", "/victim.bin"),
    ("model", "a//b"),
    ("model", "./c"),
    ("model", ""),
    ("model", "a\\..\\..\\b"),
]


@pytest.mark.parametrize(
    ("root", "parts", "expected"),
    [
        ("/data/repo", ("model", "v0.json"), "/data/repo/model/v0.json"),
        ("/data/repo/", ("model", "sub/v0.json"), "/data/repo/model/sub/v0.json"),
        ("/", ("model", "v0.json"), "/model/v0.json"),
        ("", ("model", "v0.json"), "model/v0.json"),
        ("bucket", ("model", "v0.json"), "bucket/model/v0.json"),
    ],
)
def test_path_under_joins_below_the_root(root: str, parts: tuple[str, ...], expected: str) -> None:
    assert path_under(root, *parts) == expected
    assert check_under(root, expected) == expected


@pytest.mark.parametrize(("name", "fname"), ESCAPES)
def test_path_under_refuses_every_escape(name: str, fname: str) -> None:
    with pytest.raises(InvalidNameError):
        path_under("bucket/team", name, fname)


@pytest.mark.parametrize(
    "path", ["bucket/team", "bucket/team/", "bucket/other/x", "bucket/team/../x", "/bucket/team/x"]
)
def test_check_under_refuses_the_root_itself_and_what_lies_outside(path: str) -> None:
    with pytest.raises(InvalidNameError):
        check_under("bucket/team", path)


def test_delete_owned_deletes_nothing_outside_its_root(tmp_path: Path) -> None:
    outside = tmp_path / "victim.bin"
    outside.write_bytes(b"user data")
    root = tmp_path / "repo"
    root.mkdir()
    backend = LocalBackend()
    for path in (str(outside), f"{root}/../victim.bin", str(root)):
        with pytest.raises(InvalidNameError):
            delete_owned(backend, str(root), path)
    assert outside.read_bytes() == b"user data"


@pytest.fixture(params=["local", "memory"])
def repository_at(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    if request.param == "local":
        return str(tmp_path / "team" / "repository.json"), {}
    return f"memory://paths-{uuid.uuid4().hex}/team/repository.json", {}


@pytest.mark.parametrize(("name", "fname"), ESCAPES)
def test_the_store_touches_nothing_outside_its_folder(
    repository_at: tuple[str, dict[str, Any]], name: str, fname: str
) -> None:
    """Reads, writes, deletions and partial-write clean-up all refuse an escaping name."""
    url, options = repository_at
    repository = Repository(url, mode="w", **options)
    repository.log_artifact("model", {"w": 1}, handler="json")
    repository.save()
    store = ManifestStore(url, **options)
    backend = store.backend
    folder = store.folder.rstrip("/")
    parent = folder.rsplit("/", 1)[0]
    victims = {
        f"{parent}/victim.bin": b"user data",
        f"{parent}/repository.json": b"[]",
        f"{folder}/model/a/b": b"user file",
        f"{folder}/model/c": b"user file",
    }
    for path, data in victims.items():
        backend.write_if_absent(path, data)
    manifest = backend.read_bytes(store.path)
    digest = hashlib.sha256(manifest).hexdigest()
    for call in (
        lambda: store.delete_file(name, fname),
        lambda: store.open_file(name, fname, digest, len(manifest)),
        lambda: store.write_file(name, fname, lambda out: out.write(b"x")),
        lambda: store.file_modified(name, fname),
        lambda: store.remove_partial_writes(name, fname, since=_epoch()),
    ):
        with pytest.raises(InvalidNameError):
            call()
    assert backend.read_bytes(store.path) == manifest
    for path, data in victims.items():
        assert backend.read_bytes(path) == data


@pytest.mark.parametrize("journal_id", ["../x", "/x", "", ".", "a/../../b"])
def test_journal_paths_stay_in_the_private_folder(
    repository_at: tuple[str, dict[str, Any]], journal_id: str
) -> None:
    url, options = repository_at
    store = ManifestStore(url, **options)
    for call in (
        lambda: store.write_journal(journal_id, b"{}"),
        lambda: store.read_journal(journal_id),
        lambda: store.delete_journal(journal_id),
    ):
        with pytest.raises(InvalidNameError):
            call()


def _epoch() -> Any:
    from datetime import UTC, datetime

    return datetime(1970, 1, 1, tzinfo=UTC)


_PARTS = st.sampled_from(["", ".", "..", "a", "b.json", "/", "//", "\\", "C:", "x/..", "../"])


@settings(max_examples=300, deadline=None)
@given(
    name=st.lists(_PARTS, max_size=4).map("".join), fname=st.lists(_PARTS, max_size=5).map("".join)
)
def test_a_journal_entry_that_parses_names_a_file_strictly_inside_its_folder(
    name: str, fname: str
) -> None:
    """Whatever a forged journal holds, an entry that parses lies under ``<folder>/<name>/``."""
    data = {"name": name, "fname": fname, "auto": True, "sha256": None, "size": None}
    try:
        entry = JournalEntry.from_dict(data)
    except ManifestError:
        return
    path = path_under("bucket/team", entry.name, entry.fname)
    assert check_under(f"bucket/team/{entry.name}", path) == path
    assert posixpath.normpath(path) == path


@pytest.mark.parametrize("part", ["/other-bucket/models", "..", "", ".", "a/../../b", "a\\b"])
def test_backend_join_refuses_a_part_that_leaves_its_base(part: str) -> None:
    with pytest.raises(InvalidNameError):
        Backend.join("bucket/team", part, "repository.json")
