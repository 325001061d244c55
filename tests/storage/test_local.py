from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from archivist import Repository
from archivist._backends import local
from archivist._backends.local import LocalBackend
from archivist.errors import AlreadyExistsError, ConflictError, StaleTokenError


def test_file_urls_and_relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = (tmp_path / "repository.json").as_uri()
    assert url.startswith("file://")
    repository = Repository(url, mode="w")
    repository.log_artifact("a", [1], handler="json")
    repository.save()
    monkeypatch.chdir(tmp_path)
    reread = Repository("repository.json", mode="r")
    assert reread.load_artifact("a") == [1]
    monkeypatch.chdir("/")  # an open repository keeps its absolute location
    assert reread.load_artifact("a") == [1]


def test_replace_if_unchanged_is_a_compare_and_swap(tmp_path: Path) -> None:
    backend = LocalBackend()
    path = str(tmp_path / "m.json")
    first = backend.replace_if_unchanged(path, b"[1]", None)
    with pytest.raises(StaleTokenError):
        backend.replace_if_unchanged(path, b"[2]", None)  # exists already
    second = backend.replace_if_unchanged(path, b"[2]", first)
    assert second != first
    with pytest.raises(StaleTokenError):
        backend.replace_if_unchanged(path, b"[3]", first)  # stale token
    assert backend.read_with_token(path) == (b"[2]", second)
    assert os.path.exists(tmp_path / ".m.json.lock")
    assert [p for p in os.listdir(tmp_path) if p.endswith(".tmp")] == []


def test_open_new_never_overwrites_and_leaves_nothing_on_failure(tmp_path: Path) -> None:
    backend = LocalBackend()
    target = str(tmp_path / "new" / "f.bin")
    with backend.open_new(target) as stream:
        stream.write(b"one")
    with pytest.raises(FileExistsError), backend.open_new(target) as stream:
        stream.write(b"two")
    assert backend.read_bytes(target) == b"one"
    failing = str(tmp_path / "other" / "g.bin")

    def write_then_fail() -> None:
        with backend.open_new(failing) as stream:
            stream.write(b"partial")
            raise RuntimeError("handler failed")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert not (tmp_path / "other").exists()
    assert sorted(os.listdir(tmp_path / "new")) == ["f.bin"]


def _record_fsyncs(monkeypatch: pytest.MonkeyPatch, below: Path) -> tuple[list[str], list[int]]:
    """Patch os.fsync to record what it flushes below ``below`` and how many overlap.

    Files are named by /proc/self/fd; other tests' files, flushed in the background
    meanwhile, are not recorded.
    """
    import threading

    synced: list[str] = []
    active, most = [0], [0]
    lock = threading.Condition()
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
            lock.notify_all()
            # Until two overlapped once, give the other threads time to start (a loaded
            # machine may take long to schedule them); after that, no waiting.
            lock.wait_for(lambda: most[0] > 1, timeout=0.5)
        real_fsync(fd)
        path = os.readlink(f"/proc/self/fd/{fd}")
        with lock:
            if path.startswith(str(below)):
                synced.append(path)
            active[0] -= 1

    def machine_wide() -> None:
        raise AssertionError("os.sync() flushes every user's writes")

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "sync", machine_wide, raising=False)
    return synced, most


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="names fds by /proc/self/fd")
@pytest.mark.parametrize("count", [1, 2, 40])
def test_sync_fsyncs_exactly_the_new_files_and_folders_in_parallel(
    tmp_path: Path, count: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced, most = _record_fsyncs(monkeypatch, tmp_path)
    backend = LocalBackend()
    paths = []
    for i in range(count):
        path = str(tmp_path / f"d{i % 3}" / f"f{i}")
        if i % 2:
            backend.write_if_absent(path, b"x")  # not flushed in the background
        else:
            with backend.open_new(path) as stream:  # flushed in the background
                stream.write(b"x")
        paths.append(path)
    backend.sync(paths)
    folders = {os.path.dirname(p) for p in paths}
    assert sorted(synced) == sorted([*paths, *folders])  # each once, nothing else
    assert most[0] > 1 or count == 1
    synced.clear()
    backend.sync([])
    assert synced == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="names fds by /proc/self/fd")
def test_new_files_are_flushed_while_the_next_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced, _ = _record_fsyncs(monkeypatch, tmp_path)
    backend = LocalBackend()
    paths = [str(tmp_path / "a" / f"f{i}") for i in range(20)]
    for path in paths:
        with backend.open_new(path) as stream:
            stream.write(b"1")
    deadline = time.monotonic() + 10
    while len(synced) < 16 and time.monotonic() < deadline:
        time.sleep(0.005)
    # two full batches were flushed in the background, before anyone asked
    assert sorted(synced) == sorted(paths[:16])
    backend.sync(paths)
    assert sorted(synced) == sorted([*paths, str(tmp_path / "a")])  # each once


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="names fds by /proc/self/fd")
def test_a_bulk_save_commits_once_every_file_and_folder_is_flushed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced, _ = _record_fsyncs(monkeypatch, tmp_path)
    manifest = tmp_path / "repo" / "repository.json"
    flushed_at_commit: list[set[str]] = []
    real_replace = LocalBackend.replace_if_unchanged

    def replace(self: LocalBackend, path: str, data: bytes, token: str | None) -> str:
        if path == str(manifest):
            flushed_at_commit.append(set(synced))
        return real_replace(self, path, data, token)

    monkeypatch.setattr(LocalBackend, "replace_if_unchanged", replace)
    monkeypatch.setattr(time, "sleep", lambda seconds: None)  # no pause in the fake fsync
    repository = Repository(manifest, mode="w")
    for i in range(45):  # not a multiple of the batch: a partial batch is left at the end
        repository.log_artifact("a" if i % 3 else "b", [i], handler="json")
    repository.save()
    reread = Repository(manifest, mode="r")
    files = {
        str(manifest.parent / name / reread.get_artifact_metadata(name, version)["fname"])
        for name in ("a", "b")
        for version in reread.versions(name)
    }
    assert len(files) == 45
    folders = {str(manifest.parent / "a"), str(manifest.parent / "b")}
    assert [files | folders <= flushed for flushed in flushed_at_commit] == [True]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="names fds by /proc/self/fd")
def test_sync_fsyncs_files_it_did_not_write_and_reports_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced, _ = _record_fsyncs(monkeypatch, tmp_path)
    other = tmp_path / "b" / "written-elsewhere"
    other.parent.mkdir()
    other.write_bytes(b"x")
    LocalBackend().sync([str(other)])
    assert sorted(synced) == sorted([str(other), str(other.parent)])

    def failing(fd: int) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "fsync", failing)
    backend = LocalBackend()
    lost = str(tmp_path / "c" / "lost")
    with backend.open_new(lost) as stream:
        stream.write(b"x")
    with pytest.raises(OSError, match="I/O error"):
        backend.sync([lost])


def test_commit_gives_up_after_bounded_retries(
    repo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("a", 0, handler="json")
    repository.save()
    monkeypatch.setattr("archivist._commit.protocol.MAX_COMMIT_ATTEMPTS", 3)
    monkeypatch.setattr("archivist.stores._retry.time.sleep", lambda _: None)

    def always_stale(records: object, token: object) -> str:
        raise StaleTokenError("another writer won")

    monkeypatch.setattr(repository.store, "commit", always_stale)
    repository.log_artifact("a", 1, handler="json")
    with pytest.raises(ConflictError, match="after 3 attempts"):
        repository.save()
    # the file written for the lost save was removed; the committed state is intact
    assert sorted(os.listdir(repo_path.parent / "a")) == [
        Repository(repo_path, mode="r").get_artifact_metadata("a", 0)["fname"]
    ]
    assert Repository(repo_path, mode="r").versions("a") == [0]


def _lose_the_first_answer(commit: Callable[..., str]) -> Callable[..., str]:
    """Wrap a commit so its first call lands but reports a refused retry (a lost answer)."""
    calls = []

    def flaky(*args: object) -> str:
        token = commit(*args)
        calls.append(token)
        if len(calls) == 1:
            raise StaleTokenError("the write landed, its answer was lost, the retry got 412")
        return token

    return flaky


def test_a_commit_whose_answer_was_lost_is_not_applied_twice(
    repo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("a", 0, handler="json")
    repository.save()
    repository.log_artifact("a", 1, handler="json")
    repository.log_artifact("b", 0, handler="json")
    monkeypatch.setattr(repository.store, "commit", _lose_the_first_answer(repository.store.commit))
    repository.save()
    reread = Repository(repo_path, mode="r")
    assert reread.versions("a") == [0, 1] and reread.versions("b") == [0]
    assert repository.versions("a") == [0, 1]
    assert reread.verify().orphans == []


def test_a_release_whose_answer_was_lost_is_stored_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archivist import Release, ReleaseStore

    store = ReleaseStore(tmp_path / "releases.json")
    store.add(Release("v1", [("a", 0)]))
    backend = store.backend
    monkeypatch.setattr(
        backend, "replace_if_unchanged", _lose_the_first_answer(backend.replace_if_unchanged)
    )
    store.add(Release("v2", [("a", 1)]))
    assert [r.tag for r in store.list()] == ["v1", "v2"]
    with pytest.raises(AlreadyExistsError):
        store.add(Release("v2", [("a", 1)]))


def test_large_new_files_are_flushed_while_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    monkeypatch.setattr(local, "WRITEBACK_EVERY", 1 << 16)
    flushed: list[int] = []
    real = local._datasync
    monkeypatch.setattr(local, "_datasync", lambda fd: (flushed.append(fd), real(fd)))
    backend = LocalBackend()
    target = tmp_path / "big.bin"
    chunk = bytes(range(256)) * 1024  # 256 KiB, four times the (patched) threshold
    with backend.open_new(str(target)) as stream:
        for _ in range(8):
            stream.write(chunk)
    assert flushed  # writeback started before the file was complete
    assert not [t for t in threading.enumerate() if t.name == "archivist-writeback"]
    assert target.read_bytes() == chunk * 8


_SLOW_WRITEBACK = """
import signal, sys, threading, time
from archivist._backends import local

signal.signal(signal.SIGINT, signal.default_int_handler)
local.WRITEBACK_EVERY = 1 << 16
flushing = threading.Event()

def slow_datasync(fd):  # a disk so loaded that a flush takes a minute
    flushing.set()
    time.sleep(60)

def ctrl_c():
    flushing.wait()
    time.sleep(0.2)
    signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

local._datasync = slow_datasync
threading.Thread(target=ctrl_c, daemon=True).start()
with local.LocalBackend().open_new(sys.argv[1]) as stream:
    while True:  # a large file, past SMALL_FILE: streamed to disk and flushed early
        stream.write(bytes(1 << 20))
        time.sleep(0.01)
"""


def test_ctrl_c_while_a_large_file_is_written_exits_without_waiting_for_its_flush(
    tmp_path: Path,
) -> None:
    """The abandoned file's early flush is not waited for, in the save nor at exit."""
    import subprocess

    target = tmp_path / "big.bin"
    start = time.monotonic()
    process = subprocess.run(
        [sys.executable, "-c", _SLOW_WRITEBACK, str(target)],
        capture_output=True,
        timeout=50,
        check=False,
    )
    assert "KeyboardInterrupt" in process.stderr.decode(), process.stderr
    assert time.monotonic() - start < 30  # the flush takes 60 s
    assert os.listdir(tmp_path) == []  # neither the file nor its temporary file is left


class _CountingSha256:
    """hashlib.sha256, counting the bytes it is fed into a shared list."""

    def __init__(self, fed: list[int], data: bytes | memoryview = b"", inner: Any = None) -> None:
        self.fed = fed
        self.inner = inner if inner is not None else _SHA256()
        self.update(data)

    def update(self, data: bytes | memoryview) -> None:
        self.fed.append(len(data))
        self.inner.update(data)

    def copy(self) -> _CountingSha256:
        return _CountingSha256(self.fed, b"", self.inner.copy())

    def hexdigest(self) -> str:
        return str(self.inner.hexdigest())

    def digest(self) -> bytes:
        return bytes(self.inner.digest())


_SHA256 = hashlib.sha256


def test_an_append_hashes_the_manifest_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Open (a), log one, save: the manifest is hashed at open, then only what was added.

    Under the lock the manifest is compared byte for byte with what was read, not hashed
    again, and the new text's token continues the hash of the bytes it shares.
    """
    from archivist.manifest import VersionRecord, serialize_manifest

    monkeypatch.setenv("ARCHIVIST_INDEX_CACHE", "0")  # only the manifest's hashing counted
    path = tmp_path / "repository.json"
    t0 = datetime(2026, 1, 1)
    records = [
        VersionRecord("model", v, "json", f"model-{v}.json", t0 + timedelta(seconds=v))
        for v in range(5000)
    ]
    path.write_bytes(serialize_manifest(records))
    size = path.stat().st_size
    fed: list[int] = []
    monkeypatch.setattr(hashlib, "sha256", lambda data=b"": _CountingSha256(fed, data))
    repository = Repository(path, mode="a")
    repository.log_artifact(name="model", value=[1], handler="json")
    repository.save()
    monkeypatch.undo()
    assert Repository(path, mode="r").versions("model")[-1] == 5000
    assert size < sum(fed) < size + 64 * 1024, (size, sum(fed))


def test_a_spliced_text_is_hashed_as_a_whole_text_would_be(tmp_path: Path) -> None:
    backend = LocalBackend()
    path = str(tmp_path / "m.json")
    first = b"[\n" + b",\n".join(b'{"n": %d}' % i for i in range(500)) + b"\n]\n"
    token = backend.replace_if_unchanged(path, first, None)
    assert token == hashlib.sha256(first).hexdigest()
    spliced = first[:-3] + b',\n{"n": 500}\n]\n'
    token = backend.replace_if_unchanged(path, spliced, token)
    assert token == hashlib.sha256(spliced).hexdigest()
    changed = b"[" + spliced[1:-9] + b"9}\n]\n"  # same length, another first and last byte
    token = backend.replace_if_unchanged(path, changed, token)
    assert token == hashlib.sha256(changed).hexdigest()
    assert backend.read_with_token(path) == (changed, token)
    shorter = b"[]\n"
    assert backend.replace_if_unchanged(path, shorter, token) == hashlib.sha256(shorter).hexdigest()


@pytest.mark.parametrize("where", [0, -10, "middle"])
def test_a_same_size_change_by_a_writer_without_the_lock_is_caught(
    tmp_path: Path, where: int | str
) -> None:
    """Another program rewrites the manifest in place, same length: the swap is refused."""
    backend = LocalBackend()
    path = tmp_path / "m.json"
    text = b"[\n" + b",\n".join(b'{"n": %d}' % i for i in range(500)) + b"\n]\n"
    path.write_bytes(text)
    data, token = backend.read_with_token(str(path))
    at = len(text) // 2 if where == "middle" else int(where)
    changed = bytearray(data)
    changed[at] = ord("x") if changed[at] != ord("x") else ord("y")
    with open(path, "r+b") as stream:  # in place, as an editor or another tool would
        stream.write(changed)
    with pytest.raises(StaleTokenError):
        backend.replace_if_unchanged(str(path), data + b" ", token)
    assert path.read_bytes() == bytes(changed)


def test_a_backend_that_remembers_a_manifest_pickles(tmp_path: Path) -> None:
    """An experiment pickles its repository's backend: the remembered hash does not travel."""
    import pickle

    backend = LocalBackend()
    path = str(tmp_path / "m.json")
    token = backend.replace_if_unchanged(path, b"[1]", None)
    copy = pickle.loads(pickle.dumps(backend))
    assert copy.replace_if_unchanged(path, b"[2]", token) == hashlib.sha256(b"[2]").hexdigest()
