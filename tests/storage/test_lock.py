"""The lock file of a local manifest: Ctrl-C while taking it never leaves it taken."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from archivist._backends import _lock
from archivist._backends._lock import FileLock


def _lowest_free_descriptor() -> int:
    """A descriptor left open takes the lowest free number: this one moves."""
    fd = os.dup(2)
    os.close(fd)
    return fd


@pytest.mark.parametrize("when", ["taken", "waiting"])
def test_ctrl_c_while_locking_leaves_no_lock_and_no_descriptor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    path = str(tmp_path / ".repository.json.lock")
    holder = FileLock(path).__enter__() if when == "waiting" else None
    try_lock = _lock._try_lock

    def then_ctrl_c(fd: int) -> bool:
        try_lock(fd)  # taken, or refused while the holder has it
        raise KeyboardInterrupt  # as a SIGINT landing right after the call

    before = _lowest_free_descriptor()
    monkeypatch.setattr(_lock, "_try_lock", then_ctrl_c)
    with pytest.raises(KeyboardInterrupt), FileLock(path):
        pass
    monkeypatch.undo()
    assert _lowest_free_descriptor() == before
    if holder is not None:
        holder.__exit__(None, None, None)
    with FileLock(path, timeout=0.5):  # free again: no ConflictError
        pass
