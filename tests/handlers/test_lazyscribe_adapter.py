"""lazyscribe handler packages work in archivist through the adapter."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime
from io import IOBase
from pathlib import Path
from typing import IO, Any, ClassVar

import lazyscribe
import pytest
from attrs import define, field
from lazyscribe.artifacts.base import Artifact

import archivist
from archivist import Handler, Project, Repository
from archivist.errors import ArchivistWarning, EnvironmentMismatchError, PluginLoadError
from archivist.handlers import lazyscribe as adapter_module
from archivist.handlers.lazyscribe import LazyscribeHandler, adapt
from archivist.plugin import manager


def rebuild_registry() -> None:
    manager._PLUGINS._invalidate()


def test_installed_lazyscribe_handlers_are_adapted() -> None:
    table = archivist.handlers()
    assert issubclass(table["yaml"], LazyscribeHandler)
    assert table["yaml"].suffix == "yaml"
    assert table["yaml"].binary is False
    assert "yaml12" in table
    # lazyscribe's own json and pickle stay archivist's built-ins
    assert not issubclass(table["json"], LazyscribeHandler)
    assert not issubclass(table["pickle"], LazyscribeHandler)
    assert "base" not in table


def test_yaml_round_trip_both_ways(tmp_path: Path) -> None:
    value = {"features": ["a", "b"], "depth": 3}
    ours = tmp_path / "ours" / "repository.json"
    repository = Repository(ours, mode="w")
    repository.log_artifact("config", value, handler="yaml")
    repository.save()
    assert Repository(ours, mode="r").load_artifact("config") == value
    assert lazyscribe.Repository(str(ours), mode="r").load_artifact("config") == value

    theirs = tmp_path / "theirs" / "repository.json"
    written = lazyscribe.Repository(str(theirs), mode="w")
    written.log_artifact("config", value, handler="yaml")
    written.save()
    assert Repository(theirs, mode="r").load_artifact("config") == value


def test_yaml_in_a_project(tmp_path: Path) -> None:
    path = tmp_path / "project.json"
    project = Project(path, mode="w")
    with project.log("exp") as exp:
        exp.log_artifact("config", {"a": 1}, handler="yaml")
    project.save()
    assert Project(path, mode="r")["exp"].load_artifact("config") == {"a": 1}
    assert lazyscribe.Project(str(path), mode="r")["exp"].load_artifact("config") == {"a": 1}


@define(auto_attribs=True)
class VersionedText(Artifact):
    """A lazyscribe handler recording an environment fact, as PickleArtifact does."""

    alias: ClassVar[str] = "versioned-text"
    suffix: ClassVar[str] = "txt"
    binary: ClassVar[bool] = False
    output_only: ClassVar[bool] = False
    python_version: str = field(default="")
    note: str = field(default="", eq=False)

    @classmethod
    def construct(
        cls,
        name: str,
        value: Any = None,
        fname: str | None = None,
        created_at: datetime | None = None,
        expiry: datetime | None = None,
        writer_kwargs: dict[str, Any] | None = None,
        version: int = 0,
        dirty: bool = True,
        **kwargs: Any,
    ) -> VersionedText:
        created_at = created_at or datetime(2026, 1, 1)
        return cls(  # type: ignore[call-arg]
            name=name,
            value=value,
            fname=fname or f"{name}.txt",
            created_at=created_at,
            expiry=expiry,
            writer_kwargs=writer_kwargs or {},
            version=version,
            dirty=dirty,
            python_version=kwargs.get("python_version") or ".".join(map(str, sys.version_info[:2])),
            note="recorded",
        )

    @classmethod
    def read(cls, buf: IOBase, **kwargs: Any) -> Any:
        return buf.read()  # type: ignore[attr-defined]

    @classmethod
    def write(cls, obj: Any, buf: IOBase, **kwargs: Any) -> None:
        buf.write(obj)  # type: ignore[attr-defined]


@pytest.fixture
def versioned_text() -> Iterator[type[Handler]]:
    handler = adapt(VersionedText)
    name = archivist.register(handler)
    try:
        yield handler
    finally:
        archivist.unregister(name)


def test_adapter_records_and_checks_the_environment(
    tmp_path: Path, versioned_text: type[Handler]
) -> None:
    assert versioned_text().environment() == {
        "python_version": ".".join(map(str, sys.version_info[:2]))
    }
    path = tmp_path / "repository.json"
    repository = Repository(path, mode="w")
    repository.log_artifact("text", "hello", handler="versioned-text")
    repository.save()
    record = Repository(path, mode="r").get_artifact_metadata("text")
    assert record["note"] == "recorded"
    assert record["python_version"] == ".".join(map(str, sys.version_info[:2]))
    text = path.read_text().replace(
        f'"python_version": "{record["python_version"]}"', '"python_version": "2.7"'
    )
    path.write_text(text)
    with pytest.raises(EnvironmentMismatchError, match="python_version"):
        Repository(path, mode="r").load_artifact("text")


def test_adapt_rejects_non_handlers() -> None:
    with pytest.raises(PluginLoadError, match="lacks"):
        adapt(type("NotAHandler", (), {"alias": "x"}))


@pytest.fixture
def broken_distribution(tmp_path: Path) -> Iterator[str]:
    site = tmp_path / "site"
    info = site / "broken_lazyscribe_handler-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: broken-lazyscribe-handler\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(
        "[lazyscribe.artifact_type]\nbroken-format = no_such_module_anywhere:Handler\n"
    )
    sys.path.insert(0, str(site))
    rebuild_registry()
    try:
        yield "broken-format"
    finally:
        sys.path.remove(str(site))
        rebuild_registry()


def test_a_broken_entry_point_fails_only_when_used(
    tmp_path: Path, broken_distribution: str
) -> None:
    table = archivist.handlers()  # discovery does not fail
    assert broken_distribution in table
    repository = Repository(tmp_path / "repository.json", mode="w")
    repository.log_artifact("ok", [1], handler="json")
    with pytest.raises(PluginLoadError, match="broken-format") as info:
        repository.log_artifact("bad", [1], handler=broken_distribution)
    message = str(info.value)
    assert "broken-lazyscribe-handler" in message
    assert "no_such_module_anywhere" in message
    assert isinstance(info.value.__cause__, ImportError)
    repository.save()
    assert Repository(tmp_path / "repository.json", mode="r").load_artifact("ok") == [1]


def test_a_native_handler_wins_over_a_lazyscribe_alias() -> None:
    class NativeYAML(Handler):
        alias: ClassVar[str] = "yaml"
        suffix: ClassVar[str] = "yml"
        binary: ClassVar[bool] = False

        def write(self, value: Any, stream: IO[Any], **kwargs: Any) -> None:
            stream.write(repr(value))

        def read(self, stream: IO[Any], **kwargs: Any) -> Any:
            return stream.read()

    name = archivist.register(NativeYAML)
    manager._PLUGINS._warned.discard(("handler alias", "yaml"))
    try:
        with pytest.warns(ArchivistWarning, match="lazyscribe-yaml"):
            assert archivist.get_handler("yaml") is NativeYAML
    finally:
        archivist.unregister(name)
    assert issubclass(archivist.get_handler("yaml"), LazyscribeHandler)


def test_discovery_can_be_disabled_or_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        monkeypatch.setenv(manager.DISABLE_AUTOLOAD_ENV, "1")
        rebuild_registry()
        assert "yaml" not in archivist.handlers()
        monkeypatch.delenv(manager.DISABLE_AUTOLOAD_ENV)
        monkeypatch.setattr(adapter_module.importlib.util, "find_spec", lambda name: None)
        assert adapter_module.discover() == []
    finally:
        monkeypatch.undo()
        rebuild_registry()
    assert "yaml" in archivist.handlers()


@pytest.fixture
def tattletale_distribution(tmp_path: Path) -> Iterator[str]:
    """A lazyscribe handler package whose import is visible in ``sys.modules``."""
    site = tmp_path / "site"
    info = site / "tattletale_handler-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: tattletale-handler\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(
        "[lazyscribe.artifact_type]\ntattletale = tattletale_handler:TattletaleArtifact\n"
    )
    (site / "tattletale_handler.py").write_text(
        "from lazyscribe.artifacts.json import JSONArtifact\n"
        "class TattletaleArtifact(JSONArtifact):\n"
        "    alias = 'tattletale'\n"
    )
    sys.path.insert(0, str(site))
    rebuild_registry()
    try:
        yield "tattletale_handler"
    finally:
        sys.path.remove(str(site))
        sys.modules.pop("tattletale_handler", None)
        adapter_module._ADAPTERS.clear()
        rebuild_registry()


def test_resolving_one_alias_imports_only_its_lazyscribe_package(
    tmp_path: Path, tattletale_distribution: str
) -> None:
    # lazyscribe imports only the package of the alias it is asked for; so does archivist, so
    # that logging a YAML file neither waits for nor can be broken by, say, onnx's import.
    archivist.load_plugins()
    assert issubclass(archivist.get_handler("yaml"), LazyscribeHandler)
    repository = Repository(tmp_path / "repository.json", mode="w")
    repository.log_artifact("config", {"a": 1}, handler="yaml")
    repository.save()
    assert Repository(tmp_path / "repository.json", mode="r").load_artifact("config") == {"a": 1}
    assert tattletale_distribution not in sys.modules
    assert archivist.get_handler("tattletale").suffix == "json"
    assert tattletale_distribution in sys.modules
    sys.modules.pop(tattletale_distribution)
    adapter_module._ADAPTERS.clear()
    rebuild_registry()
    assert "tattletale" in archivist.handlers()  # the full listing imports every package
    assert tattletale_distribution in sys.modules


def test_registering_a_handler_imports_no_lazyscribe_package(
    tattletale_distribution: str, versioned_text: type[Handler]
) -> None:
    assert archivist.get_handler("versioned-text") is versioned_text
    assert tattletale_distribution not in sys.modules
