"""The background flusher of local saves: bounded descriptors, and what it leaves to do."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from archivist._backends._fsync import SyncAhead


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def test_at_most_its_budget_of_descriptors_stays_open(tmp_path: Path) -> None:
    ahead = SyncAhead(threads=2, batch=100)  # nothing goes to a worker before wait()
    ahead._max_fds = 2
    paths, fds = [], []
    for i in range(5):
        path = str(tmp_path / f"f{i}")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, b"x")
        ahead.hand_over(path, fd)
        paths.append(path)
        fds.append(fd)
    assert [_is_open(fd) for fd in fds] == [True, True, False, False, False]
    assert ahead.wait(paths) == []  # every one was flushed, by descriptor or by path
    assert not any(_is_open(fd) for fd in fds)
    assert ahead._fds == 0


def test_wait_leaves_the_files_it_was_not_given_and_forgotten_ones(tmp_path: Path) -> None:
    ahead = SyncAhead(threads=1, batch=1)
    handed, forgotten, other = (str(tmp_path / name) for name in ("a", "b", "c"))
    for path in (handed, forgotten, other):
        Path(path).write_bytes(b"x")
    ahead.hand_over(handed)
    ahead.hand_over(forgotten)
    ahead.forget(forgotten)  # deleted meanwhile: the caller decides
    assert ahead.wait([handed, forgotten, other]) == [forgotten, other]
    assert ahead.wait([handed]) == [handed]  # each wait takes what it was given


def test_a_failed_background_fsync_is_raised_by_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(fd: int) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "fsync", failing)
    ahead = SyncAhead(threads=1, batch=1)
    path = tmp_path / "a"
    path.write_bytes(b"x")
    ahead.hand_over(str(path))
    with pytest.raises(OSError, match="I/O error"):
        ahead.wait([str(path)])
