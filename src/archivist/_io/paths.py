"""Where a file lies, and the one way archivist deletes one.

Every path archivist builds below a root it owns (a repository folder, a manifest's private
folder, a cache folder) is built by :func:`path_under`, and every file archivist deletes is
deleted by :func:`delete_owned`, which checks again that the path lies under the root the
caller owns. Names read from stored files (manifests, journals, alias files, index caches)
can be forged, so neither function trusts its parts: an empty part, ``.``, ``..``, an
absolute part or a backslash never reaches storage, on any backend (on an object store
``/other-bucket/key`` would otherwise cross into another bucket).

Names read from stored files are checked twice. First when the file is parsed, by the one
rule for stored names, :func:`archivist._formats.names.check_stored_record`: a manifest
record, a save journal's entry, an alias move or an index row that breaks it makes the file invalid
(:class:`~archivist.errors.ManifestError`; gc leaves an invalid journal alone). Then here,
when a path is built from them (:class:`~archivist.errors.InvalidNameError`), so a parser
that forgot the first check still cannot reach outside the root.
"""

from __future__ import annotations

from typing import Protocol

from archivist.errors import InvalidNameError

__all__ = ["Deleter", "check_under", "delete_owned", "path_under", "relative_parts"]


class Deleter(Protocol):
    """What :func:`delete_owned` deletes through: a :class:`~archivist.Backend`, or a folder."""

    def delete(self, path: str) -> None:
        """Delete the file at ``path``; a missing file raises ``FileNotFoundError``."""

    def discard(self, path: str) -> None:
        """Delete the file at ``path`` if it is there."""


def relative_parts(relative: str, what: str) -> list[str]:
    """Split a relative path into its parts, refusing any that could leave its root.

    Parameters
    ----------
    relative : str
        A path relative to a root, parts separated by ``/``.
    what : str
        What the path is, for the error message.

    Returns
    -------
    list[str]
        The parts, none empty, ``.`` or ``..``.

    Raises
    ------
    archivist.errors.InvalidNameError
        The path is empty, absolute, holds an empty, ``.`` or ``..`` part, a backslash or a
        NUL character.
    """
    if not isinstance(relative, str) or not relative:
        raise InvalidNameError(f"{what} is empty or not a string: {relative!r}")
    if "\\" in relative or "\x00" in relative:
        raise InvalidNameError(f"{what} holds a backslash or a NUL character: {relative!r}")
    parts = relative.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise InvalidNameError(
            f"{what} {relative!r} is absolute or holds an empty, '.' or '..' part; it would "
            "leave the folder it belongs to"
        )
    return parts


def path_under(root: str, *relative: str, what: str = "a path") -> str:
    """Return ``root`` joined with relative paths, each checked by :func:`relative_parts`.

    Parameters
    ----------
    root : str
        The folder the caller owns, in the backend's path form (no trailing ``/`` needed).
    *relative : str
        Relative paths below it (an artifact name, a file name, a journal file name, ...).
    what : str, optional
        What is being named, for the error message.

    Returns
    -------
    str
        The joined path; it always lies strictly under ``root``.

    Raises
    ------
    archivist.errors.InvalidNameError
        A part would leave ``root``.
    """
    parts = [part for item in relative for part in relative_parts(item, what)]
    if not parts:
        raise InvalidNameError(f"{what} names no file below {root}")
    return "/".join([root.rstrip("/"), *parts]) if root else "/".join(parts)


def check_under(root: str, path: str, what: str = "a path") -> str:
    """Return ``path`` if it lies strictly under ``root``; refuse it otherwise.

    Parameters
    ----------
    root : str
        The owned folder.
    path : str
        A path built from it.
    what : str, optional
        For the error message.

    Returns
    -------
    str
        ``path``, unchanged.

    Raises
    ------
    archivist.errors.InvalidNameError
        ``path`` is ``root`` itself or lies outside it.
    """
    prefix = root.rstrip("/") + "/" if root else ""
    if not path.startswith(prefix):
        raise InvalidNameError(f"{what} {path!r} does not lie under {root!r}; nothing deleted")
    relative_parts(path[len(prefix) :], what)
    return path


def delete_owned(backend: Deleter, root: str, path: str, *, missing_ok: bool = False) -> None:
    """Delete one file that lies under a root archivist owns: the only way archivist deletes.

    The caller has already decided, from authoritative data, that the file is its own and
    unreferenced; this function re-checks that ``path`` lies strictly under ``root`` (no
    ``..``, empty or absolute part) before anything is deleted.

    Parameters
    ----------
    backend : Deleter
        The storage holding the file (a :class:`~archivist.Backend`, or the local files of a
        cache folder).
    root : str
        The folder the caller owns (a repository folder, a private folder, a cache folder).
    path : str
        The file, in the backend's path form.
    missing_ok : bool, optional
        A missing file is no error.

    Raises
    ------
    archivist.errors.InvalidNameError
        ``path`` does not lie under ``root``: nothing is deleted.
    FileNotFoundError
        The file is missing and ``missing_ok`` is false.
    """
    check_under(root, path, "a file to delete")
    if missing_ok:
        backend.discard(path)
    else:
        backend.delete(path)
