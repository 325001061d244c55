"""The plugin manager: discovery, registration and the handler and backend registries.

Discovery is lazy (first use, not import), idempotent and thread-safe. It registers the
built-in plugins, then every module in the ``archivist`` entry point group unless
``ARCHIVIST_DISABLE_PLUGIN_AUTOLOAD`` is set, then checks that no plugin implements a hook
that does not exist.

Resolving a built-in alias or protocol (``json``, ``pickle``, ``file``, ``local``,
``memory``) before anything else asked for the full registries imports no plugin module:
:func:`get_handler` and :func:`get_backend` answer it from archivist's own classes, and
discovery (entry points, lazyscribe handler packages) runs only for any other name, for
:func:`handlers`, :func:`backends`, :func:`register` and the hooks. Once discovery ran, every
lookup goes through the registries (a runtime override of a built-in alias wins). Like
lazyscribe's own lookup, resolving one alias imports only the lazyscribe handler package of
that alias: ``get_handler("yaml")`` never imports ``onnx``; :func:`handlers` imports them all.

Two plugins claiming one name are settled by :mod:`archivist.plugin._claims` (an override
wins; archivist's plugins win over lazyscribe's handler packages); a claim that lost without
the user choosing warns once, on the name's first lookup
(:class:`~archivist.errors.ArchivistWarning`).
"""

from __future__ import annotations

import functools
import importlib
import threading
import warnings
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pluggy

from archivist._backends.base import Backend
from archivist.errors import (
    ArchivistWarning,
    DuplicatePluginError,
    PluginLoadError,
    UnknownBackendError,
    UnknownHandlerError,
)
from archivist.handlers.base import Handler
from archivist.plugin import NAME, hookimpl, spec
from archivist.plugin._claims import YIELDING_PLUGINS, Claim, settle
from archivist.plugin._entry_points import (
    DISABLE_AUTOLOAD_ENV,
    autoload_disabled,
    distribution_of,
    entry_points,
    validate_backend,
    validate_handler,
)

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

__all__ = [
    "DISABLE_AUTOLOAD_ENV",
    "OPTIONAL_DISTRIBUTIONS",
    "backends",
    "get_backend",
    "get_handler",
    "handlers",
    "load_plugins",
    "plugin_manager",
    "register",
    "unregister",
]

#: The distributions that provide the optional handler aliases and URL protocols.
OPTIONAL_DISTRIBUTIONS: Mapping[str, str] = MappingProxyType(
    {
        "joblib": "archivist-joblib",
        "parquet": "archivist-parquet",
        "s3": "archivist-s3",
        "s3a": "archivist-s3",
        "gs": "archivist-gcs",
        "gcs": "archivist-gcs",
        "az": "archivist-azure",
        "abfs": "archivist-azure",
        "abfss": "archivist-azure",
    }
)

_BUILTIN_PLUGINS = (
    "archivist.handlers.hooks",
    "archivist._backends.hooks",
    # adapters for lazyscribe's ``lazyscribe.artifact_type`` entry points (lazy, optional)
    "archivist.handlers.lazyscribe",
)

_T = TypeVar("_T", bound=type)


@functools.cache  # the built-in plugins never change; log_artifact asks for every version
def _builtin_handlers() -> dict[str, type[Handler]]:
    from archivist.handlers.hooks import archivist_register_handlers

    return {cls.alias: cls for cls in archivist_register_handlers()}


@functools.cache
def _builtin_backends() -> dict[str, type[Backend]]:
    from archivist._backends.hooks import archivist_register_backends

    return {protocol: cls for cls in archivist_register_backends() for protocol in cls.protocols}


class _HandlerClassPlugin:
    """Wraps one handler class registered at runtime as a plugin."""

    def __init__(self, cls: type[Handler]) -> None:
        self.cls = cls

    @hookimpl
    def archivist_register_handlers(self) -> Sequence[type[Handler]]:
        return [self.cls]


class _BackendClassPlugin:
    """Wraps one backend class registered at runtime as a plugin."""

    def __init__(self, cls: type[Backend]) -> None:
        self.cls = cls

    @hookimpl
    def archivist_register_backends(self) -> Sequence[type[Backend]]:
        return [self.cls]


class _Plugins:
    """The process-wide plugin state behind the module-level functions."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._pm = pluggy.PluginManager(NAME)
        self._pm.add_hookspecs(spec)
        self._loaded = False
        self._overrides: set[object] = set()
        self._handlers: Mapping[str, type[Handler]] | None = None
        #: Registries built for one alias before the full one was asked for.
        self._handlers_by_alias: dict[str, Mapping[str, type[Handler]]] = {}
        self._backends: Mapping[str, type[Backend]] | None = None
        #: Names two plugins claim and one won without an override: (kind, name) -> warning.
        self._contested: dict[tuple[str, str], str] = {}
        self._warned: set[tuple[str, str]] = set()

    # -- discovery --------------------------------------------------------------------------

    def load(self) -> pluggy.PluginManager:
        if self._loaded:
            return self._pm
        with self._lock:
            return self._load_locked()

    def _load_locked(self) -> pluggy.PluginManager:
        if self._loaded:
            return self._pm
        for module_name in _BUILTIN_PLUGINS:
            if not self._pm.has_plugin(module_name):
                self._pm.register(importlib.import_module(module_name), name=module_name)
        if not autoload_disabled():
            for entry_point in entry_points(group=NAME):
                self._load_entry_point(entry_point)
        self._check_pending()
        self._loaded = True
        self._invalidate()
        return self._pm

    def _load_entry_point(self, entry_point: EntryPoint) -> None:
        name = f"{distribution_of(entry_point)}:{entry_point.name}"
        if self._pm.has_plugin(name):
            return
        try:
            plugin = entry_point.load()
        except Exception as exc:
            raise PluginLoadError(
                f"could not import the archivist plugin {entry_point.name!r} "
                f"({entry_point.value}) from distribution {distribution_of(entry_point)}: "
                f"{exc}"
            ) from exc
        try:
            self._pm.register(plugin, name=name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            raise PluginLoadError(
                f"could not register the archivist plugin {entry_point.name!r} "
                f"({entry_point.value}) from distribution {distribution_of(entry_point)}: "
                f"{exc}"
            ) from exc

    def _check_pending(self) -> None:
        try:
            self._pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginLoadError(
                f"plugin {exc.plugin!r} implements a hook archivist does not define: {exc}"
            ) from exc

    # -- runtime registration ---------------------------------------------------------------

    def register(self, obj: object, *, override: bool = False) -> str:
        self.load()
        with self._lock:
            plugin: object
            if isinstance(obj, type) and issubclass(obj, Handler):
                validate_handler(obj, "archivist.register()")
                plugin, prefix = _HandlerClassPlugin(obj), "handler"
            elif isinstance(obj, type) and issubclass(obj, Backend):
                validate_backend(obj, "archivist.register()")
                plugin, prefix = _BackendClassPlugin(obj), "backend"
            else:
                plugin, prefix = obj, "plugin"
            target = obj if isinstance(obj, type) else None
            name = _plugin_name(prefix, obj)
            if self._pm.has_plugin(name):
                return name
            try:
                self._pm.register(plugin, name=name)
            except (ValueError, pluggy.PluginValidationError) as exc:
                raise PluginLoadError(f"could not register {obj!r}: {exc}") from exc
            try:
                self._check_pending()
            except PluginLoadError:
                self._pm.unregister(name=name)
                raise
            if override and target is not None:
                self._overrides.add(target)
            self._invalidate()
            try:
                self._build_handlers(self._pm, ())  # lazyscribe's yield: none can clash
                self.backends()
            except (DuplicatePluginError, PluginLoadError):
                self._pm.unregister(name=name)
                self._overrides.discard(target)
                self._invalidate()
                raise
            return name

    def unregister(self, obj_or_name: object) -> None:
        self.load()
        with self._lock:
            if isinstance(obj_or_name, str):
                name = obj_or_name
            else:
                prefix = (
                    "handler"
                    if isinstance(obj_or_name, type) and issubclass(obj_or_name, Handler)
                    else "backend"
                    if isinstance(obj_or_name, type) and issubclass(obj_or_name, Backend)
                    else "plugin"
                )
                name = _plugin_name(prefix, obj_or_name)
            if self._pm.has_plugin(name):
                plugin = self._pm.unregister(name=name)
                self._overrides.discard(getattr(plugin, "cls", None))
                if isinstance(obj_or_name, type):
                    self._overrides.discard(obj_or_name)
            self._invalidate()

    # -- registries -------------------------------------------------------------------------

    def builtin_handler(self, alias: object) -> type[Handler] | None:
        """Return the built-in handler of ``alias`` while discovery has not run, else None."""
        if self._loaded or not isinstance(alias, str):
            return None
        return _builtin_handlers().get(alias)

    def builtin_backend(self, protocol: object) -> type[Backend] | None:
        """Return the built-in backend of ``protocol`` while discovery has not run, else None."""
        if self._loaded or not isinstance(protocol, str):
            return None
        return _builtin_backends().get(protocol)

    def _invalidate(self) -> None:
        self._handlers = None
        self._handlers_by_alias.clear()
        self._backends = None

    def warn_if_contested(self, what: str, name: str) -> None:
        """Warn, once per process and name, that another plugin's claim on ``name`` lost."""
        key = (what, name)
        message = self._contested.get(key)
        if message is None or key in self._warned:
            return
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        warnings.warn(message, ArchivistWarning, stacklevel=4)

    def handlers(self) -> Mapping[str, type[Handler]]:
        table = self._handlers
        if table is None:
            pm = self.load()
            with self._lock:
                table = self._build_handlers(pm, None)
                self._handlers = table
        return table

    def handler_table_for(self, alias: str) -> Mapping[str, type[Handler]]:
        """Return a registry that is right for ``alias``, loading only what it needs.

        Before the full registry is built, lazyscribe's handler packages other than the one
        of ``alias`` stay unimported (lazyscribe's lookup imports only that one too).
        """
        table = self._handlers
        if table is None:  # log_artifact asks once per version: a hit takes no lock
            table = self._handlers_by_alias.get(alias)
        if table is not None:
            return table
        pm = self.load()
        with self._lock:
            if self._handlers is not None:
                return self._handlers
            cached = self._handlers_by_alias.get(alias)
            if cached is None:
                cached = self._build_handlers(pm, (alias,))
                self._handlers_by_alias[alias] = cached
            return cached

    def _build_handlers(
        self, pm: pluggy.PluginManager, yielding_names: Collection[str] | None
    ) -> Mapping[str, type[Handler]]:
        return self._build(
            pm.hook.archivist_register_handlers,
            Handler,
            lambda cls: (cls.alias,),
            validate_handler,
            "handler alias",
            yielding_names,
        )

    def backends(self) -> Mapping[str, type[Backend]]:
        table = self._backends
        if table is None:
            pm = self.load()
            with self._lock:
                table = self._build(
                    pm.hook.archivist_register_backends,
                    Backend,
                    lambda cls: cls.protocols,
                    validate_backend,
                    "protocol",
                )
                self._backends = table
        return table

    def _build(
        self,
        hook: pluggy.HookCaller,
        base: _T,
        names_of: Callable[[Any], Iterable[str]],
        validate: Callable[[Any, str], None],
        what: str,
        yielding_names: Collection[str] | None = None,
    ) -> Mapping[str, Any]:
        """Collect every plugin's classes and settle each name.

        ``yielding_names`` limits what the yielding plugins (lazyscribe's handler packages)
        load to those names: a class of theirs never beats another plugin's, so a lookup of
        one alias, or the duplicate check of :meth:`register`, needs no other.
        """
        claims: dict[str, list[Claim]] = {}
        for impl in hook.get_hookimpls():
            source = f"plugin {impl.plugin_name!r}"
            function: Callable[[], object] = impl.function
            if yielding_names is not None and impl.plugin_name in YIELDING_PLUGINS:
                plugin: Any = impl.plugin  # archivist.handlers.lazyscribe
                function = functools.partial(plugin.register_handlers_named, yielding_names)
            try:
                classes = cast("Iterable[object]", function() or ())
            except Exception as exc:
                raise PluginLoadError(f"{source} failed to list its classes: {exc}") from exc
            for cls in classes:
                if not (isinstance(cls, type) and issubclass(cls, base)):
                    raise PluginLoadError(
                        f"{source} returned {cls!r}, which is not a subclass of "
                        f"{base.__module__}.{base.__qualname__}"
                    )
                validate(cls, source)
                claim = Claim(cls, source, impl.plugin_name in YIELDING_PLUGINS)
                for key in names_of(cls):
                    entries = claims.setdefault(key, [])
                    if all(existing.cls is not cls for existing in entries):
                        entries.append(claim)
        table: dict[str, type] = {}
        for key, entries in claims.items():
            table[key], warning = settle(what, key, entries, self._overrides)
            if yielding_names is not None and key not in yielding_names:
                continue  # a claim that was not loaded may contest it: the full build decides
            if warning is None:
                self._contested.pop((what, key), None)
            else:
                self._contested[what, key] = warning
        return MappingProxyType(dict(sorted(table.items())))


def _plugin_name(prefix: str, obj: object) -> str:
    if isinstance(obj, type):
        return f"{prefix}:{obj.__module__}.{obj.__qualname__}"
    module_name = getattr(obj, "__name__", None)
    if isinstance(module_name, str):
        return f"{prefix}:{module_name}"
    return f"{prefix}:{type(obj).__module__}.{type(obj).__qualname__}@{id(obj):x}"


def _install_hint(name: str) -> str:
    dist = OPTIONAL_DISTRIBUTIONS.get(name)
    if dist is None:
        return ""
    return (
        f" {name!r} is provided by the distribution {dist}, which is not on the package index: "
        f"from an archivist checkout, pip install ./plugins/{dist}"
    )


_PLUGINS = _Plugins()


def plugin_manager() -> pluggy.PluginManager:
    """Return the loaded pluggy plugin manager (discovering plugins on first use).

    Returns
    -------
    pluggy.PluginManager
        The manager named ``archivist``.
    """
    return _PLUGINS.load()


def load_plugins() -> None:
    """Discover the built-in and installed plugins now instead of on first use.

    Raises
    ------
    archivist.errors.PluginLoadError
        An entry point could not be imported, or a plugin implements an unknown hook.
    """
    _PLUGINS.load()


def register(obj: object, *, override: bool = False) -> str:
    """Register a handler class, a backend class, or an object or module with hook implementations.

    Use it for in-house formats and stores that are not packaged as a distribution.
    Registering the same object twice is a no-op.

    Parameters
    ----------
    obj : object
        A :class:`~archivist.Handler` subclass, a :class:`~archivist.Backend` subclass, or a
        module or object whose methods are marked with :data:`archivist.hookimpl`.
    override : bool, optional
        Let this class replace another plugin's class of the same alias or protocol.

    Returns
    -------
    str
        The name under which the plugin was registered (give it to :func:`unregister`).

    Raises
    ------
    archivist.errors.DuplicatePluginError
        The alias or a protocol is already taken and ``override`` is false.
    archivist.errors.PluginLoadError
        The class lacks its name or methods, or the object implements unknown hooks.
    """
    return _PLUGINS.register(obj, override=override)


def unregister(obj_or_name: object) -> None:
    """Undo :func:`register`.

    Parameters
    ----------
    obj_or_name : object
        The object given to :func:`register`, or the name it returned.
    """
    _PLUGINS.unregister(obj_or_name)


def handlers() -> Mapping[str, type[Handler]]:
    """Return a read-only mapping of every installed handler alias to its class.

    Returns
    -------
    Mapping[str, type[archivist.Handler]]
        Sorted by alias.
    """
    return _PLUGINS.handlers()


def backends() -> Mapping[str, type[Backend]]:
    """Return a read-only mapping of every installed URL protocol to its backend class.

    Returns
    -------
    Mapping[str, type[archivist.Backend]]
        Sorted by protocol.
    """
    return _PLUGINS.backends()


def get_handler(alias: str) -> type[Handler]:
    """Return the handler class registered under ``alias``.

    Parameters
    ----------
    alias : str
        The handler's alias, for example ``"json"``.

    Returns
    -------
    type[archivist.Handler]
        The class.

    Raises
    ------
    archivist.errors.UnknownHandlerError
        No installed handler has that alias, and no ``archivist_find_handler``
        implementation provides one (archivist's lazyscribe layer finds lazyscribe-style
        ``Artifact`` subclasses defined in the running program); the message lists the
        installed ones and, for optional aliases, the distribution to install.
    """
    builtin = _PLUGINS.builtin_handler(alias)
    if builtin is not None:
        return builtin
    table = _PLUGINS.handler_table_for(alias) if isinstance(alias, str) else handlers()
    try:
        found_class = table[alias]
    except (KeyError, TypeError):
        found = _find(plugin_manager().hook.archivist_find_handler, Handler, alias=alias)
        if found is not None:
            return found
        table = handlers()  # the message lists every installed handler
        raise UnknownHandlerError(
            f"no handler named {alias!r}. Installed handlers: {', '.join(table) or 'none'}."
            + _install_hint(str(alias))
        ) from None
    _PLUGINS.warn_if_contested("handler alias", alias)
    return found_class


def _find(hook: pluggy.HookCaller, base: _T, **name: object) -> _T | None:
    """Ask a last-resort lookup hook (``archivist_find_*``) for the class of a name.

    Returns ``None`` for a name that is not a string, or when no implementation answers.
    """
    ((key, value),) = name.items()
    if not isinstance(value, str):
        return None
    found = hook(**name)
    if found is None:
        return None
    if not (isinstance(found, type) and issubclass(found, base)):
        raise PluginLoadError(
            f"{hook.name} returned {found!r} for {key} {value!r}, which is not a subclass of "
            f"{base.__module__}.{base.__qualname__}"
        )
    return cast("_T", found)


def get_backend(protocol: str) -> type[Backend]:
    """Return the backend class serving URLs of ``protocol``.

    Parameters
    ----------
    protocol : str
        The URL scheme, for example ``"s3"`` or ``"file"``.

    Returns
    -------
    type[archivist.Backend]
        The class.

    Raises
    ------
    archivist.errors.UnknownBackendError
        No installed backend serves that protocol, and no ``archivist_find_backend``
        implementation does (archivist's own serves any protocol fsspec knows with
        :mod:`archivist._backends.generic`); the message lists the installed ones and, for
        optional protocols, the distribution to install.
    """
    builtin = _PLUGINS.builtin_backend(protocol)
    if builtin is not None:
        return builtin
    table = backends()
    try:
        return table[protocol]
    except (KeyError, TypeError):
        # a store with an archivist plugin is refused until the plugin (and its conditional
        # writes) is installed; any other protocol may be served by a last-resort hook
        if protocol not in OPTIONAL_DISTRIBUTIONS:
            found = _find(plugin_manager().hook.archivist_find_backend, Backend, protocol=protocol)
            if found is not None:
                return found
        raise UnknownBackendError(
            f"no storage backend for {protocol!r}:// URLs. Installed protocols: "
            f"{', '.join(table) or 'none'}." + _install_hint(str(protocol))
        ) from None
