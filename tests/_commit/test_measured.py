"""The spools a save with progress measures its values in."""

from __future__ import annotations

import io
import os

from archivist._commit.measured import MEMORY_BUDGET, Spool
from archivist._io.streams import WRITE_SLICE
from archivist._io.verified import BUFFER_LIMIT


def test_a_spool_keeps_small_writes_in_memory_in_slices() -> None:
    spool = Spool(memory=64 << 20)
    data = os.urandom(WRITE_SLICE * 2 + 100)
    for start in range(0, len(data), 1000):  # a handler's many small writes
        spool.write(data[start : start + 1000])
    assert spool.in_memory and spool.size == len(data)
    writes: list[int] = []

    class Target(io.BytesIO):
        def write(self, piece: object) -> int:
            writes.append(len(piece))  # type: ignore[arg-type]
            return super().write(piece)  # type: ignore[arg-type]

    target = Target()
    spool.copy_to(target)
    assert target.getvalue() == data
    assert len(writes) == 2 and max(writes) < WRITE_SLICE + 1000  # gathered, not 16,778
    spool.close()


def test_a_spool_moves_to_a_temporary_file_past_its_memory() -> None:
    spool = Spool(memory=1000)
    spool.write(b"a" * 600)
    assert spool.in_memory
    spool.write(memoryview(b"b" * 600))
    assert not spool.in_memory and spool.size == 1200
    big = os.urandom(WRITE_SLICE + 5)
    spool.write(big)
    target = io.BytesIO()
    spool.copy_to(target)
    assert target.getvalue() == b"a" * 600 + b"b" * 600 + big
    spool.close()
    assert spool.closed


def test_a_saves_spools_hold_in_memory_what_a_verified_read_may() -> None:
    assert MEMORY_BUDGET == BUFFER_LIMIT  # a quarter of the physical memory (docs/design.md)
