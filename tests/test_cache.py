"""The local cache owns only what it made: a mistyped cache folder never loses a user's file.

Each test points the cache at a folder of "the user's" (holding ``tmp/``, ``manifests/`` and
``sha256/ab/`` of their own), or at a cache archivist made with a user's file dropped into
it, and checks that clearing, loading and evicting delete nothing of the user's.
"""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from archivist import Repository, cache_info, clear_cache
from archivist._io import cache_folder
from archivist._io.cache import ArtifactCache, parse_size
from archivist.cli import cli
from archivist.errors import ConfigError, InvalidArgumentError
from archivist.stores import _index_cache as index_cache

DAY = 24 * 3600


def _users_folder(folder: Path, entry_named: bool = True) -> dict[Path, bytes]:
    """A folder of the user's whose subfolders happen to bear the cache's names.

    With ``entry_named``, one file is even named as a cache entry would be.
    """
    files = {
        folder / "notes.txt": b"my notes",
        folder / "tmp" / "draft.txt": b"a draft, two days old",
        folder / "manifests" / "inventory.json": b"[]",
        folder / "sha256" / "ab" / "photo.jpg": b"\xff\xd8" + b"x" * 4000,
    }
    if entry_named:
        files[folder / "sha256" / "ab" / ("ab" + "0" * 62)] = b"named like an entry, but mine"
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    old = time.time() - 2 * DAY
    os.utime(folder / "tmp" / "draft.txt", (old, old))
    return files


def _intact(files: dict[Path, bytes]) -> bool:
    return all(path.exists() and path.read_bytes() == content for path, content in files.items())


def _repository(tmp_path: Path) -> Path:
    path = tmp_path / "repo" / "repository.json"
    writer = Repository(path, mode="w")
    writer.log_artifact(name="features", value=[1, 2, 3], handler="json")
    writer.save()
    return path


def test_clear_cache_refuses_a_users_folder(tmp_path: Path) -> None:
    files = _users_folder(tmp_path / "mine")
    with pytest.raises(ConfigError, match="not an archivist cache folder"):
        clear_cache(tmp_path / "mine")
    assert _intact(files)


def test_cache_clear_in_the_cli_refuses_a_users_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _users_folder(tmp_path / "mine")
    monkeypatch.setenv("ARCHIVIST_CACHE_DIR", str(tmp_path / "mine"))
    result = CliRunner().invoke(cli, ["cache", "clear", "--yes"])
    assert result.exit_code == 2, result.output
    assert "not an archivist cache folder" in result.output
    assert _intact(files)


def test_a_cached_load_refuses_a_users_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _repository(tmp_path)
    files = _users_folder(tmp_path / "mine")
    monkeypatch.setenv("ARCHIVIST_CACHE_DIR", str(tmp_path / "mine"))
    with pytest.raises(ConfigError, match="ARCHIVIST_CACHE_DIR"):
        Repository(path, mode="r", cache=True).load_artifact("features")
    assert _intact(files)


def test_eviction_refuses_a_users_folder(tmp_path: Path) -> None:
    files = _users_folder(tmp_path / "mine")
    cache = ArtifactCache(tmp_path / "mine", max_size=10)
    with pytest.raises(ConfigError):
        cache.evict()
    blob = b"0123456789"
    with pytest.raises(ConfigError):
        cache.open(hashlib.sha256(blob).hexdigest(), 10, lambda: io.BytesIO(blob)).close()
    assert _intact(files)


def test_the_index_cache_never_writes_or_evicts_in_a_users_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_cache, "MIN_BYTES", 0)
    monkeypatch.setattr(index_cache, "MAX_FILES", 2)
    monkeypatch.delenv(index_cache.ENV, raising=False)
    files = _users_folder(tmp_path / "mine")
    files.update({tmp_path / "mine" / "manifests" / f"{i}.index": b"mine" for i in range(4)})
    for path, content in files.items():
        path.write_bytes(content)
    monkeypatch.setenv("ARCHIVIST_CACHE_DIR", str(tmp_path / "mine"))
    assert Repository(_repository(tmp_path), mode="r").load_artifact("features") == [1, 2, 3]
    assert _intact(files)
    assert sorted(p.name for p in (tmp_path / "mine" / "manifests").iterdir()) == sorted(
        [*(f"{i}.index" for i in range(4)), "inventory.json"]
    )


def test_in_its_own_folder_the_cache_deletes_only_what_it_made(tmp_path: Path) -> None:
    """A user's file dropped into a real cache stays, and is not counted as removed."""
    path = _repository(tmp_path)
    folder = tmp_path / "cache"
    reader = Repository(path, mode="r", cache=True, cache_dir=folder)
    assert reader.load_artifact("features") == [1, 2, 3]
    assert (folder / cache_folder.MARKER).is_file()
    files = _users_folder(folder, entry_named=False)  # named as archivist names: taken as its
    assert cache_info(folder).entries == 1
    removed = clear_cache(folder)
    assert (removed.entries, removed.temp_files, removed.index_files) == (1, 0, 0)
    assert _intact(files)
    assert (folder / cache_folder.MARKER).is_file()
    cache = ArtifactCache(folder, max_size=1)
    assert cache.evict() == 0
    assert _intact(files)


def test_an_empty_or_missing_folder_becomes_a_cache(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    blob = b"0123456789"
    for folder in (tmp_path / "empty", tmp_path / "new" / "cache"):
        cache = ArtifactCache(folder, max_size=100)
        assert cache.open(hashlib.sha256(blob).hexdigest(), 10, lambda: io.BytesIO(blob)).read()
        assert cache_folder.is_marked(folder)
        assert clear_cache(folder).entries == 1


def test_a_foreign_or_other_format_marker_is_not_archivists(tmp_path: Path) -> None:
    folder = tmp_path / "theirs"
    files = _users_folder(folder)
    (folder / cache_folder.MARKER).write_text(
        "Signature: 8a477f597d28d172789f06886806bc55\n# another tool's cache\n"
    )
    with pytest.raises(ConfigError):
        clear_cache(folder)
    assert _intact(files)


def test_cache_clear_applies_exactly_the_plan_it_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "cache"
    cache = ArtifactCache(folder, max_size=1000)
    blobs = [bytes([i]) * 10 for i in range(3)]
    digests = [hashlib.sha256(b).hexdigest() for b in blobs]
    for blob, digest in zip(blobs[:2], digests[:2], strict=True):
        cache.open(digest, 10, lambda blob=blob: io.BytesIO(blob)).close()

    def confirm_while_another_process_caches(*args: object) -> None:
        cache.open(digests[2], 10, lambda: io.BytesIO(blobs[2])).close()

    monkeypatch.setattr("archivist.cli._cache.confirm", confirm_while_another_process_caches)
    result = CliRunner().invoke(cli, ["cache", "clear", "--cache-dir", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["entries"] == 2
    assert [cache.entry_path(d).exists() for d in digests] == [False, False, True]


def test_a_cache_folder_that_cannot_be_created_reads_uncached(tmp_path: Path) -> None:
    path = _repository(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the cache folder would be")
    reader = Repository(path, mode="r", cache=True, cache_dir=blocker / "cache")
    assert reader.load_artifact("features") == [1, 2, 3]
    cache = ArtifactCache(blocker / "cache", max_size=100)
    blob = b"0123456789"
    assert cache.open(hashlib.sha256(blob).hexdigest(), 10, lambda: io.BytesIO(blob)).read() == (
        blob
    )


def test_a_size_past_the_machine_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    huge = "9" * 400
    assert parse_size(str((1 << 63) - 1)) == (1 << 63) - 1  # 8 EiB, the documented bound
    with pytest.raises(InvalidArgumentError):
        parse_size(1 << 63)
    for bad in (huge, huge + "GiB", 10**400, "1" + "0" * 30 + ".5kb"):
        with pytest.raises(InvalidArgumentError):
            parse_size(bad)
    path = _repository(tmp_path)
    with pytest.raises(InvalidArgumentError):
        Repository(path, mode="r", cache=True, cache_dir=tmp_path / "c", cache_size=huge)
    monkeypatch.setenv("ARCHIVIST_CACHE_SIZE", huge)
    with pytest.raises(ConfigError, match="ARCHIVIST_CACHE_SIZE"):
        Repository(path, mode="r", cache=True, cache_dir=tmp_path / "c")
    result = CliRunner().invoke(cli, ["cache", "info", "--cache-dir", str(tmp_path / "c")])
    assert result.exit_code == 2 and "ARCHIVIST_CACHE_SIZE" in result.output


# -- clearing while other processes load ----------------------------------------------------


def _load_repeatedly(args: tuple[str, str, float]) -> list[str]:
    """Load through the cache until ``deadline``; return the errors a reader saw."""
    path, folder, deadline = args
    errors = []
    loads = 0
    while time.time() < deadline or loads < 5:
        try:
            reader = Repository(path, mode="r", cache=True, cache_dir=folder, cache_size=300)
            for name in ("a", "b", "c"):
                assert reader.load_artifact(name) == [name] * 20
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        loads += 1
    return errors


def test_clear_and_eviction_while_four_processes_load(tmp_path: Path) -> None:
    path = tmp_path / "repo" / "repository.json"
    writer = Repository(path, mode="w")
    for name in ("a", "b", "c"):
        writer.log_artifact(name=name, value=[name] * 20, handler="json")
    writer.save()
    folder = tmp_path / "cache"
    deadline = time.time() + 8
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        pending = pool.map_async(_load_repeatedly, [(str(path), str(folder), deadline)] * 4)
        clears = 0
        while not pending.ready():
            clear_cache(folder)  # never "Directory not empty", never a missing file
            ArtifactCache(folder, max_size=100).evict()
            clears += 1
        errors = pending.get(timeout=60)
    assert clears > 0
    assert [error for errors_of_one in errors for error in errors_of_one] == []


def test_archivists_own_default_folder_is_adopted_without_a_marker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user cache folder bears archivist's name: an older archivist's entries are cleared."""
    monkeypatch.delenv("ARCHIVIST_CACHE_DIR", raising=False)
    monkeypatch.setattr(
        cache_folder, "platform_cache_dir", lambda: tmp_path / "user-cache" / "archivist"
    )
    blob = b"an entry an older archivist cached"
    digest = hashlib.sha256(blob).hexdigest()
    legacy = tmp_path / "user-cache" / "archivist" / "sha256" / digest[:2] / digest
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(blob)
    assert clear_cache().entries == 1
    assert not legacy.exists()
    assert cache_folder.is_marked(tmp_path / "user-cache" / "archivist")


def test_probes_are_not_remembered_in_a_users_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archivist._backends import _probes

    files = _users_folder(tmp_path / "mine")
    monkeypatch.setenv("ARCHIVIST_CACHE_DIR", str(tmp_path / "mine"))
    _probes.remember(ArtifactCache, "scope")
    assert not (tmp_path / "mine" / "conditional-writes.json").exists()
    assert _intact(files)
    monkeypatch.setenv("ARCHIVIST_CACHE_DIR", str(tmp_path / "new"))
    _probes.remember(ArtifactCache, "scope")
    assert _probes.remembered(ArtifactCache, "scope")
    assert cache_folder.is_marked(tmp_path / "new")
