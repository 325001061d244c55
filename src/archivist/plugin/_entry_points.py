"""Where plugins come from, and what a plugin's class must have before it is registered.

The plugin manager reads the ``archivist`` entry point group, and archivist's lazyscribe layer
the ``lazyscribe.artifact_type`` group, through :func:`entry_points`; both name a failing
entry point's distribution with :func:`distribution_of` and honour
``ARCHIVIST_DISABLE_PLUGIN_AUTOLOAD`` through :func:`autoload_disabled`.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from archivist._backends.base import Backend
from archivist.errors import PluginLoadError
from archivist.handlers.base import Handler

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

__all__ = [
    "DISABLE_AUTOLOAD_ENV",
    "autoload_disabled",
    "distribution_of",
    "entry_points",
    "validate_backend",
    "validate_handler",
]

#: Set this environment variable to ``1`` to skip loading plugins from entry points.
DISABLE_AUTOLOAD_ENV = "ARCHIVIST_DISABLE_PLUGIN_AUTOLOAD"


def autoload_disabled() -> bool:
    """Whether ``ARCHIVIST_DISABLE_PLUGIN_AUTOLOAD`` asks to load no entry point."""
    return (os.environ.get(DISABLE_AUTOLOAD_ENV) or "").strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
    }


def entry_points(group: str) -> Sequence[EntryPoint]:
    """Return the installed entry points of ``group`` (``importlib.metadata`` loads only now).

    Parameters
    ----------
    group : str
        The entry point group.

    Returns
    -------
    Sequence[importlib.metadata.EntryPoint]
        The entry points.
    """
    from importlib.metadata import entry_points as installed

    return tuple(installed(group=group))


def distribution_of(entry_point: EntryPoint) -> str:
    """Name the distribution an entry point comes from, for messages."""
    dist = getattr(entry_point, "dist", None)
    return dist.name if dist is not None else "an unknown distribution"


def validate_handler(cls: type[Handler], source: str) -> None:
    """Refuse a handler class that lacks its alias, suffix, binary flag or methods."""
    problems = []
    if not isinstance(getattr(cls, "alias", None), str) or not cls.alias:
        problems.append("a non-empty str 'alias' class variable")
    if not isinstance(getattr(cls, "suffix", None), str):
        problems.append("a str 'suffix' class variable")
    if not isinstance(getattr(cls, "binary", None), bool):
        problems.append("a bool 'binary' class variable")
    if inspect.isabstract(cls):
        problems.append("implementations of read() and write()")
    if problems:
        raise PluginLoadError(
            f"handler {cls.__module__}.{cls.__qualname__} from {source} needs "
            + ", ".join(problems)
        )


def validate_backend(cls: type[Backend], source: str) -> None:
    """Refuse a backend class that lacks its protocols or methods."""
    protocols = getattr(cls, "protocols", None)
    if (
        not isinstance(protocols, tuple)
        or not protocols
        or not all(isinstance(p, str) and p for p in protocols)
    ):
        raise PluginLoadError(
            f"backend {cls.__module__}.{cls.__qualname__} from {source} needs a non-empty "
            "tuple of str 'protocols' class variable"
        )
    if inspect.isabstract(cls):
        raise PluginLoadError(
            f"backend {cls.__module__}.{cls.__qualname__} from {source} leaves abstract "
            "methods unimplemented"
        )
