"""The exceptions and warnings archivist raises.

Every exception is rooted at :class:`ArchivistError` and also subclasses the builtin it
refines, so code written for ``LookupError`` or ``PermissionError`` keeps working. The
names lazyscribe 2.2 raises (:mod:`archivist.exception`) are bases in the same hierarchy:
wherever lazyscribe raised one of them, or a builtin, archivist raises a subclass of it.

.. code-block:: text

    ArchivistError                      (lazyscribe's LazyscribeError)
    ├── SaveError                       (lazyscribe's name)
    ├── ArtifactError                   (lazyscribe's name)
    │   ├── ArtifactLogError            (lazyscribe's name)
    │   └── ArtifactLoadError           (lazyscribe's name)
    ├── ReadOnlyError (PermissionError)
    ├── PinnedVersionError (PermissionError)
    ├── VersionNotFoundError (LookupError)
    │   ├── AmbiguousVersionError
    │   └── NoReleasesError (IndexError)
    ├── ArtifactNotFoundError (ArtifactLoadError, KeyError, ValueError)
    │   └── ArtifactFileNotFoundError (FileNotFoundError)
    ├── ExperimentNotFoundError (KeyError)
    ├── RepositoryNotFoundError (FileNotFoundError)
    ├── UnknownHandlerError (LookupError, ValueError)
    ├── UnknownBackendError (LookupError, ValueError)
    ├── ManifestError (ValueError)
    ├── InvalidVersionError (ValueError)
    ├── InvalidNameError (ValueError)
    ├── InvalidModeError (ValueError)
    ├── InvalidArgumentError (TypeError, ValueError)
    ├── UnsupportedOperationError (ValueError)
    ├── ConfigError (ValueError)
    │   └── MissingConfigError (KeyError)
    ├── SerializationError (SaveError, ValueError)
    ├── IntegrityError (ArtifactLoadError)
    │   ├── UntrustedArtifactError
    │   └── IrregularFileError (StorageError)
    ├── EnvironmentMismatchError (ArtifactLoadError, RuntimeError)
    ├── UnsavedChangesError (RuntimeError)
    ├── ConflictError (SaveError)
    │   ├── StaleTokenError
    │   └── AlreadyExistsError (FileExistsError)
    │       └── DuplicateArtifactError (ArtifactLogError)
    ├── StorageError (SaveError, OSError)
    │   └── ReadOnlyStorageError (ReadOnlyError)
    ├── PluginLoadError (ImportError)
    └── DuplicatePluginError (ValueError)
"""

from __future__ import annotations

__all__ = [
    "AlreadyExistsError",
    "AmbiguousVersionError",
    "ArchivistError",
    "ArchivistWarning",
    "ArtifactError",
    "ArtifactFileNotFoundError",
    "ArtifactLoadError",
    "ArtifactLogError",
    "ArtifactNotFoundError",
    "ConfigError",
    "ConflictError",
    "DuplicateArtifactError",
    "DuplicatePluginError",
    "EnvironmentMismatchError",
    "ExperimentNotFoundError",
    "IntegrityError",
    "InvalidArgumentError",
    "InvalidModeError",
    "InvalidNameError",
    "InvalidVersionError",
    "IrregularFileError",
    "ManifestError",
    "MissingConfigError",
    "NoReleasesError",
    "PinnedVersionError",
    "PluginLoadError",
    "ReadOnlyError",
    "ReadOnlyStorageError",
    "RepositoryNotFoundError",
    "SaveError",
    "SerializationError",
    "StaleTokenError",
    "StorageError",
    "UnknownBackendError",
    "UnknownHandlerError",
    "UnsavedChangesError",
    "UnsupportedOperationError",
    "UntrustedArtifactError",
    "VersionNotFoundError",
]


class ArchivistError(Exception):
    """The root of every error archivist raises on purpose."""


class SaveError(ArchivistError):
    """Data could not be written (lazyscribe's name; its subclasses say why)."""


class ArtifactError(ArchivistError):
    """An artifact could not be logged or loaded (lazyscribe's name)."""


class ArtifactLogError(ArtifactError):
    """An artifact could not be logged (lazyscribe's name)."""


class ArtifactLoadError(ArtifactError):
    """An artifact could not be loaded (lazyscribe's name; its subclasses say why)."""


class ReadOnlyError(ArchivistError, PermissionError):
    """A write was asked of a repository or project opened for reading only."""


class PinnedVersionError(ArchivistError, PermissionError):
    """The version is pinned (an alias names it), so it may not be expired."""


class VersionNotFoundError(ArchivistError, LookupError):
    """No version of an artifact matches the version asked for."""


class AmbiguousVersionError(VersionNotFoundError):
    """More than one version matches an exact time given to a coarser precision."""


class NoReleasesError(VersionNotFoundError, IndexError):
    """The newest release was asked of an empty list of releases."""


class ArtifactNotFoundError(ArtifactLoadError, KeyError, ValueError):
    """No artifact of the given name exists, or its stored file is missing.

    It is a :class:`KeyError` (``repository["name"]``), a :class:`ValueError` (lazyscribe's
    repositories) and an :class:`ArtifactLoadError` (lazyscribe's experiments).
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ArtifactFileNotFoundError(ArtifactNotFoundError, FileNotFoundError):
    """A version has no stored file: it is not saved yet, or its file was removed."""


class ExperimentNotFoundError(ArchivistError, KeyError):
    """A project has no experiment with the slug or short slug asked for."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class RepositoryNotFoundError(ArchivistError, FileNotFoundError):
    """A repository opened for reading has no manifest at the given location."""


class UnknownHandlerError(ArchivistError, LookupError, ValueError):
    """No installed handler has the alias asked for."""


class UnknownBackendError(ArchivistError, LookupError, ValueError):
    """No installed storage backend serves the URL's protocol."""


class ManifestError(ArchivistError, ValueError):
    """A manifest (``repository.json``) cannot be parsed or breaks the manifest contract."""


class InvalidVersionError(ArchivistError, ValueError):
    """A version value (or a ``match`` mode) cannot be understood."""


class InvalidNameError(ArchivistError, ValueError):
    """An artifact name or file name is empty, or would escape the repository folder."""


class InvalidModeError(ArchivistError, ValueError):
    """A repository or project was opened with a mode it does not know."""


class UnsupportedOperationError(ArchivistError, ValueError):
    """The operation does not apply to this artifact (for example, a diff of binary files)."""


class InvalidArgumentError(ArchivistError, TypeError, ValueError):
    """An argument is not accepted: an unknown keyword, or a value out of range."""


class ConfigError(ArchivistError, ValueError):
    """A configuration (a ``pyproject.toml``'s ``[tool.archivist]`` table) is missing or invalid."""


class MissingConfigError(ConfigError, KeyError):
    """A configuration lacks a table or key it needs (lazyscribe raised ``KeyError``)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class SerializationError(SaveError, ValueError):
    """A handler could not write (or read) a value."""


class IntegrityError(ArtifactLoadError):
    """A stored file does not match the digest or size its manifest record holds."""


class UntrustedArtifactError(IntegrityError):
    """Loading would run code from a file no digest vouches for, and ``trust="verified"``.

    Raised for records written without a digest (by lazyscribe) whose handler executes code
    when it reads (pickle, joblib). ``Repository.adopt()`` records digests for them.
    """


class EnvironmentMismatchError(ArtifactLoadError, RuntimeError):
    """A version was written under an environment that differs from the running one."""


class UnsavedChangesError(ArchivistError, RuntimeError):
    """An operation needs a saved repository, but it holds changes not yet saved."""


class ConflictError(SaveError):
    """A commit could not be completed because other writers kept changing the same data."""


class StaleTokenError(ConflictError):
    """A compare-and-swap failed: the stored file changed since its token was read.

    Backends raise it from :meth:`archivist.Backend.replace_if_unchanged`; the commit
    protocol catches it and retries.
    """


class AlreadyExistsError(ConflictError, FileExistsError):
    """A file that archivist would create already exists; stored files are never overwritten."""


class DuplicateArtifactError(AlreadyExistsError, ArtifactLogError):
    """An experiment or test already has an artifact of that name (pass ``overwrite=True``).

    Also lazyscribe's ``ArtifactLogError``, which lazyscribe raised in this case.
    """


class StorageError(SaveError, OSError):
    """The storage underneath failed (permissions, network, a missing bucket)."""


class IrregularFileError(IntegrityError, StorageError):
    """A FIFO, device, socket or folder is where archivist expected a regular file.

    archivist reads only regular files: it never blocks on a FIFO nor streams from a device.
    A version's file found so is an :class:`IntegrityError` (``verify()`` lists it); a
    manifest, journal, alias, release or project file found so is a :class:`StorageError`.
    """


class ReadOnlyStorageError(ReadOnlyError, StorageError):
    """The storage itself cannot write (an fsspec filesystem without write support)."""


class PluginLoadError(ArchivistError, ImportError):
    """A plugin's entry point could not be imported or registered."""


class DuplicatePluginError(ArchivistError, ValueError):
    """Two plugins claim the same handler alias or protocol, and neither asked to override."""


class ArchivistWarning(UserWarning):
    """A warning from archivist: data is usable, but something deserves attention."""
