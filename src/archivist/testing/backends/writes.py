"""The write-if-absent operation: a new file never replaces an existing one."""

from __future__ import annotations

import threading

import pytest

from archivist._backends.base import Backend
from archivist.testing.backends._kit import BackendKit
from archivist.testing.backends._target import BackendTarget, claim_all

__all__ = ["WriteIfAbsentTests"]


class WriteIfAbsentTests(BackendKit):
    """``write_if_absent`` and ``open_new`` create a file only where none is, under contention."""

    def test_write_if_absent_never_overwrites(self, opened: tuple[Backend, str]) -> None:
        """write_if_absent and open_new refuse an existing path and leave it as it was."""
        backend, base = opened
        path = backend.join(base, "a", "file.bin")
        backend.write_if_absent(path, b"first")
        with pytest.raises(FileExistsError):
            backend.write_if_absent(path, b"second")
        with pytest.raises(FileExistsError), backend.open_new(path) as stream:
            stream.write(b"third")
        assert backend.read_bytes(path) == b"first"
        assert backend.exists(path)

    def test_write_if_absent_under_thread_contention(self, opened: tuple[Backend, str]) -> None:
        """Of threads creating one path at once, exactly one wins; its bytes are stored."""
        backend, base = opened
        path = backend.join(base, "contended.txt")
        barrier = threading.Barrier(self.workers)
        results: dict[int, bool] = {}

        def claim(worker: int) -> None:
            barrier.wait()
            try:
                backend.write_if_absent(path, f"worker {worker}".encode())
            except FileExistsError:
                results[worker] = False
            else:
                results[worker] = True

        threads = [threading.Thread(target=claim, args=(i,)) for i in range(self.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [worker for worker, won in results.items() if won]
        assert len(results) == self.workers
        assert len(winners) == 1
        assert backend.read_bytes(path) == f"worker {winners[0]}".encode()

    def test_write_if_absent_under_process_contention(
        self, backend_target: BackendTarget, opened: tuple[Backend, str]
    ) -> None:
        """Of processes creating the same paths at once, exactly one wins each path."""
        names = [f"claim-{i}" for i in range(10)]
        won = self._processes(
            [(claim_all, (backend_target, names, worker)) for worker in range(self.workers)]
        )
        backend, base = opened
        for name in names:
            owners = [worker for worker, claimed in enumerate(won) if name in claimed]
            assert len(owners) == 1, f"{name} claimed by {owners}"
            assert backend.read_bytes(backend.join(base, name)) == f"worker {owners[0]}".encode()
