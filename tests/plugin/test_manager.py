from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import IO, Any, ClassVar

import pytest

import archivist
from archivist import Handler, Repository
from archivist._backends.local import LocalBackend
from archivist.errors import (
    ArchivistWarning,
    DuplicatePluginError,
    PluginLoadError,
    UnknownBackendError,
    UnknownHandlerError,
)
from archivist.handlers.lazyscribe import LazyscribeHandler, adapt
from archivist.plugin import manager


class UpperText(Handler):
    alias: ClassVar[str] = "upper-text"
    suffix: ClassVar[str] = "txt"
    binary: ClassVar[bool] = False

    def write(self, value: Any, stream: IO[Any], **kwargs: Any) -> None:
        stream.write(str(value).upper())

    def read(self, stream: IO[Any], **kwargs: Any) -> Any:
        return stream.read()


class LoudJSON(Handler):
    alias: ClassVar[str] = "json"
    suffix: ClassVar[str] = "json"
    binary: ClassVar[bool] = False

    def write(self, value: Any, stream: IO[Any], **kwargs: Any) -> None:
        json.dump({"loud": value}, stream)

    def read(self, stream: IO[Any], **kwargs: Any) -> Any:
        return json.load(stream)


def test_builtins_register_through_the_hooks() -> None:
    assert {"json", "pickle"} <= set(archivist.handlers())
    assert {"file", "local", "memory"} <= set(archivist.backends())
    table = archivist.handlers()
    with pytest.raises(TypeError):
        table["x"] = UpperText  # type: ignore[index]
    impls = archivist.plugin_manager().hook.archivist_register_handlers.get_hookimpls()
    assert "archivist.handlers.hooks" in {impl.plugin_name for impl in impls}


def test_register_a_handler_class_at_runtime(repo_path: Path) -> None:
    name = archivist.register(UpperText)
    try:
        assert archivist.register(UpperText) == name  # idempotent
        repository = Repository(repo_path, mode="w")
        repository.log_artifact("shout", "hello", handler="upper-text")
        repository.save()
        assert Repository(repo_path, mode="r").load_artifact("shout") == "HELLO"
    finally:
        archivist.unregister(UpperText)
    with pytest.raises(UnknownHandlerError, match="upper-text"):
        Repository(repo_path, mode="r").load_artifact("shout")
    # the manifest still opens, and other artifacts would still load
    assert "shout" in Repository(repo_path, mode="r")


def test_duplicate_alias_is_refused_unless_overriding(repo_path: Path) -> None:
    with pytest.raises(DuplicatePluginError, match="'json' is claimed by more than one"):
        archivist.register(LoudJSON)
    assert archivist.get_handler("json") is not LoudJSON  # the failed registration left nothing
    archivist.register(LoudJSON, override=True)
    try:
        assert archivist.get_handler("json") is LoudJSON
        repository = Repository(repo_path, mode="w")
        repository.log_artifact("a", 1, handler="json")
        repository.save()
        assert repository.load_artifact("a") == {"loud": 1}
    finally:
        archivist.unregister(LoudJSON)
    assert archivist.get_handler("json").__name__ == "JSONHandler"


def test_classes_without_names_or_methods_are_refused() -> None:
    class NoAlias(Handler):
        suffix = "x"
        binary = True

        def write(self, value: Any, stream: IO[Any], **kwargs: Any) -> None: ...

        def read(self, stream: IO[Any], **kwargs: Any) -> Any: ...

    class Abstract(Handler):
        alias = "abstract"
        suffix = "x"
        binary = True

    class NoProtocols(LocalBackend):
        protocols = ()

    for bad in (NoAlias, Abstract, NoProtocols):
        with pytest.raises(PluginLoadError):
            archivist.register(bad)


def test_unknown_hooks_are_refused() -> None:
    class Typo:
        @archivist.hookimpl
        def archivist_register_handler(self) -> list[type[Handler]]:  # missing "s"
            return []

    with pytest.raises(PluginLoadError, match="archivist_register_handler"):
        archivist.register(Typo())


def test_register_a_backend_class(tmp_path: Path) -> None:
    class VaultBackend(LocalBackend):
        protocols: ClassVar[tuple[str, ...]] = ("vault",)

        def strip_protocol(self, url: str) -> str:
            return str(tmp_path / url.removeprefix("vault://"))

    archivist.register(VaultBackend)
    try:
        repository = Repository("vault://team/repository.json", mode="w")
        repository.log_artifact("a", [1], handler="json")
        repository.save()
        assert (tmp_path / "team" / "repository.json").is_file()
        assert Repository("vault://team/repository.json", mode="r").load_artifact("a") == [1]
    finally:
        archivist.unregister(VaultBackend)
    with pytest.raises(UnknownBackendError, match="vault"):
        Repository("vault://team/repository.json", mode="r")


def _fresh(monkeypatch: pytest.MonkeyPatch, *points: EntryPoint) -> manager._Plugins:
    monkeypatch.setattr(
        manager, "entry_points", lambda group: points if group == "archivist" else ()
    )
    return manager._Plugins()


def test_broken_entry_point_names_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = EntryPoint(name="broken", value="archivist_no_such_module.hooks", group="archivist")
    plugins = _fresh(monkeypatch, broken)
    with pytest.raises(PluginLoadError, match=r"'broken'.*archivist_no_such_module") as caught:
        plugins.load()
    assert isinstance(caught.value.__cause__, ImportError)


def test_entry_points_load_lazily_once(monkeypatch: pytest.MonkeyPatch) -> None:
    point = EntryPoint(name="upper", value=f"{__name__}:UpperPlugin", group="archivist")
    sys.modules.setdefault(__name__, sys.modules[__name__])
    plugins = _fresh(monkeypatch, point)
    assert not plugins._loaded  # nothing happens at construction
    assert plugins.handlers()["upper-text"] is UpperText
    assert plugins.load() is plugins.load()  # idempotent


def test_autoload_can_be_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = EntryPoint(name="broken", value="archivist_no_such_module", group="archivist")
    monkeypatch.setenv(manager.DISABLE_AUTOLOAD_ENV, "1")
    plugins = _fresh(monkeypatch, broken)
    assert set(plugins.handlers()) == {"json", "pickle"}


def test_unknown_names_suggest_the_distribution() -> None:
    code = """
import archivist
for call, name in ((archivist.get_handler, "parquet"), (archivist.get_backend, "s3"),
                   (archivist.get_backend, "abfs"), (archivist.get_handler, "nope")):
    try:
        call(name)
    except LookupError as exc:
        print(type(exc).__name__, exc)
"""
    env = dict(os.environ, ARCHIVIST_DISABLE_PLUGIN_AUTOLOAD="1")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[0].startswith("UnknownHandlerError no handler named 'parquet'")
    assert "Installed handlers: json, pickle." in out[0]
    assert "pip install ./plugins/archivist-parquet" in out[0]
    assert "not on the package index" in out[0]
    assert out[1].startswith("UnknownBackendError")
    assert "pip install ./plugins/archivist-s3" in out[1]
    assert "pip install ./plugins/archivist-azure" in out[2]
    assert "pip install" not in out[3]


def test_check_pending_passes_for_installed_plugins() -> None:
    archivist.check_pending()


class UpperPlugin:
    """An entry point target: a module-like object with a hook implementation."""

    @staticmethod
    @archivist.hookimpl
    def archivist_register_handlers() -> list[type[Handler]]:
        return [UpperText]


def test_the_hint_says_how_to_install_an_optional_distribution() -> None:
    assert "pip install ./plugins/archivist-parquet" in manager._install_hint("parquet")
    assert manager._install_hint("nope") == ""


def test_builtin_names_resolve_without_importing_plugins(tmp_path: Path) -> None:
    writer = Repository(tmp_path / "r.json", mode="w")
    writer.log_artifact("a", [1], handler="json")
    writer.save()
    code = f"""
import sys
from importlib.metadata import entry_points
import archivist
from archivist.plugin import manager

before = set(sys.modules)
assert archivist.get_handler("json").__name__ == "JSONHandler"
assert archivist.get_handler("pickle").__name__ == "PickleHandler"
assert archivist.get_backend("file").__name__ == "LocalBackend"
assert archivist.Repository({str(tmp_path / "r.json")!r}, mode="r").load_artifact("a") == [1]
plugin_modules = {{point.module.split(".")[0] for group in ("archivist", "lazyscribe.artifact_type")
                   for point in entry_points(group=group)}} - {{"archivist", "lazyscribe"}}
loaded = sorted(m for m in set(sys.modules) - before
                if m.split(".")[0] in plugin_modules | {{"yaml"}}
                or m == "archivist.handlers.lazyscribe")
print(loaded, manager._PLUGINS._loaded, sorted(plugin_modules))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[:2] == ["[]", "False"], out
    assert "lazyscribe_yaml" in " ".join(out)  # plugins are installed, just not imported


def test_after_discovery_a_builtin_alias_goes_through_the_registry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plugins = _fresh(monkeypatch)
    assert plugins.builtin_handler("json") is not None
    assert plugins.builtin_backend("file") is LocalBackend
    assert plugins.builtin_handler("upper-text") is None
    plugins.load()
    assert plugins.builtin_handler("json") is None  # overrides now apply
    assert plugins.builtin_backend("file") is None


class FindsUpper:
    """A plugin answering the last-resort lookups for names nothing registers."""

    asked: ClassVar[list[str]] = []

    @staticmethod
    @archivist.hookimpl
    def archivist_find_handler(alias: str) -> type[Handler] | None:
        FindsUpper.asked.append(alias)
        return UpperText if alias == "shouting" else None

    @staticmethod
    @archivist.hookimpl
    def archivist_find_backend(protocol: str) -> type[archivist.Backend] | None:
        FindsUpper.asked.append(protocol)
        return LocalBackend if protocol == "my-disk" else None


def test_last_resort_hooks_answer_names_nothing_registers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    FindsUpper.asked.clear()
    archivist.register(FindsUpper)
    try:
        assert archivist.get_handler("shouting") is UpperText
        assert archivist.get_backend("my-disk") is LocalBackend
        assert archivist.get_handler("json").alias == "json"  # registered: not asked
        with pytest.raises(UnknownHandlerError, match="no-such"):
            archivist.get_handler("no-such")
        with pytest.raises(UnknownBackendError):
            archivist.get_backend("no-such-protocol")
        assert FindsUpper.asked == ["shouting", "my-disk", "no-such", "no-such-protocol"]
        # a protocol an optional distribution serves is refused until it is installed
        optional = {**manager.OPTIONAL_DISTRIBUTIONS, "my-disk": "archivist-my-disk"}
        monkeypatch.setattr(manager, "OPTIONAL_DISTRIBUTIONS", optional)
        with pytest.raises(UnknownBackendError, match="archivist-my-disk"):
            archivist.get_backend("my-disk")
        assert FindsUpper.asked[-1] == "no-such-protocol"
    finally:
        archivist.unregister(FindsUpper)
    with pytest.raises(UnknownHandlerError):
        archivist.get_handler("shouting")


class FindsNonsense:
    @staticmethod
    @archivist.hookimpl
    def archivist_find_handler(alias: str) -> object:
        return "not a class" if alias == "anything" else None


def test_a_last_resort_hook_returning_no_class_is_a_plugin_error() -> None:
    archivist.register(FindsNonsense)
    try:
        with pytest.raises(PluginLoadError, match="archivist_find_handler"):
            archivist.get_handler("anything")
    finally:
        archivist.unregister(FindsNonsense)


# -- names a native plugin and a lazyscribe handler package both claim ----------------------

LAZYSCRIBE_HANDLERS = """
from typing import ClassVar
from attrs import define
from lazyscribe.artifacts.base import Artifact


def _handler(name, alias):
    @define(auto_attribs=True)
    class Claimed(Artifact):
        alias: ClassVar[str] = ""
        suffix: ClassVar[str] = "txt"
        binary: ClassVar[bool] = False
        output_only: ClassVar[bool] = False

        @classmethod
        def construct(cls, name, value=None, fname=None, created_at=None, expiry=None,
                      writer_kwargs=None, version=0, dirty=True, **kwargs):
            return cls(name=name, value=value, fname=fname or name + ".txt",
                       created_at=created_at, expiry=expiry, writer_kwargs=writer_kwargs or {},
                       version=version, dirty=dirty)

        @classmethod
        def read(cls, buf, **kwargs):
            return {"read by": cls.__name__, "text": buf.read()}

        @classmethod
        def write(cls, obj, buf, **kwargs):
            buf.write(obj)

    Claimed.alias = alias
    Claimed.__name__ = Claimed.__qualname__ = name
    return Claimed


FirstNative = _handler("FirstNative", "test-claimed-native")
FirstTwice = _handler("FirstTwice", "test-claimed-twice")
SecondTwice = _handler("SecondTwice", "test-claimed-twice")
"""


def fake_distribution(site: Path, name: str, entry_points: dict[str, str]) -> None:
    info = site / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = "".join(f"{alias} = {target}\n" for alias, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[lazyscribe.artifact_type]\n{lines}")


@pytest.fixture
def lazyscribe_claims(tmp_path: Path) -> Iterator[None]:
    """Two lazyscribe handler distributions: one alias native too, one they both claim."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "claiming_lazyscribe_handlers.py").write_text(LAZYSCRIBE_HANDLERS)
    module = "claiming_lazyscribe_handlers"
    fake_distribution(
        site,
        "first-lazyscribe-handlers",
        {
            "test-claimed-native": f"{module}:FirstNative",
            "test-claimed-twice": f"{module}:FirstTwice",
        },
    )
    fake_distribution(
        site, "second-lazyscribe-handlers", {"test-claimed-twice": f"{module}:SecondTwice"}
    )
    sys.path.insert(0, str(site))
    manager._PLUGINS._invalidate()
    try:
        yield
    finally:
        sys.path.remove(str(site))
        sys.modules.pop(module, None)
        manager._PLUGINS._invalidate()


class NativeClaimed(Handler):
    alias: ClassVar[str] = "test-claimed-native"
    suffix: ClassVar[str] = "txt"
    binary: ClassVar[bool] = False

    def write(self, value: Any, stream: IO[Any], **kwargs: Any) -> None:
        stream.write(value)

    def read(self, stream: IO[Any], **kwargs: Any) -> Any:
        return {"read by": "NativeClaimed", "text": stream.read()}


def forget_warning(alias: str) -> None:
    manager._PLUGINS._warned.discard(("handler alias", alias))


def test_a_native_plugin_wins_a_lazyscribe_alias_with_one_warning(
    lazyscribe_claims: None, repo_path: Path
) -> None:
    forget_warning("test-claimed-native")
    assert archivist.handlers()["test-claimed-native"].__name__ == "LazyscribeFirstNative"
    name = archivist.register(NativeClaimed)  # no DuplicatePluginError: the adapter yields
    try:
        with pytest.warns(ArchivistWarning, match="claimed by more than one plugin") as caught:
            assert archivist.get_handler("test-claimed-native") is NativeClaimed
        (message,) = (str(w.message) for w in caught)
        assert "first-lazyscribe-handlers" in message  # the distribution that lost
        assert "NativeClaimed" in message
        assert "override=True" in message  # how to choose
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # once per process and alias
            repository = Repository(repo_path, mode="w")
            repository.log_artifact("a", "text", handler="test-claimed-native")
            repository.save()
            assert repository.load_artifact("a")["read by"] == "NativeClaimed"
    finally:
        archivist.unregister(name)


def test_the_user_chooses_the_lazyscribe_handler_with_override(
    lazyscribe_claims: None, repo_path: Path
) -> None:
    import claiming_lazyscribe_handlers  # type: ignore[import-not-found]

    forget_warning("test-claimed-native")
    native = archivist.register(NativeClaimed)
    chosen = archivist.register(adapt(claiming_lazyscribe_handlers.FirstNative), override=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a choice made: no warning
            repository = Repository(repo_path, mode="w")
            repository.log_artifact("a", "text", handler="test-claimed-native")
            repository.save()
            assert repository.load_artifact("a")["read by"] == "FirstNative"
        archivist.unregister(chosen)
        archivist.unregister(native)
        native = archivist.register(NativeClaimed, override=True)  # or the native one
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert archivist.get_handler("test-claimed-native") is NativeClaimed
    finally:
        archivist.unregister(chosen)
        archivist.unregister(native)


def test_two_lazyscribe_distributions_claiming_an_alias_keep_lazyscribe_s_choice(
    lazyscribe_claims: None,
) -> None:
    from lazyscribe.artifacts import _get_handler

    theirs = _get_handler("test-claimed-twice")  # the first entry point of the alias
    forget_warning("test-claimed-twice")
    with pytest.warns(ArchivistWarning, match="the first entry point wins") as caught:
        handler = archivist.get_handler("test-claimed-twice")
    assert issubclass(handler, LazyscribeHandler)
    assert handler.artifact_class.__qualname__ == theirs.__qualname__
    loser = "first" if theirs.__name__ == "SecondTwice" else "second"
    assert f"{loser}-lazyscribe-handlers" in str(caught[0].message)
