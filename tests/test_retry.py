"""The retry rounds every compare-and-swap loop shares."""

from __future__ import annotations

import pytest

from archivist.stores import _retry
from archivist.stores._retry import FIRST_DELAY, MAX_DELAY, cas_rounds


def test_rounds_wait_only_between_attempts_doubling_up_to_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(_retry.time, "sleep", slept.append)
    monkeypatch.setattr(_retry.random, "random", lambda: 0.5)  # jitter factor exactly 1
    assert list(cas_rounds(10)) == list(range(10))
    expected = [min(FIRST_DELAY * 2**n, MAX_DELAY) for n in range(9)]
    assert slept == pytest.approx(expected)
    assert slept[-1] == MAX_DELAY


def test_a_round_that_succeeds_waits_no_more(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(_retry.time, "sleep", slept.append)
    for attempt in cas_rounds(64):
        if attempt == 2:
            break
    assert len(slept) == 2


@pytest.mark.parametrize("draw", [0.0, 0.999999])
def test_jitter_stays_within_half_and_one_and_a_half(
    monkeypatch: pytest.MonkeyPatch, draw: float
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(_retry.time, "sleep", slept.append)
    monkeypatch.setattr(_retry.random, "random", lambda: draw)
    list(cas_rounds(2))
    assert FIRST_DELAY * 0.5 <= slept[0] < FIRST_DELAY * 1.5
