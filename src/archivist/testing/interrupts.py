"""Interrupted saves: writers stopped with Ctrl-C or ``SIGKILL``, and the repository after.

:class:`InterruptedSaveTests` is a pytest test-class mixin, subclassed by the core tests
(local disk) and by every cloud plugin (on its emulator): a writer process saves over and
over and is stopped at a random moment with Ctrl-C (``SIGINT``) or ``SIGKILL``, again and
again. After each stop the repository must open, every version must load and ``verify()``
must pass. Iterations come from the ``ARCHIVIST_STRESS_ITERATIONS`` environment variable
(default :data:`DEFAULT_ITERATIONS`, a few seconds per store); the ``stress`` nox session
runs many more. (:mod:`archivist.testing.safety` re-exports every name.)
"""

from __future__ import annotations

import json
import os
import posixpath
import random
import select
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar, NoReturn

import pytest

from archivist.errors import StaleTokenError
from archivist.repository import Repository
from archivist.stores import ManifestStore, open_backend
from archivist.testing.faults import Fault, FaultPlan, FaultyBackend, InjectedFault

__all__ = [
    "DEFAULT_ITERATIONS",
    "InterruptReport",
    "InterruptedSaveTests",
    "check_repository",
    "interrupt_saves",
    "stress_iterations",
]

#: Stops per signal and store in a normal test run.
DEFAULT_ITERATIONS = 2

#: Seconds a stopped writer has to exit. Ctrl-C stops a save at its next write or request and
#: cleans up in a few more (well under a second on an idle machine, a few seconds on a loaded
#: one); a writer still running after this long is hung, and its threads are dumped.
STOP_DEADLINE = 15.0
#: Seconds a writer has to start (import archivist and its plugins, open the repository).
START_DEADLINE = 120.0

_WRITER = """
import json, signal, sys
# Take Ctrl-C as a terminal delivers it, even when the test run was started with SIGINT
# ignored (a background job of a shell) or blocked: both are inherited across exec.
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])
from archivist import Repository, get_handler

url, options = sys.argv[1], json.loads(sys.argv[2])
payload = bytes(range(256)) * 64  # 16 KiB per version widens the window for a stop
Repository(url, mode="r", **options)  # imports and plugin discovery done: only saves follow
get_handler("json"), get_handler("pickle")  # a stop lands in archivist, not a plugin's import
print("ready", flush=True)
i = 0
while True:
    repository = Repository(url, mode="a", **options)
    repository.log_artifact("model", {"i": i, "payload": payload.hex()}, handler="json")
    repository.log_artifact("features", (i, payload), handler="pickle")
    repository.save()
    i += 1
"""


def stress_iterations(default: int = DEFAULT_ITERATIONS) -> int:
    """Return how many times to stop a writer: ``$ARCHIVIST_STRESS_ITERATIONS`` or ``default``.

    Parameters
    ----------
    default : int, optional
        Used when the variable is unset.

    Returns
    -------
    int
        A positive number.
    """
    value = int(os.environ.get("ARCHIVIST_STRESS_ITERATIONS", default))
    if value < 1:
        raise ValueError(f"ARCHIVIST_STRESS_ITERATIONS must be positive, got {value}")
    return value


def check_repository(
    url: str, options: Mapping[str, Any], loaded: set[tuple[str, int]] | None = None
) -> int:
    """Open a repository, verify it, and load every version of every artifact.

    Parameters
    ----------
    url : str
        The manifest's URL or path.
    options : Mapping[str, Any]
        Storage options.
    loaded : set[tuple[str, int]], optional
        ``(name, version)`` pairs loaded by an earlier check: ``verify()`` still checks
        their digests, but they are not deserialized again. Updated in place.

    Returns
    -------
    int
        The number of committed versions.

    Raises
    ------
    AssertionError
        A version number is missing (gaps), or ``verify()`` checked fewer versions than the
        manifest holds. ``verify()`` and loading raise archivist's errors as they are.
    """
    repository = Repository(url, mode="r", **options)
    report = repository.verify()
    assert report.checked == len(repository), (report, len(repository))
    for name in sorted({record.name for record in repository.artifacts}):
        versions = repository.versions(name)
        assert versions == list(range(len(versions))), f"{name!r} has gaps: {versions}"
        for version in versions:
            if loaded is None or (name, version) not in loaded:
                repository.load_artifact(name, version=version)
            if loaded is not None:
                loaded.add((name, version))
    return len(repository)


@dataclass
class InterruptReport:
    """What :func:`interrupt_saves` saw.

    Attributes
    ----------
    stops : int
        Writers stopped.
    versions : list[int]
        Committed versions after each stop (never decreasing).
    exit_codes : list[int]
        The writers' exit codes.
    exit_seconds : list[float]
        How long each writer took to exit after its first signal.
    lost_interrupts : int
        Ctrl-Cs that Python itself lost, and that were sent again as a user presses Ctrl-C
        again: a ``KeyboardInterrupt`` raised inside a weakref callback or ``__del__``
        (a third-party cache dropping an entry) is printed as "Exception ignored in" and
        the program goes on.
    """

    stops: int
    versions: list[int]
    exit_codes: list[int]
    exit_seconds: list[float] = field(default_factory=list)
    lost_interrupts: int = 0


def interrupt_saves(
    url: str,
    options: Mapping[str, Any],
    sig: signal.Signals,
    iterations: int,
    *,
    seed: int = 0,
    window: tuple[float, float] = (0.02, 0.5),
    journal: bool = True,
) -> InterruptReport:
    """Start a saving writer, stop it with ``sig`` at a random moment, check, repeat.

    The repository at ``url`` must exist. After each stop, :func:`check_repository` runs
    and the number of committed versions must not have dropped.

    Parameters
    ----------
    url : str
        The manifest's URL or path.
    options : Mapping[str, Any]
        Storage options (JSON-serializable: they go to the writer on its command line).
    sig : signal.Signals
        ``SIGINT`` (Ctrl-C: ``KeyboardInterrupt`` in the writer) or ``SIGKILL``.
    iterations : int
        How many writers to stop.
    seed : int, optional
        Seeds the random delays, so a failure can be replayed.
    window : tuple[float, float], optional
        The delay after the writer is ready, drawn uniformly from this range (seconds).
    journal : bool, optional
        ``False`` runs the writer with ``ARCHIVIST_SAVE_JOURNAL=0`` (saves without a
        journal).

    Returns
    -------
    InterruptReport
        The counts seen.
    """
    rng = random.Random(seed)
    report = InterruptReport(0, [], [])
    loaded: set[tuple[str, int]] = set()
    previous = check_repository(url, options, loaded)
    env = {
        **os.environ,
        "ARCHIVIST_SAVE_JOURNAL": "1" if journal else "0",
        "PYTHONFAULTHANDLER": "1",  # SIGABRT dumps every thread of a hung writer
    }
    for _ in range(iterations):
        process = subprocess.Popen(
            [sys.executable, "-c", _WRITER, url, json.dumps(dict(options))],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            assert process.stdout is not None
            assert process.stderr is not None
            if not select.select([process.stdout], [], [], START_DEADLINE)[0]:
                _abort(process, f"the writer was not ready within {START_DEADLINE:g} s")
            line = process.stdout.readline()
            if line != b"ready\n":
                process.kill()
                raise AssertionError(f"the writer did not start: {process.stderr.read()!r}")
            time.sleep(rng.uniform(*window))
            if process.poll() is not None:
                raise AssertionError(f"the writer died by itself: {process.stderr.read()!r}")
            process.send_signal(sig)
            stopped = time.monotonic()
            err = _wait_for_exit(process, sig, report)
            report.exit_seconds.append(time.monotonic() - stopped)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
        if sig == signal.SIGINT:
            # Ctrl-C ends the writer with KeyboardInterrupt, never with another error.
            text = err.decode(errors="replace")
            assert "KeyboardInterrupt" in text or process.returncode == 0, text
        versions = check_repository(url, options, loaded)
        assert versions >= previous, f"committed versions dropped from {previous} to {versions}"
        previous = versions
        report.stops += 1
        report.versions.append(versions)
        report.exit_codes.append(process.returncode)
    return report


def _wait_for_exit(
    process: subprocess.Popen[bytes], sig: signal.Signals, report: InterruptReport
) -> bytes:
    """Wait :data:`STOP_DEADLINE` for a stopped writer; return its stderr.

    A Ctrl-C that Python lost (see :attr:`InterruptReport.lost_interrupts`) is sent again
    at once, and counted; the deadline still runs from the first.

    Raises
    ------
    AssertionError
        The writer is still running: it is aborted, and the message holds its threads'
        stacks (Python's fault handler, enabled in the writer, prints them on SIGABRT).
    """
    deadline = time.monotonic() + STOP_DEADLINE
    lost = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            _abort(process, f"the writer did not exit within {STOP_DEADLINE:g} s of {sig.name}")
        try:
            return process.communicate(timeout=min(left, 0.5))[1]
        except subprocess.TimeoutExpired as running:
            if sig == signal.SIGINT and _lost_interrupts(running.stderr or b"") > lost:
                lost += 1
                report.lost_interrupts += 1
                process.send_signal(sig)


def _lost_interrupts(stderr: bytes) -> int:
    """Count the ``KeyboardInterrupt`` that Python printed as ignored (and went on)."""
    return sum(b"KeyboardInterrupt" in part for part in stderr.split(b"Exception ignored in")[1:])


def _abort(process: subprocess.Popen[bytes], problem: str) -> NoReturn:
    """Abort a stuck writer and fail with ``problem`` and its threads' stacks."""
    process.send_signal(signal.SIGABRT)  # the fault handler, enabled in the writer, dumps
    try:
        err = process.communicate(timeout=30)[1]
    except subprocess.TimeoutExpired:  # pragma: no cover - not even SIGABRT ended it
        process.kill()
        err = process.communicate()[1]
    raise AssertionError(f"{problem}; its threads:\n" + err.decode(errors="replace"))


class InterruptedSaveTests:
    """Stop saving writers with Ctrl-C and ``SIGKILL``: every version still loads and verifies.

    Subclasses provide a ``repository_location`` fixture returning the manifest URL of a
    repository that does not exist yet and the storage options to reach it (JSON-
    serializable: a writer process receives them).

    Attributes
    ----------
    seed : int
        Seeds the stop times.
    """

    seed: ClassVar[int] = 20261127

    @pytest.fixture
    def repository_location(self) -> tuple[str, dict[str, Any]]:
        """Override: a fresh manifest URL and the storage options to reach it."""
        raise NotImplementedError("provide a repository_location fixture")

    def _seeded(self, location: tuple[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
        url, options = location
        repository = Repository(url, mode="w", **options)
        repository.log_artifact("model", {"i": -1}, handler="json")
        repository.save()
        return url, options

    @pytest.mark.parametrize(
        "error",
        [InjectedFault, KeyboardInterrupt, StaleTokenError],
        ids=["oserror", "ctrl-c", "retry-refused"],
    )
    def test_a_lost_acknowledgement_keeps_every_committed_file(
        self, repository_location: tuple[str, dict[str, Any]], error: type[BaseException]
    ) -> None:
        """The manifest's replace lands and its answer is lost: all it names stays loadable."""
        url, options = self._seeded(repository_location)
        inner, path = open_backend(url, **options)
        backend = FaultyBackend(inner)
        repository = Repository(url, mode="a", store=ManifestStore(url, backend=backend))
        repository.log_artifact("model", {"i": "new"}, handler="json")
        repository.log_artifact("features", [1, 2, 3], handler="json")
        backend.plan = plan = FaultPlan(
            Fault("replace_if_unchanged", "after", error, match=f"*/{posixpath.basename(path)}")
        )
        try:
            repository.save()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt) != (error is KeyboardInterrupt):
                raise
        assert plan.fired
        assert check_repository(url, options) == 3
        committed = Repository(url, mode="r", **options)
        assert committed.load_artifact("model") == {"i": "new"}
        assert committed.load_artifact("features") == [1, 2, 3]

    @pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "sigkill"])
    def test_a_stopped_writer_leaves_every_version_loadable(
        self, repository_location: tuple[str, dict[str, Any]], sig: signal.Signals
    ) -> None:
        """Stop writers at random moments; after each stop every version loads and verifies."""
        url, options = self._seeded(repository_location)
        report = interrupt_saves(url, options, sig, stress_iterations(), seed=self.seed + sig)
        print(report)  # the stress session shows it (pytest -rP)
        assert report.stops == stress_iterations()
        # After all that, gc and a new save leave a repository that still verifies.
        repository = Repository(url, mode="a", **options)
        repository.gc(older_than=timedelta(0))
        repository.log_artifact("model", {"i": "after"}, handler="json")
        repository.save()
        assert Repository(url, mode="r", **options).load_artifact("model") == {"i": "after"}
        # ">=": a request a killed writer sent just before dying may still land
        assert check_repository(url, options) >= report.versions[-1] + 1

    @pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "sigkill"])
    def test_a_stopped_writer_without_a_journal_leaves_every_version_loadable(
        self, repository_location: tuple[str, dict[str, Any]], sig: signal.Signals
    ) -> None:
        """The same stops with ``journal=False``: every version loads; gc deletes nothing.

        No file a manifest names is ever deleted, and no journal proves any file the
        stopped writers left uncommitted, so gc keeps them all.
        """
        url, options = self._seeded(repository_location)
        report = interrupt_saves(url, options, sig, 1, seed=self.seed + sig, journal=False)
        print(report)
        assert report.stops == 1
        assert ManifestStore(url, **options).list_journals() == []  # the writer wrote none
        repository = Repository(url, mode="a", journal=False, **options)
        assert repository.verify().orphans == []
        assert repository.gc(older_than=timedelta(0)) == []
        repository.log_artifact("model", {"i": "after"}, handler="json")
        repository.save()
        assert check_repository(url, options) >= report.versions[-1] + 1


# -- gc ----------------------------------------------------------------------------------------
