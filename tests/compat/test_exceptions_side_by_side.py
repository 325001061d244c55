"""The same bad call under lazyscribe 2.2.2 and archivist: archivist raises a subclass of
(the counterpart of) what lazyscribe raised, so ``except`` clauses keep working."""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import lazyscribe
import lazyscribe.release as lazy_release
import pytest

import archivist
import archivist.exception
from archivist import release as lzr


def counterpart(cls: type[BaseException]) -> type[BaseException]:
    """Map a lazyscribe exception class to archivist's; builtins map to themselves."""
    if cls.__module__ == "lazyscribe.exception":
        mapped = getattr(archivist.exception, cls.__name__)
        assert isinstance(mapped, type)
        return mapped
    assert cls.__module__ == "builtins", f"unexpected {cls!r}"
    return cls


def same_failure(theirs: Callable[[], Any], ours: Callable[[], Any]) -> BaseException:
    with pytest.raises(Exception) as their_info:  # noqa: PT011 - any class; compared below
        theirs()
    with pytest.raises(Exception) as our_info:  # noqa: PT011
        ours()
    their_class, raised = type(their_info.value), our_info.value
    assert isinstance(raised, counterpart(their_class)), (their_class, type(raised).__mro__)
    for base in their_class.__mro__:
        if base.__module__ == "builtins":
            assert isinstance(raised, base), (base, type(raised).__mro__)
    assert isinstance(raised, archivist.errors.ArchivistError)
    assert isinstance(raised, archivist.exception.LazyscribeError)
    return raised


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same repository written by each library: two json versions and a pickle."""
    tmp_path = tmp_path_factory.mktemp("pristine")
    paths = []
    for lib, name in ((lazyscribe, "theirs"), (archivist, "ours")):
        path = tmp_path / name / "repository.json"
        repository = lib.Repository(str(path), mode="w")
        repository.log_artifact(name="features", value=[0, 1], handler="json")
        repository.log_artifact(name="model", value={"w": 1}, handler="pickle")
        repository.save()
        paths.append(str(path))
    time.sleep(1.05)  # lazyscribe names files and compares times to the second
    for lib, path in ((lazyscribe, paths[0]), (archivist, paths[1])):
        repository = lib.Repository(path, mode="w+")
        repository.log_artifact(name="features", value=[0, 1, 2], handler="json")
        repository.save()
    return tmp_path


@pytest.fixture
def saved(pristine: Path, tmp_path: Path) -> tuple[str, str]:
    """A fresh copy of :func:`pristine` for one test: (lazyscribe's, archivist's) manifest."""
    shutil.copytree(pristine, tmp_path / "copy")
    return tuple(str(tmp_path / "copy" / n / "repository.json") for n in ("theirs", "ours"))  # type: ignore[return-value]


def test_invalid_mode(tmp_path: Path) -> None:
    same_failure(
        lambda: lazyscribe.Repository(str(tmp_path / "t.json"), mode="x"),
        lambda: archivist.Repository(str(tmp_path / "o.json"), mode="x"),
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda r: r.log_artifact(name="x", value=[1], handler="json"),
        lambda r: r.save(),
        lambda r: r.set_artifact_expiry("features", version=0),
    ],
    ids=["log", "save", "expiry"],
)
def test_writes_to_a_read_only_repository(saved: tuple[str, str], call: Any) -> None:
    theirs, ours = saved
    same_failure(
        lambda: call(lazyscribe.Repository(theirs, mode="r")),
        lambda: call(archivist.Repository(ours, mode="r")),
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda r: r.load_artifact("missing"),
        lambda r: r.load_artifact(name="features", version=99),
        lambda r: r.load_artifact(name="features", version="not a time"),
        lambda r: r.load_artifact(name="features", version=0, match="nearest"),
        lambda r: r.load_artifact(name="features", version=datetime(2000, 1, 1), match="asof"),
        lambda r: r.get_artifact_metadata("missing"),
        lambda r: r.get_version_diff("missing", 0),
        lambda r: r.get_version_diff("model", 0),
        lambda r: r["missing"],
        lambda r: r.filter([("missing", 0)]),
    ],
    ids=[
        "missing-name",
        "missing-version",
        "bad-version",
        "bad-match",
        "predates",
        "metadata-missing",
        "diff-missing",
        "diff-binary",
        "getitem",
        "filter-missing",
    ],
)
def test_lookups(saved: tuple[str, str], call: Any) -> None:
    theirs, ours = saved
    same_failure(
        lambda: call(lazyscribe.Repository(theirs, mode="r")),
        lambda: call(archivist.Repository(ours, mode="r")),
    )


def test_unknown_handler(tmp_path: Path) -> None:
    same_failure(
        lambda: lazyscribe.Repository(str(tmp_path / "t.json"), mode="w").log_artifact(
            name="x", value=1, handler="no-such-handler"
        ),
        lambda: archivist.Repository(str(tmp_path / "o.json"), mode="w").log_artifact(
            name="x", value=1, handler="no-such-handler"
        ),
    )


def test_unsaved_versions(tmp_path: Path) -> None:
    def unsaved(lib: Any, name: str) -> Any:
        repository = lib.Repository(str(tmp_path / name / "repository.json"), mode="w")
        repository.log_artifact(name="features", value=[0], handler="json")
        return repository

    raised = same_failure(
        lambda: unsaved(lazyscribe, "t1").load_artifact("features"),
        lambda: unsaved(archivist, "o1").load_artifact("features"),
    )
    assert isinstance(raised, FileNotFoundError)
    same_failure(
        lambda: unsaved(lazyscribe, "t2").get_version_diff("features", 0),
        lambda: unsaved(archivist, "o2").get_version_diff("features", 0),
    )


def test_a_handler_that_cannot_write(tmp_path: Path) -> None:
    def save(lib: Any, name: str) -> None:
        repository = lib.Repository(str(tmp_path / name / "repository.json"), mode="w")
        repository.log_artifact(name="features", value={1, 2}, handler="json")  # a set
        repository.save()

    same_failure(lambda: save(lazyscribe, "t"), lambda: save(archivist, "o"))


def test_a_different_environment(saved: tuple[str, str]) -> None:
    for path in saved:
        records = json.loads(Path(path).read_text())
        for record in records:
            if record["handler"] == "pickle":
                record["python_version"] = "2.7"
        Path(path).write_text(json.dumps(records))
    theirs, ours = saved
    same_failure(
        lambda: lazyscribe.Repository(theirs, mode="r").load_artifact("model"),
        lambda: archivist.Repository(ours, mode="r").load_artifact("model"),
    )


def test_a_missing_file(saved: tuple[str, str]) -> None:
    for path in saved:
        for file in (Path(path).parent / "model").iterdir():
            file.unlink()
    theirs, ours = saved
    same_failure(
        lambda: lazyscribe.Repository(theirs, mode="r").load_artifact("model"),
        lambda: archivist.Repository(ours, mode="r").load_artifact("model"),
    )


def test_filter_with_unsaved_changes(saved: tuple[str, str]) -> None:
    def filtered(lib: Any, path: str) -> Any:
        repository = lib.Repository(path, mode="w+")
        repository.log_artifact(name="features", value=[5], handler="json")
        return repository.filter("2100-01-01T00:00:00")

    same_failure(lambda: filtered(lazyscribe, saved[0]), lambda: filtered(archivist, saved[1]))


def _releases(lib: Any) -> list[Any]:
    return [
        lib.Release("v1", [("features", 0)], datetime(2026, 1, 1)),
        lib.Release("v2", [("features", 1)], datetime(2026, 2, 1)),
    ]


@pytest.mark.parametrize(
    "call",
    [
        lambda m, rs: m.find_release([]),
        lambda m, rs: m.find_release([], "v1"),
        lambda m, rs: m.find_release(rs, "v9"),
        lambda m, rs: m.find_release(rs, "v1", match="asof"),
        lambda m, rs: m.find_release(rs, datetime(2025, 1, 1), match="asof"),
        lambda m, rs: m.find_release(rs, datetime(2026, 1, 2)),
        lambda m, rs: m.find_release(rs, datetime(2026, 1, 2), match="nearest"),
    ],
    ids=["empty", "empty-tag", "tag", "asof-tag", "predates", "exact-time", "bad-match"],
)
def test_find_release(call: Any) -> None:
    same_failure(
        lambda: call(lazy_release, _releases(lazy_release)),
        lambda: call(lzr, _releases(lzr)),
    )


@pytest.mark.filterwarnings("ignore:Release version formats:DeprecationWarning")
@pytest.mark.parametrize(
    "cfg",
    [
        '[project]\nversion = "1.0"\n',
        '[project]\nname = "x"\n[tool.lazyscribe]\nrepositories = ["r/repository.json"]\n',
        '[project]\nversion = "1.0"\n[tool.lazyscribe]\nformat = "{version}"\n',
    ],
    ids=["no-table", "no-version", "no-repositories"],
)
def test_release_from_toml_configuration(cfg: str) -> None:
    def ours() -> None:
        if "format" not in cfg:
            lzr.release_from_toml(cfg)
            return
        with pytest.warns(DeprecationWarning, match="formats were deprecated"):
            lzr.release_from_toml(cfg)

    same_failure(lambda: lazy_release.release_from_toml(cfg), ours)


def test_a_second_artifact_of_one_name_on_an_experiment(tmp_path: Path) -> None:
    def log_twice(lib: Any, folder: str) -> Callable[[], None]:
        def run() -> None:
            project = lib.Project(str(tmp_path / folder / "project.json"), mode="w")
            with project.log("exp") as exp:
                exp.log_artifact(name="features", value=[1], handler="json")
                exp.log_artifact(name="features", value=[2], handler="json")

        return run

    raised = same_failure(log_twice(lazyscribe, "theirs"), log_twice(archivist, "ours"))
    assert isinstance(raised, archivist.errors.AlreadyExistsError)


def test_a_storage_failure_while_saving(failing: Any) -> None:
    def save(lib: Any) -> None:
        options = {"single_writer": True} if lib is archivist else {}
        url = f"archfail://{uuid.uuid4().hex}/repository.json"
        repository = lib.Repository(url, mode="w", **options)
        repository.log_artifact(name="features", value=[0], handler="json")
        repository.save()

    failing.fail = "write"
    raised = same_failure(lambda: save(lazyscribe), lambda: save(archivist))
    assert isinstance(raised, archivist.errors.StorageError)


def test_a_storage_failure_while_loading_is_not_a_save_failure(failing: Any) -> None:
    url = f"archfail://{uuid.uuid4().hex}/repository.json"
    writer = archivist.Repository(url, mode="w", single_writer=True)
    # a value of its own: a cached copy of the same bytes would be read instead
    writer.log_artifact(name="features", value=[uuid.uuid4().hex], handler="json")
    writer.save()
    their_url = f"archfail://{uuid.uuid4().hex}/repository.json"
    theirs = lazyscribe.Repository(their_url, mode="w")
    theirs.log_artifact(name="features", value=[0], handler="json")
    theirs.save()
    failing.fail = "read"
    raised = same_failure(
        lambda: lazyscribe.Repository(their_url, mode="r").load_artifact("features"),
        lambda: archivist.Repository(url, mode="r").load_artifact("features"),
    )
    assert not isinstance(raised, archivist.exception.SaveError)
