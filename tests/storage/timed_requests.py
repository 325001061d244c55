"""The fake object store with a network's round trip: which requests a caller waits for.

:class:`TimedObjectStore` is the fake object store of ``fake_object_store.py`` whose every
request first waits :data:`DELAY` seconds (a round trip) and is recorded with when it started
and ended. :func:`sequential` counts how many of them the caller waited for one after
another: the longest chain of requests each started after the previous one ended.
"""

from __future__ import annotations

import builtins
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from tests.storage.fake_object_store import FakeObjectStoreBackend

__all__ = ["DELAY", "TimedObjectStore", "TimedRequest", "sequential"]

#: One request's round trip, in seconds.
DELAY = 0.05


@dataclass(frozen=True)
class TimedRequest:
    """One request: its method, path, and when it started and ended (``time.monotonic``)."""

    method: str
    path: str
    start: float
    end: float


class _Recorder(list[tuple[str, str]]):
    """The backend's request list: each request waits a round trip and is timed."""

    def append(self, request: tuple[str, str]) -> None:
        start = time.monotonic()
        time.sleep(DELAY)
        super().append(request)
        with TimedObjectStore.lock:
            TimedObjectStore.timed.append(TimedRequest(*request, start, time.monotonic()))


class TimedObjectStore(FakeObjectStoreBackend):
    """The fake object store, each request a round trip of :data:`DELAY` seconds, timed.

    Attributes
    ----------
    timed : list[TimedRequest]
        Every request of every instance, in the order they ended (clear it before a step).
    """

    timed: ClassVar[list[TimedRequest]] = []
    lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, **storage_options: Any) -> None:
        super().__init__(**storage_options)
        self.requests = _Recorder()

    def delete(self, path: str) -> None:
        """DELETE (a missing object raises ``FileNotFoundError``, as S3's HEAD first tells)."""
        self.requests.append(("DELETE", path))
        super().delete(path)

    def list(self, prefix: str) -> Iterator[str]:
        """LIST: one request for the whole listing."""
        self.requests.append(("LIST", prefix))
        return iter(builtins.list(super().list(prefix)))


def sequential(requests: list[TimedRequest]) -> int:
    """Return the longest chain of ``requests`` each started after the one before it ended."""
    chains: list[tuple[float, int]] = []
    for request in sorted(requests, key=lambda r: r.start):
        before = [chain for end, chain in chains if end <= request.start + DELAY / 4]
        chains.append((request.end, max(before, default=0) + 1))
    return max((chain for _, chain in chains), default=0)
