"""The one local-file opener: regular files only, never blocking, read up to a bound.

A FIFO, a symlink to ``/dev/zero``, a folder or a socket is put at every path archivist
opens on local disk, and each operation that reads that path must finish within a second:
with an archivist error naming the path and what is there, or (for the caches, which are
only hints) by falling back to storage with the right answer. The operations run in a child
process with a deadline and a memory limit, so that one that hangs or reads ``/dev/zero``
without end fails its test instead of freezing or exhausting the machine.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from archivist import Project, Repository
from archivist._backends import _probes
from archivist._backends.local import LocalBackend
from archivist._io.local import DOCUMENT_LIMIT, open_regular, read_regular
from archivist.errors import IrregularFileError, StorageError
from archivist.stores import _index_cache as index_cache

#: How long an operation may take on a non-regular file (the promise is "within a second").
DEADLINE = 1.0
#: How long the child may take in all, its imports and start-up included.
CHILD_TIMEOUT = 60

#: What archivist calls each kind of non-regular file in its messages.
KINDS = {"fifo": "a FIFO", "zero": "a character device", "folder": "a folder", "socket": "a socket"}

needs_posix = pytest.mark.skipif(
    not (hasattr(os, "mkfifo") and hasattr(socket, "AF_UNIX") and os.path.exists("/dev/zero")),
    reason="needs FIFOs, UNIX sockets and /dev/zero (POSIX)",
)


def plant(path: Path, kind: str) -> None:
    """Put a non-regular file of ``kind`` at ``path`` (replacing what is there)."""
    if path.is_dir() and not path.is_symlink():
        path.rmdir()
    else:
        path.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "zero":
        path.symlink_to("/dev/zero")
    elif kind == "folder":
        path.mkdir()
    else:  # a UNIX socket bound to the path (bound relative to its folder: paths are short)
        here = os.getcwd()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
            os.chdir(path.parent)
            try:
                server.bind(path.name)
            finally:
                os.chdir(here)


CHILD = r"""
import faulthandler, json, os, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
from datetime import timedelta
import io, contextlib
import archivist.stores._index_cache
from archivist import Project, ReleaseStore, Repository
from archivist.errors import ArchivistError, IntegrityError
from archivist.plugin.manager import load_plugins
from archivist._backends import _probes
from archivist._backends.local import LocalBackend
from archivist.cli import main

load_plugins()
archivist.stores._index_cache.MIN_BYTES = 0
deadline, warm_up = float(sys.argv[1]), sys.argv[2]


def toml(target, extra):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["release", "from-toml", target])
    return {"exit": code, "stderr": err.getvalue()}


OPERATIONS = {
    "open": lambda target, extra: Repository(target, mode="r") and None,
    "load": lambda target, extra: Repository(target, mode="r").load_artifact("model"),
    "load-cached": lambda target, extra: Repository(
        target, mode="r", cache=True, cache_dir=extra
    ).load_artifact("model"),
    "verify": lambda target, extra: Repository(target, mode="r").verify() and None,
    "gc": lambda target, extra: Repository(target, mode="a").gc(older_than=timedelta(0)),
    "aliases": lambda target, extra: Repository(target, mode="r").aliases("model"),
    "releases": lambda target, extra: ReleaseStore(target).list(),
    "project": lambda target, extra: Project(target, mode="r") and None,
    "toml": toml,
    "probes": lambda target, extra: _probes._load(),
}
# warm up (lazy imports, handler discovery) outside the deadlines, on a repository of its own
os.environ["ARCHIVIST_CACHE_DIR"] = warm_up + "/cache"
warm = Repository(warm_up + "/repository.json", mode="w")
warm.log_artifact("model", [0], handler="json")
warm.save()
for operation in ("load", "load-cached", "verify", "gc", "aliases"):
    OPERATIONS[operation](warm_up + "/repository.json", warm_up + "/entries")
for job in json.loads(sys.stdin.read()):
    os.environ["ARCHIVIST_CACHE_DIR"] = job["cache"]
    faulthandler.dump_traceback_later(deadline, exit=True)
    start = time.monotonic()
    try:
        result = OPERATIONS[job["operation"]](job["target"], job["extra"])
    except Exception as exc:
        outcome = {
            "error": type(exc).__name__,
            "archivist": isinstance(exc, ArchivistError),
            "integrity": isinstance(exc, IntegrityError),
            "message": str(exc),
        }
    else:
        outcome = {"result": result}
    faulthandler.cancel_dump_traceback_later()
    outcome["seconds"] = time.monotonic() - start
    print(json.dumps(outcome, default=repr), flush=True)
"""


def run_bounded(jobs: list[dict[str, str]], scratch: Path) -> list[dict[str, Any]]:
    """Run each job in a child with a deadline; return what each reported, in order.

    One child runs the jobs one after the other; a job that misses its deadline ends the
    child (its outcome is ``{"hung": ...}``) and a new child runs the rest. Each child
    first warms up on a repository of its own in ``scratch``.
    """
    outcomes: list[dict[str, Any]] = []
    while len(outcomes) < len(jobs):
        warm_up = scratch / f"warm-up-{len(outcomes)}"
        try:
            done = subprocess.run(
                [sys.executable, "-c", CHILD, str(DEADLINE), str(warm_up)],
                input=json.dumps(jobs[len(outcomes) :]),
                capture_output=True,
                text=True,
                timeout=CHILD_TIMEOUT + 2 * DEADLINE * len(jobs),
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"the child running {len(jobs)} jobs did not finish")
        outcomes += [json.loads(line) for line in done.stdout.splitlines()]
        if len(outcomes) < len(jobs):
            if "Timeout (" not in done.stderr:
                pytest.fail(f"the child failed:\n{done.stderr[-3000:]}")
            outcomes.append({"hung": done.stderr[-2000:]})
    return outcomes


#: Where a non-regular file is put, and which operation then reads it: (setup, operation).
PLACES = (
    "manifest",
    "version-load",
    "version-verify",
    "journal-gc",
    "journal-verify",
    "aliases",
    "index",
    "cache-entry",
    "releases",
    "project",
    "toml",
    "probes",
)


def saved_repository(folder: Path) -> Path:
    """A saved repository (one json version of ``model``, with an alias); its manifest."""
    path = folder / "repo" / "repository.json"
    repository = Repository(path, mode="w")
    repository.log_artifact("model", [1, 2], handler="json")
    repository.save()  # with the index cache on for small manifests, this writes one
    repository.set_alias("model", "production", 0)
    return path


def version_file(manifest: Path) -> Path:
    record = Repository(manifest, mode="r").get_artifact_metadata("model")
    return manifest.parent / "model" / record["fname"]


def prepare(place: str, folder: Path) -> tuple[Path, dict[str, str]]:
    """Make what ``place`` needs in ``folder``; return the path to replace, and the job."""
    cache = folder / "cache"
    os.environ["ARCHIVIST_CACHE_DIR"] = str(cache)
    job = {"cache": str(cache), "extra": ""}
    if place in ("project", "toml", "probes"):
        path = {
            "project": folder / "project.json",
            "toml": folder / "pyproject.toml",
            "probes": Path(_probes.cache_file()),
        }[place]
        if place == "project":
            with Project(path, mode="w").log("run") as experiment:
                experiment.log_metric("loss", 0.5)
        return path, {**job, "operation": place, "target": str(path)}
    manifest = saved_repository(folder)
    job["target"] = str(manifest)
    if place == "manifest":
        return manifest, {**job, "operation": "open"}
    if place.startswith("version-"):
        return version_file(manifest), {**job, "operation": place.removeprefix("version-")}
    if place.startswith("journal-"):
        journal = manifest.parent / ".repository.json.archivist" / "20260101T000000-0.journal"
        return journal, {**job, "operation": place.removeprefix("journal-")}
    if place == "aliases":
        return manifest.with_name("repository.aliases.json"), {**job, "operation": "aliases"}
    if place == "index":
        (index,) = (cache / index_cache.FOLDER).glob("*.index")
        return index, {**job, "operation": "load"}
    if place == "cache-entry":
        entries = folder / "entries"
        Repository(manifest, mode="r", cache=True, cache_dir=entries).load_artifact("model")
        (entry,) = (entries / "blake3").glob("*/*")
        return entry, {**job, "operation": "load-cached", "extra": str(entries)}
    assert place == "releases"
    releases = manifest.with_name("releases.json")
    return releases, {**job, "operation": "releases", "target": str(releases)}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Any]:
    """Put each kind of non-regular file at each place, run its operation; what happened.

    Maps ``(place, kind)`` to ``(path, outcome)``: every case runs in one batch of children,
    so that the matrix costs a few process starts, not one per case.
    """
    paths, jobs = [], []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(index_cache, "MIN_BYTES", 0)  # a save writes the index cache
        patch.delenv(index_cache.ENV, raising=False)
        patch.setenv("ARCHIVIST_CACHE_DIR", "")
        for place in PLACES:
            for kind in KINDS:
                path, job = prepare(place, tmp_path_factory.mktemp(f"{place}-{kind}"))
                plant(path, kind)
                paths.append(path)
                jobs.append(job)
    results = run_bounded(jobs, tmp_path_factory.mktemp("children"))
    keys = [(place, kind) for place in PLACES for kind in KINDS]
    return dict(zip(keys, zip(paths, results, strict=True), strict=True))


def outcome_of(outcomes: dict[tuple[str, str], Any], place: str, kind: str) -> Any:
    path, outcome = outcomes[place, kind]
    if "hung" in outcome:
        pytest.fail(f"{place} with {kind}: no answer within {DEADLINE} s\n{outcome['hung']}")
    assert outcome["seconds"] < DEADLINE, outcome
    return path, outcome


def assert_refused(outcome: dict[str, Any], path: Path, kind: str) -> None:
    """The operation raised archivist's error naming ``path`` and what is there."""
    assert "error" in outcome, outcome
    assert outcome["archivist"], outcome
    assert KINDS[kind] in outcome["message"], outcome
    assert path.name in outcome["message"], outcome


parametrize_kinds = pytest.mark.parametrize("kind", list(KINDS))


@needs_posix
@parametrize_kinds
@pytest.mark.parametrize("place", ["manifest", "aliases", "releases", "project"])
def test_a_document_is_refused_with_a_clear_error(
    outcomes: dict[tuple[str, str], Any], place: str, kind: str
) -> None:
    assert_refused(*reversed(outcome_of(outcomes, place, kind)), kind)


@needs_posix
@parametrize_kinds
@pytest.mark.parametrize("place", ["version-load", "version-verify"])
def test_a_version_file_is_an_integrity_error(
    outcomes: dict[tuple[str, str], Any], place: str, kind: str
) -> None:
    path, outcome = outcome_of(outcomes, place, kind)
    assert outcome.get("integrity"), outcome
    assert_refused(outcome, path, kind)


@needs_posix
@parametrize_kinds
@pytest.mark.parametrize("place", ["journal-gc", "journal-verify"])
def test_a_save_journal_is_refused_and_nothing_is_deleted(
    outcomes: dict[tuple[str, str], Any], place: str, kind: str
) -> None:
    path, outcome = outcome_of(outcomes, place, kind)
    if kind == "folder":  # not a journal (journals are files): nothing to read
        assert "error" not in outcome, outcome
    else:
        assert_refused(outcome, path, kind)
    assert version_file(path.parents[1] / "repository.json").is_file()


@needs_posix
@parametrize_kinds
@pytest.mark.parametrize("place", ["index", "cache-entry"])
def test_a_cache_file_is_only_a_hint(
    outcomes: dict[tuple[str, str], Any], place: str, kind: str
) -> None:
    _, outcome = outcome_of(outcomes, place, kind)
    assert outcome.get("result") == [1, 2], outcome


@needs_posix
@parametrize_kinds
def test_the_remembered_probes_are_only_a_hint(
    outcomes: dict[tuple[str, str], Any], kind: str
) -> None:
    _, outcome = outcome_of(outcomes, "probes", kind)
    assert outcome.get("result") == {}, outcome


@needs_posix
@parametrize_kinds
def test_the_toml_file_of_a_release_is_a_configuration_error(
    outcomes: dict[tuple[str, str], Any], kind: str
) -> None:
    _, outcome = outcome_of(outcomes, "toml", kind)
    assert outcome["result"]["exit"] in (1, 2), outcome
    message = outcome["result"]["stderr"]
    if kind == "folder":  # the command line refuses it before archivist reads anything
        assert "is a directory" in message, outcome
    else:
        assert "archivist: error: cannot read" in message, outcome
        assert KINDS[kind] in message, outcome


@needs_posix
def test_a_huge_sparse_manifest_is_refused_without_reading_it(tmp_path: Path) -> None:
    manifest = saved_repository(tmp_path)
    with open(manifest, "r+b") as stream:
        stream.truncate(1 << 40)  # a terabyte of holes
    job = {"cache": str(tmp_path / "cache"), "extra": "", "operation": "open"}
    (outcome,) = run_bounded([{**job, "target": str(manifest)}], tmp_path)
    assert outcome.get("error") == "StorageError", outcome
    assert "larger than" in outcome["message"], outcome
    assert manifest.name in outcome["message"], outcome


# -- the opener itself ------------------------------------------------------------------------


def within_a_second(call: Callable[[], Any]) -> Any:
    """Run ``call`` on a daemon thread; fail if it does not return within the deadline."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(("value", call()))
        except BaseException as exc:
            outcome.append(("error", exc))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(DEADLINE * 5)
    if not outcome:
        pytest.fail(f"no answer within {DEADLINE * 5} s: the open blocked")
    tag, value = outcome[0]
    if tag == "error":
        raise value
    return value


@needs_posix
@parametrize_kinds
def test_the_opener_refuses_what_is_not_a_regular_file(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "file"
    plant(path, kind)
    for opening in (lambda: open_regular(path), lambda: read_regular(path, 1 << 20)):
        with pytest.raises(IrregularFileError, match=f"{KINDS[kind]}, not a regular file"):
            within_a_second(opening)
    # one error, found as what each reader catches: a failed integrity check, a storage error
    assert issubclass(IrregularFileError, StorageError)
    assert issubclass(IrregularFileError, OSError)


@needs_posix
@parametrize_kinds
def test_what_is_swapped_in_after_the_check_is_refused_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"regular")
    real_stat = os.stat
    swapped: list[bool] = []

    def stat_then_swap(target: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        found = real_stat(target, *args, **kwargs)
        if not swapped and os.fspath(target) == str(path):
            swapped.append(True)
            plant(path, kind)  # between the check by path and the open
        return found

    monkeypatch.setattr(os, "stat", stat_then_swap)
    with pytest.raises(IrregularFileError, match=f"is {KINDS[kind]}, not a regular file"):
        within_a_second(lambda: read_regular(path, 100))


def test_a_file_larger_than_the_bound_is_refused_not_truncated(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"x" * 10)
    assert read_regular(path, 10) == b"x" * 10
    with pytest.raises(StorageError, match=r"larger than 9 bytes"):
        read_regular(path, 9)


def test_a_file_that_grows_while_read_is_refused_past_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"x" * 10)
    real_fstat = os.fstat

    def fstat_then_grow(fd: int) -> os.stat_result:
        found = real_fstat(fd)
        with open(path, "ab") as stream:
            stream.write(b"y" * 100)  # after the size was taken
        return found

    monkeypatch.setattr(os, "fstat", fstat_then_grow)
    with pytest.raises(StorageError, match="larger than 50 bytes"):
        read_regular(path, 50)


def test_the_opened_file_is_blocking_and_reads_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"content")
    with open_regular(path) as stream:
        assert os.get_blocking(stream.fileno())
        assert stream.read() == b"content"
    with pytest.raises(FileNotFoundError):
        open_regular(tmp_path / "missing")
    with pytest.raises(FileNotFoundError):
        read_regular(tmp_path / "missing", 10)


def test_the_local_backend_reads_documents_up_to_two_gibibytes(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    with open(path, "wb") as stream:
        stream.truncate(DOCUMENT_LIMIT + 1)  # sparse: nothing is written
    assert DOCUMENT_LIMIT == 2 << 30
    with pytest.raises(StorageError, match=f"larger than {DOCUMENT_LIMIT} bytes"):
        LocalBackend().read_bytes(str(path))


def test_a_stream_is_named_by_its_path_as_open_names_it(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"bytes")
    with open_regular(path) as stream, open(path, "rb") as builtin:
        assert stream.name == builtin.name == str(path)
        assert stream.read() == b"bytes"
