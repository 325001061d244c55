"""The retry rounds of every compare-and-swap: bounded, with jittered exponential backoff.

Manifests, release files, alias files and project files are all committed the same way:
read, merge, replace only if unchanged, and on a lost race wait a little and try again.
:func:`cas_rounds` is that loop's clock, so the backoff lives in one place.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator

__all__ = ["FIRST_DELAY", "MAX_DELAY", "cas_rounds"]

#: The wait before the first retry, in seconds; it doubles per round up to :data:`MAX_DELAY`.
FIRST_DELAY = 0.002
#: The longest wait between two rounds, in seconds (before jitter).
MAX_DELAY = 0.25


def cas_rounds(attempts: int, wait: Callable[[], bool] | None = None) -> Iterator[int]:
    """Yield the round numbers ``0 .. attempts - 1``, waiting before every retry.

    The first round starts at once; before each later one the caller lost a race, so it
    sleeps a delay that doubles per round (from :data:`FIRST_DELAY` up to
    :data:`MAX_DELAY`), scaled by a random factor in [0.5, 1.5) so that writers that
    collided do not collide again in lockstep. A loop that ends without returning has lost
    every round: the caller raises its ``ConflictError``.

    Parameters
    ----------
    attempts : int
        How many rounds at most.
    wait : Callable[[], bool], optional
        Asked before each retry whether to wait (default: always); a caller that holds the
        document's lock retries at once.

    Yields
    ------
    int
        The round number.
    """
    delay = FIRST_DELAY
    for attempt in range(attempts):
        if attempt and (wait is None or wait()):
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, MAX_DELAY)
        yield attempt
