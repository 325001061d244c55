"""Conformance suites and fixtures for plugin authors: an opt-in pytest plugin.

Subclass a suite to check that a handler (or a backend) keeps archivist's contract::

    from archivist.testing import HandlerConformanceTests

    class TestMyHandler(HandlerConformanceTests):
        handler_class = MyHandler
        sample_values = ([1, 2, 3], {"a": 1})

Attack suites check the safety promises on any store: :class:`GcSafetyTests` (gc deletes
only the orphans of this repository's crashed saves) and :class:`InterruptedSaveTests`
(Ctrl-C and ``SIGKILL`` during saves lose nothing). :class:`FaultyBackend` wraps any backend
and fails its calls before, during or after they run, as a :class:`FaultPlan` says
(see :mod:`archivist.testing.faults`); :func:`crash_at_commit` makes a save die (or fail)
in its commit, the one way tests leave what a crashed save leaves.
:class:`RepositoryStoreTests` checks a repository store (one class per operation in
:mod:`archivist.testing.stores`): what it declares works, what it does not is refused loudly.

The suites carry their own fixtures. To use the general fixtures too
(``archivist_repository``, ``archivist_register``) in your tests, load this module as a
pytest plugin in your top-level ``conftest.py`` or in a test module::

    pytest_plugins = ["archivist.testing"]

This package needs pytest; nothing in archivist imports it.

PYTEST_DONT_REWRITE: this module holds no asserts, and the marker lets ``pytest_plugins``
name it after a test module imported it. The suites' asserts are rewritten as usual.
"""

from __future__ import annotations

import pytest

# Let pytest rewrite the suites' asserts into readable failure reports.
pytest.register_assert_rewrite(
    "archivist.testing.handlers",
    "archivist.testing.backends",
    "archivist.testing.commits",
    "archivist.testing.distributions",
    "archivist.testing.safety",
    "archivist.testing.stores",
)

from archivist.testing.backends import (  # noqa: E402
    BackendConformanceTests,
    BackendTarget,
    ObjectStoreConformanceTests,
    RepositoryOnBackendTests,
    SaveProgressTests,
    run_concurrent_saves,
)
from archivist.testing.commits import CommitCrash, crash_at_commit  # noqa: E402
from archivist.testing.distributions import DistributionTests  # noqa: E402
from archivist.testing.faults import (  # noqa: E402
    PHASES,
    PRIMITIVES,
    Fault,
    FaultPlan,
    FaultyBackend,
    InjectedFault,
)
from archivist.testing.fixtures import (  # noqa: E402
    archivist_register,
    archivist_repository,
    registered,
)
from archivist.testing.handlers import HandlerConformanceTests, LegacyVersion  # noqa: E402
from archivist.testing.safety import (  # noqa: E402
    GcSafetyTests,
    InterruptedSaveTests,
    check_repository,
    interrupt_saves,
)
from archivist.testing.stores import RepositoryStoreTests  # noqa: E402

__all__ = [
    "PHASES",
    "PRIMITIVES",
    "BackendConformanceTests",
    "BackendTarget",
    "CommitCrash",
    "DistributionTests",
    "Fault",
    "FaultPlan",
    "FaultyBackend",
    "GcSafetyTests",
    "HandlerConformanceTests",
    "InjectedFault",
    "InterruptedSaveTests",
    "LegacyVersion",
    "ObjectStoreConformanceTests",
    "RepositoryOnBackendTests",
    "RepositoryStoreTests",
    "SaveProgressTests",
    "archivist_register",
    "archivist_repository",
    "check_repository",
    "crash_at_commit",
    "interrupt_saves",
    "registered",
    "run_concurrent_saves",
]
