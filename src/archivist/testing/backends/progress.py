"""A save's progress on a backend: the total first, then the bytes as the storage takes them.

:class:`SaveProgressTests` saves values of a known size with ``progress=`` a recording fsspec
``Callback`` and checks what it was told: the total, once, before the first byte; then
increments that add up to exactly that total, more than one of them for a large file, and,
on an object store uploading in parts, one per part the store acknowledged. The core runs it
on local disk, in memory and on an in-process object store; every cloud plugin on its
emulator.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, ClassVar

import pytest
from fsspec.callbacks import Callback

from archivist.repository import Repository

__all__ = ["RecordingCallback", "SaveProgressTests"]


class RecordingCallback(Callback):  # type: ignore[misc] # fsspec ships no type information
    """An fsspec ``Callback`` that records every call it gets, in order.

    Attributes
    ----------
    events : list[tuple[str, int]]
        ``("size", total)`` for each ``set_size`` and ``("update", bytes)`` for each
        ``relative_update``, in the order they came.
    closed : bool
        Whether ``close()`` was called.
    """

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, int]] = []
        self.closed = False
        self._lock = threading.Lock()
        self._inside = 0
        #: Whether two calls ever overlapped (calls from several threads must not).
        self.overlapped = False

    def _record(self, kind: str, amount: int) -> None:
        with self._lock:
            self._inside += 1
            self.overlapped |= self._inside > 1
        try:
            self.events.append((kind, amount))
            time.sleep(0.001)  # long enough for a call from another thread to overlap
        finally:
            with self._lock:
                self._inside -= 1

    def set_size(self, size: int) -> None:
        """Record the announced total."""
        self._record("size", size)
        super().set_size(size)

    def relative_update(self, inc: int = 1) -> None:
        """Record ``inc`` more bytes."""
        self._record("update", inc)
        super().relative_update(inc)

    def close(self) -> None:
        """Record that the save is done with this callback."""
        self.closed = True

    @property
    def increments(self) -> list[int]:
        """The bytes of each update, in order."""
        return [amount for kind, amount in self.events if kind == "update"]


class SaveProgressTests:
    """What ``save(progress=...)`` reports on a backend.

    Subclasses provide a ``repository_location`` fixture returning the manifest URL of a
    repository that does not exist yet, and the storage options to reach it (with a small
    part size, where the backend takes one, so that the multi-part path runs cheaply).

    Attributes
    ----------
    payload_size : int
        Bytes of the large value saved: above the backend's part size (or, locally, several
        write slices).
    part_size : int or None
        The bytes of each part the backend uploads, as configured by the fixture; ``None``
        for a backend that does not upload in parts. When set, every update but a file's
        last must be one whole part: the bytes are reported as the store acknowledges them,
        not as they are handed to a buffer.
    """

    payload_size: ClassVar[int] = (12 << 20) + 123
    part_size: ClassVar[int | None] = None

    @pytest.fixture
    def repository_location(self) -> tuple[str, dict[str, Any]]:
        """Override: a fresh manifest URL and the storage options to reach it."""
        raise NotImplementedError("provide a repository_location fixture")

    def test_the_total_comes_first_and_the_updates_add_up_to_it(
        self, repository_location: tuple[str, dict[str, Any]]
    ) -> None:
        """One large value: its stored size announced first, then reported in many steps."""
        url, options = repository_location
        repository = Repository(url, mode="w", **options)
        repository.log_artifact(
            name="weights", value=os.urandom(self.payload_size), handler="pickle"
        )
        recording = RecordingCallback()
        repository.save(progress=recording)
        size = repository.get_artifact_metadata("weights")["size"]
        assert recording.events[0] == ("size", size), recording.events[:3]
        assert [kind for kind, _ in recording.events].count("size") == 1
        increments = recording.increments
        assert all(step > 0 for step in increments)  # the value only grows
        assert len(increments) > 1, "a large file was reported in one step"
        assert sum(increments) == recording.value == size
        assert recording.closed
        if self.part_size is not None:
            *parts, last = increments
            assert parts == [self.part_size] * len(parts), increments
            assert 0 < last <= self.part_size
            assert len(increments) == -(-size // self.part_size)

    def test_a_save_of_several_files_announces_their_sum(
        self, repository_location: tuple[str, dict[str, Any]]
    ) -> None:
        """Files written concurrently: one total for the save, serial reports that reach it."""
        url, options = repository_location
        repository = Repository(url, mode="w", **options)
        for index in range(6):
            value = os.urandom((index + 1) * (1 << 20) + index)
            repository.log_artifact(name=f"shard-{index}", value=value, handler="pickle")
        repository.log_artifact(name="config", value={"layers": 3}, handler="json")
        recording = RecordingCallback()
        repository.save(progress=recording)
        total = sum(record["size"] for record in repository)
        assert recording.events[0] == ("size", total)
        assert sum(recording.increments) == recording.value == total
        assert all(step > 0 for step in recording.increments)
        assert not recording.overlapped, "the callback was called from two threads at once"
