"""Verified bytes only: a handler reads exactly the bytes whose digest matched.

The hostile cases (a FIFO, a symlink to /dev/zero, a huge sparse file) read in a child
process with a time and memory limit, so that a reader that hangs or reads without bound
fails the test instead of freezing or exhausting the machine.
"""

from __future__ import annotations

import builtins
import hashlib
import io
import json
import os
import pickle
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

import archivist._io.cache
import archivist._io.verified
import archivist.stores
from archivist import IntegrityError, Project, Repository
from archivist._io.hashed_buffer import BufferStream

#: A pickle that, when loaded, marks that it ran (it stands for an attacker's payload).
EVIL = pickle.dumps(
    type(
        "Evil",
        (),
        {
            "__reduce__": lambda self: (
                exec,
                ("import builtins; builtins.archivist_pwned = True",),
            )
        },
    )()
)
#: How long a hostile read may take before the reader counts as hung.
TIMEOUT = 60


@pytest.fixture(autouse=True)
def _no_payload_ran() -> Iterator[None]:
    builtins.__dict__.pop("archivist_pwned", None)
    yield
    assert not getattr(builtins, "archivist_pwned", False), "the swapped pickle was executed"


@pytest.fixture
def small_memory_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Spool to a temporary file past 1 KiB, so that the large-file path runs fast."""
    monkeypatch.setattr(archivist._io.verified, "IN_MEMORY_LIMIT", 1024, raising=False)
    monkeypatch.setattr(archivist.stores, "IN_MEMORY_LIMIT", 1024, raising=False)


def saved(repo_path: Path, value: Any, handler: str = "pickle") -> tuple[Path, dict[str, Any]]:
    """Save ``value`` as version 0 of ``model``; return its file and record."""
    repo_path.unlink(missing_ok=True)  # a fresh repository each time, not a replaced one
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("model", value, handler=handler)
    repository.save()
    record = repository.get_artifact_metadata("model")
    return repo_path.parent / "model" / record["fname"], record


def swap_after_first_read(backend: Any, target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace ``target`` with the evil pickle as soon as the first stream of it is closed.

    That is the moment between a verifying pass and a second opening by path.
    """
    swapped = []

    def wrap(method: Any) -> Any:
        def opened(path: str) -> IO[bytes]:
            stream = method(path)
            close = stream.close

            def close_and_swap() -> None:
                close()
                if not swapped and os.path.samefile(path, target):
                    swapped.append(path)
                    replacement = target.with_name("evil.tmp")
                    replacement.write_bytes(EVIL)
                    os.replace(replacement, target)

            stream.close = close_and_swap  # type: ignore[method-assign]
            return stream

        return opened

    for name in ("open_read", "open_regular"):
        if hasattr(backend, name):
            monkeypatch.setattr(backend, name, wrap(getattr(backend, name)))


def test_a_file_swapped_after_verification_is_never_deserialized(
    repo_path: Path, small_memory_limit: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    value = {"weights": list(range(2000))}  # above the 1 KiB limit: the streaming path
    path, _ = saved(repo_path, value)
    repository = Repository(repo_path, mode="r")
    swap_after_first_read(repository.store.backend, path, monkeypatch)  # type: ignore[attr-defined]
    try:
        loaded = repository.load_artifact("model")
    except IntegrityError:
        return  # refusing is fine; executing the swapped file is not
    assert loaded == value
    assert path.read_bytes() == EVIL  # the swap did happen


def test_an_experiment_artifact_swapped_after_verification_is_never_deserialized(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = Project(tmp_path / "project.json", mode="w")
    with project.log("run") as experiment:
        experiment.log_artifact("model", {"w": 1}, handler="pickle")
    project.save()
    experiment = Project(tmp_path / "project.json", mode="r")["run"]
    artifact = experiment.artifacts[0]
    path = Path(experiment.artifact_location(artifact))
    swap_after_first_read(experiment._backend, path, monkeypatch)
    try:
        loaded = experiment.load_artifact("model")
    except IntegrityError:
        return
    assert loaded == {"w": 1}
    assert path.read_bytes() == EVIL


def test_large_files_are_spooled_verified_and_loaded(
    repo_path: Path, small_memory_limit: None
) -> None:
    value = bytes(range(256)) * 64  # 16 KiB
    path, record = saved(repo_path, value)
    assert record["size"] > archivist._io.verified.IN_MEMORY_LIMIT
    repository = Repository(repo_path, mode="r")
    assert repository.load_artifact("model") == value
    original = path.read_bytes()
    store = repository.store
    with store.open_file("model", record["fname"], record["sha256"], record["size"]) as stream:
        assert not isinstance(stream, io.BytesIO)  # spooled to a temporary file
        path.write_bytes(original[:-1] + b"\x00")  # changed in place, after the check
        assert stream.read() == original  # the handler gets what was verified
    with pytest.raises(IntegrityError, match="does not match"):
        repository.load_artifact("model")


def test_a_spooled_copy_has_no_name_a_handler_would_take_for_a_path() -> None:
    # a temporary file is named by its descriptor number; onnx.load opens any name it finds
    data = b"verified" * 512
    digest = hashlib.sha256(data).hexdigest()
    with archivist._io.verified.read_verified(
        io.BytesIO(data), "a file", digest, None, "its record"
    ) as stream:
        assert not isinstance(stream, io.BytesIO)
        assert not hasattr(stream, "name")
        assert stream.read() == data


def test_a_longer_or_shorter_file_is_an_integrity_error(
    repo_path: Path, small_memory_limit: None
) -> None:
    for value in (b"small", b"x" * 4096):  # the in-memory and the spooled path
        for change in ("longer", "shorter"):
            path, record = saved(repo_path, value)
            data = path.read_bytes()
            path.write_bytes(data + b"tail" if change == "longer" else data[:-1])
            found = f"more than {record['size']} bytes" if change == "longer" else "blake3"
            with pytest.raises(IntegrityError, match=found):
                Repository(repo_path, mode="r").load_artifact("model")


def test_a_folder_in_place_of_the_file_is_an_integrity_error(repo_path: Path) -> None:
    path, _ = saved(repo_path, [1, 2], handler="json")
    path.unlink()
    path.mkdir()
    with pytest.raises(IntegrityError, match="folder"):
        Repository(repo_path, mode="r").load_artifact("model")


def run_isolated(code: str, *args: str) -> str:
    """Run ``code`` in a child Python (2 GiB, files up to 64 MiB, 60 s); return its output."""
    limit = (
        "import resource\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 20, 64 << 20))\n"
    )
    try:
        result = subprocess.run(
            [sys.executable, "-c", limit + code, *args],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the read hung: no answer within {TIMEOUT} s")
    return result.stdout + result.stderr


LOAD = """
import sys
from archivist import IntegrityError, Repository
try:
    Repository(sys.argv[1], mode="r").load_artifact("model")
except Exception as exc:
    print("IntegrityError" if isinstance(exc, IntegrityError) else type(exc).__name__, exc)
else:
    print("loaded")
"""


def hostile(repo_path: Path, kind: str, size: int = 16) -> Path:
    """Save a version, then put ``kind`` where its file was; return the file's path."""
    path, _ = saved(repo_path, b"x" * size)
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "zero":
        path.symlink_to("/dev/zero")
    elif kind == "sparse":  # far longer than recorded, and than memory
        with open(path, "wb") as stream:
            stream.truncate(1 << 40)
    return path


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")
def test_a_fifo_in_place_of_the_file_is_an_integrity_error_without_hanging(
    repo_path: Path,
) -> None:
    hostile(repo_path, "fifo")
    assert run_isolated(LOAD, str(repo_path)).startswith("IntegrityError")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize("size", [16, 200 << 20], ids=["in-memory", "streamed"])
def test_a_symlink_to_dev_zero_is_an_integrity_error_quickly(repo_path: Path, size: int) -> None:
    # The recorded size decides between reading into memory and spooling; neither may read
    # /dev/zero without end.
    path = hostile(repo_path, "zero")
    manifest = json.loads(repo_path.read_text())
    manifest[0]["size"] = size
    repo_path.write_text(json.dumps(manifest))
    assert path.is_symlink()
    assert run_isolated(LOAD, str(repo_path)).startswith("IntegrityError")


def test_a_huge_file_is_read_only_to_its_recorded_size_plus_one(repo_path: Path) -> None:
    hostile(repo_path, "sparse")
    output = run_isolated(LOAD, str(repo_path))
    assert output.startswith("IntegrityError"), output
    assert re.search(r"found more than \d+ bytes \(reading stopped there\)", output), output


VERIFY = """
import sys
from archivist import IntegrityError, Repository
try:
    Repository(sys.argv[1], mode="r").verify()
except Exception as exc:
    print("IntegrityError" if isinstance(exc, IntegrityError) else type(exc).__name__, exc)
else:
    print("verified")
"""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")
def test_verify_lists_every_bad_version_instead_of_stopping(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    for i in range(7):
        repository.log_artifact("model", b"x" * 16, handler="pickle", fname=f"v{i}.pkl")
    repository.save()
    folder = repo_path.parent / "model"
    (folder / "v0.pkl").unlink()
    os.mkfifo(folder / "v0.pkl")
    (folder / "v1.pkl").unlink()
    (folder / "v1.pkl").symlink_to("/dev/zero")
    (folder / "v2.pkl").unlink()
    (folder / "v2.pkl").mkdir()
    (folder / "v3.pkl").write_bytes((folder / "v3.pkl").read_bytes() + b"more")
    (folder / "v4.pkl").write_bytes((folder / "v4.pkl").read_bytes()[:-2])
    (folder / "v5.pkl").unlink()
    output = run_isolated(VERIFY, str(repo_path))
    assert output.startswith("IntegrityError 6 version(s)"), output
    for version, why in enumerate(
        ["a FIFO", "a character device", "a folder", "more than", "blake3", "missing"]
    ):
        line = next(line for line in output.splitlines() if f"version {version} " in line)
        assert why in line, line
    assert "version 6 " not in output


PROMOTE = """
import sys
from archivist import IntegrityError, Project, Repository
experiment = Project(sys.argv[1], mode="r")["run"]
try:
    experiment.promote_artifact(Repository(sys.argv[2], mode="w"), "model")
except Exception as exc:
    print("IntegrityError" if isinstance(exc, IntegrityError) else type(exc).__name__, exc)
else:
    print("promoted")
"""


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_promotion_never_copies_an_irregular_source_without_bound(tmp_path: Path) -> None:
    project = Project(tmp_path / "project.json", mode="w")
    with project.log("run") as experiment:
        experiment.log_artifact("model", {"w": 1}, handler="pickle")
    project.save()
    experiment = Project(tmp_path / "project.json", mode="r")["run"]
    path = Path(experiment.artifact_location(experiment.artifacts[0]))
    path.unlink()
    path.symlink_to("/dev/zero")
    target = tmp_path / "repo" / "repository.json"
    output = run_isolated(PROMOTE, str(tmp_path / "project.json"), str(target))
    assert output.startswith("IntegrityError"), output
    assert "character device" in output
    assert not target.parent.exists() or not any(target.parent.rglob("*.pkl"))


def test_an_experiment_artifact_replaced_by_a_folder_is_an_integrity_error(
    tmp_path: Path,
) -> None:
    project = Project(tmp_path / "project.json", mode="w")
    with project.log("run") as experiment, experiment.log_test("slice") as test:
        test.log_artifact("rows", [1], handler="json")
    project.save()
    test = Project(tmp_path / "project.json", mode="r")["run"].tests[0]
    path = Path(test.artifact_location(test.artifacts[0]))
    path.unlink()
    path.mkdir()
    with pytest.raises(IntegrityError, match="folder"):
        test.load_artifact("rows")


def count_opens(backend: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every opening of a stored file, by any read method of ``backend``."""
    opened: list[str] = []
    for name in ("open_read", "open_regular", "read_bytes", "read_at_most"):
        method = getattr(backend, name)

        def wrapped(path: str, *args: Any, _method: Any = method, _name: str = name) -> Any:
            opened.append(_name)
            return _method(path, *args)

        monkeypatch.setattr(backend, name, wrapped)
    return opened


def test_a_large_file_is_read_once_hashed_while_read_and_served_from_memory(
    repo_path: Path, small_memory_limit: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    value = {"weights": bytearray(os.urandom(1 << 20)), "layers": list(range(1000))}
    saved(repo_path, value)
    repository = Repository(repo_path, mode="r")
    opened = count_opens(repository.store.backend, monkeypatch)  # type: ignore[attr-defined]
    spooled: list[Any] = []
    monkeypatch.setattr(archivist._io.verified, "_spool", lambda size: spooled.append(size))
    assert repository.load_artifact("model") == value
    assert opened == ["open_regular"]  # one opening, no second pass over the file
    assert not spooled  # kept in memory, not copied to a temporary file


def test_a_corrupted_large_file_is_refused_before_it_is_deserialized(
    repo_path: Path, small_memory_limit: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, record = saved(repo_path, bytes(range(256)) * 64)
    path.chmod(0o644)
    # Same size, so only the digest can tell: a payload that runs code when unpickled.
    path.write_bytes(EVIL + b"\x00" * (record["size"] - len(EVIL)))
    repository = Repository(repo_path, mode="r")
    opened = count_opens(repository.store.backend, monkeypatch)  # type: ignore[attr-defined]
    with pytest.raises(IntegrityError, match="it was not deserialized"):
        repository.load_artifact("model")
    assert opened == ["open_regular"]
    # (the autouse fixture checks that the payload never ran)


@pytest.mark.parametrize("why", ["larger than the buffer limit", "no memory to reserve"])
def test_without_room_in_memory_a_large_file_is_spooled_and_still_verified(
    repo_path: Path, small_memory_limit: None, monkeypatch: pytest.MonkeyPatch, why: str
) -> None:
    if why == "no memory to reserve":
        monkeypatch.setattr(archivist._io.verified, "reserve", lambda size: None)
    else:
        monkeypatch.setattr(archivist._io.verified, "BUFFER_LIMIT", 2048)
    value = bytes(range(256)) * 64  # 16 KiB
    path, record = saved(repo_path, value)
    repository = Repository(repo_path, mode="r")
    store = repository.store
    with store.open_file("model", record["fname"], record["sha256"], record["size"]) as stream:
        assert not isinstance(stream, (io.BytesIO, BufferStream))  # a temporary file
    assert repository.load_artifact("model") == value
    path.chmod(0o644)
    path.write_bytes(EVIL + b"\x00" * (record["size"] - len(EVIL)))
    with pytest.raises(IntegrityError, match="does not match"):
        repository.load_artifact("model")


def test_a_handler_that_does_not_read_in_memory_gets_a_verified_spool(
    repo_path: Path, small_memory_limit: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Handler.reads_in_memory = False: a large file is spooled, never buffered beside it."""
    from archivist import Handler, get_handler

    seen: list[type] = []

    class SpoolingBytes(Handler):
        alias, suffix, binary = "spooling-bytes", "bin", True
        reads_in_memory = False

        def write(self, value: Any, stream: Any, **kwargs: Any) -> None:
            stream.write(value)

        def read(self, stream: Any, **kwargs: Any) -> Any:
            seen.append(type(getattr(stream, "raw", stream)))
            return stream.read()

    archivist.register(SpoolingBytes)
    try:
        value = os.urandom(64 << 10)
        repository = Repository(repo_path, mode="w")
        repository.log_artifact(name="blob", value=value, handler="spooling-bytes")
        repository.save()
        reserved: list[int] = []
        monkeypatch.setattr(archivist._io.verified, "reserve", lambda size: reserved.append(size))
        reader = Repository(repo_path, mode="r")
        assert reader.load_artifact("blob") == value
        assert reserved == []  # no memory reserved for it: spooled
        assert seen and not issubclass(seen[0], (io.BytesIO, BufferStream))
        record = reader.get_artifact_metadata("blob")
        path = repo_path.parent / "blob" / record["fname"]
        path.chmod(0o644)
        path.write_bytes(os.urandom(record["size"]))
        with pytest.raises(IntegrityError, match="does not match"):
            reader.load_artifact("blob")
    finally:
        archivist.unregister(SpoolingBytes)
    assert get_handler("pickle").reads_in_memory


# -- the cache reads through the same verified reader --------------------------------------


def test_a_large_cache_entry_rewritten_after_its_check_never_reaches_the_handler(
    repo_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Entries past the in-memory limit (lowered here) were hashed, rewound and handed on:
    # bytes written into the entry after the check were deserialized.
    monkeypatch.setattr(archivist._io.cache, "_IN_MEMORY_LIMIT", 1024, raising=False)
    monkeypatch.setattr(archivist._io.verified, "IN_MEMORY_LIMIT", 1024)
    value = list(range(2000))
    saved(repo_path, value)
    cache = tmp_path / "cache"
    assert (
        Repository(repo_path, mode="r", cache=True, cache_dir=cache).load_artifact("model") == value
    )
    (entry,) = (cache / "blake3").glob("*/*")
    size = entry.stat().st_size
    assert size > 1024

    def rewrite_in_place(path: Path) -> None:  # the moment after the check
        with open(path, "r+b") as stream:
            stream.write(EVIL + b"." * (size - len(EVIL)))

    monkeypatch.setattr(archivist._io.cache.ArtifactCache, "_touch", staticmethod(rewrite_in_place))
    loaded = Repository(repo_path, mode="r", cache=True, cache_dir=cache).load_artifact("model")
    assert loaded == value
