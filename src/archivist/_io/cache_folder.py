"""The local cache folder: marked as archivist's when archivist makes it, and what it may delete.

A cache folder (``cache_dir=``, ``ARCHIVIST_CACHE_DIR`` or the user cache folder) may be
mistyped to name a folder of the user's. So archivist writes a marker, ``CACHEDIR.TAG`` (the
`Cache Directory Tagging Specification <https://bford.info/cachedir/>`_, which backup tools
honour, plus a line naming archivist and the format), into a folder when it creates it or
finds it empty, and from then on treats it as its own. A folder that exists, is not empty
and holds no such marker is refused with a :class:`~archivist.errors.ConfigError` by
everything that writes or deletes there.

Even in its own folder archivist deletes only regular files named and placed as it names them
(:func:`owned_kind`): ``sha256/<2 hex>/<64 hex>`` and ``blake3/<2 hex>/<64 hex>`` entries,
``tmp/<16 hex>-<16 hex>.part`` temporary files, and ``manifests/<32 hex>.index`` columns with
their temporary files; never a folder whole, and every deletion goes through
:func:`archivist._io.paths.delete_owned`.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

from archivist.errors import ConfigError

__all__ = [
    "MARKER",
    "claim",
    "claim_quietly",
    "delete",
    "is_marked",
    "owned_files",
    "owned_kind",
]

#: The marker file's name.
MARKER = "CACHEDIR.TAG"
#: The format of the cache folder's layout, written in the marker.
FORMAT = 1
_SIGNATURE = "Signature: 8a477f597d28d172789f06886806bc55"
_FORMAT_LINE = f"# archivist cache, format {FORMAT}"
_MARKER_TEXT = (
    f"{_SIGNATURE}\n"
    "# This file marks a cache folder made by archivist; see its docs (the local cache).\n"
    "# archivist deletes only the files it made in this folder.\n"
    f"{_FORMAT_LINE}\n"
)
_MARKER_TEMP = re.compile(r"\.CACHEDIR\.TAG\.[0-9a-f]{16}\.tmp")
_MAX_MARKER_BYTES = 4096
_OWNED = {
    "entry": re.compile(r"(?:sha256|blake3)/([0-9a-f]{2})/\1[0-9a-f]{62}"),
    "temp": re.compile(r"tmp/[0-9a-f]{16}-[0-9a-f]{16}\.part"),
    "index": re.compile(
        r"manifests/(?:[0-9a-f]{32}\.index|\.[0-9a-f]{32}\.index\.[0-9a-f]{16}\.tmp)"
    ),
}
#: The subfolders holding each kind of file, and how deep below them the files lie.
_SUBFOLDERS = {
    "entry": (("blake3", "sha256"), 2),
    "temp": (("tmp",), 1),
    "index": (("manifests",), 1),
}


def owned_kind(relative: str) -> str | None:
    """Tell which of archivist's files a path relative to the cache folder names, if any.

    Parameters
    ----------
    relative : str
        A ``/``-separated path below the cache folder.

    Returns
    -------
    str or None
        ``"entry"``, ``"temp"`` or ``"index"``; ``None`` for any other name.
    """
    for kind, pattern in _OWNED.items():
        if pattern.fullmatch(relative):
            return kind
    return None


def is_marked(folder: Path) -> bool:
    """Tell whether ``folder`` holds archivist's marker (a regular file, this format).

    Parameters
    ----------
    folder : pathlib.Path
        The cache folder.

    Returns
    -------
    bool
        ``True`` when the marker is there and names archivist's format.
    """
    try:
        fd = os.open(folder / MARKER, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        text = os.read(fd, _MAX_MARKER_BYTES)
    except OSError:
        return False
    finally:
        os.close(fd)
    lines = text.decode("utf-8", "replace").splitlines()
    return bool(lines) and lines[0] == _SIGNATURE and _FORMAT_LINE in lines


def _not_ours(folder: Path) -> ConfigError:
    return ConfigError(
        f"{folder} is not an archivist cache folder: it is not empty and holds no "
        f"{MARKER} written by archivist, so archivist neither writes nor deletes anything "
        "in it. Point cache_dir= (or ARCHIVIST_CACHE_DIR) at a new or empty folder; if this "
        "is a cache an older archivist made, delete it and let archivist make it again."
    )


def platform_cache_dir() -> Path:
    """Return the user cache folder platformdirs names for archivist (``~/.cache/archivist``).

    Returns
    -------
    pathlib.Path
        The folder; it bears archivist's name, so it is archivist's even without a marker
        (an older archivist made it without one).
    """
    import platformdirs

    return Path(platformdirs.user_cache_dir("archivist", appauthor=False))


def claim(folder: Path) -> bool:
    """Make sure ``folder`` is an archivist cache folder: create and mark it if need be.

    A folder that is missing or empty is marked; so is :func:`platform_cache_dir`, which
    bears archivist's name, even if an older archivist left files in it.

    Parameters
    ----------
    folder : pathlib.Path
        The cache folder.

    Returns
    -------
    bool
        ``True`` when the folder is marked as archivist's; ``False`` when it cannot be
        created or marked (a file in its place, no permission): the caller then works
        without the cache.

    Raises
    ------
    archivist.errors.ConfigError
        The folder exists, is not empty and is not marked: it is not archivist's.
    """
    if is_marked(folder):
        return True
    try:
        folder.mkdir(parents=True, exist_ok=True)
        present = [name for name in os.listdir(folder) if not _MARKER_TEMP.fullmatch(name)]
    except OSError:
        return False
    if present and folder.absolute() != platform_cache_dir().absolute():
        if is_marked(folder):  # another process marked it meanwhile
            return True
        raise _not_ours(folder)
    temp = folder / f".{MARKER}.{secrets.token_hex(8)}.tmp"
    try:
        temp.write_text(_MARKER_TEXT, encoding="utf-8")
        os.replace(temp, folder / MARKER)
    except OSError:
        with contextlib.suppress(OSError):
            temp.unlink()
        return False
    return True


def claim_quietly(folder: Path) -> bool:
    """:func:`claim`, answering ``False`` for a folder that is not archivist's (best effort)."""
    try:
        return claim(folder)
    except ConfigError:
        return False


def owned_files(folder: Path, kind: str) -> Iterator[tuple[str, os.stat_result]]:
    """Yield the regular files of ``kind`` that archivist made in ``folder``, with their stat.

    Parameters
    ----------
    folder : pathlib.Path
        The cache folder.
    kind : str
        ``"entry"``, ``"temp"`` or ``"index"``.

    Yields
    ------
    tuple[str, os.stat_result]
        Each file's path relative to ``folder`` and its ``lstat``; other files (and links,
        folders, files named otherwise) are never yielded.
    """
    tops, depth = _SUBFOLDERS[kind]
    relatives = list(tops)
    for _ in range(depth):
        deeper = []
        for relative in relatives:
            with contextlib.suppress(OSError):
                deeper += [f"{relative}/{name}" for name in sorted(os.listdir(folder / relative))]
        relatives = deeper
    for relative in relatives:
        if owned_kind(relative) != kind:
            continue
        try:
            found = os.lstat(folder / relative)
        except OSError:
            continue
        if stat.S_ISREG(found.st_mode):
            yield relative, found


class _LocalFiles:
    """Local files, deleted by name: what :func:`delete_owned` deletes a cache file through."""

    @staticmethod
    def delete(path: str) -> None:
        os.unlink(path)

    @staticmethod
    def discard(path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


_LOCAL_FILES = _LocalFiles()


def delete(folder: Path, relative: str) -> bool:
    """Delete one file archivist made in its cache ``folder``; a missing file is no error.

    The name is checked again (:func:`owned_kind`), the file must still be a regular file,
    and the path goes through :func:`archivist._io.paths.delete_owned`.

    Parameters
    ----------
    folder : pathlib.Path
        The cache folder; the caller has checked it is marked.
    relative : str
        The file, relative to ``folder``.

    Returns
    -------
    bool
        ``True`` when this call deleted the file.
    """
    from archivist._io.paths import delete_owned

    if owned_kind(relative) is None:
        return False
    root = Path(os.path.abspath(folder))
    path = root / relative
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False
        delete_owned(_LOCAL_FILES, root.as_posix(), path.as_posix())
    except OSError:  # another process removed it first, or it cannot be removed: kept
        return False
    return True
