"""archivist.artifacts: lazyscribe's artifact classes, subclass scanning, artifact objects."""

from __future__ import annotations

import json
import pickle
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from attrs import define

import archivist
from archivist.artifacts import (
    HandlerArtifact,
    JSONArtifact,
    PickleArtifact,
    _get_handler,
    artifact_class,
    find_subclass,
)
from archivist.artifacts.base import Artifact
from archivist.errors import UnknownHandlerError
from archivist.handlers import Handler
from archivist.testing import registered


class Versioned(Handler):
    """A native handler (not one of lazyscribe's classes) that records an environment key,
    as joblib's records ``joblib_version``."""

    alias: ClassVar[str] = "test-versioned"
    suffix: ClassVar[str] = "vjson"
    binary: ClassVar[bool] = True

    def write(self, value: Any, stream: Any, **kwargs: Any) -> None:
        stream.write(json.dumps(value).encode())

    def read(self, stream: Any, **kwargs: Any) -> Any:
        return json.loads(stream.read())

    def environment(self) -> dict[str, Any]:
        return {"format_version": "1.4"}


@pytest.fixture
def native() -> Any:
    """Register the native handler for one test."""
    with registered(Versioned):
        yield artifact_class(Versioned.alias)


@define(auto_attribs=True)
class CsvRows(Artifact):
    alias: ClassVar[str] = "test-csv-rows"
    suffix: ClassVar[str] = "csv"
    binary: ClassVar[bool] = False
    output_only: ClassVar[bool] = False

    @classmethod
    def construct(cls, name: str, value: Any = None, **kwargs: Any) -> CsvRows:
        return cls(
            name=name,
            value=value,
            fname=kwargs.get("fname") or f"{name}.csv",
            writer_kwargs=kwargs.get("writer_kwargs") or {},
            created_at=kwargs.get("created_at") or datetime(2026, 1, 1),
            expiry=kwargs.get("expiry"),
            version=kwargs.get("version", 0),
            dirty=kwargs.get("dirty", True),
        )

    @classmethod
    def read(cls, buf: Any, **kwargs: Any) -> Any:
        return [line.split(",") for line in buf.read().splitlines()]

    @classmethod
    def write(cls, obj: Any, buf: Any, **kwargs: Any) -> None:
        buf.write("\n".join(",".join(row) for row in obj))


def test_builtin_aliases_map_to_lazyscribe_s_classes() -> None:
    assert artifact_class("json") is JSONArtifact is _get_handler("json")
    assert artifact_class("pickle") is PickleArtifact
    with pytest.raises(UnknownHandlerError) as info:
        _get_handler("no-such-handler")
    assert isinstance(info.value, ValueError)  # lazyscribe raised ValueError


def test_native_handlers_are_described_by_handler_artifacts(memory_url: str, native: Any) -> None:
    repository = archivist.Repository(memory_url, mode="w")
    repository.log_artifact(name="model", value={"w": 1}, handler="test-versioned")
    repository.save()
    (artifact,) = archivist.Repository(memory_url, mode="r").artifacts
    assert isinstance(artifact, HandlerArtifact) and isinstance(artifact, native)
    assert (artifact.alias, artifact.binary, artifact.suffix) == ("test-versioned", True, "vjson")
    assert artifact.metadata["format_version"] == "1.4"
    assert artifact.format_version == artifact.metadata["format_version"]  # as lazyscribe's
    with pytest.raises(AttributeError):
        artifact.no_such_field  # noqa: B018
    assert artifact.record is not None and artifact.record.handler == "test-versioned"


def test_a_manifest_naming_an_unknown_handler_still_lists(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    repository = archivist.Repository(path, mode="w")
    repository.log_artifact(name="features", value=[1], handler="json")
    repository.save()
    records = json.loads(path.read_text())
    records[0]["handler"] = "gone-handler"
    path.write_text(json.dumps(records))
    reader = archivist.Repository(path, mode="r")
    (artifact,) = reader.artifacts
    assert artifact.alias == "gone-handler" and artifact.name == "features"
    with pytest.raises(UnknownHandlerError):
        reader.load_artifact("features")


def test_a_listing_describes_each_version_by_its_own_handler(memory_url: str, native: Any) -> None:
    repository = archivist.Repository(memory_url, mode="w")
    for i in range(2):
        repository.log_artifact(name="features", value=[i], handler="json")
        repository.log_artifact(name="model", value={"w": i}, handler="pickle")
        repository.log_artifact(name="native", value={"w": i}, handler="test-versioned")
    repository.save()
    repository.log_artifact(name="features", value=[2], handler="pickle")  # pending
    classes = [(a.name, a.version, type(a), a.dirty) for a in repository.artifacts]
    assert sorted(classes, key=lambda c: (c[0], c[1])) == [
        ("features", 0, JSONArtifact, False),
        ("features", 1, JSONArtifact, False),
        ("features", 2, PickleArtifact, True),
        ("model", 0, PickleArtifact, False),
        ("model", 1, PickleArtifact, False),
        ("native", 0, native, False),
        ("native", 1, native, False),
    ]


def test_subclass_scanning_finds_user_classes(memory_url: str) -> None:
    assert find_subclass("test-csv-rows") is CsvRows
    assert find_subclass("json") is None  # archivist's own classes are not scanned
    handler = archivist.get_handler("test-csv-rows")
    assert handler is archivist.get_handler("test-csv-rows")  # one adapter per class
    repository = archivist.Repository(memory_url, mode="w")
    repository.log_artifact(name="rows", value=[["a", "1"], ["b", "2"]], handler="test-csv-rows")
    repository.save()
    reader = archivist.Repository(memory_url, mode="r")
    assert reader.load_artifact("rows") == [["a", "1"], ["b", "2"]]
    assert isinstance(reader["rows"], CsvRows)


def test_artifact_objects_pickle_with_their_value(memory_url: str, native: Any) -> None:
    repository = archivist.Repository(memory_url, mode="w")
    repository.log_artifact(name="model", value={"w": [1, 2]}, handler="pickle")
    repository.log_artifact(name="features", value=[1, 2], handler="json", indent=2)
    repository.log_artifact(name="native", value={"w": 3}, handler="test-versioned")
    for artifact in repository.artifacts:
        copy = pickle.loads(pickle.dumps(artifact))
        assert copy == artifact and copy.value == artifact.value
        assert copy.writer_kwargs == artifact.writer_kwargs
    logged = pickle.loads(pickle.dumps(repository.artifacts[2]))
    assert logged.format_version == "1.4"  # recorded at log time, as lazyscribe's construct


def test_construct_names_files_uniquely() -> None:
    when = datetime(2026, 1, 31, 12)
    first = JSONArtifact.construct(name="My Features", created_at=when)
    second = JSONArtifact.construct(name="My Features", created_at=when)
    assert first.fname.startswith("my-features-20260131120000-") and first.fname.endswith(".json")
    assert first.fname != second.fname
    assert PickleArtifact.construct(name="m", python_version="3.9").python_version == "3.9"


class SelfDescribing(archivist.Handler):
    """A handler whose metadata keys are Python parameter names of the artifact classes."""

    alias, suffix, binary = "test-self-describing", "json", False

    def write(self, value: Any, stream: Any, **kwargs: Any) -> None:
        json.dump(value, stream)

    def read(self, stream: Any, **kwargs: Any) -> Any:
        return json.load(stream)

    def metadata(self, value: Any) -> dict[str, Any]:
        return {"cls": "rows", "self": 1, "kwargs": {}, "metadata": 2}


def test_handler_metadata_named_like_constructor_parameters_lists(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    archivist.register(SelfDescribing)
    try:
        repository = archivist.Repository(path, mode="w")
        repository.log_artifact(name="rows", value=[1], handler=SelfDescribing.alias)
        repository.save()
        reader = archivist.Repository(path, mode="r")
        (artifact,) = reader.artifacts
        assert reader["rows"].name == artifact.name == "rows"
        metadata = {k: v for k, v in artifact.record.extra.items() if k != "blake3"}
        assert metadata == {"cls": "rows", "self": 1, "kwargs": {}, "metadata": 2}
        assert reader.load_artifact("rows") == [1]
    finally:
        archivist.unregister(SelfDescribing)


@pytest.mark.parametrize("handler", ["json", "pickle", "test-csv-rows"])
@pytest.mark.parametrize("field", ["cls", "self", "kwargs", "record"])
def test_manifest_fields_named_like_constructor_parameters_list(
    tmp_path: Path, handler: str, field: str
) -> None:
    path = tmp_path / "repository.json"
    repository = archivist.Repository(path, mode="w")
    repository.log_artifact(name="rows", value=[["a"]], handler=handler)
    repository.save()
    records = json.loads(path.read_text())
    records[0][field] = "from another tool"
    path.write_text(json.dumps(records))
    reader = archivist.Repository(path, mode="r")
    (artifact,) = reader.artifacts
    assert reader["rows"].name == artifact.name == "rows"
    assert artifact.record is None or artifact.record.extra[field] == "from another tool"
    assert reader.load_artifact("rows") == [["a"]]


@define(auto_attribs=True)
class StrictRows(Artifact):
    """A lazyscribe-style class whose construct takes no extra keywords."""

    alias: ClassVar[str] = "test-strict-rows"
    suffix: ClassVar[str] = "json"
    binary: ClassVar[bool] = False
    output_only: ClassVar[bool] = False

    @classmethod
    def construct(  # type: ignore[override]
        cls,
        name: str,
        value: Any = None,
        fname: str | None = None,
        created_at: datetime | None = None,
        expiry: datetime | None = None,
        writer_kwargs: dict[str, Any] | None = None,
        version: int = 0,
        dirty: bool = True,
    ) -> StrictRows:
        return cls(
            name=name,
            value=value,
            fname=fname or f"{name}.json",
            writer_kwargs=writer_kwargs or {},
            created_at=created_at or datetime(2026, 1, 1),
            expiry=expiry,
            version=version,
            dirty=dirty,
        )

    @classmethod
    def read(cls, buf: Any, **kwargs: Any) -> Any:
        return json.load(buf)

    @classmethod
    def write(cls, obj: Any, buf: Any, **kwargs: Any) -> None:
        json.dump(obj, buf)


def test_fields_a_construct_without_kwargs_cannot_take_are_left_to_the_record(
    tmp_path: Path,
) -> None:
    path = tmp_path / "repository.json"
    repository = archivist.Repository(path, mode="w")
    repository.log_artifact(name="rows", value=[1], handler=StrictRows.alias)
    repository.save()
    records = json.loads(path.read_text())
    records[0]["python_version"] = "3.11"
    path.write_text(json.dumps(records))
    reader = archivist.Repository(path, mode="r")
    assert isinstance(reader["rows"], StrictRows)
    assert reader.artifacts[0].fname == records[0]["fname"]
