"""archivist: version ML and data artifacts, and the releases that pin them, with no server.

The public API is re-exported here; everything else is internal or lives in a documented
submodule (``archivist.errors``, ``archivist.testing``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from archivist import errors, release
from archivist._backends.base import Backend
from archivist._io.cache import ArtifactCache, CacheInfo, cache_info, clear_cache
from archivist._lifecycle.aliases import AliasMove
from archivist._lifecycle.plans import (
    GcPlan,
    PlannedFile,
    PlannedJournal,
    PlannedVersion,
    PrunePlan,
)
from archivist.errors import (
    AlreadyExistsError,
    AmbiguousVersionError,
    ArchivistError,
    ArchivistWarning,
    ArtifactNotFoundError,
    ConfigError,
    ConflictError,
    DuplicateArtifactError,
    DuplicatePluginError,
    EnvironmentMismatchError,
    ExperimentNotFoundError,
    IntegrityError,
    InvalidArgumentError,
    InvalidModeError,
    InvalidNameError,
    InvalidVersionError,
    ManifestError,
    PinnedVersionError,
    PluginLoadError,
    ReadOnlyError,
    RepositoryNotFoundError,
    SerializationError,
    StaleTokenError,
    StorageError,
    UnknownBackendError,
    UnknownHandlerError,
    UnsavedChangesError,
    UnsupportedOperationError,
    UntrustedArtifactError,
    VersionNotFoundError,
)
from archivist.handlers.base import Handler
from archivist.manifest import VersionRecord
from archivist.plugin import NAME, hookimpl
from archivist.plugin.manager import (
    backends,
    get_backend,
    get_handler,
    handlers,
    load_plugins,
    plugin_manager,
    register,
    unregister,
)
from archivist.release import Release
from archivist.repository import Repository, VerificationReport
from archivist.stores import (
    AbstractReleaseStore,
    AbstractRepositoryStore,
    ManifestSnapshot,
    ManifestStore,
    ReleaseStore,
)

if TYPE_CHECKING:
    from archivist.experiment import Experiment, ReadOnlyExperiment
    from archivist.project import Project
    from archivist.test import ReadOnlyTest, Test

    __version__: str

#: Names loaded on first use, not on ``import archivist`` (the experiment tracking modules,
#: and the version, which needs ``importlib.metadata``): attribute -> module.
_LAZY = {
    "Experiment": "archivist.experiment",
    "ReadOnlyExperiment": "archivist.experiment",
    "Project": "archivist.project",
    "Test": "archivist.test",
    "ReadOnlyTest": "archivist.test",
}


def __getattr__(name: str) -> Any:
    """Load :data:`_LAZY` names and ``__version__`` on first access."""
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("archivist")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            found = "0.0.0"
        globals()["__version__"] = found
        return found
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'archivist' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | {"__version__"})


def check_pending() -> None:
    """Load plugins if needed and check that none implements a hook archivist lacks.

    Raises
    ------
    archivist.errors.PluginLoadError
        A plugin implements an unknown ``archivist_*`` hook, or failed to load.
    """
    load_plugins()
    plugin_manager().check_pending()


__all__ = [
    "NAME",
    "AbstractReleaseStore",
    "AbstractRepositoryStore",
    "AliasMove",
    "AlreadyExistsError",
    "AmbiguousVersionError",
    "ArchivistError",
    "ArchivistWarning",
    "ArtifactCache",
    "ArtifactNotFoundError",
    "Backend",
    "CacheInfo",
    "ConfigError",
    "ConflictError",
    "DuplicateArtifactError",
    "DuplicatePluginError",
    "EnvironmentMismatchError",
    "Experiment",
    "ExperimentNotFoundError",
    "GcPlan",
    "Handler",
    "IntegrityError",
    "InvalidArgumentError",
    "InvalidModeError",
    "InvalidNameError",
    "InvalidVersionError",
    "ManifestError",
    "ManifestSnapshot",
    "ManifestStore",
    "PinnedVersionError",
    "PlannedFile",
    "PlannedJournal",
    "PlannedVersion",
    "PluginLoadError",
    "Project",
    "PrunePlan",
    "ReadOnlyError",
    "ReadOnlyExperiment",
    "ReadOnlyTest",
    "Release",
    "ReleaseStore",
    "Repository",
    "RepositoryNotFoundError",
    "SerializationError",
    "StaleTokenError",
    "StorageError",
    "Test",
    "UnknownBackendError",
    "UnknownHandlerError",
    "UnsavedChangesError",
    "UnsupportedOperationError",
    "UntrustedArtifactError",
    "VerificationReport",
    "VersionNotFoundError",
    "VersionRecord",
    "__version__",
    "backends",
    "cache_info",
    "check_pending",
    "clear_cache",
    "errors",
    "get_backend",
    "get_handler",
    "handlers",
    "hookimpl",
    "load_plugins",
    "plugin_manager",
    "register",
    "release",
    "unregister",
]
