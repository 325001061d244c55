"""A fault-injecting backend: make any storage primitive fail before, during or after it runs.

archivist promises that a save interrupted at any moment (an error, a lost acknowledgement,
Ctrl-C) never loses or half-commits a version. :class:`FaultyBackend` wraps any
:class:`~archivist.Backend` and, driven by a :class:`FaultPlan`, raises at a chosen moment of
a chosen call, so a test can put a save through every failure a store can produce::

    from archivist import ManifestStore, Repository
    from archivist.stores import open_backend
    from archivist.testing.faults import Fault, FaultPlan, FaultyBackend

    inner, _ = open_backend("/tmp/repo/repository.json")
    plan = FaultPlan(Fault("replace_if_unchanged", "after", OSError))  # lands, then raises
    backend = FaultyBackend(inner, plan)
    repository = Repository(
        "/tmp/repo/repository.json",
        mode="a",
        store=ManifestStore("/tmp/repo/repository.json", backend=backend),
    )

The phases of a call:

``"before"``
    The request never reaches the store: nothing changes, the error is raised.
``"during"``
    For the streaming primitives only (``open_new``, ``open_read``, ``list``): part of the
    data goes through, then the stream raises. A new file is then abandoned by the wrapped
    backend, as a broken connection would leave it.
``"after"``
    The call runs to completion (a write lands, a file is deleted), then the error is raised:
    the store did the work but the caller never heard. For ``replace_if_unchanged`` this is
    a lost acknowledgement; raising :class:`~archivist.errors.StaleTokenError` there is what
    a client that retries the request sees (its retry is refused by the condition the first
    attempt satisfied).

A one-request primitive has no observable middle: ``"before"`` and ``"after"`` cover both
outcomes of a request whose answer was lost. :data:`PHASES` lists the phases each primitive
takes, for parametrizing tests over all of them.

A fault with ``crash=True`` also kills the backend: every later call raises the same error
before reaching the store, as if the process had died at that moment (no clean-up reaches
storage). That is how a test leaves the orphans of a crashed save behind, deterministically.
"""

from __future__ import annotations

import contextlib
import fnmatch
import io
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, ClassVar, Literal, cast, get_args

from archivist._backends.base import Backend

__all__ = [
    "PHASES",
    "PRIMITIVES",
    "Fault",
    "FaultPlan",
    "FaultyBackend",
    "InjectedFault",
    "Phase",
    "Primitive",
]

#: The backend calls a fault can target.
Primitive = Literal[
    "read_with_token",
    "replace_if_unchanged",
    "open_new",
    "sync",
    "delete",
    "list",
    "read_bytes",
    "open_read",
    "exists",
    "modified",
]
#: When, within a call, a fault raises.
Phase = Literal["before", "during", "after"]

#: Every primitive, in the order the commit protocol meets them.
PRIMITIVES: tuple[Primitive, ...] = get_args(Primitive)
_STREAMING: frozenset[str] = frozenset({"open_new", "open_read", "list"})
#: The phases each primitive takes: ``"during"`` only where a call has a middle.
PHASES: Mapping[Primitive, tuple[Phase, ...]] = {
    primitive: ("before", "during", "after") if primitive in _STREAMING else ("before", "after")
    for primitive in PRIMITIVES
}


class InjectedFault(OSError):
    """The default error a :class:`Fault` raises: an ``OSError`` naming the call and phase."""


@dataclass(frozen=True)
class Fault:
    """One planned failure: which call of which primitive fails, when, and how.

    Parameters
    ----------
    primitive : Primitive
        The backend method, for example ``"replace_if_unchanged"``.
    phase : Phase, optional
        ``"before"`` (default), ``"during"`` (streaming primitives) or ``"after"``.
    error : BaseException or type[BaseException], optional
        What is raised (default :class:`InjectedFault`). A class is instantiated with a message
        naming the call; ``KeyboardInterrupt`` simulates Ctrl-C.
    nth : int, optional
        Fail the ``nth`` matching call (1-based, default the first).
    times : int or None, optional
        How many matching calls fail from the ``nth`` on (default 1; ``None``: all of them).
    match : str or None, optional
        Only calls whose path matches this :func:`fnmatch.fnmatch` pattern count (for
        ``sync``: any of its paths). ``None`` (default) matches every call.
    crash : bool, optional
        After raising, every later call of the backend raises too, before reaching the
        store: the process "died" here.
    armed_by : Fault or None, optional
        Count calls only once this other fault of the plan has fired, for failures that
        follow a first one (the re-read after a lost acknowledgement fails too).
    on_fire : Callable[[], object] or None, optional
        Called just before the error is raised, for example to let another writer commit
        in the window between a lost acknowledgement and the caller's next request.

    Raises
    ------
    ValueError
        ``phase`` is not one the primitive takes (see :data:`PHASES`), or ``nth``/``times``
        is not positive.
    """

    primitive: Primitive
    phase: Phase = "before"
    error: BaseException | type[BaseException] = InjectedFault
    nth: int = 1
    times: int | None = 1
    match: str | None = None
    crash: bool = False
    armed_by: Fault | None = None
    on_fire: Callable[[], object] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.primitive not in PHASES:
            raise ValueError(f"unknown primitive {self.primitive!r}; one of {PRIMITIVES}")
        if self.phase not in PHASES[self.primitive]:
            raise ValueError(
                f"{self.primitive} takes the phases {PHASES[self.primitive]}, not {self.phase!r}"
            )
        if self.nth < 1 or (self.times is not None and self.times < 1):
            raise ValueError(f"nth and times must be positive, got {self.nth} and {self.times}")

    def matches(self, primitive: str, paths: Sequence[str]) -> bool:
        """Tell whether a call of ``primitive`` on ``paths`` counts towards this fault.

        Parameters
        ----------
        primitive : str
            The called method.
        paths : Sequence[str]
            The paths it works on.

        Returns
        -------
        bool
            ``True`` when the primitive is this fault's and a path matches :attr:`match`.
        """
        if primitive != self.primitive:
            return False
        return self.match is None or any(fnmatch.fnmatch(p, self.match) for p in paths)

    def make_error(self, primitive: str, phase: Phase, path: str) -> BaseException:
        """Return the exception to raise for one call.

        Parameters
        ----------
        primitive : str
            The called method.
        phase : Phase
            When it fails.
        path : str
            The path it worked on.

        Returns
        -------
        BaseException
            :attr:`error` itself when it is an instance, else a new one with a message.
        """
        if isinstance(self.error, BaseException):
            return self.error
        return self.error(f"injected fault {phase} {primitive}({path})")


@dataclass
class _Call:
    """One call in progress: the faults due during it."""

    plan: FaultPlan
    primitive: str
    path: str
    due: list[Fault]

    def raise_at(self, phase: Phase) -> None:
        for fault in self.due:
            if fault.phase == phase:
                self.plan._fire(fault, self.primitive, phase, self.path)

    def has(self, phase: Phase) -> bool:
        return any(fault.phase == phase for fault in self.due)


class FaultPlan:
    """Which calls fail, and a log of every call a :class:`FaultyBackend` saw.

    Parameters
    ----------
    *faults : Fault
        The planned failures; several may target one call (the first phase reached wins).

    Attributes
    ----------
    faults : tuple[Fault, ...]
        The planned failures.
    calls : list[tuple[str, str]]
        ``(primitive, path)`` of every call, in order, including calls that failed.
    fired : list[Fault]
        The faults that raised, in order (a fault with ``times`` > 1 appears once per raise).
    crashed : BaseException or None
        Set once a ``crash=True`` fault fired: what every later call raises.
    """

    def __init__(self, *faults: Fault) -> None:
        self.faults: tuple[Fault, ...] = faults
        self.calls: list[tuple[str, str]] = []
        self.fired: list[Fault] = []
        self.crashed: BaseException | None = None
        self._seen: dict[Fault, int] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FaultPlan({', '.join(map(repr, self.faults))}; {len(self.fired)} fired)"

    def begin(self, primitive: str, paths: Sequence[str]) -> _Call:
        """Log a call and return the faults due during it.

        Parameters
        ----------
        primitive : str
            The called method.
        paths : Sequence[str]
            The paths it works on.

        Returns
        -------
        _Call
            The call, whose :meth:`_Call.raise_at` raises the due faults.

        Raises
        ------
        BaseException
            The backend crashed earlier (:attr:`crashed`).
        """
        path = ", ".join(paths)
        with self._lock:
            self.calls.append((primitive, path))
            if self.crashed is not None:
                raise self.crashed
            due = []
            for fault in self.faults:
                if not fault.matches(primitive, paths):
                    continue
                if fault.armed_by is not None and fault.armed_by not in self.fired:
                    continue
                seen = self._seen[fault] = self._seen.get(fault, 0) + 1
                last = None if fault.times is None else fault.nth + fault.times - 1
                if seen >= fault.nth and (last is None or seen <= last):
                    due.append(fault)
        return _Call(self, primitive, path, due)

    def _fire(self, fault: Fault, primitive: str, phase: Phase, path: str) -> None:
        if fault.on_fire is not None:
            fault.on_fire()
        error = fault.make_error(primitive, phase, path)
        with self._lock:
            self.fired.append(fault)
            if fault.crash:
                self.crashed = error
        raise error

    def count(self, primitive: str) -> int:
        """Return how many calls of ``primitive`` were made so far.

        Parameters
        ----------
        primitive : str
            A backend method.

        Returns
        -------
        int
            The number of calls, failed ones included.
        """
        return sum(1 for called, _ in self.calls if called == primitive)

    def paths(self, primitive: str) -> list[str]:
        """Return the paths ``primitive`` was called on, in order.

        Parameters
        ----------
        primitive : str
            A backend method.

        Returns
        -------
        list[str]
            One entry per call (``sync``'s paths joined by ``", "``).
        """
        return [path for called, path in self.calls if called == primitive]


class _FailingWriter(io.RawIOBase):
    """Pass half of the first write through, then raise: a stream cut off mid-file."""

    def __init__(self, raw: IO[bytes], call: _Call) -> None:
        super().__init__()
        self._raw = raw
        self._call = call
        self.failed = False

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self._raw.write(view[: len(view) // 2])
        self.failed = True
        self._call.raise_at("during")
        return len(view)  # pragma: no cover - raise_at raised

    def flush(self) -> None:
        self._raw.flush()


class _FailingReader(io.RawIOBase):
    """Give the first read's bytes, then raise on the next read: a download cut off."""

    def __init__(self, raw: IO[bytes], call: _Call) -> None:
        super().__init__()
        self._raw = raw
        self._call = call
        self._reads = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self._reads += 1
        if self._reads > 1:
            self._call.raise_at("during")
        view = memoryview(buffer).cast("B")
        data = self._raw.read(max(1, len(view) // 2))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


class FaultyBackend(Backend):
    """Wrap a backend and fail its calls as a :class:`FaultPlan` says.

    Every primitive the commit protocol uses goes through the plan, is logged in
    :attr:`FaultPlan.calls`, and otherwise runs on the wrapped backend unchanged, so
    compare-and-swap and write-if-absent keep the wrapped store's guarantees.
    :meth:`~Backend.write_if_absent` goes through this backend's :meth:`open_new`.

    Parameters
    ----------
    inner : Backend
        The backend that stores the files.
    plan : FaultPlan, optional
        What fails; the default plan fails nothing and only logs calls.

    Attributes
    ----------
    inner : Backend
        The wrapped backend.
    plan : FaultPlan
        The plan, with its call log.

    Examples
    --------
    >>> from archivist import ManifestStore, Repository
    >>> from archivist.stores import open_backend
    >>> from archivist.testing.faults import Fault, FaultPlan, FaultyBackend
    >>> url = "memory://faults-doc/repository.json"
    >>> plan = FaultPlan(Fault("replace_if_unchanged", "before", OSError))
    >>> store = ManifestStore(url, backend=FaultyBackend(open_backend(url)[0], plan))
    >>> repository = Repository(url, mode="w", store=store)
    >>> repository.log_artifact("features", [1, 2], handler="json")
    >>> repository.save()
    Traceback (most recent call last):
    ...
    OSError: injected fault before replace_if_unchanged(/faults-doc/repository.json)
    """

    protocols: ClassVar[tuple[str, ...]] = ("faulty",)

    def __init__(self, inner: Backend, plan: FaultPlan | None = None) -> None:
        # Not Backend.__init__: the wrapped backend's filesystem is used as it is.
        self.inner = inner
        self.plan = plan if plan is not None else FaultPlan()
        self.single_writer = inner.single_writer
        self.storage_options = inner.storage_options
        self.fs = inner.fs

    def __repr__(self) -> str:
        return f"FaultyBackend({self.inner!r}, {len(self.plan.faults)} fault(s))"

    # -- paths: the wrapped backend's -------------------------------------------------------

    def strip_protocol(self, url: str) -> str:
        """Return the wrapped backend's path form of ``url``."""
        return self.inner.strip_protocol(url)

    def to_url(self, path: str) -> str:
        """Return the wrapped backend's URL for ``path``."""
        return self.inner.to_url(path)

    # -- primitives -------------------------------------------------------------------------

    def read_with_token(self, path: str) -> tuple[bytes, str]:
        """Read through the wrapped backend, failing as planned."""
        call = self.plan.begin("read_with_token", [path])
        call.raise_at("before")
        result = self.inner.read_with_token(path)
        call.raise_at("after")
        return result

    def replace_if_unchanged(self, path: str, data: bytes, token: str | None) -> str:
        """Compare-and-swap through the wrapped backend; ``"after"`` lands, then raises."""
        call = self.plan.begin("replace_if_unchanged", [path])
        call.raise_at("before")
        result = self.inner.replace_if_unchanged(path, data, token)
        call.raise_at("after")
        return result

    @contextlib.contextmanager
    def open_new(self, path: str, *, callback: Any = None) -> Iterator[IO[bytes]]:
        """Stream a new file through the wrapped backend.

        ``"during"`` writes half of the first write, then raises inside the wrapped
        backend's block (which abandons the file); ``"after"`` lets the file land, then
        raises.
        """
        call = self.plan.begin("open_new", [path])
        call.raise_at("before")
        with self.inner.open_reporting(path, callback) as stream:
            if call.has("during"):
                failing = _FailingWriter(stream, call)
                yield cast("IO[bytes]", failing)
                if not failing.failed:  # nothing was written: fail before it lands
                    call.raise_at("during")
            else:
                yield stream
        call.raise_at("after")

    def sync(self, paths: Sequence[str]) -> None:
        """Flush through the wrapped backend, failing as planned."""
        call = self.plan.begin("sync", list(paths))
        call.raise_at("before")
        self.inner.sync(paths)
        call.raise_at("after")

    def delete(self, path: str) -> None:
        """Delete through the wrapped backend; ``"after"`` deletes, then raises."""
        call = self.plan.begin("delete", [path])
        call.raise_at("before")
        self.inner.delete(path)
        call.raise_at("after")

    def list(self, prefix: str) -> Iterator[str]:
        """List through the wrapped backend; ``"during"`` raises after the first path."""
        call = self.plan.begin("list", [prefix])
        call.raise_at("before")
        for index, path in enumerate(self.inner.list(prefix)):
            if index == 1:
                call.raise_at("during")
            yield path
        call.raise_at("during")  # fewer than two paths: the listing still breaks off
        call.raise_at("after")

    def read_bytes(self, path: str) -> bytes:
        """Read through the wrapped backend, failing as planned."""
        call = self.plan.begin("read_bytes", [path])
        call.raise_at("before")
        data = self.inner.read_bytes(path)
        call.raise_at("after")
        return data

    def open_read(self, path: str) -> IO[bytes]:
        """Open for reading; ``"during"`` gives part of the file, then raises on a read."""
        call = self.plan.begin("open_read", [path])
        call.raise_at("before")
        stream = self.inner.open_read(path)
        if call.has("during"):
            return cast("IO[bytes]", io.BufferedReader(_FailingReader(stream, call)))
        with contextlib.ExitStack() as cleanup:
            cleanup.callback(stream.close)
            call.raise_at("after")
            cleanup.pop_all()
        return stream

    def exists(self, path: str) -> bool:
        """Ask the wrapped backend, failing as planned."""
        call = self.plan.begin("exists", [path])
        call.raise_at("before")
        found = self.inner.exists(path)
        call.raise_at("after")
        return found

    def modified(self, path: str) -> datetime | None:
        """Ask the wrapped backend, failing as planned."""
        call = self.plan.begin("modified", [path])
        call.raise_at("before")
        stamp = self.inner.modified(path)
        call.raise_at("after")
        return stamp

    # -- conditional-write checks: the wrapped backend's ------------------------------------

    def check_conditional_writes(self, path: str) -> None:
        """Let the wrapped backend check its store (its primitives do it anyway)."""
        self.inner.check_conditional_writes(path)
