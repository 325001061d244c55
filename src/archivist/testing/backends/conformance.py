"""The whole backend contract in one class: every operation's tests together."""

from __future__ import annotations

from archivist.testing.backends.freshness import FreshnessTests
from archivist.testing.backends.listing import ListAndDeleteTests
from archivist.testing.backends.reads import ReadTests
from archivist.testing.backends.replace import ReplaceIfUnchangedTests
from archivist.testing.backends.streams import StreamingTests
from archivist.testing.backends.writes import WriteIfAbsentTests

__all__ = ["BackendConformanceTests"]


class BackendConformanceTests(
    WriteIfAbsentTests,
    ReplaceIfUnchangedTests,
    ReadTests,
    StreamingTests,
    ListAndDeleteTests,
    FreshnessTests,
):
    """The storage contract every backend must keep, as a pytest test-class mixin.

    A backend passes when a repository can trust it with concurrent writers. Subclasses
    provide a ``backend_target`` fixture (a fresh :class:`BackendTarget` per test) and may
    tune the class variables of :class:`~archivist.testing.backends.BackendKit`
    (``large_file_size``, ``streams_writes``, ``cross_process``, ``workers``, ``rounds``).
    To check one operation only, subclass its class instead (for example
    :class:`WriteIfAbsentTests`).
    """
