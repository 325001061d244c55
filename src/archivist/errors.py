"""The exceptions and warnings archivist raises.

Every exception is rooted at :class:`ArchivistError` and also subclasses the builtin it
refines, so code written for ``LookupError`` or ``PermissionError`` keeps working:

.. code-block:: text

    ArchivistError
    ├── ReadOnlyError (PermissionError)
    ├── PinnedVersionError (PermissionError)
    ├── VersionNotFoundError (LookupError)
    │   └── AmbiguousVersionError
    ├── ArtifactNotFoundError (LookupError)
    ├── ExperimentNotFoundError (KeyError)
    ├── RepositoryNotFoundError (FileNotFoundError)
    ├── UnknownHandlerError (LookupError)
    ├── UnknownBackendError (LookupError)
    ├── ManifestError (ValueError)
    ├── InvalidVersionError (ValueError)
    ├── InvalidNameError (ValueError)
    ├── InvalidModeError (ValueError)
    ├── InvalidArgumentError (ValueError)
    ├── UnsupportedOperationError (ValueError)
    ├── ConfigError (ValueError)
    ├── SerializationError (ValueError)
    ├── IntegrityError
    ├── EnvironmentMismatchError (RuntimeError)
    ├── UnsavedChangesError (RuntimeError)
    ├── ConflictError
    │   ├── StaleTokenError
    │   └── AlreadyExistsError (FileExistsError)
    ├── StorageError (OSError)
    ├── PluginLoadError (ImportError)
    └── DuplicatePluginError (ValueError)
"""

from __future__ import annotations

__all__ = [
    "AlreadyExistsError",
    "AmbiguousVersionError",
    "ArchivistError",
    "ArchivistWarning",
    "ArtifactNotFoundError",
    "ConfigError",
    "ConflictError",
    "DuplicatePluginError",
    "EnvironmentMismatchError",
    "ExperimentNotFoundError",
    "IntegrityError",
    "InvalidArgumentError",
    "InvalidModeError",
    "InvalidNameError",
    "InvalidVersionError",
    "ManifestError",
    "PinnedVersionError",
    "PluginLoadError",
    "ReadOnlyError",
    "RepositoryNotFoundError",
    "SerializationError",
    "StaleTokenError",
    "StorageError",
    "UnknownBackendError",
    "UnknownHandlerError",
    "UnsavedChangesError",
    "UnsupportedOperationError",
    "VersionNotFoundError",
]


class ArchivistError(Exception):
    """The root of every error archivist raises on purpose."""


class ReadOnlyError(ArchivistError, PermissionError):
    """A write was asked of a repository or project opened for reading only."""


class PinnedVersionError(ArchivistError, PermissionError):
    """The version is pinned (an alias names it), so it may not be expired."""


class VersionNotFoundError(ArchivistError, LookupError):
    """No version of an artifact matches the version asked for."""


class AmbiguousVersionError(VersionNotFoundError):
    """More than one version matches an exact time given to a coarser precision."""


class ArtifactNotFoundError(ArchivistError, LookupError):
    """No artifact of the given name exists, or its stored file is missing."""


class ExperimentNotFoundError(ArchivistError, KeyError):
    """A project has no experiment with the slug or short slug asked for."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class RepositoryNotFoundError(ArchivistError, FileNotFoundError):
    """A repository opened for reading has no manifest at the given location."""


class UnknownHandlerError(ArchivistError, LookupError):
    """No installed handler has the alias asked for."""


class UnknownBackendError(ArchivistError, LookupError):
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


class InvalidArgumentError(ArchivistError, ValueError):
    """An argument has a value (or a keyword a name) that the call does not accept."""


class ConfigError(ArchivistError, ValueError):
    """A configuration (a ``pyproject.toml``'s ``[tool.archivist]`` table) is missing or invalid."""


class SerializationError(ArchivistError, ValueError):
    """A handler could not write (or read) a value."""


class IntegrityError(ArchivistError):
    """A stored file does not match the digest or size its manifest record holds."""


class EnvironmentMismatchError(ArchivistError, RuntimeError):
    """A version was written under an environment that differs from the running one."""


class UnsavedChangesError(ArchivistError, RuntimeError):
    """An operation needs a saved repository, but it holds changes not yet saved."""


class ConflictError(ArchivistError):
    """A commit could not be completed because other writers kept changing the same data."""


class StaleTokenError(ConflictError):
    """A compare-and-swap failed: the stored file changed since its token was read.

    Backends raise it from :meth:`archivist.Backend.replace_if_unchanged`; the commit
    protocol catches it and retries.
    """


class AlreadyExistsError(ConflictError, FileExistsError):
    """A file that archivist would create already exists; stored files are never overwritten."""


class StorageError(ArchivistError, OSError):
    """The storage underneath failed (permissions, network, a missing bucket)."""


class PluginLoadError(ArchivistError, ImportError):
    """A plugin's entry point could not be imported or registered."""


class DuplicatePluginError(ArchivistError, ValueError):
    """Two plugins claim the same handler alias or protocol, and neither asked to override."""


class ArchivistWarning(UserWarning):
    """A warning from archivist: data is usable, but something deserves attention."""
