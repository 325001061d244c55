"""Experiments, tests and projects behave as lazyscribe 2.2.2's, side by side.

Each scenario runs the same code under lazyscribe and archivist and compares what a user
sees: the artifact objects of ``exp.artifacts`` and ``test.artifacts``, the errors of
read-only experiments and tests, the warnings of ``output_only`` handlers, the times of a
re-created experiment, the order of ``project.experiments``, and artifacts logged by hand.
"""

from __future__ import annotations

import gc
import io
import json
import os
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import attrs.exceptions
import lazyscribe
import lazyscribe.artifacts.base
import lazyscribe.artifacts.json
import pytest
from attrs import define

import archivist
import archivist.artifacts.json
import archivist.errors
import archivist.exception

MODULES = pytest.mark.parametrize(
    "module", [lazyscribe, archivist], ids=["lazyscribe", "archivist"]
)
T0 = datetime(2024, 3, 1, 12, 0, 0)


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def text_handler(alias: str, suffix: str, output_only: bool, render: Any) -> Any:
    """Define a text handler against lazyscribe's base, as its custom-handler guide does."""

    def construct(cls: Any, name: str, value: Any = None, **kwargs: Any) -> Any:
        created_at = kwargs.get("created_at") or T0
        return cls(
            name=name,
            value=value,
            fname=kwargs.get("fname") or f"{name}-{created_at:%Y%m%d%H%M%S}.{suffix}",
            writer_kwargs=kwargs.get("writer_kwargs") or {},
            created_at=created_at,
            expiry=kwargs.get("expiry"),
            version=kwargs.get("version", 0),
            dirty=kwargs.get("dirty", True),
        )

    def read(cls: Any, buf: Any, **kwargs: Any) -> Any:
        return buf.read()

    def write(cls: Any, obj: Any, buf: Any, **kwargs: Any) -> None:
        buf.write(render(obj))

    namespace = {
        "__annotations__": {
            "alias": ClassVar[str],
            "suffix": ClassVar[str],
            "binary": ClassVar[bool],
            "output_only": ClassVar[bool],
        },
        "alias": alias,
        "suffix": suffix,
        "binary": False,
        "output_only": output_only,
        "executes_code": False,  # archivist's trust policy: reading runs no code of the file
        "construct": classmethod(construct),
        "read": classmethod(read),
        "write": classmethod(write),
        "__module__": __name__,
    }
    name = "".join(part.capitalize() for part in alias.split("-")) + "Artifact"
    return define(auto_attribs=True)(type(name, (lazyscribe.artifacts.base.Artifact,), namespace))


#: A custom handler written against lazyscribe: text stored upper-cased.
UpperArtifact = text_handler("shouted-text", "txt", False, lambda obj: str(obj).upper())
#: An ``output_only`` handler: what is read back is a rendering, not the value.
RenderedArtifact = text_handler("rendered-text", "html", True, lambda obj: f"<p>{obj}</p>")


# attrs' slotted classes replace the class they decorate; lazyscribe scans the subclasses of
# its base and would find the replaced one until it is collected
gc.collect()


def json_artifact_class(module: Any) -> type:
    return (
        lazyscribe.artifacts.json.JSONArtifact
        if module is lazyscribe
        else (archivist.artifacts.json.JSONArtifact)
    )


def saved_project(module: Any) -> None:
    project = module.Project("project.json", mode="w", author="ada")
    with project.log("My experiment") as exp:
        exp.log_metric("auc", 0.5)
        exp.log_artifact(name="features", value=[1, 2], handler="json")
        exp.log_artifact(name="shout", value="hello", handler="shouted-text")
        with exp.log_test("Region") as test:
            test.log_metric("auc", 0.4)
            test.log_artifact(name="sample", value={"a": 1}, handler="json")
    project.save()


# -- 1. exp.artifacts / test.artifacts hold handler objects ----------------------------------


@MODULES
def test_artifacts_are_handler_objects(module: Any) -> None:
    json_class = json_artifact_class(module)
    project = module.Project("project.json", mode="w", author="ada")
    with project.log("My experiment") as exp:
        exp.log_artifact(name="features", value=[1, 2], handler="json")
        exp.log_artifact(name="shout", value="hello", handler="shouted-text")
        with exp.log_test("Region") as test:
            test.log_artifact(name="sample", value={"a": 1}, handler="json")
    features, shout = exp.artifacts
    assert isinstance(features, json_class)
    assert isinstance(shout, UpperArtifact)
    assert isinstance(exp.tests[0].artifacts[0], json_class)
    assert (features.name, features.value, features.dirty) == ("features", [1, 2], True)
    buf = io.StringIO()
    features.write(features.value, buf)
    assert features.read(io.StringIO(buf.getvalue())) == [1, 2]
    shout.fname = "custom-name.txt"  # settable, and the save follows it
    project.save()
    assert not features.dirty and not shout.dirty
    assert (exp.path / "custom-name.txt").read_text() == "HELLO"
    for mode in ("r", "w+"):
        loaded = module.Project("project.json", mode=mode)["my-experiment"]
        features, shout = loaded.artifacts
        assert isinstance(features, json_class), mode
        assert isinstance(shout, UpperArtifact), mode
        assert isinstance(loaded.tests[0].artifacts[0], json_class), mode
        assert (features.name, features.value, features.dirty) == ("features", None, False)
        assert shout.fname == "custom-name.txt"
        assert loaded.load_artifact("shout") == "HELLO"
        assert loaded.tests[0].load_artifact("sample") == {"a": 1}


def test_artifact_records_are_the_same() -> None:
    for module in (lazyscribe, archivist):
        Path(module.__name__).mkdir()
        project = module.Project(f"{module.__name__}/project.json", mode="w", author="ada")
        exp = module.Experiment(
            name="My experiment", project=project.fpath, author="ada", created_at=T0
        )
        exp.log_artifact(name="shout", value="hello", handler="shouted-text")
        exp.artifacts[0].fname = "shout.txt"
        exp.artifacts[0].created_at = T0  # the same second in both
        exp.last_updated = T0
        project.experiments.append(exp)
        project.save()
    ours = json.loads(Path("archivist/project.json").read_text())
    theirs = json.loads(Path("lazyscribe/project.json").read_text())
    for artifact in ours[0]["artifacts"]:
        assert artifact.pop("size") == len("HELLO")
        artifact.pop("sha256")
    assert ours == theirs
    # and each library reads the other's project, handler object and file
    for module, other in ((lazyscribe, archivist), (archivist, lazyscribe)):
        exp = module.Project(f"{other.__name__}/project.json", mode="r")["my-experiment"]
        assert isinstance(exp.artifacts[0], UpperArtifact)
        assert exp.load_artifact("shout") == "HELLO"


# -- 2. read-only experiments and tests raise FrozenInstanceError ----------------------------


@MODULES
def test_read_only_errors_are_frozen_instance_errors(module: Any) -> None:
    saved_project(module)
    exp = module.Project("project.json", mode="r")["my-experiment"]
    test = exp.tests[0]
    refusals = [
        lambda: setattr(exp, "name", "x"),
        lambda: setattr(exp, "metrics", {}),
        lambda: exp.log_metric("auc", 1.0),
        lambda: exp.log_parameter("depth", 1),
        lambda: exp.tag("x"),
        lambda: exp.log_artifact(name="other", value=[1], handler="json"),
        lambda: setattr(test, "name", "x"),
        lambda: test.log_metric("auc", 1.0),
        lambda: test.log_parameter("rows", 1),
        lambda: test.log_artifact(name="other", value=[1], handler="json"),
    ]
    for refuse in refusals:
        with pytest.raises(attrs.exceptions.FrozenInstanceError) as info:
            refuse()
        assert isinstance(info.value, AttributeError)
        if module is archivist:
            assert isinstance(info.value, archivist.errors.ReadOnlyError)
            assert isinstance(info.value, archivist.exception.ReadOnlyError)
    assert module.Project("project.json", mode="r")["my-experiment"].metrics == {"auc": 0.5}


# -- 3. output_only handlers warn on experiments and tests -----------------------------------


def output_only_warnings(module: Any) -> list[str]:
    messages: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        project = module.Project("project.json", mode="w", author="ada")
        with project.log("My experiment") as exp:
            exp.log_artifact(name="page", value="hi", handler="rendered-text")
            with exp.log_test("Region") as test:
                test.log_artifact(name="test-page", value="ho", handler="rendered-text")
        messages.append("-- logged")
        project.save()
        messages.append("-- saved")
        loaded = module.Project("project.json", mode="r")["my-experiment"]
        assert loaded.load_artifact("page") == "<p>hi</p>"
        assert loaded.tests[0].load_artifact("test-page") == "<p>ho</p>"
    for warning in caught:
        if issubclass(warning.category, UserWarning) and "Artifact" in str(warning.message):
            messages.append(f"{warning.category.__name__}: {warning.message}")
    return messages


def test_output_only_handlers_warn_as_in_lazyscribe(tmp_path: Path) -> None:
    (tmp_path / "theirs").mkdir()
    (tmp_path / "ours").mkdir()
    os.chdir(tmp_path / "theirs")
    theirs = output_only_warnings(lazyscribe)
    os.chdir(tmp_path / "ours")
    ours = output_only_warnings(archivist)
    assert sorted(ours) == sorted(theirs)
    assert len(theirs) == 2 + 6  # log, save and load, for the experiment and the test


# -- 4. created_at without last_updated -------------------------------------------------------


@MODULES
def test_created_at_alone_leaves_last_updated_at_now(module: Any) -> None:
    before = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)
    exp = module.Experiment(name="My experiment", project=Path("project.json"), created_at=T0)
    assert exp.created_at == T0
    assert exp.last_updated >= before
    again = module.Experiment(
        name="My experiment", project=Path("project.json"), created_at=T0, last_updated=T0
    )
    assert again.last_updated == T0
    assert again < exp  # same slug: the one updated last is newer


# -- 5. project.experiments order and project["short-slug"] ---------------------------------


def ordering(module: Any) -> tuple[list[str], list[str], str, list[str]]:
    project = module.Project("project.json", mode="w", author="ada")
    made = []
    for i, (created, updated) in enumerate([(2, 5), (1, 9), (3, 1), (2, 2)]):
        exp = module.Experiment(
            name="Model",
            project=project.fpath,
            author="ada",
            created_at=T0 + timedelta(hours=created),
            last_updated=T0 + timedelta(hours=updated),
            slug=f"model-{i % 2}",
        )
        made.append(exp)
        project.append(exp)
        if i == 1:
            made[0].created_at = T0 + timedelta(hours=7)  # edited after it was appended
    appended = [f"{e.slug}@{e.last_updated:%H}" for e in project.experiments]
    latest = project["model"]
    got = f"{latest.slug}@{latest.last_updated:%H}"
    project.save()
    loaded = module.Project("project.json", mode="r")
    reloaded = [f"{e.slug}@{e.last_updated:%H}" for e in loaded.experiments]
    chosen = loaded["model"]
    return appended, reloaded, got, [f"{chosen.slug}@{chosen.last_updated:%H}"]


def test_experiment_order_is_lazyscribe_s(tmp_path: Path) -> None:
    results = []
    for module in (lazyscribe, archivist):
        (tmp_path / module.__name__).mkdir()
        os.chdir(tmp_path / module.__name__)
        results.append(ordering(module))
    assert results[1] == results[0]


# -- 6. an artifact logged by hand loads before the project is saved -------------------------


@MODULES
def test_artifact_logged_by_hand_loads_before_the_save(module: Any) -> None:
    json_class = json_artifact_class(module)
    project = module.Project("project.json", mode="w", author="ada")
    with project.log("My experiment") as exp:
        exp.log_metric("auc", 0.5)
        with exp.log_test("Region") as test:
            pass
    for owner, folder in ((exp, exp.path), (test, test.path)):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "notes.json").write_text(json.dumps({"by": "hand"}))
        owner.artifacts.append(
            json_class.construct(name="notes", fname="notes.json", created_at=T0, dirty=False)
        )
        assert owner.load_artifact("notes") == {"by": "hand"}
    project.save()
    loaded = module.Project("project.json", mode="r")["my-experiment"]
    assert loaded.load_artifact("notes") == {"by": "hand"}
    assert loaded.tests[0].load_artifact("notes") == {"by": "hand"}


@MODULES
def test_a_missing_file_is_a_file_not_found_error(module: Any) -> None:
    json_class = json_artifact_class(module)
    project = module.Project("project.json", mode="w", author="ada")
    with project.log("My experiment") as exp:
        exp.artifacts.append(
            json_class.construct(name="notes", fname="notes.json", created_at=T0, dirty=False)
        )
        exp.log_artifact(name="features", value=[1], handler="json")
    for name in ("notes", "features"):
        with pytest.raises(FileNotFoundError):
            exp.load_artifact(name)


def test_read_only_metrics_change_lazyscribe_s_file_not_archivist_s(tmp_path: Path) -> None:
    """Why archivist's read-only views refuse in-place changes (the migration guide's reason)."""
    for module in (lazyscribe, archivist):
        folder = tmp_path / module.__name__
        folder.mkdir()
        os.chdir(folder)
        saved_project(module)
        project = module.Project("project.json", mode="a")
        exp = project["my-experiment"]
        if module is lazyscribe:
            exp.metrics["auc"] = 1.0  # accepted in memory, and written by the next save
            project.save()
            assert json.loads(Path("project.json").read_text())[0]["metrics"] == {"auc": 1.0}
        else:
            with pytest.raises(attrs.exceptions.FrozenInstanceError):
                exp.metrics["auc"] = 1.0
            project.save()
            assert json.loads(Path("project.json").read_text())[0]["metrics"] == {"auc": 0.5}


def merged_order(module: Any) -> list[str]:
    def project_of(*specs: tuple[int, int, int]) -> Any:
        project = module.Project("project.json", mode="w", author="ada")
        for slug, created, updated in specs:
            project.append(
                module.Experiment(
                    name="Model",
                    project=project.fpath,
                    author="ada",
                    created_at=T0 + timedelta(hours=created),
                    last_updated=T0 + timedelta(hours=updated),
                    slug=f"model-{slug}",
                )
            )
        return project

    mine = project_of((0, 1, 4), (1, 2, 2))
    theirs = project_of((0, 3, 1), (2, 1, 6))
    others = project_of((1, 0, 9))
    merged = mine.merge(theirs, others)
    return [f"{e.slug}@{e.last_updated:%H}" for e in merged.experiments]


def test_merge_order_is_lazyscribe_s_and_keeps_the_newest_edit() -> None:
    ours, theirs = merged_order(archivist), merged_order(lazyscribe)
    assert [e.split("@")[0] for e in ours] == [e.split("@")[0] for e in theirs]
    # lazyscribe's insertion order (inconsistent across slugs) keeps model-0 updated at
    # 13h, dropping the edit of 16h; archivist keeps the one updated last
    assert ours == ["model-2@18", "model-1@21", "model-0@16"]
    assert theirs == ["model-2@18", "model-1@21", "model-0@13"]
