"""lazyscribe's exception names (``lazyscribe.exception``), as bases of archivist's errors.

Code written for lazyscribe 2.2 catches these names; archivist raises subclasses of them
wherever lazyscribe raised them, so those ``except`` clauses keep working:

* ``LazyscribeError`` is :class:`~archivist.errors.ArchivistError`, the root of every error;
* ``ReadOnlyError``, ``VersionNotFoundError`` and ``InvalidVersionError`` are archivist's
  classes of the same names;
* ``SaveError``, ``ArtifactError``, ``ArtifactLogError`` and ``ArtifactLoadError`` are bases
  of archivist's more precise errors (for example
  :class:`~archivist.errors.SerializationError` is a ``SaveError``,
  :class:`~archivist.errors.EnvironmentMismatchError` an ``ArtifactLoadError``).

New code can catch the classes of :mod:`archivist.errors` directly.
"""

from __future__ import annotations

from archivist.errors import (
    ArchivistError,
    ArtifactError,
    ArtifactLoadError,
    ArtifactLogError,
    InvalidVersionError,
    ReadOnlyError,
    SaveError,
    VersionNotFoundError,
)

__all__ = [
    "ArtifactError",
    "ArtifactLoadError",
    "ArtifactLogError",
    "InvalidVersionError",
    "LazyscribeError",
    "ReadOnlyError",
    "SaveError",
    "VersionNotFoundError",
]

#: lazyscribe's root exception: archivist's root, :class:`~archivist.errors.ArchivistError`.
LazyscribeError = ArchivistError
