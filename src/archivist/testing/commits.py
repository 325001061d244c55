"""Make a save fail in its commit: the one way tests crash a save at the worst moment.

:func:`crash_at_commit` makes the manifest commit of a repository's next save fail: before
the commit is sent, or after it landed (its answer lost), with the error a test chooses.
By default the save then dies on the spot, as under ``SIGKILL`` or a power loss: every later
call it makes to its store raises the same error, so it can neither re-read the manifest
nor clean up, and leaves what a killed process leaves. With ``dies=False`` only the commit
request fails, and the save lives on to settle: it re-reads, decides whether its commit
landed, and removes what it provably owns::

    with crash_at_commit(repository, landed=False):
        repository.save()  # its files and journal stay behind, for gc

It works on any :class:`~archivist.stores.AbstractRepositoryStore`: it replaces the store's
methods on the instance for the duration of the ``with`` block.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from archivist.repository import Repository

__all__ = ["CommitCrash", "crash_at_commit"]

#: The store calls a dead save can no longer make (everything that reaches storage).
_AFTER_DEATH = (
    "read",
    "read_authoritative",
    "read_if_changed",
    "current_token",
    "write_file",
    "delete_file",
    "write_journal",
    "delete_journal",
    "remove_partial_writes",
)


@dataclass
class CommitCrash:
    """What :func:`crash_at_commit` saw of the save.

    Attributes
    ----------
    commits : int
        How many commits the save attempted (each one failed).
    written : list[tuple[str, str]]
        ``(name, file name)`` of every version file the save wrote before it failed.
    """

    commits: int = 0
    written: list[tuple[str, str]] = field(default_factory=list)


def _instance(error: BaseException | type[BaseException]) -> BaseException:
    return error("injected at the commit") if isinstance(error, type) else error


@contextlib.contextmanager
def crash_at_commit(
    repository: Repository,
    *,
    landed: bool = False,
    error: BaseException | type[BaseException] = KeyboardInterrupt,
    dies: bool = True,
    then: Callable[[], object] | None = None,
    raises: type[BaseException] | None = None,
) -> Iterator[CommitCrash]:
    """Make every manifest commit of a save in the ``with`` block fail, and expect it to.

    Parameters
    ----------
    repository : archivist.Repository
        The repository whose store's commits fail.
    landed : bool, optional
        Send the commit first, so it lands and only its answer is lost (default ``False``:
        it fails before it is sent).
    error : BaseException or type[BaseException], optional
        What the commit raises (default ``KeyboardInterrupt``, Ctrl-C).
    dies : bool, optional
        ``True`` (default): the process "dies" at the commit; every later store call
        raises ``error`` too. ``False``: only commit requests fail, and the save settles.
    then : Callable[[], object], optional
        Called after a landed commit and before its error (another writer acting while the
        answer is lost).
    raises : type[BaseException], optional
        What the save is expected to raise; by default the type of ``error``.

    Yields
    ------
    CommitCrash
        The commits attempted and the files written, filled in as the save runs.

    Raises
    ------
    AssertionError
        The save never reached its commit, or did not raise ``raises``.
    """
    store: Any = repository.store
    real_commit, real_write_file = store.commit, store.write_file
    crash = CommitCrash()
    expected = raises or (error if isinstance(error, type) else type(error))

    def dead(*args: Any, **kwargs: Any) -> Any:
        raise _instance(error)

    def commit(records: Any, token: Any) -> str:
        crash.commits += 1
        if landed:
            real_commit(records, token)
            if then is not None:
                then()
        if dies:
            for name in _AFTER_DEATH:
                setattr(store, name, dead)
        raise _instance(error)

    def write_file(name: str, fname: str, write: Any, **reporting: Any) -> Any:
        written = real_write_file(name, fname, write, **reporting)
        crash.written.append((name, fname))
        return written

    store.commit, store.write_file = commit, write_file
    try:
        with pytest.raises(expected):
            yield crash
        assert crash.commits, "the save never reached its commit"
    finally:
        for name in ("commit", *_AFTER_DEATH):
            with contextlib.suppress(AttributeError):
                delattr(store, name)
