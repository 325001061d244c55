"""Scale: lookups stay O(log n), and operations keep their complexity as repositories grow.

The timing checks here are complexity smoke tests, not speed tests: each compares one
operation at n and at 10 n versions in the same process, and fails only when the larger
costs far more than the complexity allows (bounds are generous for a shared CI machine).
``bench/bench_scale.py`` measures the absolute figures.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, SupportsIndex

import pytest

from archivist.manifest import ManifestIndex, VersionRecord

T0 = datetime(2026, 1, 31, 12, 0, 0)
SECOND = timedelta(seconds=1)


def _records(name: str, count: int) -> list[VersionRecord]:
    return [
        VersionRecord(name, v, "json", f"{name}-{v}.json", T0 + v * SECOND) for v in range(count)
    ]


class _NoSlices(list[VersionRecord]):
    """A list that refuses to be sliced (a slice is an O(n) copy)."""

    def __getitem__(self, key: SupportsIndex | slice) -> Any:
        if isinstance(key, slice):
            raise AssertionError("the time index was copied")
        return super().__getitem__(key)


def test_as_of_does_not_copy_the_time_index() -> None:
    index = ManifestIndex(_records("a", 1000))
    entry = index._entry("a")
    entry.by_time = _NoSlices(entry.by_time)
    assert index.as_of("a", T0 + 500 * SECOND, SECOND).version == 500
    assert index.as_of("a", T0 + 5000 * SECOND, SECOND).version == 999
    with pytest.raises(Exception, match="predates"):
        index.as_of("a", T0 - SECOND, SECOND)
