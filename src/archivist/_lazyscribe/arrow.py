"""lazyscribe-arrow's ``to_table`` for archivist's projects and repositories.

``lazyscribe_arrow.interchange.to_table`` is a :func:`functools.singledispatch` function
registered for lazyscribe's ``Project`` and ``Repository`` classes; for any other object its
fallback returns ``None``, silently. archivist's classes are not lazyscribe's (the core never
imports lazyscribe), so this module registers them with lazyscribe-arrow's own
implementations, at the moment ``lazyscribe_arrow.interchange`` is imported (or at once, if it
already is): :func:`install`, called when archivist is imported, adds a finder to
:data:`sys.meta_path` that does nothing for any other module and imports nothing.

A repository is handed to lazyscribe-arrow as lazyscribe would iterate it: times to the
second (archivist records microseconds, which lazyscribe-arrow's cast to seconds refuses).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

from archivist.errors import ArchivistWarning

__all__ = ["INTERCHANGE", "LazyscribeRows", "install", "register"]

#: The module whose ``to_table`` archivist's classes are registered with.
INTERCHANGE = "lazyscribe_arrow.interchange"
#: Fields of a repository's rows that lazyscribe writes to the second.
_TIMES = ("created_at", "expiry")

_LOCK = threading.Lock()


class LazyscribeRows:
    """A repository seen as lazyscribe iterates one: a row per version, times to the second.

    Parameters
    ----------
    repository : archivist.Repository
        The repository.
    """

    def __init__(self, repository: Any) -> None:
        self._repository = repository

    def __iter__(self) -> Iterator[dict[str, Any]]:
        from archivist._formats.records import format_seconds, parse_stored_time

        for row in self._repository:
            yield {
                key: (
                    format_seconds(parse_stored_time(value, key))
                    if key in _TIMES and isinstance(value, str)
                    else value
                )
                for key, value in row.items()
            }


def register(interchange: ModuleType) -> None:
    """Register archivist's ``Project`` and ``Repository`` with lazyscribe-arrow's ``to_table``.

    Each gets lazyscribe-arrow's implementation for the lazyscribe class of the same name.
    Registering twice is harmless.

    Parameters
    ----------
    interchange : module
        ``lazyscribe_arrow.interchange``.
    """
    from archivist.project import Project
    from archivist.repository import Repository

    lazyscribe: Any = importlib.import_module("lazyscribe")  # installed with lazyscribe-arrow
    to_table = interchange.to_table
    project_table = to_table.dispatch(lazyscribe.Project)
    repository_table = to_table.dispatch(lazyscribe.Repository)

    def archivist_repository_table(obj: Repository, /) -> Any:
        return repository_table(LazyscribeRows(obj))

    to_table.register(Project, project_table)
    to_table.register(Repository, archivist_repository_table)


def _register_safely(module: ModuleType) -> None:
    try:
        register(module)
    except Exception as exc:  # never break the user's import of lazyscribe-arrow
        warnings.warn(
            f"archivist could not register its Project and Repository with {INTERCHANGE}."
            f"to_table ({type(exc).__name__}: {exc}); to_table returns None for them",
            ArchivistWarning,
            stacklevel=2,
        )


class _RegisteringLoader(importlib.abc.Loader):
    """Runs a module's own loader, then registers archivist's classes with it."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        _register_safely(module)

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename, resource readers
        return getattr(self._loader, name)


class _InterchangeFinder(importlib.abc.MetaPathFinder):
    """Finds ``lazyscribe_arrow.interchange`` with the other finders, registering on load."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != INTERCHANGE:
            return None
        for finder in sys.meta_path:
            if finder is self or isinstance(finder, _InterchangeFinder):
                continue
            find_spec = getattr(finder, "find_spec", None)
            spec: importlib.machinery.ModuleSpec | None = (
                None if find_spec is None else find_spec(fullname, path, target)
            )
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _RegisteringLoader(spec.loader)
                return spec
        return None


def install() -> None:
    """Make ``lazyscribe_arrow.interchange.to_table`` accept archivist's objects.

    Registers now if the module is imported already, else when it is imported. Costs
    nothing when lazyscribe-arrow is not installed or never imported.
    """
    with _LOCK:
        module = sys.modules.get(INTERCHANGE)
        if module is not None:
            _register_safely(module)
            return
        if not any(isinstance(finder, _InterchangeFinder) for finder in sys.meta_path):
            sys.meta_path.insert(0, _InterchangeFinder())
