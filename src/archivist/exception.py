"""lazyscribe's exception names (``lazyscribe.exception``), on archivist's native errors.

Code written for lazyscribe 2.2 catches these names; each is the archivist class of the
same meaning, and wherever lazyscribe raised one of them archivist raises a subclass of it,
so those ``except`` clauses keep working:

* ``LazyscribeError`` is :class:`~archivist.errors.ArchivistError`, the root of every error;
* ``SaveError`` is :class:`~archivist.errors.WriteError` (a handler that cannot write, a
  conflict, a storage failure while writing);
* ``ArtifactLoadError`` is :class:`~archivist.errors.LoadError` (a missing artifact, a file
  that fails its digest, another environment, a handler that cannot read);
* ``ArtifactLogError`` is :class:`~archivist.errors.LogError`, ``ArtifactError``,
  ``ReadOnlyError``, ``VersionNotFoundError`` and ``InvalidVersionError`` are archivist's
  classes of the same names.

New code can catch the classes of :mod:`archivist.errors` directly.
"""

from __future__ import annotations

from archivist.errors import (
    ArchivistError,
    ArtifactError,
    InvalidVersionError,
    LoadError,
    LogError,
    ReadOnlyError,
    VersionNotFoundError,
    WriteError,
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
#: lazyscribe's failed save: :class:`~archivist.errors.WriteError`.
SaveError = WriteError
#: lazyscribe's failed log: :class:`~archivist.errors.LogError`.
ArtifactLogError = LogError
#: lazyscribe's failed load: :class:`~archivist.errors.LoadError`.
ArtifactLoadError = LoadError
