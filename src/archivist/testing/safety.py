"""Attack suites for archivist's safety promises, runnable on any store.

Two pytest test-class mixins, subclassed by the core tests (local disk) and by every cloud
plugin (on its emulator), so each store is attacked the same way:

:class:`InterruptedSaveTests`
    A writer process saves over and over and is stopped at a random moment with Ctrl-C
    (``SIGINT``) or ``SIGKILL``, again and again. After each stop the repository must open,
    every version must load and ``verify()`` must pass. Iterations come from the
    ``ARCHIVIST_STRESS_ITERATIONS`` environment variable (default
    :data:`DEFAULT_ITERATIONS`, a few seconds per store); the ``stress`` nox session runs
    many more.
:class:`GcSafetyTests`
    ``gc`` in a folder (or bucket root) shared with the user guide's other files, user
    files, nested repositories and a second repository: it deletes nothing that is not the
    orphan of a crashed save of *this* repository, and refuses without a manifest.

Subclasses provide one fixture each (see the classes). One writer runs at a time, so the
loops stay honest on moto's S3 server, whose conditional writes are not atomic under
concurrent requests (docs/testing notes).
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import uuid
import warnings
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal

import fsspec
import pytest
from fsspec.core import split_protocol

from archivist._backends._background import wait_deferred
from archivist.errors import ArchivistError, ArchivistWarning
from archivist.repository import Repository
from archivist.stores import ReleaseStore
from archivist.testing.commits import crash_at_commit

__all__ = [
    "DEFAULT_ITERATIONS",
    "GcSafetyTests",
    "InterruptReport",
    "InterruptedSaveTests",
    "check_repository",
    "interrupt_saves",
    "snapshot",
    "stress_iterations",
]

from archivist.testing.interrupts import (
    DEFAULT_ITERATIONS,
    InterruptedSaveTests,
    InterruptReport,
    check_repository,
    interrupt_saves,
    stress_iterations,
)


def snapshot(root: str, options: Mapping[str, Any]) -> dict[str, str]:
    """Map every file below ``root`` (path relative to it) to its SHA-256.

    Taken once this process's deferred clean-up is done (on an object store, a committed
    save's journal is deleted while ``save()`` returns).

    Parameters
    ----------
    root : str
        A folder URL or path (a bucket root works).
    options : Mapping[str, Any]
        Storage options for the fsspec filesystem.

    Returns
    -------
    dict[str, str]
        Relative path to content digest.
    """
    wait_deferred()
    protocol = split_protocol(root)[0] or "file"
    fs = fsspec.filesystem(protocol, skip_instance_cache=True, **options)
    base = fs._strip_protocol(root).rstrip("/")
    fs.invalidate_cache()
    out = {}
    for path in fs.find(base):
        out[path[len(base) :].lstrip("/")] = hashlib.sha256(fs.cat_file(path)).hexdigest()
    return out


def _put(root: str, options: Mapping[str, Any], relative: str, data: bytes) -> None:
    protocol = split_protocol(root)[0] or "file"
    fs = fsspec.filesystem(protocol, skip_instance_cache=True, **options)
    path = posixpath.join(fs._strip_protocol(root), relative)
    if protocol in ("file", "local"):
        fs.makedirs(posixpath.dirname(path), exist_ok=True)
    fs.pipe_file(path, data)


def _bookkeeping(relative: str) -> bool:
    """Tell whether a path is inside a manifest's own folder (``.<manifest>.archivist/``)."""
    return any(part.startswith(".") and part.endswith(".archivist") for part in relative.split("/"))


def _without_bookkeeping(tree: Mapping[str, str]) -> dict[str, str]:
    return {path: digest for path, digest in tree.items() if not _bookkeeping(path)}


class GcSafetyTests:
    """``gc`` deletes only the orphans of this repository's crashed saves, and nothing else.

    Subclasses provide a ``gc_root`` fixture: the URL (or path) of an empty folder or
    bucket root, and the storage options to reach it. The tests lay out the user guide's
    files there, with user files and other repositories, run
    ``gc(older_than=timedelta(0))`` and compare every file before and after.
    """

    @pytest.fixture
    def gc_root(self) -> tuple[str, dict[str, Any]]:
        """Override: an empty folder or bucket root and its storage options."""
        raise NotImplementedError("provide a gc_root fixture")

    @staticmethod
    def _repository(url: str, options: Mapping[str, Any], *values: tuple[str, Any]) -> None:
        repository = Repository(url, mode="w", **options)
        for name, value in values:
            repository.log_artifact(name, value, handler="json")
        with warnings.catch_warnings():
            # replacing a manifest warns how many versions it drops; not what is tested here
            warnings.filterwarnings("ignore", "mode 'w' replaces", ArchivistWarning)
            repository.save()

    def _guide_layout(self, root: str, options: Mapping[str, Any]) -> str:
        """Lay out the guide's files, user files and a nested repository; return the manifest."""
        from archivist import release as lzr
        from archivist.project import Project

        manifest = f"{root}/repository.json"
        self._repository(manifest, options, ("features", [0, 1, 2]), ("model", {"w": 1}))
        project = Project(f"{root}/project.json", mode="w", **options)
        with project.log("my-experiment") as experiment:
            experiment.log_artifact(name="features", value=[0, 1, 2], handler="json")
        project.save()
        repository = Repository(manifest, mode="r", **options)
        release = lzr.create_release(repository, "v0.1.0")
        ReleaseStore(f"{root}/releases/releases.json", **options).add(release)
        ReleaseStore(f"{root}/releases.json", **options).add(release)
        for relative, data in {
            "data/train.csv": b"a,b\n1,2\n",
            "src/train.py": b"print('train')\n",
            ".git/HEAD": b"ref: refs/heads/main\n",
            "notes.txt": b"remember\n",
        }.items():
            _put(root, options, relative, data)
        self._repository(f"{root}/team/repository.json", options, ("features", [9]))
        return manifest

    def _gc_changes_nothing(self, manifest: str, root: str, options: Mapping[str, Any]) -> None:
        before = snapshot(root, options)
        repository = Repository(manifest, mode="w+", **options)
        assert repository.gc(older_than=timedelta(0), dry_run=True).locations == []
        assert repository.gc(older_than=timedelta(0)) == []
        assert snapshot(root, options) == before
        check_repository(manifest, options)

    def test_gc_keeps_the_guide_layout_user_files_and_nested_repositories(
        self, gc_root: tuple[str, dict[str, Any]]
    ) -> None:
        """Project, experiments, releases, data, code, .git and team/ all stay."""
        root, options = gc_root
        manifest = self._guide_layout(root, options)
        self._gc_changes_nothing(manifest, root, options)
        check_repository(f"{root}/team/repository.json", options)

    def test_gc_keeps_another_repository_in_the_same_folder(
        self, gc_root: tuple[str, dict[str, Any]]
    ) -> None:
        """a.json and b.json side by side, with artifacts of the same names."""
        root, options = gc_root
        self._repository(f"{root}/a.json", options, ("features", [1]), ("model", {"a": 1}))
        self._repository(f"{root}/b.json", options, ("features", [2]), ("other", {"b": 2}))
        self._gc_changes_nothing(f"{root}/a.json", root, options)
        self._gc_changes_nothing(f"{root}/b.json", root, options)
        check_repository(f"{root}/a.json", options)
        check_repository(f"{root}/b.json", options)

    def test_gc_keeps_the_files_of_versions_a_mode_w_save_replaced(
        self, gc_root: tuple[str, dict[str, Any]]
    ) -> None:
        """Mode ``w`` replaced the manifest; the files its old versions named are not orphans."""
        root, options = gc_root
        manifest = f"{root}/repository.json"
        self._repository(manifest, options, ("features", [1]), ("model", {"old": True}))
        self._repository(manifest, options, ("features", [2]))
        self._gc_changes_nothing(manifest, root, options)

    @pytest.mark.parametrize("mode", ["w+", "a"])
    def test_gc_refuses_without_a_manifest(
        self, gc_root: tuple[str, dict[str, Any]], mode: Literal["w+", "a"]
    ) -> None:
        """A typo'd manifest path finds no manifest: gc raises and deletes nothing."""
        root, options = gc_root
        self._guide_layout(root, options)
        before = snapshot(root, options)
        typo = Repository(f"{root}/repostory.json", mode=mode, **options)
        for dry_run in (True, False):
            with pytest.raises(ArchivistError):
                typo.gc(older_than=timedelta(0), dry_run=dry_run)
        assert snapshot(root, options) == before

    def test_gc_collects_the_orphans_of_a_crashed_save_and_nothing_else(
        self, gc_root: tuple[str, dict[str, Any]]
    ) -> None:
        """A save dies after writing its files, before its commit: gc takes exactly those."""
        root, options = gc_root
        manifest = self._guide_layout(root, options)
        self._repository(f"{root}/b.json", options, ("model", {"b": 1}))
        before = snapshot(root, options)
        orphans = _crash_a_save(manifest, options)
        after_crash = snapshot(root, options)
        written = {path for path in after_crash if path not in before and not _bookkeeping(path)}
        assert written == orphans, (written, orphans)

        repository = Repository(manifest, mode="a", **options)
        listed = repository.gc(older_than=timedelta(0), dry_run=True).locations
        assert snapshot(root, options) == after_crash  # a dry run deletes nothing
        removed = repository.gc(older_than=timedelta(0))

        assert sorted(listed) == sorted(removed)
        assert {posixpath.basename(p) for p in removed} >= {posixpath.basename(p) for p in orphans}
        assert _without_bookkeeping(snapshot(root, options)) == _without_bookkeeping(before)
        check_repository(manifest, options)
        check_repository(f"{root}/b.json", options)
        check_repository(f"{root}/team/repository.json", options)

    def test_a_gc_plan_deletes_only_the_orphans_it_listed(
        self, gc_root: tuple[str, dict[str, Any]]
    ) -> None:
        """A save that crashes after the plan was listed keeps its files from that plan."""
        root, options = gc_root
        manifest = self._guide_layout(root, options)
        first = _crash_a_save(manifest, options)
        plan = Repository(manifest, mode="r", **options).gc(older_than=timedelta(0), dry_run=True)
        names = {posixpath.basename(p) for p in plan.locations}
        assert names >= {posixpath.basename(p) for p in first}
        second = _crash_a_save(manifest, options)
        repository = Repository(manifest, mode="a", **options)
        assert repository.gc(plan=plan) == plan.locations
        left = set(snapshot(root, options))
        assert second <= left, (second, sorted(left))  # orphaned after the listing: kept
        assert not first & left, (first, sorted(left))
        later = repository.gc(older_than=timedelta(0))  # the next gc takes them
        assert {posixpath.basename(p) for p in later} >= {posixpath.basename(p) for p in second}
        check_repository(manifest, options)

    def test_gc_never_deletes_what_a_crashed_save_without_a_journal_left(
        self, gc_root: tuple[str, dict[str, Any]]
    ) -> None:
        """A journal-less save dies before its commit: nothing proves its files, gc keeps them."""
        root, options = gc_root
        manifest = self._guide_layout(root, options)
        orphans = _crash_a_save(manifest, options, journal=False)
        after_crash = snapshot(root, options)
        assert orphans, "the save wrote no file before it died"
        assert orphans <= set(after_crash), (orphans, sorted(after_crash))
        repository = Repository(manifest, mode="a", **options)
        assert repository.verify().orphans == []
        assert repository.gc(older_than=timedelta(0), dry_run=True).locations == []
        assert repository.gc(older_than=timedelta(0)) == []
        assert snapshot(root, options) == after_crash
        check_repository(manifest, options)

    def test_gc_leaves_a_recent_crash_and_another_repositorys_orphans(
        self, gc_root: tuple[str, dict[str, Any]]
    ) -> None:
        """Orphans younger than ``older_than`` stay; each repository collects only its own."""
        root, options = gc_root
        a, b = f"{root}/a.json", f"{root}/b.json"
        self._repository(a, options, ("features", [1]))
        self._repository(b, options, ("features", [2]))
        before = snapshot(root, options)
        orphans_of_b = _crash_a_save(b, options)
        after_crash = snapshot(root, options)

        assert Repository(b, mode="a", **options).gc() == []  # younger than an hour: kept
        assert Repository(a, mode="a", **options).gc(older_than=timedelta(0)) == []
        assert snapshot(root, options) == after_crash

        removed = Repository(b, mode="a", **options).gc(older_than=timedelta(0))
        assert {posixpath.basename(p) for p in removed} >= {
            posixpath.basename(p) for p in orphans_of_b
        }
        assert _without_bookkeeping(snapshot(root, options)) == _without_bookkeeping(before)
        check_repository(a, options)
        check_repository(b, options)

    def test_gc_and_verify_follow_no_forged_journal_entry(
        self, gc_root: tuple[str, dict[str, Any]], caplog: pytest.LogCaptureFixture
    ) -> None:
        """A journal naming ``..``, an absolute path or another bucket is left alone.

        Each forged entry names a file outside the repository, or the repository's own
        manifest, with that file's true digest (so it would pass the digest check). ``gc``
        (with and without a grace period, dry run or not) and ``verify`` list and delete
        nothing, here or in a neighbouring folder or bucket, and warn about each journal.
        """
        root, options = gc_root
        neighbour = _neighbour(root, options)
        manifest = f"{root}/team/repository.json"
        self._repository(manifest, options, ("model", {"w": 1}))
        self._repository(f"{root}/repository.json", options, ("features", [1]))
        self._repository(f"{neighbour}/models/repository.json", options, ("model", {"n": 1}))
        for relative, data in {
            "outside/victim.bin": b"the user's data\n",
            "team/model/a/b": b"user file in an artifact folder\n",
            "team/model/c": b"another user file\n",
        }.items():
            _put(root, options, relative, data)
        root_path = "/" + _path_of(root, options).lstrip("/")
        neighbour_path = "/" + _path_of(neighbour, options).lstrip("/")
        attacks = [
            ("..", "repository.json", (root, "repository.json")),
            ("..", "outside/victim.bin", (root, "outside/victim.bin")),
            ("", "repository.json", (root, "team/repository.json")),
            (".", "repository.json", (root, "team/repository.json")),
            ("model", "../../outside/victim.bin", (root, "outside/victim.bin")),
            ("model", "../../repository.json", (root, "repository.json")),
            ("model", f"{root_path}/outside/victim.bin", (root, "outside/victim.bin")),
            (f"{root_path}/outside", "victim.bin", (root, "outside/victim.bin")),
            ("model", "a//b", (root, "team/model/a/b")),
            ("model", "./c", (root, "team/model/c")),
            (f"{neighbour_path}/models", "repository.json", (neighbour, "models/repository.json")),
        ]
        trees = {place: snapshot(place, options) for place in (root, neighbour)}
        for number, (name, fname, (place, relative)) in enumerate(attacks):
            digest = trees[place][relative]
            size = len(_get(place, options, relative))
            entry = {"name": name, "fname": fname, "auto": True, "sha256": digest, "size": size}
            journal = {"format": 1, "files": [entry]}
            journal_id = f"20200101T000000{number:06d}-{number:016x}"
            _put(
                root,
                options,
                f"team/.repository.json.archivist/{journal_id}.journal",
                json.dumps(journal).encode(),
            )
        before = {place: snapshot(place, options) for place in (root, neighbour)}
        repository = Repository(manifest, mode="a", **options)
        assert repository.verify().orphans == []
        assert repository.gc() == []
        assert repository.gc(older_than=timedelta(0), dry_run=True).locations == []
        assert repository.gc(older_than=timedelta(0)) == []
        assert {place: snapshot(place, options) for place in (root, neighbour)} == before
        warned = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
        for number in range(len(attacks)):
            assert f"{number:016x}" in warned, (number, attacks[number], warned)
        check_repository(manifest, options)
        check_repository(f"{root}/repository.json", options)
        check_repository(f"{neighbour}/models/repository.json", options)


def _path_of(root: str, options: Mapping[str, Any]) -> str:
    """Return a folder URL's path in its filesystem's form (bucket first on object stores)."""
    protocol = split_protocol(root)[0] or "file"
    return str(fsspec.filesystem(protocol, **options)._strip_protocol(root)).rstrip("/")


def _get(root: str, options: Mapping[str, Any], relative: str) -> bytes:
    protocol = split_protocol(root)[0] or "file"
    fs = fsspec.filesystem(protocol, skip_instance_cache=True, **options)
    return bytes(fs.cat_file(posixpath.join(fs._strip_protocol(root), relative)))


def _neighbour(root: str, options: Mapping[str, Any]) -> str:
    """Return an empty folder beside ``root``: a sibling folder, or a new bucket."""
    protocol = split_protocol(root)[0]
    if protocol in (None, "file", "local"):
        return f"{root.rstrip('/')}-neighbour"
    name = f"neighbour-{uuid.uuid4().hex[:20]}"
    fsspec.filesystem(protocol, skip_instance_cache=True, **options).mkdir(name)
    return f"{protocol}://{name}"


def _crash_a_save(manifest: str, options: Mapping[str, Any], *, journal: bool = True) -> set[str]:
    """Save two versions and die just before the manifest's commit.

    Returns the written files' paths relative to the manifest's folder.
    """
    repository = Repository(manifest, mode="a", journal=journal, **options)
    repository.log_artifact("features", [0, 1, 2, 3], handler="json")
    repository.log_artifact("crashed", {"lost": True}, handler="json")
    with crash_at_commit(repository, error=SystemExit) as crash:
        repository.save()
    return {f"{name}/{fname}" for name, fname in crash.written}
