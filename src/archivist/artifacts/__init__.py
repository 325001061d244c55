"""lazyscribe's artifact classes (``lazyscribe.artifacts``) and the objects of ``artifacts``.

* :class:`~archivist.artifacts.base.Artifact` is the base of lazyscribe-style handlers;
  subclasses defined in your code are found by their alias (subclass scanning), as in
  lazyscribe, and so are subclasses of ``lazyscribe.artifacts.base.Artifact``.
* :class:`~archivist.artifacts.json.JSONArtifact` and
  :class:`~archivist.artifacts.pickle.PickleArtifact` describe versions of the built-in
  ``json`` and ``pickle`` handlers.
* :func:`artifact_from_record` turns a manifest record into such an object: the items of
  :attr:`archivist.Repository.artifacts` (with ``name``, ``fname``, ``value``, ``version``,
  ``created_at``, ``expiry``, ``dirty``, ``writer_kwargs`` and ``record``).
"""

from __future__ import annotations

import inspect
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

from attrs import define, field

from archivist.artifacts.base import Artifact, base_fields
from archivist.artifacts.json import JSONArtifact
from archivist.artifacts.pickle import PickleArtifact
from archivist.errors import ArchivistError
from archivist.handlers.base import Handler
from archivist.manifest import VersionRecord

__all__ = [
    "Artifact",
    "HandlerArtifact",
    "JSONArtifact",
    "PickleArtifact",
    "_get_handler",
    "artifact_class",
    "artifact_from_record",
    "find_subclass",
]

_BUILTIN: dict[str, type[Any]] = {"json": JSONArtifact, "pickle": PickleArtifact}


@define(auto_attribs=True, getstate_setstate=False)
class HandlerArtifact(Artifact):
    """A version stored by a native :class:`archivist.Handler` (base of per-handler classes).

    Attributes
    ----------
    metadata : dict[str, Any]
        The fields the handler recorded (for example ``python_version``); each is also an
        attribute, as on lazyscribe's handler classes (``artifact.python_version``).
    """

    alias: ClassVar[str] = ""
    suffix: ClassVar[str] = ""
    binary: ClassVar[bool] = True
    output_only: ClassVar[bool] = False
    handler_class: ClassVar[type[Handler] | None] = None
    metadata: dict[str, Any] = field(factory=dict, kw_only=True)

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
    ) -> HandlerArtifact:
        """Build an instance; extra keywords become :attr:`metadata`."""
        return cls(
            **base_fields(
                cls, name, value, fname, created_at, expiry, writer_kwargs, version, dirty
            ),
            metadata=dict(kwargs),
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # the per-handler classes are made at run time: pickle by alias, not by class name
        return (_restore_handler_artifact, (self.alias, self.__getstate__()))

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("_"):
            try:
                metadata = object.__getattribute__(self, "metadata")
            except AttributeError:
                metadata = {}
            if name in metadata:
                return metadata[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @classmethod
    def read(cls, buf: Any, **kwargs: Any) -> Any:
        """Read with the handler's ``read``."""
        if cls.handler_class is None:
            raise ArchivistError(f"no handler serves {cls.alias!r}")
        return cls.handler_class().read(buf, **kwargs)

    @classmethod
    def write(cls, obj: Any, buf: Any, **kwargs: Any) -> None:
        """Write with the handler's ``write``."""
        if cls.handler_class is None:
            raise ArchivistError(f"no handler serves {cls.alias!r}")
        cls.handler_class().write(obj, buf, **kwargs)


_HANDLER_ARTIFACTS: dict[tuple[str, type[Handler] | None], type[HandlerArtifact]] = {}


def _handler_artifact(alias: str, handler: type[Handler] | None) -> type[HandlerArtifact]:
    key = (alias, handler)
    cls = _HANDLER_ARTIFACTS.get(key)
    if cls is None:
        namespace = {
            "alias": alias,
            "suffix": getattr(handler, "suffix", ""),
            "binary": bool(getattr(handler, "binary", True)),
            "output_only": bool(getattr(handler, "output_only", False)),
            "handler_class": handler,
            "__module__": __name__,
        }
        name = "".join(part.capitalize() for part in alias.replace("-", "_").split("_"))
        cls = define(auto_attribs=True, getstate_setstate=False)(
            type(f"{name or 'Unknown'}Artifact", (HandlerArtifact,), namespace)
        )
        _HANDLER_ARTIFACTS[key] = cls
    return cls


def _restore_handler_artifact(alias: str, state: dict[str, Any]) -> HandlerArtifact:
    cls = artifact_class(alias)
    if not (isinstance(cls, type) and issubclass(cls, HandlerArtifact)):
        cls = _handler_artifact(alias, None)
    artifact: HandlerArtifact = cls.__new__(cls)
    artifact.__setstate__(state)
    return artifact


def artifact_class(alias: str) -> type[Any]:
    """Return the lazyscribe-style artifact class describing versions of a handler alias.

    Parameters
    ----------
    alias : str
        The handler alias.

    Returns
    -------
    type
        :class:`JSONArtifact` or :class:`PickleArtifact` for the built-ins; the user's (or a
        lazyscribe package's) class for lazyscribe-style handlers; otherwise a
        :class:`HandlerArtifact` subclass delegating to the native handler (also for an alias
        no installed handler serves, so listing a repository never fails).
    """
    from archivist.plugin.manager import get_handler

    try:
        handler = get_handler(alias)
    except ArchivistError:
        return _handler_artifact(alias, None)
    wrapped = getattr(handler, "artifact_class", None)
    if isinstance(wrapped, type):
        return wrapped
    builtin = _BUILTIN.get(alias)
    if builtin is not None and handler.__module__.startswith("archivist.handlers."):
        return builtin
    return _handler_artifact(alias, handler)


def artifact_from_record(
    record: VersionRecord,
    value: Any = None,
    writer_kwargs: dict[str, Any] | None = None,
    dirty: bool = False,
    environment: Mapping[str, Any] | None = None,
) -> Any:
    """Describe one version as a lazyscribe-style artifact object.

    Parameters
    ----------
    record : archivist.VersionRecord
        The version's manifest record.
    value : Any, optional
        The logged value (pending versions).
    writer_kwargs : dict, optional
        The writer options (pending versions).
    dirty : bool, optional
        Whether the version is not saved yet.
    environment : Mapping[str, Any], optional
        Facts the handler records about the running environment, for a version not saved
        yet (its record gets them when it is written).

    Returns
    -------
    Artifact
        An instance of :func:`artifact_class` for the record's handler; its ``record``
        attribute (when the class has one) is the record.
    """
    return _from_record(
        artifact_class(record.handler), record, value, writer_kwargs, dirty, environment
    )


def _from_record(
    cls: type[Any],
    record: VersionRecord,
    value: Any = None,
    writer_kwargs: dict[str, Any] | None = None,
    dirty: bool = False,
    environment: Mapping[str, Any] | None = None,
) -> Any:
    # artifact_from_record with the class already looked up (a listing looks it up per alias)
    accepts = _construct_accepts(cls)
    extra = {
        k: v
        for k, v in {**(environment or {}), **record.extra}.items()
        if k not in _CONSTRUCT_KEYWORDS and accepts(k)
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a handler's construct may warn about its environment
        artifact = cls.construct(
            name=record.name,
            value=value,
            fname=record.fname,
            created_at=record.created_at,
            expiry=record.expiry,
            writer_kwargs=dict(writer_kwargs or {}),
            version=record.version,
            dirty=dirty,
            **extra,
        )
    if hasattr(type(artifact), "__attrs_attrs__") and any(
        a.name == "record" for a in type(artifact).__attrs_attrs__
    ):
        artifact.record = record
    return artifact


_ACCEPTS: dict[type[Any], Callable[[str], bool]] = {}
_CONSTRUCT_KEYWORDS = frozenset(
    {"name", "value", "fname", "created_at", "expiry", "writer_kwargs", "version", "dirty"}
)


def _construct_accepts(cls: type[Any]) -> Callable[[str], bool]:
    """Tell which recorded fields ``cls.construct`` can take as keywords.

    A record's other fields (handler metadata, or a field another tool wrote) are passed
    as keywords; one named as the class parameter (``cls``) or, for a ``construct``
    without ``**kwargs``, one it does not name, would make the call fail: it is left out
    (the artifact's ``record`` still holds it).
    """
    accepts = _ACCEPTS.get(cls)
    if accepts is None:  # one signature read per class, not per version
        accepts = _ACCEPTS[cls] = _read_construct(cls)
    return accepts


def _read_construct(cls: type[Any]) -> Callable[[str], bool]:
    function = getattr(cls.construct, "__func__", cls.construct)
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):  # no signature to read: pass nothing but the basics
        return lambda key: False
    bound, rest = parameters[0].name if parameters else None, parameters[1:]
    named = {
        p.name
        for p in rest
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in rest):
        return lambda key: key != bound
    return named.__contains__


def _subclasses(base: type) -> Iterator[type]:
    seen: set[type] = set()
    stack: list[type] = list(base.__subclasses__())
    while stack:
        cls = stack.pop(0)
        if cls in seen:
            continue
        seen.add(cls)
        yield cls
        stack.extend(cls.__subclasses__())


def find_subclass(alias: str) -> type[Any] | None:
    """Find a lazyscribe-style handler class by alias, scanning subclasses as lazyscribe does.

    Subclasses of :class:`archivist.artifacts.base.Artifact` and, when lazyscribe is
    imported, of ``lazyscribe.artifacts.base.Artifact`` are searched (archivist's own
    classes are skipped: native handlers serve their aliases).

    Parameters
    ----------
    alias : str
        The alias asked for.

    Returns
    -------
    type or None
        The newest class defined with that alias, or ``None``.
    """
    bases: list[type] = [Artifact]
    lazyscribe_base = sys.modules.get("lazyscribe.artifacts.base")
    if lazyscribe_base is not None and isinstance(getattr(lazyscribe_base, "Artifact", None), type):
        bases.append(lazyscribe_base.Artifact)
    found: type | None = None
    for base in bases:
        for cls in _subclasses(base):
            if cls.__module__.startswith(("archivist.", "lazyscribe.")):
                continue
            if getattr(cls, "alias", None) == alias:
                found = cls  # the most recently defined wins, as a re-run notebook cell expects
    return found


def _get_handler(alias: str) -> type[Any]:
    """Return the lazyscribe-style artifact class for a handler alias (lazyscribe's name).

    Parameters
    ----------
    alias : str
        The handler alias.

    Returns
    -------
    type
        As :func:`artifact_class`.

    Raises
    ------
    archivist.errors.UnknownHandlerError
        No handler has that alias (a :class:`ValueError`, as lazyscribe raised).
    """
    from archivist.plugin.manager import get_handler

    get_handler(alias)
    return artifact_class(alias)
