"""The base of every backend kit: the target fixture, the tunables, worker processes."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import pytest

from archivist._backends.base import Backend
from archivist.testing.backends._target import MIB, BackendTarget, process_context

__all__ = ["BackendKit"]

_T = TypeVar("_T")


class BackendKit:
    """What every class of the backend contract shares (subclass one of those, not this).

    Subclasses provide a ``backend_target`` fixture (a fresh :class:`BackendTarget` per
    test) and may tune the class variables.

    Attributes
    ----------
    large_file_size : int
        Bytes streamed through ``open_new``/``open_read``; make it larger than the backend's
        upload part size so the multipart path runs.
    streams_writes : bool
        Whether ``open_new`` must keep memory use well below the file's size.
    cross_process : bool
        Whether other processes can reach the same storage (``False`` for ``memory://``,
        whose files live in one process).
    workers : int
        Threads and processes racing in the contention tests.
    rounds : int
        Compare-and-swap rounds each worker completes.
    """

    large_file_size: ClassVar[int] = 12 * MIB
    streams_writes: ClassVar[bool] = True
    cross_process: ClassVar[bool] = True
    workers: ClassVar[int] = 4
    rounds: ClassVar[int] = 5

    @pytest.fixture
    def backend_target(self) -> BackendTarget:
        """Override: a fresh, writable folder for one test."""
        raise NotImplementedError("provide a backend_target fixture returning a BackendTarget")

    @pytest.fixture
    def opened(self, backend_target: BackendTarget) -> tuple[Backend, str]:
        """Return a backend instance and the test's folder, in the backend's path form."""
        return backend_target.open()

    def _processes(self, jobs: list[tuple[Callable[..., _T], tuple[Any, ...]]]) -> list[_T]:
        if not self.cross_process:
            pytest.skip(f"{type(self).__name__}: storage is private to one process")
        with concurrent.futures.ProcessPoolExecutor(
            len(jobs), mp_context=process_context()
        ) as pool:
            futures = [pool.submit(func, *args) for func, args in jobs]
            return [future.result(timeout=120) for future in futures]
