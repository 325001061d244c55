"""The exceptions and warnings archivist raises: one native hierarchy.

Every exception is rooted at :class:`ArchivistError` and also subclasses the builtin it
refines, so code written for ``LookupError`` or ``PermissionError`` keeps working. Each
base says what went wrong: :class:`WriteError` (data could not be written), :class:`LoadError`
(a version could not be loaded), :class:`LogError` (a value could not be logged),
:class:`StorageError` (the storage failed, reading or writing). lazyscribe's exception
names live in :mod:`archivist.exception`, as names of these classes (``SaveError`` is
:class:`WriteError`, ``ArtifactLoadError`` is :class:`LoadError`...), so that wherever
lazyscribe raised one of them archivist raises a subclass of it.

.. code-block:: text

    ArchivistError                      (lazyscribe's LazyscribeError)
    ├── WriteError                      (lazyscribe's SaveError)
    │   ├── EncodingError (SerializationError)
    │   ├── ConflictError
    │   │   ├── StaleTokenError
    │   │   └── AlreadyExistsError (FileExistsError)
    │   │       └── DuplicateArtifactError (LogError)
    │   └── StorageWriteError (StorageError)
    │       └── ReadOnlyStorageError (ReadOnlyModeError)
    ├── ArtifactError                   (lazyscribe's name)
    │   ├── LogError                    (lazyscribe's ArtifactLogError)
    │   └── LoadError                   (lazyscribe's ArtifactLoadError)
    │       ├── ArtifactNotFoundError (KeyError, ValueError)
    │       │   └── ArtifactFileNotFoundError (FileNotFoundError)
    │       ├── DecodingError (SerializationError)
    │       ├── IntegrityError
    │       │   ├── UntrustedArtifactError
    │       │   └── IrregularFileError (StorageError)
    │       └── EnvironmentMismatchError (RuntimeError)
    ├── SerializationError (ValueError)
    ├── StorageError (OSError)
    ├── ReadOnlyError                   (lazyscribe's name)
    │   ├── ReadOnlyModeError (PermissionError)
    │   └── ReadOnlyExperimentError (attrs' FrozenInstanceError, an AttributeError)
    ├── PinnedVersionError (PermissionError)
    ├── VersionNotFoundError (LookupError)
    │   ├── AmbiguousVersionError
    │   └── NoReleasesError (IndexError)
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
    ├── UnsavedChangesError (RuntimeError)
    ├── ReadOnlyRequiredError (RuntimeError)
    ├── PluginLoadError (ImportError)
    └── DuplicatePluginError (ValueError)
"""

from __future__ import annotations

from attrs.exceptions import FrozenInstanceError

__all__ = [
    "AlreadyExistsError",
    "AmbiguousVersionError",
    "ArchivistError",
    "ArchivistWarning",
    "ArtifactError",
    "ArtifactFileNotFoundError",
    "ArtifactNotFoundError",
    "ConfigError",
    "ConflictError",
    "DecodingError",
    "DuplicateArtifactError",
    "DuplicatePluginError",
    "EncodingError",
    "EnvironmentMismatchError",
    "ExperimentNotFoundError",
    "IntegrityError",
    "InvalidArgumentError",
    "InvalidModeError",
    "InvalidNameError",
    "InvalidVersionError",
    "IrregularFileError",
    "LoadError",
    "LogError",
    "ManifestError",
    "MissingConfigError",
    "NoReleasesError",
    "PinnedVersionError",
    "PluginLoadError",
    "ReadOnlyError",
    "ReadOnlyExperimentError",
    "ReadOnlyModeError",
    "ReadOnlyRequiredError",
    "ReadOnlyStorageError",
    "RepositoryNotFoundError",
    "SerializationError",
    "StaleTokenError",
    "StorageError",
    "StorageWriteError",
    "UnknownBackendError",
    "UnknownHandlerError",
    "UnsavedChangesError",
    "UnsupportedOperationError",
    "UntrustedArtifactError",
    "VersionNotFoundError",
    "WriteError",
]


class ArchivistError(Exception):
    """The root of every error archivist raises on purpose."""


class WriteError(ArchivistError):
    """Data could not be written; its subclasses say why (lazyscribe's ``SaveError``)."""


class ArtifactError(ArchivistError):
    """An artifact could not be logged or loaded (lazyscribe's name too)."""


class LogError(ArtifactError):
    """A value could not be logged as an artifact (lazyscribe's ``ArtifactLogError``)."""


class LoadError(ArtifactError):
    """A version could not be loaded; its subclasses say why (lazyscribe's ArtifactLoadError)."""


class ReadOnlyError(ArchivistError):
    """A change was refused because what it would change is read-only.

    Raised as one of two subclasses, each also the builtin error of its kind (one class
    cannot be both: Python refuses an ``OSError`` that is also an ``AttributeError``):
    :class:`ReadOnlyModeError` (a ``PermissionError``) for a repository, project or
    storage opened for reading only, and :class:`ReadOnlyExperimentError` (attrs'
    ``FrozenInstanceError``, an ``AttributeError``, as lazyscribe raised) for a read-only
    experiment or test.
    """


class ReadOnlyModeError(ReadOnlyError, PermissionError):
    """A write was asked of a repository or project opened for reading only (or its mode)."""


class ReadOnlyExperimentError(ReadOnlyError, FrozenInstanceError):
    """A read-only experiment or test (or one of its dicts and lists) refused a change.

    lazyscribe's read-only experiments and tests are frozen attrs classes, which raise
    ``attrs.exceptions.FrozenInstanceError``; this is a subclass of it, so ``except
    AttributeError`` and ``except FrozenInstanceError`` keep catching it.

    Parameters
    ----------
    message : str
        What was refused, and the fix.
    """

    def __init__(self, message: str) -> None:
        AttributeError.__init__(self, message)  # attrs' __init__ takes no message
        self.msg = message


class PinnedVersionError(ArchivistError, PermissionError):
    """The version is pinned (an alias names it), so it may not be expired."""


class VersionNotFoundError(ArchivistError, LookupError):
    """No version of an artifact matches the version asked for."""


class AmbiguousVersionError(VersionNotFoundError):
    """More than one version matches an exact time given to a coarser precision."""


class NoReleasesError(VersionNotFoundError, IndexError):
    """The newest release was asked of an empty list of releases."""


class ArtifactNotFoundError(LoadError, KeyError, ValueError):
    """No artifact of the given name exists, or its stored file is missing.

    It is a :class:`KeyError` (``repository["name"]``), a :class:`ValueError` (lazyscribe's
    repositories) and a :class:`LoadError` (lazyscribe's experiments raised
    ``ArtifactLoadError``).
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


class SerializationError(ArchivistError, ValueError):
    """A value could not be turned into stored bytes, or back (a handler failed).

    Raised as :class:`EncodingError` when writing and :class:`DecodingError` when reading.
    """


class EncodingError(SerializationError, WriteError):
    """A value could not be written: a handler failed, or a field is not JSON."""


class DecodingError(SerializationError, LoadError):
    """A stored value could not be read back: its handler failed."""


class IntegrityError(LoadError):
    """A stored file does not match the digest or size its manifest record holds."""


class UntrustedArtifactError(IntegrityError):
    """Loading would run code from a file no digest vouches for, and ``trust="verified"``.

    Raised for records written without a digest (by lazyscribe) whose handler executes code
    when it reads (pickle, joblib). ``Repository.adopt()`` records digests for them.
    """


class EnvironmentMismatchError(LoadError, RuntimeError):
    """A version was written under an environment that differs from the running one."""


class UnsavedChangesError(ArchivistError, RuntimeError):
    """An operation needs a saved repository, but it holds changes not yet saved."""


class ReadOnlyRequiredError(ArchivistError, RuntimeError):
    """An operation needs a repository opened read-only (mode ``r``), as in lazyscribe."""


class ConflictError(WriteError):
    """A commit could not be completed because other writers kept changing the same data."""


class StaleTokenError(ConflictError):
    """A compare-and-swap failed: the stored file changed since its token was read.

    Backends raise it from :meth:`archivist.Backend.replace_if_unchanged`; the commit
    protocol catches it and retries.
    """


class AlreadyExistsError(ConflictError, FileExistsError):
    """A file that archivist would create already exists; stored files are never overwritten."""


class DuplicateArtifactError(AlreadyExistsError, LogError):
    """An experiment or test already has an artifact of that name (pass ``overwrite=True``).

    A :class:`LogError`: lazyscribe raised ``ArtifactLogError`` in this case.
    """


class StorageError(ArchivistError, OSError):
    """The storage underneath failed (permissions, network, a missing bucket)."""


class StorageWriteError(StorageError, WriteError):
    """The storage underneath failed while writing, changing or deleting data."""


class IrregularFileError(IntegrityError, StorageError):
    """A FIFO, device, socket or folder is where archivist expected a regular file.

    archivist reads only regular files: it never blocks on a FIFO nor streams from a device.
    A version's file found so is an :class:`IntegrityError` (``verify()`` lists it); a
    manifest, journal, alias, release or project file found so is a :class:`StorageError`.
    """


class ReadOnlyStorageError(ReadOnlyModeError, StorageWriteError):
    """The storage itself cannot write (an fsspec filesystem without write support)."""


class PluginLoadError(ArchivistError, ImportError):
    """A plugin's entry point could not be imported or registered."""


class DuplicatePluginError(ArchivistError, ValueError):
    """Two plugins claim the same handler alias or protocol, and neither asked to override."""


class ArchivistWarning(UserWarning):
    """A warning from archivist: data is usable, but something deserves attention."""
