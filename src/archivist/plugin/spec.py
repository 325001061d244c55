"""The hooks archivist calls. Hooks only grow: new arguments are appended, never removed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from archivist.plugin import hookspec

if TYPE_CHECKING:
    from archivist._backends.base import Backend
    from archivist.handlers.base import Handler


@hookspec
def archivist_register_handlers() -> Sequence[type[Handler]]:
    """Return the handler classes this plugin provides.

    Each class names itself with its ``alias`` class variable. Two plugins providing the
    same alias is an error unless one of them was registered with ``override=True``.

    Returns
    -------
    Sequence[type[archivist.Handler]]
        Handler classes (not instances).

    Notes
    -----
    .. versionadded:: 0.1.0
    """
    raise NotImplementedError


@hookspec
def archivist_register_backends() -> Sequence[type[Backend]]:
    """Return the storage backend classes this plugin provides.

    Each class names the URL protocols it serves with its ``protocols`` class variable.

    Returns
    -------
    Sequence[type[archivist.Backend]]
        Backend classes (not instances).

    Notes
    -----
    .. versionadded:: 0.1.0
    """
    raise NotImplementedError


@hookspec
def archivist_after_commit(location: str, versions: Sequence[Mapping[str, Any]]) -> None:
    """React to a commit: called once a save's new versions are in the manifest.

    Parameters
    ----------
    location : str
        The URL (or absolute path) of the repository's manifest.
    versions : Sequence[Mapping[str, Any]]
        The records of the versions this commit added, as stored in the manifest.

    Notes
    -----
    An exception raised here propagates to the caller of ``save()``, but the commit has
    already happened.

    .. versionadded:: 0.1.0
    """


@hookspec(firstresult=True)
def archivist_find_handler(alias: str) -> type[Handler] | None:
    """Provide a handler for an alias no plugin registers: the last resort of a lookup.

    Called by :func:`archivist.get_handler` only when no class registered through
    :func:`archivist_register_handlers` has ``alias``; the first implementation that
    returns a class answers. archivist's lazyscribe layer implements it to find
    lazyscribe-style ``Artifact`` subclasses defined in the running program (lazyscribe's
    subclass scanning).

    Parameters
    ----------
    alias : str
        The alias asked for.

    Returns
    -------
    type[archivist.Handler] or None
        A handler class whose ``alias`` is ``alias``, or ``None`` to let the next
        implementation answer (when none does, the lookup raises
        :class:`~archivist.errors.UnknownHandlerError`).

    Notes
    -----
    .. versionadded:: 0.2.0
    """


@hookspec(firstresult=True)
def archivist_find_backend(protocol: str) -> type[Backend] | None:
    """Provide a backend for a protocol no plugin registers: the last resort of a lookup.

    Called by :func:`archivist.get_backend` only when no class registered through
    :func:`archivist_register_backends` serves ``protocol``, and the protocol is not one
    an optional archivist distribution serves (those are refused with an install hint
    until it is installed); the first implementation that returns a class answers.
    archivist's generic fsspec backend implements it for any protocol fsspec knows.

    Parameters
    ----------
    protocol : str
        The URL protocol asked for.

    Returns
    -------
    type[archivist.Backend] or None
        A backend class serving ``protocol``, or ``None`` to let the next implementation
        answer (when none does, the lookup raises
        :class:`~archivist.errors.UnknownBackendError`).

    Notes
    -----
    .. versionadded:: 0.2.0
    """
