"""Saves without a journal: the request minimum, at the price of orphans gc never deletes.

By default a save names its files in a save journal before writing them and deletes the
journal after its commit (:mod:`archivist._commit.journal`): two requests on an object store, which
let :meth:`~archivist.Repository.gc` prove that a crashed save's files are its own and
were never committed. ``Repository(..., journal=False)`` (or the environment variable
:data:`JOURNAL_ENV` set to ``0``, ``false``, ``no`` or ``off``) turns that off for the
repository's saves and promotions: a save is then the manifest GET of the open, one PUT per
file and the conditional PUT of the manifest.

Every safety rule still holds; only the proof gc needs is missing:

- A save whose commit fails removes its own files only when the commit provably did not
  land. It knows in-process which files it wrote; what a journal adds is the sign that a
  mode ``w`` save replaced a manifest naming them (it deletes the journal; files a replaced
  manifest named are kept). Without one, the proof is twofold. Every commit request the
  save sent was answered (a refusal writes nothing; a request whose answer was lost may
  have landed, and the manifest may have been replaced since, so the files then stay).
  And the manifest, re-read after the failure, names none of the files and is still in the
  state (same token) this save committed against, or there was no manifest before and is
  none after. An empty manifest proves nothing (a mode ``w`` save of nothing writes the
  same ``[]`` again), so the files stay. When nothing proves it, the files stay and a
  warning names them.
- A save that is killed (``SIGKILL``, power loss) leaves its files behind. Nothing proves
  they are uncommitted files of this repository, so ``gc`` never deletes them and
  ``verify().orphans`` (exactly what ``gc(older_than=timedelta(0))`` would delete) does not
  list them.
- Mode ``w`` still forgets the journals of other saves whose manifest it replaces: other
  processes may save with journals.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from archivist._commit.journal import JournalEntry, SaveJournal
from archivist.errors import ConfigError, InvalidArgumentError

if TYPE_CHECKING:
    from archivist.stores import AbstractRepositoryStore

__all__ = ["JOURNAL_ENV", "NoJournal", "begin_journal", "resolve_journal"]

#: The environment variable read when ``journal=`` is not given.
JOURNAL_ENV = "ARCHIVIST_SAVE_JOURNAL"
_OFF = ("0", "false", "no", "off")
_ON = ("1", "true", "yes", "on")


def resolve_journal(journal: object) -> bool:
    """Return whether saves write a journal: ``journal``, else the environment's choice.

    Parameters
    ----------
    journal : bool or None
        ``True`` or ``False``; ``None`` reads :data:`JOURNAL_ENV` (default on).

    Returns
    -------
    bool
        Whether saves write a save journal.

    Raises
    ------
    archivist.errors.InvalidArgumentError
        ``journal`` is neither a bool nor ``None``.
    archivist.errors.ConfigError
        :data:`JOURNAL_ENV` holds something other than an on or off word.
    """
    if journal is None:
        value = os.environ.get(JOURNAL_ENV, "").strip().lower()
        if not value or value in _ON:
            return True
        if value in _OFF:
            return False
        raise ConfigError(
            f"the environment variable {JOURNAL_ENV} must be one of "
            f"{', '.join(_ON + _OFF)}, got {value!r}: set it to 0 to save without a journal "
            "(fewer requests; gc then never collects the files of a crashed save), or unset it"
        )
    if not isinstance(journal, bool):
        raise InvalidArgumentError(
            f"Repository() takes journal as True or False, got {type(journal).__name__} "
            f"{journal!r}: pass journal=False to save without a journal (fewer requests; gc "
            "then never collects the files of a crashed save)"
        )
    return journal


class NoJournal(SaveJournal):
    """The stand-in journal of a save without one: it stores and deletes nothing.

    It keeps what the commit protocol's "did it land?" rule
    (:func:`archivist._commit.protocol.did_not_land`) needs instead of a stored journal:
    the manifest token the save committed against and whether that manifest was empty.

    Parameters
    ----------
    store : AbstractRepositoryStore
        The repository's store.
    entries : Sequence[JournalEntry]
        The files the save intends to write (kept in memory only).
    token : str or None, optional
        The manifest token the save commits against first (``None``: no manifest).
    base_empty : bool, optional
        The manifest as read holds no version.
    """

    def __init__(
        self,
        store: AbstractRepositoryStore,
        entries: Sequence[JournalEntry],
        token: str | None = None,
        base_empty: bool = True,
    ) -> None:
        super().__init__(store, entries)
        self.token = token
        self.base_empty = base_empty

    def _write(self, object_id: str | None, entries: Sequence[JournalEntry]) -> None:
        """Store nothing (no request): the entries live in this process only."""


def begin_journal(
    store: AbstractRepositoryStore,
    entries: Sequence[JournalEntry],
    *,
    journal: bool,
    token: str | None,
    base_empty: bool,
    concurrently: bool = False,
) -> SaveJournal:
    """Start the journal of a save: a stored one, or a :class:`NoJournal` when turned off.

    Parameters
    ----------
    store : AbstractRepositoryStore
        The repository's store.
    entries : Sequence[JournalEntry]
        The files the save intends to write.
    journal : bool
        Whether the repository's saves write a journal.
    token : str or None
        The manifest token the save commits against first.
    base_empty : bool
        The manifest as read holds no version.
    concurrently : bool, optional
        Send the journal while the files are written (see :meth:`SaveJournal.begin`).

    Returns
    -------
    SaveJournal
        The journal, written (or on its way) unless turned off.
    """
    if journal:
        return SaveJournal.begin(store, entries, concurrently=concurrently)
    return NoJournal(store, entries, token, base_empty)
