"""Use lazyscribe artifact handlers (``lazyscribe.artifact_type`` entry points) in archivist.

lazyscribe handler packages (``lazyscribe-yaml``, ``lazyscribe-arrow``, ...) register
:class:`lazyscribe.artifacts.base.Artifact` subclasses whose ``read`` and ``write`` are
classmethods and whose environment facts are extra attrs fields set by ``construct``.
:func:`adapt` wraps such a class as an archivist :class:`~archivist.Handler`; this module's
hook returns an adapter for every entry point of that group, except lazyscribe's own
``json``, ``pickle`` and ``base``. An alias a native archivist handler serves too stays the
native one's: the plugin manager lets these adapters yield, and warns once on its first use
(see :data:`archivist.plugin._claims.YIELDING_PLUGINS`).

Discovery is lazy (it runs when the handler registry is first built), is skipped when
lazyscribe is not installed or ``ARCHIVIST_DISABLE_PLUGIN_AUTOLOAD`` is set, and never
breaks the registry: an entry point that fails to load becomes a placeholder whose use
raises :class:`~archivist.errors.PluginLoadError`, naming the entry point and distribution.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from collections.abc import Collection, Mapping, Sequence
from importlib.metadata import EntryPoint
from typing import IO, Any, ClassVar

from archivist.errors import PluginLoadError
from archivist.handlers.base import Handler
from archivist.plugin import hookimpl
from archivist.plugin._entry_points import autoload_disabled, distribution_of, entry_points

__all__ = [
    "DATA_ONLY_HANDLERS",
    "ENTRY_POINT_GROUP",
    "LazyscribeHandler",
    "adapt",
    "adapt_cached",
    "archivist_register_handlers",
    "discover",
    "register_handlers_named",
]

#: The entry point group lazyscribe 2.x reads its artifact handlers from.
ENTRY_POINT_GROUP = "lazyscribe.artifact_type"
#: lazyscribe's own entry points, which archivist's built-in handlers already cover.
_SKIPPED = frozenset({"base", "json", "pickle"})
#: lazyscribe handler classes known to read plain data without running code from the file
#: (JSON, and YAML through PyYAML's SafeLoader by default or the YAML 1.2 parser yaml12).
#: Every other adapted handler is taken to execute code on load (pickle, joblib and any
#: handler archivist cannot vouch for), unless its class says otherwise with an
#: ``executes_code`` attribute.
DATA_ONLY_HANDLERS = frozenset(
    {
        "lazyscribe.artifacts.json.JSONArtifact",
        "lazyscribe_yaml.pyyaml.YAMLArtifact",
        "lazyscribe_yaml.py_yaml12.YAML12Artifact",
    }
)
#: The attrs fields every lazyscribe artifact has; other fields are handler metadata.
_BASE_FIELDS = frozenset(
    {
        "name",
        "fname",
        "value",
        "writer_kwargs",
        "created_at",
        "expiry",
        "version",
        "dirty",
        "record",
    }
)


class LazyscribeHandler(Handler):
    """Base of the adapters :func:`adapt` creates; not used directly.

    Attributes
    ----------
    artifact_class : type
        The wrapped lazyscribe ``Artifact`` subclass.
    """

    alias: ClassVar[str] = "lazyscribe-adapter"
    suffix: ClassVar[str] = ""
    binary: ClassVar[bool] = False
    executes_code: ClassVar[bool] = True  # unknown code: assume the worst
    output_only: ClassVar[bool] = False
    artifact_class: ClassVar[Any] = None
    #: Where the wrapped class comes from, for messages (its distribution and class).
    provided_by: ClassVar[str] = ""

    def write(self, value: Any, stream: IO[Any], **kwargs: Any) -> None:
        """Write with the lazyscribe class's ``write`` classmethod."""
        self.artifact_class.write(value, stream, **kwargs)

    def read(self, stream: IO[Any], **kwargs: Any) -> Any:
        """Read with the lazyscribe class's ``read`` classmethod."""
        return self.artifact_class.read(stream, **kwargs)

    def _extra_fields(self) -> list[Any]:
        """Return the attrs fields the handler class adds to lazyscribe's ``Artifact``."""
        attrs = importlib.import_module("attrs")
        return [f for f in attrs.fields(self.artifact_class) if f.name not in _BASE_FIELDS]

    def _constructed(self, value: Any, **recorded: Any) -> dict[str, Any]:
        artifact = self.artifact_class.construct(name="archivist-adapter", value=value, **recorded)
        return {field.name: getattr(artifact, field.name) for field in self._extra_fields()}

    def environment(self) -> dict[str, Any]:
        """Return the extra fields ``construct`` records that take part in equality.

        lazyscribe compares these (for example ``python_version``) when it validates a
        stored artifact against the running environment; so does archivist. A handler
        whose ``construct`` cannot describe the environment without a value (lazyscribe-joblib
        records the value's package) has none apart from one: ``{}``; its stored fields are
        still checked on load (:meth:`mismatches`).
        """
        try:
            constructed = self._constructed(None)
        except (TypeError, ValueError, AttributeError):
            return {}
        compared = {f.name for f in self._extra_fields() if f.eq}
        return {k: v for k, v in constructed.items() if k in compared}

    def metadata(self, value: Any) -> dict[str, Any]:
        """Return every extra field ``construct`` records for ``value``."""
        return self._constructed(value)

    def mismatches(self, recorded: Mapping[str, Any]) -> list[str]:
        """Compare a stored artifact's fields with the running environment, as lazyscribe does.

        lazyscribe validates a stored artifact by calling the handler's ``construct`` again
        with the stored fields it names as parameters (lazyscribe-joblib's ``package``), so
        that the others (``package_version``, ``joblib_version``, ``python_version``) are
        those of the running environment, and comparing the fields that take part in
        equality. The same is done here, with one line per differing field. A ``construct``
        that fails on the stored fields is reported as a difference, naming its error.

        Parameters
        ----------
        recorded : Mapping[str, Any]
            The stored record (a version's or an experiment artifact's).

        Returns
        -------
        list[str]
            One readable line per difference; empty when reading is safe.
        """
        fields = self._extra_fields()
        parameters = inspect.signature(self.artifact_class.construct).parameters
        named = {
            f.name: recorded[f.name]
            for f in fields
            if f.name in recorded
            and f.name in parameters
            and parameters[f.name].kind not in (inspect.Parameter.VAR_KEYWORD,)
            and (f.eq or parameters[f.name].default is inspect.Parameter.empty)
        }
        try:
            running = self._constructed(None, **named)
        except Exception as exc:
            return [
                f"{self.alias}: the handler could not describe the running environment from "
                f"the stored fields {sorted(named)}: {type(exc).__name__}: {exc}"
            ]
        return [
            f"{f.name}: written with {recorded[f.name]!r}, running {running[f.name]!r}"
            for f in fields
            if f.eq and f.name in recorded and recorded[f.name] != running[f.name]
        ]


def adapt(artifact_class: Any, distribution: str | None = None) -> type[Handler]:
    """Wrap a lazyscribe ``Artifact`` subclass as an archivist handler class.

    Parameters
    ----------
    artifact_class : type
        A subclass of ``lazyscribe.artifacts.base.Artifact`` with ``alias``, ``suffix``
        and ``binary`` class variables and ``read``/``write``/``construct`` classmethods.
    distribution : str, optional
        The distribution that provides it, for messages (an entry point's).

    Returns
    -------
    type[archivist.Handler]
        A handler with the same alias, suffix and binary flag. Its ``executes_code`` is
        ``False`` only for the classes in :data:`DATA_ONLY_HANDLERS` (or a class that
        declares ``executes_code = False``): archivist cannot tell what another handler's
        ``read`` runs, so pickle, joblib and unknown handlers count as executing code.

    Raises
    ------
    archivist.errors.PluginLoadError
        The class lacks the lazyscribe handler interface.
    """
    missing = [
        attr
        for attr in ("alias", "suffix", "binary", "read", "write", "construct")
        if not hasattr(artifact_class, attr)
    ]
    if not isinstance(artifact_class, type) or missing:
        raise PluginLoadError(
            f"{artifact_class!r} is not a lazyscribe artifact handler class"
            + (f": it lacks {', '.join(missing)}" if missing else "")
        )
    source: Any = artifact_class
    qualified = f"{artifact_class.__module__}.{artifact_class.__qualname__}"
    namespace = {
        "alias": str(source.alias),
        "suffix": str(source.suffix),
        "binary": bool(source.binary),
        "executes_code": _executes_code(source),
        "output_only": bool(getattr(source, "output_only", False)),
        "artifact_class": source,
        "provided_by": f"{distribution or 'lazyscribe handler'} ({qualified}, adapted)",
        "__module__": __name__,
        "__doc__": f"archivist adapter for the lazyscribe handler {artifact_class.__qualname__}.",
    }
    return type(f"Lazyscribe{artifact_class.__name__}", (LazyscribeHandler,), namespace)


def _executes_code(artifact_class: Any) -> bool:
    """Tell whether reading with a lazyscribe handler class may run code from the file.

    Conservative: only the classes in :data:`DATA_ONLY_HANDLERS`, or a class declaring a
    false ``executes_code``, count as data-only.
    """
    declared = getattr(artifact_class, "executes_code", None)
    if isinstance(declared, bool):
        return declared
    qualified = f"{artifact_class.__module__}.{artifact_class.__qualname__}"
    return qualified not in DATA_ONLY_HANDLERS


_SCANNED: dict[type, type[Handler]] = {}


def adapt_cached(artifact_class: type) -> type[Handler]:
    """Return :func:`adapt` of a class, one adapter per class (for subclass scanning).

    Parameters
    ----------
    artifact_class : type
        A lazyscribe-style ``Artifact`` subclass.

    Returns
    -------
    type[archivist.Handler]
        Its adapter.
    """
    adapter = _SCANNED.get(artifact_class)
    if adapter is None:
        adapter = _SCANNED[artifact_class] = adapt(artifact_class)
    return adapter


def _broken(entry_point: EntryPoint, cause: BaseException) -> type[Handler]:
    dist = distribution_of(entry_point)
    message = (
        f"could not load the lazyscribe handler {entry_point.name!r} ({entry_point.value}) "
        f"from distribution {dist}: {type(cause).__name__}: {cause}"
    )

    def fail(self: Handler, *args: Any, **kwargs: Any) -> Any:
        raise PluginLoadError(message) from cause

    return type(
        f"BrokenLazyscribeHandler_{entry_point.name}",
        (LazyscribeHandler,),
        {
            "alias": entry_point.name,
            "suffix": "",
            "binary": True,
            "executes_code": True,
            "load_error": message,
            "provided_by": f"{dist} ({entry_point.value}, which failed to load)",
            "__init__": fail,
            "__module__": __name__,
        },
    )


_ADAPTERS: dict[tuple[str, str], type[Handler]] = {}


def discover(names: Collection[str] | None = None) -> list[type[Handler]]:
    """Return an adapter for each lazyscribe handler entry point but lazyscribe's own.

    An alias that a native handler, or an earlier entry point, claims too is settled by the
    plugin manager: the native handler, else the first entry point, wins with a warning.

    Parameters
    ----------
    names : Collection[str], optional
        Load only the entry points of these names, as lazyscribe's own lookup does (it
        imports the one package of the alias it was asked for). ``None`` loads every one,
        for the full registry.

    Returns
    -------
    list[type[archivist.Handler]]
        Adapters, and placeholders for entry points that failed to load, in entry point
        order.
    """
    if importlib.util.find_spec("lazyscribe") is None:
        return []
    adapters: list[type[Handler]] = []
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name in _SKIPPED or (names is not None and entry_point.name not in names):
            continue
        key = (entry_point.name, entry_point.value)
        if key not in _ADAPTERS:  # one class per entry point, however often the registry is built
            try:
                _ADAPTERS[key] = adapt(entry_point.load(), distribution_of(entry_point))
            except Exception as exc:
                _ADAPTERS[key] = _broken(entry_point, exc)
        adapters.append(_ADAPTERS[key])
    return adapters


@hookimpl
def archivist_register_handlers() -> Sequence[type[Handler]]:
    """Register adapters for the installed lazyscribe handler packages."""
    return register_handlers_named(None)


def register_handlers_named(names: Collection[str] | None) -> Sequence[type[Handler]]:
    """Return this plugin's handlers of ``names`` only, loading no other entry point.

    The plugin manager calls it instead of the hook to resolve one alias, so that asking for
    ``"yaml"`` never imports ``onnx``.

    Parameters
    ----------
    names : Collection[str] or None
        The aliases; ``None`` for every one (what the hook returns).

    Returns
    -------
    Sequence[type[archivist.Handler]]
        The adapters; none when ``ARCHIVIST_DISABLE_PLUGIN_AUTOLOAD`` is set.
    """
    if autoload_disabled():
        return []
    return discover(names)


@hookimpl
def archivist_find_handler(alias: str) -> type[Handler] | None:
    """Adapt the lazyscribe-style ``Artifact`` subclass of ``alias`` defined in user code.

    lazyscribe finds handler classes by scanning the subclasses of its ``Artifact`` base;
    so does archivist, as a last resort after the registered handlers.
    """
    from archivist.artifacts import find_subclass

    found = find_subclass(alias)
    return None if found is None else adapt_cached(found)
