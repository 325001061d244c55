"""Projects: modes, logging, lookup, saving (files first, compare-and-swap), merging."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from datetime import datetime
from pathlib import Path
from typing import IO, Any, ClassVar

import pytest

import archivist
from archivist import Experiment, Handler, Project
from archivist.errors import (
    AlreadyExistsError,
    ExperimentNotFoundError,
    IntegrityError,
    InvalidModeError,
    ManifestError,
    ReadOnlyError,
    RepositoryNotFoundError,
    SerializationError,
)


@pytest.fixture
def project_path(tmp_path: Path) -> Path:
    return tmp_path / "proj" / "project.json"


def saved_project(path: Path, name: str = "baseline") -> Project:
    project = Project(path, mode="w", author="ada")
    with project.log(name) as exp:
        exp.log_metric("auc", 0.9)
        exp.log_parameter("depth", 3)
        exp.tag("first")
        exp.log_artifact("features", [0, 1, 2], handler="json", indent=4)
    project.save()
    return project


def test_modes(project_path: Path) -> None:
    with pytest.raises(InvalidModeError):
        Project(project_path, mode="x")  # type: ignore[arg-type]
    with pytest.raises(RepositoryNotFoundError, match="no project"):
        Project(project_path, mode="r")
    assert len(Project(project_path, mode="a")) == 0
    saved_project(project_path)
    reader = Project(project_path, mode="r")
    assert reader["baseline"].read_only
    with pytest.raises(ReadOnlyError), reader.log("other"):
        pass
    with pytest.raises(ReadOnlyError):
        reader.save()
    assert Project(project_path, mode="a")["baseline"].read_only
    assert not Project(project_path, mode="w+")["baseline"].read_only
    assert len(Project(project_path, mode="w")) == 0


def test_saved_layout_and_lazyscribe_fields(project_path: Path) -> None:
    project = saved_project(project_path)
    exp = project["baseline"]
    data = json.loads(project_path.read_text())
    assert len(data) == 1
    entry = data[0]
    assert set(entry) == {
        "name",
        "slug",
        "short_slug",
        "author",
        "last_updated_by",
        "created_at",
        "last_updated",
        "metrics",
        "parameters",
        "tags",
        "dependencies",
        "artifacts",
        "tests",
    }
    assert entry["author"] == "ada"
    assert entry["slug"] == exp.slug == f"baseline-{exp.created_at:%Y%m%d%H%M%S}"
    artifact = entry["artifacts"][0]
    stored = project_path.parent / exp.slug / artifact["fname"]
    assert stored.read_text() == json.dumps([0, 1, 2], indent=4)
    assert artifact["sha256"] == hashlib.sha256(stored.read_bytes()).hexdigest()
    assert artifact["size"] == stored.stat().st_size
    assert Project(project_path, mode="r")["baseline"].load_artifact("features") == [0, 1, 2]


def test_log_adds_only_when_the_block_succeeds(project_path: Path) -> None:
    project = Project(project_path, mode="w")

    def fail_inside_log() -> None:
        with project.log("broken") as exp:
            exp.log_metric("x", 1)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_inside_log()
    assert len(project) == 0
    assert "broken" not in project


def test_lookup_by_name_or_slug_latest_wins(project_path: Path) -> None:
    project = Project(project_path, mode="w")
    with project.log("run") as first:
        first.log_metric("n", 1)
    with project.log("run") as second:
        second.log_metric("n", 2)
    assert project["run"] is second
    assert project[first.slug] in (first, second)
    assert "run" in project
    with pytest.raises(ExperimentNotFoundError, match="'nope'") as info:
        project["nope"]
    assert isinstance(info.value, KeyError)
    assert [e["name"] for e in project] == ["run", "run"]
    assert list(project.filter(lambda e: e.metrics["n"] == 2)) == [second]


def test_read_only_experiments_cannot_change(project_path: Path) -> None:
    project = Project(project_path, mode="w")
    with project.log("curve") as exp:
        exp.log_metric("loss", [3, 2, 1])  # type: ignore[arg-type]
    project.save()
    before = project_path.read_bytes()
    appender = Project(project_path, mode="a")
    old = appender["curve"]
    with pytest.raises(ReadOnlyError):
        old.metrics["loss"] = 0  # type: ignore[index]
    with pytest.raises(ReadOnlyError):
        old.tags.append("x")  # type: ignore[attr-defined]
    assert json.loads(json.dumps(old.metrics)) == {"loss": [3, 2, 1]}
    for change in (
        lambda: old.log_metric("x", 1),
        lambda: old.log_parameter("x", 1),
        lambda: old.tag("x"),
        lambda: old.log_artifact("x", 1, handler="json"),
    ):
        with pytest.raises(ReadOnlyError):
            change()
    assert old.tags == []
    assert old.artifacts == []
    old.metrics["loss"].append(0)  # an in-place change to a value must not sneak into a save
    with appender.log("new") as exp:
        exp.log_metric("x", 1)
    appender.save()
    data = json.loads(project_path.read_text())
    assert data[0] == json.loads(before)[0]
    assert [e["name"] for e in data] == ["curve", "new"]


def test_w_plus_edits_existing_experiments(project_path: Path) -> None:
    saved_project(project_path)
    editor = Project(project_path, mode="w+", author="bob")
    editor["baseline"].log_metric("auc", 0.95)
    editor.save()
    entry = json.loads(project_path.read_text())[0]
    assert entry["metrics"]["auc"] == 0.95
    assert entry["last_updated_by"] == "bob"
    assert entry["author"] == "ada"


def test_two_writers_in_mode_a_keep_both(project_path: Path) -> None:
    saved_project(project_path)
    one, two = Project(project_path, mode="a"), Project(project_path, mode="a")
    with one.log("one") as exp:
        exp.log_metric("n", 1)
    with two.log("two") as exp:
        exp.log_metric("n", 2)
    one.save()
    two.save()
    names = sorted(e["name"] for e in json.loads(project_path.read_text()))
    assert names == ["baseline", "one", "two"]


def _log_experiments(path: str, worker: int) -> None:
    for i in range(5):
        project = Project(path, mode="a")
        with project.log(f"w{worker}-{i}") as exp:
            exp.log_artifact("value", [worker, i], handler="json")
        project.save()


@pytest.mark.slow
def test_processes_saving_at_once_lose_nothing(project_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_log_experiments, args=(str(project_path), w)) for w in range(3)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
        assert process.exitcode == 0
    project = Project(project_path, mode="r")
    assert sorted(e.name for e in project.experiments) == sorted(
        f"w{w}-{i}" for w in range(3) for i in range(5)
    )
    for exp in project.experiments:
        assert exp.load_artifact("value") == [int(p) for p in exp.name[1:].split("-")]


class Exploding(Handler):
    alias: ClassVar[str] = "exploding-project-test"
    suffix: ClassVar[str] = "bin"
    binary: ClassVar[bool] = True

    def write(self, value: Any, stream: IO[Any], **kwargs: Any) -> None:
        stream.write(b"partial")
        raise RuntimeError("cannot serialize")

    def read(self, stream: IO[Any], **kwargs: Any) -> Any:
        return stream.read()


@pytest.fixture
def exploding() -> Any:
    name = archivist.register(Exploding)
    try:
        yield Exploding
    finally:
        archivist.unregister(name)


def test_failed_save_leaves_storage_and_state_unchanged(
    project_path: Path, exploding: type[Handler]
) -> None:
    saved_project(project_path)
    before = project_path.read_bytes()
    files_before = sorted(p for p in project_path.parent.rglob("*") if p.is_file())
    project = Project(project_path, mode="a")
    with project.log("bad") as exp:
        exp.log_artifact("good", [1], handler="json")
        exp.log_artifact("bad", object(), handler=exploding.alias)
    with pytest.raises(SerializationError, match="cannot serialize"):
        project.save()
    assert project_path.read_bytes() == before
    assert sorted(p for p in project_path.parent.rglob("*") if p.is_file()) == files_before
    bad = project["bad"]
    assert all(a.dirty for a in bad.artifacts)
    bad.log_artifact("bad", [2], handler="json", overwrite=True)
    project.save()
    assert Project(project_path, mode="r")["bad"].load_artifact("bad") == [2]


def test_overwrite_and_duplicate_artifacts(project_path: Path) -> None:
    project = saved_project(project_path)
    editor = Project(project_path, mode="w+")
    exp = editor["baseline"]
    with pytest.raises(AlreadyExistsError, match="overwrite=True"):
        exp.log_artifact("features", [9], handler="json")
    exp.log_artifact("features", [9], handler="json", overwrite=True)
    editor.save()
    reread = Project(project_path, mode="r")["baseline"]
    assert reread.load_artifact("features") == [9]
    assert len(reread.artifacts) == 1
    # the first file is still there, unchanged: nothing stored is overwritten
    folder = project_path.parent / project["baseline"].slug
    contents = sorted(json.loads(p.read_text()) for p in folder.iterdir())
    assert contents == [[0, 1, 2], [9]]


def test_tampered_file_is_refused(project_path: Path) -> None:
    project = saved_project(project_path)
    exp = project["baseline"]
    path = project_path.parent / exp.slug / exp.artifacts[0].fname
    path.write_text("[6, 6, 6]")
    with pytest.raises(IntegrityError, match="does not match"):
        Project(project_path, mode="r")["baseline"].load_artifact("features")


def test_merge_keeps_latest_per_slug(tmp_path: Path) -> None:
    a = saved_project(tmp_path / "a" / "project.json", "shared")
    b = Project(tmp_path / "b" / "project.json", mode="w")
    with b.log("other") as exp:
        exp.log_metric("n", 1)
    merged = a.merge(b)
    assert sorted(e.name for e in merged.experiments) == ["other", "shared"]
    assert merged.mode == a.mode
    assert merged.location == a.location
    assert len(a) == 1


@pytest.mark.parametrize(
    "content",
    [
        "{",
        "{}",
        "[1]",
        '[{"name": "x"}]',
        '[{"name": "x", "slug": "../x", "created_at": "2026"}]',
        '[{"name": "x", "slug": "..\\\\x", "created_at": "2026"}]',
        '[{"name": "x", "slug": "C:x", "created_at": "2026"}]',
        '[{"name": "x", "slug": " ", "created_at": "2026"}]',
    ],
)
def test_corrupt_project_files(project_path: Path, content: str) -> None:
    project_path.parent.mkdir(parents=True)
    project_path.write_text(content)
    with pytest.raises(ManifestError):
        Project(project_path, mode="r")


def test_memory_backend_project() -> None:
    url = "memory://project-tests/one/project.json"
    project = Project(url, mode="w")
    with project.log("m") as exp:
        exp.log_artifact("v", {"a": 1}, handler="pickle")
    project.save()
    assert Project(url, mode="r")["m"].load_artifact("v") == {"a": 1}
    assert isinstance(Project(url, mode="r")["m"], Experiment)


def test_experiments_sharing_a_slug_are_both_kept(
    project_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen = datetime(2026, 3, 1, 12, 0, 0, 123456)
    monkeypatch.setattr("archivist.experiment.utcnow", lambda: frozen)
    monkeypatch.setattr("archivist._tracking.tracked.utcnow", lambda: frozen)
    project = Project(project_path, mode="w")
    for n in range(2):
        with project.log("same") as exp:
            exp.log_metric("n", n)
            exp.log_artifact("value", [n], handler="json")
    assert project.experiments[0].slug == project.experiments[1].slug == "same-20260301120000"
    project.save()
    appender = Project(project_path, mode="a")
    with appender.log("same") as exp:
        exp.log_metric("n", 2)
    appender.save()
    editor = Project(project_path, mode="w+")
    editor.experiments[0].log_metric("edited", True)
    editor.save()
    entries = json.loads(project_path.read_text())
    assert sorted(e["metrics"]["n"] for e in entries) == [0, 1, 2]
    assert [e["metrics"].get("edited") for e in entries].count(True) == 1
    reader = Project(project_path, mode="r")
    values = sorted(e.load_artifact("value")[0] for e in reader.experiments if e.artifacts)
    assert values == [0, 1]


def test_w_plus_edits_to_a_test_are_saved(project_path: Path) -> None:
    project = Project(project_path, mode="w", author="ada")
    with project.log("baseline") as exp, exp.log_test("region") as test:
        test.log_metric("auc", 0.5)
    project.save()
    editor = Project(project_path, mode="w+", author="bob")
    test = editor["baseline"].tests[0]
    test.log_metric("auc", 0.75)
    test.log_parameter("rows", 10)
    test.log_artifact("sample", [1, 2], handler="json")
    assert editor["baseline"].dirty
    editor.save()
    entry = json.loads(project_path.read_text())[0]
    assert entry["last_updated_by"] == "bob"
    assert entry["tests"][0]["metrics"] == {"auc": 0.75}
    assert entry["tests"][0]["parameters"] == {"rows": 10}
    reread = Project(project_path, mode="r")["baseline"].tests[0]
    assert reread.load_artifact("sample") == [1, 2]
    assert not editor["baseline"].dirty


def test_w_plus_direct_edits_are_saved(project_path: Path) -> None:
    saved_project(project_path)
    editor = Project(project_path, mode="w+")
    editor["baseline"].metrics["direct"] = 1
    editor["baseline"].parameters["also"] = "yes"
    editor.save()
    entry = json.loads(project_path.read_text())[0]
    assert entry["metrics"]["direct"] == 1
    assert entry["parameters"]["also"] == "yes"


def test_unserializable_parameter_writes_nothing(project_path: Path) -> None:
    saved_project(project_path)
    before = project_path.read_bytes()
    files_before = sorted(p for p in project_path.parent.rglob("*") if p.is_file())
    project = Project(project_path, mode="a")
    with project.log("bad") as exp:
        exp.log_artifact("good", [1], handler="json")
        exp.log_parameter("x", object())
    with pytest.raises(SerializationError, match="'x'"):
        project.save()
    assert project_path.read_bytes() == before
    assert sorted(p for p in project_path.parent.rglob("*") if p.is_file()) == files_before


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


@pytest.mark.parametrize("fault", [OSError("lost acknowledgement"), KeyboardInterrupt()])
def test_failure_after_the_replace_landed_keeps_the_files(
    project_path: Path, monkeypatch: pytest.MonkeyPatch, fault: BaseException
) -> None:
    saved_project(project_path)
    project = Project(project_path, mode="a")
    backend_cls = type(project.backend)
    real = backend_cls.replace_if_unchanged

    def land_then_fail(self: Any, path: str, data: bytes, token: str | None) -> str:
        real(self, path, data, token)
        raise fault

    with project.log("landed") as exp:
        exp.log_artifact("features", [4, 5], handler="json")
        with exp.log_test("region") as test:
            test.log_artifact("sample", [6], handler="json")
    monkeypatch.setattr(backend_cls, "replace_if_unchanged", land_then_fail)
    with pytest.raises(type(fault)):
        project.save()
    monkeypatch.undo()
    reread = Project(project_path, mode="r")
    assert reread["landed"].load_artifact("features") == [4, 5]
    assert reread["landed"].tests[0].load_artifact("sample") == [6]
    assert reread["baseline"].load_artifact("features") == [0, 1, 2]
    # the in-memory project knows it is saved: saving again adds nothing
    project.save()
    assert len(Project(project_path, mode="r")) == 2


@pytest.mark.parametrize("with_files", [True, False])
def test_a_save_whose_refused_retry_met_its_own_landed_write_is_stored_once(
    project_path: Path, monkeypatch: pytest.MonkeyPatch, with_files: bool
) -> None:
    saved_project(project_path)
    project = Project(project_path, mode="a")
    backend_cls = type(project.backend)
    real = backend_cls.replace_if_unchanged
    calls: list[str] = []

    def land_then_refuse(self: Any, path: str, data: bytes, token: str | None) -> str:
        calls.append(path)
        new_token = real(self, path, data, token)
        if len(calls) == 1:  # the answer was lost; the client's retry met its own write
            raise archivist.StaleTokenError("the retry of a landed request")
        return new_token

    with project.log("once") as exp:
        exp.log_metric("auc", 0.9)
        if with_files:
            exp.log_artifact("features", [4, 5], handler="json")
    monkeypatch.setattr(backend_cls, "replace_if_unchanged", land_then_refuse)
    project.save()
    monkeypatch.undo()
    assert len(calls) == 1  # recognised as landed: not written again
    reread = Project(project_path, mode="r")
    assert sorted(e.name for e in reread.experiments) == ["baseline", "once"]
    if with_files:
        assert reread["once"].load_artifact("features") == [4, 5]
    project.save()  # the in-memory project is saved: nothing more is added
    assert len(Project(project_path, mode="r")) == 2


def test_failure_before_the_replace_landed_removes_the_files(
    project_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved_project(project_path)
    files_before = _files(project_path.parent)
    project = Project(project_path, mode="a")
    backend_cls = type(project.backend)

    def fail(self: Any, path: str, data: bytes, token: str | None) -> str:
        raise KeyboardInterrupt

    with project.log("lost") as exp:
        exp.log_artifact("features", [4, 5], handler="json")
    monkeypatch.setattr(backend_cls, "replace_if_unchanged", fail)
    with pytest.raises(KeyboardInterrupt):
        project.save()
    assert _files(project_path.parent) == files_before
    assert [e.name for e in Project(project_path, mode="r").experiments] == ["baseline"]


def test_unreadable_project_after_a_failed_replace_keeps_the_files(
    project_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved_project(project_path)
    project = Project(project_path, mode="a")
    backend_cls = type(project.backend)

    def unreadable(self: Any, path: str) -> tuple[bytes, str]:
        raise OSError("still down")

    def fail(self: Any, path: str, data: bytes, token: str | None) -> str:
        monkeypatch.setattr(backend_cls, "read_with_token", unreadable)  # the store goes away
        raise OSError("connection reset")

    with project.log("unknown") as exp:
        exp.log_artifact("features", [4, 5], handler="json")
    monkeypatch.setattr(backend_cls, "replace_if_unchanged", fail)
    with pytest.raises(archivist.StorageError):
        project.save()
    monkeypatch.undo()
    folder = project_path.parent / project["unknown"].slug
    assert [json.loads(p.read_text()) for p in folder.iterdir()] == [[4, 5]]


@pytest.mark.parametrize(
    "content",
    [b"[" * 100_000 + b"]" * 100_000, b'[{"name": 1, "name": 2}]', b"[" + b"9" * 5000 + b"]"],
    ids=["deeply-nested", "duplicate-keys", "huge-integer"],
)
def test_a_hostile_project_file_is_a_manifest_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "project.json"
    path.write_bytes(content)
    with pytest.raises(ManifestError):
        Project(path, mode="r")
    assert path.read_bytes() == content
