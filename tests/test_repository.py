from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from tests.conftest import crash_at_commit

import archivist
from archivist import Repository
from archivist.errors import (
    AlreadyExistsError,
    AmbiguousVersionError,
    ArchivistError,
    ArtifactNotFoundError,
    EnvironmentMismatchError,
    IntegrityError,
    InvalidModeError,
    InvalidNameError,
    InvalidVersionError,
    ManifestError,
    ReadOnlyError,
    RepositoryNotFoundError,
    SerializationError,
    UnknownBackendError,
    UnknownHandlerError,
    UnsavedChangesError,
    UnsupportedOperationError,
    VersionNotFoundError,
)


def _created(repository: Repository, name: str, version: int) -> datetime:
    return datetime.fromisoformat(repository.get_artifact_metadata(name, version)["created_at"])


# -- the guide's first two sections, as written --------------------------------------------


def test_guide_a_repository_on_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    repository = Repository("repository.json", mode="w")
    repository.log_artifact(name="features", value=[0, 1, 2], handler="json", indent=4)
    assert not (tmp_path / "repository.json").exists()  # nothing is written before save()
    repository.save()

    repository = Repository("repository.json", mode="r")  # read-only
    features = repository.load_artifact(name="features")
    assert features == [0, 1, 2]
    stored = repository.get_artifact_metadata("features")["fname"]
    assert (tmp_path / "features" / stored).read_text() == json.dumps([0, 1, 2], indent=4)


def test_guide_versions_and_time_travel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    repository = Repository("repository.json", mode="w")
    repository.log_artifact(name="features", value=[0, 1, 2], handler="json", indent=4)
    repository.save()
    first = repository.get_artifact_metadata("features")["created_at"][:19]
    time.sleep(1.05)  # the guide's two sessions happen at different times

    repository = Repository("repository.json", mode="a")  # append: reads existing, adds new
    repository.log_artifact(name="features", value=[0, 1, 2, 3], handler="json", indent=4)
    repository.save()

    repository = Repository("repository.json", mode="r")
    newest = repository.load_artifact("features")  # latest version
    oldest = repository.load_artifact("features", version=0)  # by integer version
    on_this_date = repository.load_artifact("features", version=first)  # exact time
    as_of = repository.load_artifact("features", version=first, match="asof")
    assert newest == [0, 1, 2, 3]
    assert oldest == on_this_date == as_of == [0, 1, 2]
    assert repository.versions("features") == [0, 1]


# -- versions and lookups ------------------------------------------------------------------


def test_hundred_versions_in_one_second_keep_their_own_bytes(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    for i in range(100):
        repository.log_artifact("features", [i], handler="json")
    repository.save()
    repository = Repository(repo_path, mode="a")
    for i in range(100, 110):  # one save each
        repository.log_artifact("features", [i], handler="json")
        repository.save()

    reread = Repository(repo_path, mode="r")
    assert reread.versions("features") == list(range(110))
    assert [reread.load_artifact("features", version=i) for i in range(110)] == [
        [i] for i in range(110)
    ]
    fnames = {record["fname"] for record in reread}
    assert len(fnames) == 110
    times = [_created(reread, "features", i) for i in range(110)]
    assert times == sorted(times) and len(set(times)) == 110


def test_version_values(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    for i in range(3):
        repository.log_artifact("a", i, handler="json")
        repository.save()
    assert repository.load_artifact("a", version=-1) == 2
    assert repository.load_artifact("a", version=-3) == 0
    created = _created(repository, "a", 1)
    # naive datetimes are UTC; aware ones are converted; ISO strings with fraction and offset
    assert repository.load_artifact("a", version=created) == 1
    aware = created.replace(tzinfo=UTC).astimezone(timezone(timedelta(hours=5)))
    assert repository.load_artifact("a", version=aware) == 1
    assert repository.load_artifact("a", version=aware.isoformat()) == 1
    assert repository.load_artifact("a", version=created.isoformat() + "Z") == 1
    later = created + timedelta(microseconds=1)
    assert repository.load_artifact("a", version=later, match="asof") == 1
    with pytest.raises(VersionNotFoundError):
        repository.load_artifact("a", version=later)  # exact, to the microsecond
    with pytest.raises(VersionNotFoundError, match="predates"):
        repository.load_artifact("a", version="2001-01-01T00:00:00", match="asof")
    with pytest.raises(VersionNotFoundError, match=r"numbered 0\.\.2"):
        repository.load_artifact("a", version=7)
    with pytest.raises(VersionNotFoundError):
        repository.load_artifact("a", version=-4)


def test_exact_second_with_two_versions_names_both(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("a", 0, handler="json")
    repository.log_artifact("a", 1, handler="json")
    repository.save()
    created = [repository.get_artifact_metadata("a", v)["created_at"] for v in (0, 1)]
    if created[0][:19] != created[1][:19]:
        pytest.skip("the two versions straddled a second boundary")  # pragma: no cover
    with pytest.raises(AmbiguousVersionError) as caught:
        repository.load_artifact("a", version=created[0][:19])
    assert "version 0" in str(caught.value) and "version 1" in str(caught.value)
    assert repository.load_artifact("a", version=created[1]) == 1  # with microseconds
    assert repository.load_artifact("a", version=created[0][:19], match="asof") == 1


@pytest.mark.parametrize(
    ("version", "match"),
    [
        ("YYYY-MM-DDTHH:MM:SS", "exact"),
        ("last tuesday", "asof"),
        (1.5, "exact"),
        (True, "exact"),
        (1, "asof"),
        (None, "closest"),
    ],
)
def test_unparseable_versions(repo_path: Path, version: object, match: str) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("a", 0, handler="json")
    repository.save()
    with pytest.raises(InvalidVersionError):
        repository.load_artifact("a", version=version, match=match)  # type: ignore[arg-type]


def test_expiry_skipped_by_latest_and_asof_and_survives_reload(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    for i in range(3):
        repository.log_artifact("a", i, handler="json")
    repository.save()
    repository = Repository(repo_path, mode="w+")
    repository.set_artifact_expiry("a", version=2)  # expires now
    repository.save()

    reread = Repository(repo_path, mode="r")
    assert reread.get_artifact_metadata("a", 2)["expiry"] is not None
    assert reread.load_artifact("a") == 1
    assert reread.load_artifact("a", version=2) == 2  # by number, still loadable
    assert reread.load_artifact("a", version=datetime.now(UTC), match="asof") == 1
    created_2 = _created(reread, "a", 2)
    # as of a moment before the expiry, version 2 was the latest
    assert reread.load_artifact("a", version=created_2, match="asof") == 2

    repository = Repository(repo_path, mode="w+")
    repository.set_artifact_expiry("a", version=0, expiry="2001-01-01T00:00:00")
    repository.set_artifact_expiry("a", version=1, expiry="2001-01-01")
    repository.save()
    with pytest.raises(VersionNotFoundError, match="expired"):
        Repository(repo_path, mode="r").load_artifact("a")


def test_mode_a_only_appends(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("a", 0, handler="json")
    repository.save()
    repository = Repository(repo_path, mode="a")
    with pytest.raises(ReadOnlyError, match="w\\+"):
        repository.set_artifact_expiry("a", version=0)
    repository.log_artifact("a", 1, handler="json")
    repository.set_artifact_expiry("a", version=1, expiry="2100-01-01")  # a pending version
    repository.save()
    assert (
        Repository(repo_path, mode="r")
        .get_artifact_metadata("a", 1)["expiry"]
        .startswith("2100-01-01")
    )


def test_mode_w_starts_a_new_repository(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("a", 0, handler="json")
    repository.log_artifact("b", 0, handler="json")
    repository.save()
    repository = Repository(repo_path, mode="w")
    assert len(repository) == 0
    repository.log_artifact("a", "new", handler="json")
    with pytest.warns(archivist.ArchivistWarning, match=r"holds 2 version\(s\) of 2 artifact"):
        repository.save()
    repository.log_artifact("a", "newer", handler="json")  # later saves append
    repository.save()
    reread = Repository(repo_path, mode="r")
    assert "b" not in reread
    assert reread.versions("a") == [0, 1]
    assert reread.load_artifact("a", version=0) == "new"


def test_iteration_len_contains_and_metadata(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("a", {"x": 1}, handler="json")
    repository.log_artifact("b", {"y"}, handler="pickle")
    assert len(repository) == 2 and "a" in repository and "c" not in repository
    repository.save()
    records = list(repository)
    assert [r["name"] for r in records] == ["a", "b"]
    meta = repository.get_artifact_metadata("b")
    assert meta["handler"] == "pickle"
    assert meta["python_version"] == "{}.{}".format(*__import__("sys").version_info[:2])
    assert len(meta["sha256"]) == 64 and meta["size"] > 0
    assert "unsaved" not in repr(repository) and "2 versions" in repr(repository)


def test_pending_versions_are_visible_but_not_loadable(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("a", 0, handler="json")
    assert repository.versions("a") == [0]
    with pytest.raises(ArtifactNotFoundError, match="not saved yet"):
        repository.load_artifact("a")
    with pytest.raises(UnsavedChangesError):
        repository.filter([("a", 0)])


def test_filter_by_pairs_and_time(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    for i in range(3):
        repository.log_artifact("a", i, handler="json")
    repository.log_artifact("b", "b0", handler="json")
    repository.save()
    filtered = Repository(repo_path, mode="r").filter([("a", 1), ["b", 0]])
    assert filtered.mode == "r"
    assert filtered.load_artifact("a") == 1 and filtered.versions("a") == [1]
    with pytest.raises(VersionNotFoundError):
        filtered.load_artifact("a", version=2)
    with pytest.raises(ReadOnlyError):
        filtered.log_artifact("a", 9, handler="json")

    # newer versions added later do not change what the filtered view returns
    appender = Repository(repo_path, mode="a")
    appender.log_artifact("a", 99, handler="json")
    appender.save()
    assert filtered.load_artifact("a") == 1

    cutoff = _created(repository, "a", 1)
    by_time = Repository(repo_path, mode="r").filter(cutoff)
    assert by_time.load_artifact("a") == 1
    assert "b" not in by_time or by_time.load_artifact("b") == "b0"
    with pytest.raises(InvalidVersionError, match="two versions"):
        Repository(repo_path, mode="r").filter([("a", 0), ("a", 1)])
    with pytest.raises(InvalidVersionError):
        Repository(repo_path, mode="r").filter(42)


def test_version_diff(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("a", [1, 2], handler="json", indent=1)
    repository.log_artifact("a", [1, 3], handler="json", indent=1)
    repository.log_artifact("p", 1, handler="pickle")
    repository.save()
    diff = repository.get_version_diff("a", 0)
    assert "\n- 2\n+ 3\n" in diff
    assert repository.get_version_diff("a", (1, 0)) == diff
    with pytest.raises(UnsupportedOperationError, match="binary"):
        repository.get_version_diff("p", 0)


def test_verify_reports_orphans_and_fails_on_damage(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("a", [1], handler="json")
    repository.log_artifact("a", [2], handler="json")
    repository.save()
    hand_made = repo_path.parent / "a" / "not-archivists.json"
    hand_made.write_text("[]")  # a file no save wrote is never an orphan
    repository = Repository(repo_path, mode="a")
    repository.log_artifact("a", [3], handler="json", fname="left-by-a-crashed-save.json")
    with crash_at_commit(repository, landed=False):
        repository.save()
    orphan = repo_path.parent / "a" / "left-by-a-crashed-save.json"
    report = Repository(repo_path, mode="r").verify()
    assert report.checked == 2 and report.orphans == [str(orphan)]

    stored = repo_path.parent / "a" / repository.get_artifact_metadata("a", 1)["fname"]
    stored.write_text("[3]")
    with pytest.raises(IntegrityError, match="version 1"):
        repository.verify()
    with pytest.raises(IntegrityError, match="does not match"):
        repository.load_artifact("a", version=1)
    stored.unlink()
    with pytest.raises(ArtifactNotFoundError, match="missing"):
        repository.load_artifact("a", version=1)
    assert repository.load_artifact("a", version=0) == [1]


def test_modified_file_is_never_unpickled(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("model", {"w": 1}, handler="pickle")
    repository.save()
    stored = repo_path.parent / "model" / repository.get_artifact_metadata("model")["fname"]
    import pickle

    class Boom:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (exec, ("raise SystemExit('unpickled!')",))

    stored.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(IntegrityError):
        repository.load_artifact("model")


def test_environment_mismatch_refused_or_warned(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("model", [1], handler="pickle")
    repository.save()
    manifest = json.loads(repo_path.read_text())
    manifest[0]["python_version"] = "2.7"
    repo_path.write_text(json.dumps(manifest))
    repository = Repository(repo_path, mode="r")
    with pytest.raises(EnvironmentMismatchError, match="python_version"):
        repository.load_artifact("model")
    with pytest.warns(archivist.ArchivistWarning, match="2.7"):
        assert repository.load_artifact("model", validate=False) == [1]


def test_reader_and_writer_kwargs_pass_through(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("a", {"b": 1, "a": 2}, handler="json", sort_keys=True, indent=2)
    repository.save()
    fname = repository.get_artifact_metadata("a")["fname"]
    assert (repo_path.parent / "a" / fname).read_text().startswith('{\n  "a"')
    loaded = repository.load_artifact("a", object_pairs_hook=lambda pairs: pairs)
    assert loaded == [("a", 2), ("b", 1)]


def test_user_fname_is_kept_and_never_reused(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("a", 1, handler="json", fname="a.json")
    repository.save()
    assert (repo_path.parent / "a" / "a.json").read_text() == "1"
    with pytest.raises(AlreadyExistsError, match="never overwrites"):
        repository.log_artifact("a", 2, handler="json", fname="a.json")
    repository.log_artifact("b", 2, handler="json", fname="a.json")  # another artifact's folder
    repository.save()


def test_refresh_sees_other_writers(repo_path: Path) -> None:
    one = Repository(repo_path, mode="w")
    one.log_artifact("a", 0, handler="json")
    one.save()
    reader = Repository(repo_path, mode="r")
    other = Repository(repo_path, mode="a")
    other.log_artifact("a", 1, handler="json")
    other.save()
    assert reader.versions("a") == [0]
    reader.refresh()
    assert reader.load_artifact("a") == 1
    # a writer's save merges what others committed since it opened
    one.log_artifact("a", 2, handler="json")
    one.save()
    assert one.versions("a") == [0, 1, 2]


def test_refresh_parses_only_a_changed_manifest(repo_path: Path) -> None:
    writer = Repository(repo_path, mode="w")
    writer.log_artifact("a", 0, handler="json")
    writer.log_artifact("b", 0, handler="json")
    writer.save()
    reader = Repository(repo_path, mode="w+")
    reader.set_artifact_expiry("b", 0, expiry="2001-01-01")  # pending, not saved
    before = reader.records
    reader.refresh()  # nothing committed since: the records read are kept, expiry too
    assert all(new is old for new, old in zip(reader.records, before, strict=True))
    assert reader.get_artifact_metadata("b", version=0)["expiry"] is not None
    writer.log_artifact("a", 1, handler="json")
    writer.save()
    reader.refresh()  # changed: read again, the pending expiry applied again
    assert reader.versions("a") == [0, 1]
    assert reader.records[0] is not before[0]
    assert reader.get_artifact_metadata("b", version=0)["expiry"] is not None


def test_memory_backend_and_storage_options(memory_url: str) -> None:
    repository = Repository(memory_url, mode="w")
    repository.log_artifact("a", [1], handler="json")
    repository.save()
    assert Repository(memory_url, mode="r").load_artifact("a") == [1]


def test_after_commit_hook(repo_path: Path) -> None:
    seen: list[tuple[str, list[int]]] = []

    class Listener:
        @archivist.hookimpl
        def archivist_after_commit(self, location: str, versions: list[dict]) -> None:  # type: ignore[type-arg]
            seen.append((location, [v["version"] for v in versions]))

    listener = Listener()
    archivist.register(listener)
    try:
        repository = Repository(repo_path, mode="w")
        repository.log_artifact("a", 0, handler="json")
        repository.log_artifact("a", 1, handler="json")
        repository.save()
    finally:
        archivist.unregister(listener)
    assert seen == [(str(repo_path), [0, 1])]


# -- bad input: a clear archivist error, and the stored repository unchanged ---------------


@pytest.fixture
def saved(repo_path: Path) -> Path:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("features", [0, 1], handler="json")
    repository.log_artifact("model", {"w": 1}, handler="pickle")
    repository.save()
    return repo_path


def _unchanged_after(
    snapshot: Callable[[Path], dict[str, str]], saved: Path, action: object, error: type[Exception]
) -> None:
    before = snapshot(saved.parent)
    with pytest.raises(error):
        action()  # type: ignore[operator]
    assert snapshot(saved.parent) == before, action


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not valid JSON"),
        (b'[{"name": "a", "version": 0', "not valid JSON"),
        (b'{"name": "a"}', "JSON array"),
        (b'[{"name": "a", "version": 0, "handler": "json", "created_at": "2020-01-01"}]', "fname"),
        (
            b'[{"name": "a", "version": "0", "handler": "json", "fname": "x",'
            b' "created_at": "2020-01-01"}]',
            "integer",
        ),
        (
            b'[{"name": "../a", "version": 0, "handler": "json", "fname": "x",'
            b' "created_at": "2020-01-01"}]',
            "leave the repository",
        ),
        (
            b'[{"name": "a", "version": 0, "handler": "json", "fname": "x",'
            b' "created_at": "yesterday"}]',
            "ISO 8601",
        ),
    ],
)
@pytest.mark.parametrize("mode", ["r", "a", "w+"])
def test_corrupt_manifest(
    saved: Path, content: bytes, message: str, mode: str, snapshot_tree: Callable[..., object]
) -> None:
    saved.write_bytes(content)
    before = snapshot_tree(saved.parent)
    with pytest.raises(ManifestError, match=message):
        Repository(saved, mode=mode)  # type: ignore[arg-type]
    assert snapshot_tree(saved.parent) == before


def test_bad_input_leaves_storage_unchanged(
    saved: Path, tmp_path: Path, snapshot_tree: Callable[[Path], dict[str, str]]
) -> None:
    class Unserializable:
        pass

    def log_then_save(name: str, value: object, handler: str, **kw: object):  # type: ignore[no-untyped-def]
        def run() -> None:
            repository = Repository(saved, mode="a")
            repository.log_artifact(name, value, handler=handler, **kw)  # type: ignore[arg-type]
            repository.save()

        return run

    def save_many_then_fail() -> None:
        repository = Repository(saved, mode="a")
        repository.log_artifact("features", [2], handler="json")  # written, then removed
        repository.log_artifact("new-name", [3], handler="json")
        repository.log_artifact("features", {1, 2}, handler="json")  # a set: not JSON
        repository.save()

    read_only = Repository(saved, mode="r")
    cases: list[tuple[object, type[Exception]]] = [
        (log_then_save("features", {1}, "json"), SerializationError),
        (log_then_save("features", lambda: 1, "pickle"), SerializationError),
        (log_then_save("features", Unserializable(), "json"), SerializationError),
        (save_many_then_fail, SerializationError),
        (log_then_save("features", 1, "parquet-nope"), UnknownHandlerError),
        (log_then_save("../escape", 1, "json"), InvalidNameError),
        (log_then_save("/abs", 1, "json"), InvalidNameError),
        (log_then_save("..", 1, "json"), InvalidNameError),
        (log_then_save("", 1, "json"), InvalidNameError),
        (log_then_save("features", 1, "json", fname="../x.json"), InvalidNameError),
        (log_then_save("features", 1, "json", fname="/tmp/x.json"), InvalidNameError),
        (log_then_save("features", 1, "json", fname="..\\x.json"), InvalidNameError),
        (lambda: read_only.log_artifact("a", 1, handler="json"), ReadOnlyError),
        (lambda: read_only.save(), ReadOnlyError),
        (lambda: read_only.set_artifact_expiry("features"), ReadOnlyError),
        (lambda: read_only.load_artifact("nope"), ArtifactNotFoundError),
        (lambda: read_only.load_artifact("features", version=5), VersionNotFoundError),
        (lambda: read_only.load_artifact("features", version="not a time"), InvalidVersionError),
        (lambda: Repository(saved, mode="rw"), InvalidModeError),  # type: ignore[arg-type]
        (lambda: Repository("nosuch://bucket/repository.json"), UnknownBackendError),
        (
            lambda: Repository(tmp_path / "missing" / "repository.json", mode="r"),
            RepositoryNotFoundError,
        ),
    ]
    for action, error in cases:
        _unchanged_after(snapshot_tree, saved, action, error)
    assert Repository(saved, mode="r").load_artifact("features") == [0, 1]


def test_all_errors_are_archivist_errors_and_builtins() -> None:
    assert issubclass(ReadOnlyError, PermissionError)
    assert issubclass(VersionNotFoundError, LookupError)
    assert issubclass(ArtifactNotFoundError, LookupError)
    assert issubclass(UnknownHandlerError, LookupError)
    assert issubclass(UnknownBackendError, LookupError)
    assert issubclass(ManifestError, ValueError)
    assert issubclass(InvalidVersionError, ValueError)
    assert issubclass(archivist.PluginLoadError, ImportError)
    for name in archivist.errors.__all__:
        cls = getattr(archivist.errors, name)
        if name != "ArchivistWarning":
            assert issubclass(cls, ArchivistError), name


def test_gc_removes_old_orphans_only(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("a", [1], handler="json")
    repository.save()
    folder = repo_path.parent / "a"
    hand_made = folder / "old-but-not-ours.json"
    hand_made.write_text("[]")
    stamp = time.time() - 7200
    os.utime(hand_made, (stamp, stamp))
    crashed = Repository(repo_path, mode="a")
    crashed.log_artifact("a", [2], handler="json", fname="orphan.json")
    with crash_at_commit(crashed, landed=False):
        crashed.save()
    for journal in (repo_path.parent / ".repository.json.archivist").iterdir():
        os.utime(journal, (stamp, stamp))
    old = folder / "orphan.json"
    assert repository.gc(dry_run=True).locations == [str(old)]
    assert old.exists()
    with pytest.raises(ReadOnlyError):
        Repository(repo_path, mode="r").gc()
    assert repository.gc() == [str(old)]
    assert not old.exists() and hand_made.exists()
    assert repository.gc(older_than=timedelta(0)) == []
    assert repository.verify().orphans == []
    assert repository.load_artifact("a") == [1]


def test_repository_pickles_for_multiprocessing(repo_path: Path) -> None:
    import pickle

    repository = Repository(repo_path, mode="w")
    repository.log_artifact("a", [1], handler="json")
    repository.save()
    clone = pickle.loads(pickle.dumps(Repository(repo_path, mode="r")))
    assert clone.load_artifact("a") == [1]


def test_a_failed_large_write_leaves_no_hashing_thread(repo_path: Path) -> None:
    import threading

    class Unpicklable:
        def __reduce__(self) -> object:
            raise RuntimeError("cannot pickle this")

    before = threading.active_count()
    repository = Repository(repo_path, mode="w")
    # 20 MiB first, so hashing moves to its worker thread, then a value pickle refuses
    repository.log_artifact("x", [b"x" * (20 << 20), Unpicklable()], handler="pickle")
    with pytest.raises(SerializationError, match="cannot pickle this") as caught:
        repository.save()
    # the traceback keeps the writer's frames alive: only an explicit close stops the worker
    assert caught.value.__traceback__ is not None
    assert threading.active_count() == before
    assert not (repo_path.parent / "x").exists()


def test_mode_w_replaces_even_an_unreadable_manifest(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("a", 0, handler="json")
    repository.save()
    repo_path.write_text('[{"name": "a", "version"')  # truncated
    with pytest.raises(ManifestError):
        Repository(repo_path, mode="a")
    fresh = Repository(repo_path, mode="w")
    fresh.log_artifact("a", "new", handler="json")
    with pytest.warns(archivist.ArchivistWarning, match="a manifest that cannot be read"):
        fresh.save()
    reread = Repository(repo_path, mode="r")
    assert reread.versions("a") == [0]
    assert reread.load_artifact("a") == "new"


def test_a_failed_lookup_by_a_naive_time_says_naive_means_utc(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("features", ["a"], handler="json")
    repository.save()
    for naive in (datetime(2000, 1, 1), "2000-01-01T00:00:00"):
        with pytest.raises(VersionNotFoundError, match="predates") as caught:
            repository.load_artifact("features", version=naive, match="asof")
        assert "without a UTC offset is read as UTC" in str(caught.value)
        with pytest.raises(VersionNotFoundError) as caught:
            repository.load_artifact("features", version=naive)
        assert "without a UTC offset is read as UTC" in str(caught.value)
    for aware in (datetime(2000, 1, 1, tzinfo=UTC), "2000-01-01T00:00:00+00:00"):
        with pytest.raises(VersionNotFoundError, match="predates") as caught:
            repository.load_artifact("features", version=aware, match="asof")
        assert "read as UTC" not in str(caught.value)
