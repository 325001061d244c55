"""Save journals: the proof that lets :meth:`~archivist.Repository.gc` delete a file.

This module writes, reads and settles journals; gc judges them by the rules below in
:mod:`archivist._lifecycle.gc`, which plans what to delete and applies exactly that plan.

A save names the files it is about to write in a small journal object *before* it writes
any of them (on a remote store: while it writes them, and then records their digests;
see :mod:`archivist._commit.overlap`), and deletes the journal once its commit landed
(or provably did not land and its files were removed). A journal that outlives its save
is therefore the record of a save that crashed or was interrupted. ``gc`` deletes a file
only when all of these hold:

- a journal of *this* repository names it (journals live in a folder named after the
  manifest, ``<folder>/.<manifest>.archivist/journal/``, so two repositories in one folder
  never share one);
- the journal is older than the grace period (the save is not still running);
- the manifest does not name it;
- the file is provably the one the save wrote: its SHA-256 and size match what the journal
  recorded once the file was written, or, for a name the save generated at random, the file
  is no older than the journal that chose the name.

Everything else (user files, other repositories, projects, release files, files that a
manifest replaced by mode ``w`` named) is never touched: when in doubt, a file stays.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from archivist._backends._background import defer, submit
from archivist._formats.names import check_stored_record
from archivist.errors import (
    ArchivistError,
    ManifestError,
)

if TYPE_CHECKING:
    from archivist.manifest import VersionRecord
    from archivist.stores import AbstractRepositoryStore

__all__ = ["JournalEntry", "SaveJournal", "settle_replaced_journals"]

logger = logging.getLogger(__name__)

#: The journal file format; a journal of another format is left alone by gc.
JOURNAL_FORMAT = 1


@dataclass(frozen=True)
class JournalEntry:
    """One file a save intends to write (and, once written, its digest).

    Attributes
    ----------
    name, fname : str
        The artifact name and file name.
    auto : bool
        The file name was generated at random by the save (not given by the user).
    sha256 : str or None
        The digest of what the save wrote, once written and recorded.
    size : int or None
        The size of what the save wrote, once written and recorded.
    """

    name: str
    fname: str
    auto: bool
    sha256: str | None = None
    size: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "name": self.name,
            "fname": self.fname,
            "auto": self.auto,
            "sha256": self.sha256,
            "size": self.size,
        }

    @classmethod
    def from_dict(cls, data: object) -> JournalEntry:
        """Parse the JSON form, refusing anything that is not exactly it.

        The name and file name are checked by the rules of manifest records
        (:func:`archivist._formats.names.check_stored_record`): a journal is read from storage and
        may be forged, and an entry naming ``..``, an absolute path or an empty part would
        otherwise send gc outside the repository. A journal with one such entry is refused
        whole (gc leaves it alone, with a warning).
        """
        if not isinstance(data, dict):
            raise ManifestError("a journal entry is not an object")
        name, fname, auto = data.get("name"), data.get("fname"), data.get("auto")
        sha256, size = data.get("sha256"), data.get("size")
        if not (isinstance(name, str) and isinstance(fname, str) and isinstance(auto, bool)):
            raise ManifestError("a journal entry lacks name, fname or auto")
        check_stored_record(name, fname, "a journal entry")
        if sha256 is not None and not isinstance(sha256, str):
            raise ManifestError("a journal entry has a sha256 that is not a string")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool)):
            raise ManifestError("a journal entry has a size that is not an integer")
        return cls(name, fname, auto, sha256, size)


def _serialize(entries: Sequence[JournalEntry]) -> bytes:
    """Return a journal's JSON text (msgspec encodes the entries in C, in one pass)."""
    document = {"format": JOURNAL_FORMAT, "files": entries}
    try:
        return msgspec.json.encode(document)
    except UnicodeEncodeError:  # a name with a lone surrogate: escaped, as json.dumps does
        files = [entry.to_dict() for entry in entries]
        return json.dumps({"format": JOURNAL_FORMAT, "files": files}).encode("ascii")


def _parse(data: bytes) -> list[JournalEntry]:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ManifestError(f"a journal is not valid JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != JOURNAL_FORMAT:
        raise ManifestError("a journal has an unknown format")
    files = document.get("files")
    if not isinstance(files, list):
        raise ManifestError("a journal has no list of files")
    return [JournalEntry.from_dict(item) for item in files]


def new_journal_id() -> str:
    """Return a fresh, never-reused journal id (UTC time plus a random part)."""
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}-{secrets.token_hex(8)}"


class SaveJournal:
    """The journal of one save: written before its files, deleted after its commit.

    A journal is one or more objects that are only ever created, never rewritten: the main
    one (``ID``) names the files before they are written; later ones (``ID-1``, ``ID-2``,
    ...) name a fresh file name after a collision, or record the digests of written files.
    Each object's time is the proof for the generated names it introduced.

    Parameters
    ----------
    store : AbstractRepositoryStore
        The repository's store; a store without journals makes every call a no-op.
    entries : Sequence[JournalEntry]
        The files the save intends to write.
    """

    def __init__(self, store: AbstractRepositoryStore, entries: Sequence[JournalEntry]) -> None:
        self.store = store
        self.id = new_journal_id()
        self.entries = list(entries)
        self.concurrent = False
        self._objects: list[str] = []
        self._pending: list[Future[Any]] = []
        self._lock = threading.Lock()  # the files of a save are written on several threads

    @classmethod
    def begin(
        cls,
        store: AbstractRepositoryStore,
        entries: Sequence[JournalEntry],
        *,
        concurrently: bool = False,
    ) -> SaveJournal:
        """Write the journal of a save that is about to write ``entries``.

        Parameters
        ----------
        store : AbstractRepositoryStore
            The repository's store.
        entries : Sequence[JournalEntry]
            The intended files.
        concurrently : bool, optional
            Send the journal while the files are written (a remote store, where waiting
            costs a round trip): :meth:`landed` waits for it before the commit, and
            :meth:`record_written` then records the digests of generated names too, since
            a file may be stored before the journal that names it and the time proof
            would not hold. Default ``False``: written before this returns.

        Returns
        -------
        SaveJournal
            The journal, written or on its way (nothing is written when there are no
            entries).
        """
        journal = cls(store, entries)
        journal.concurrent = concurrently
        if entries and concurrently:
            with journal._lock:
                journal._objects.append(journal.id)  # named before it is sent
            journal._pending.append(
                submit(lambda: store.write_journal(journal.id, _serialize(entries)))
            )
        elif entries:
            journal._write(journal.id, entries)
        return journal

    def alongside(self, future: Future[Any]) -> None:
        """Have :meth:`landed` wait for ``future`` too (a read the commit will use)."""
        self._pending.append(future)

    def landed(self) -> None:
        """Wait for the journal (and what runs :meth:`alongside` it); raise its write's error."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def _write(self, object_id: str | None, entries: Sequence[JournalEntry]) -> None:
        """Write one journal object (``None``: the next ``ID-N``), named before it is written."""
        with self._lock:
            if object_id is None:
                object_id = f"{self.id}-{len(self._objects)}"
            self._objects.append(object_id)  # before the write: close() tries it either way
        self.store.write_journal(object_id, _serialize(entries))

    def add(self, entry: JournalEntry) -> None:
        """Name one more file before writing it (a fresh name after a collision).

        Thread-safe: concurrent writes of one save may each add a name.
        """
        self._write(None, [entry])
        with self._lock:
            self.entries.append(entry)

    def record_written(self, records: Sequence[VersionRecord]) -> None:
        """Record the digests of the written files, when a name was given by the user.

        Generated names are proven by time (see the module docstring), so a save of
        generated names only skips this write, unless the journal was sent
        :meth:`concurrently <begin>` with the files. Waits for the journal first.
        """
        self.landed()
        if not self._objects or (not self.concurrent and all(e.auto for e in self.entries)):
            return
        self._write(
            None,
            [JournalEntry(r.name, r.fname, False, r.sha256, r.size) for r in records],
        )

    def exists(self) -> bool:
        """Tell whether the journal is still stored (nobody settled or collected it)."""
        return bool(self._objects) and self.id in set(self.store.list_journals())

    def close(self, *, later: bool = False) -> None:
        """Delete the journal (best effort: a journal left behind only keeps files).

        ``later``: after a commit that landed, a journal sent :meth:`concurrently <begin>`
        is deleted while the caller returns (a process that dies first leaves it, naming
        committed files, which gc never deletes).
        """
        for future in self._pending:  # a journal still on its way is deleted once stored
            future.exception()  # waits; what the write raised does not matter here
        self._pending = []
        if later and self.concurrent:
            defer(self.close, f"deleting save journal {self.id}")
            return
        with contextlib.suppress(ArchivistError, OSError):
            while self._objects:
                with contextlib.suppress(FileNotFoundError):
                    self.store.delete_journal(self._objects[-1])
                self._objects.pop()


def _journal_groups(ids: Iterable[str]) -> dict[str, list[str]]:
    """Group journal object ids by the save they belong to (``ID`` and ``ID-N``)."""
    groups: dict[str, list[str]] = {}
    for journal_id in sorted(ids):
        base, _, extra = journal_id.rpartition("-")
        owner = base if extra.isdigit() and "-" in base else journal_id
        groups.setdefault(owner, []).append(journal_id)
    return groups


def _read_group(
    store: AbstractRepositoryStore, ids: Sequence[str]
) -> list[tuple[JournalEntry, str]]:
    """Return every entry of one save's journal objects, with the object naming it."""
    return [
        (entry, object_id) for object_id in ids for entry in _parse(store.read_journal(object_id))
    ]


def settle_replaced_journals(
    store: AbstractRepositoryStore,
    replaced: Sequence[VersionRecord] | None,
    own: str | None = None,
) -> None:
    """Before mode ``w`` replaces a manifest, forget journals of saves that it committed.

    A save that committed and then crashed before deleting its journal leaves a journal
    naming committed files. Once mode ``w`` replaces that manifest, nothing would tell those
    files from never-committed ones, and the rule is that files a replaced manifest named
    are never deleted. So such journals are deleted first (their files then stay for good).

    Parameters
    ----------
    store : AbstractRepositoryStore
        The repository's store.
    replaced : Sequence[VersionRecord] or None
        The records of the manifest about to be replaced; ``None`` when it cannot be read,
        in which case every other journal is forgotten.
    own : str, optional
        The id of the replacing save's own journal, which is kept.
    """
    named = None if replaced is None else {(r.name, r.fname) for r in replaced}
    for owner, ids in _journal_groups(store.list_journals()).items():
        if owner == own:
            continue
        if named is not None:
            try:
                entries = [entry for entry, _ in _read_group(store, ids)]
            except FileNotFoundError:
                continue
            except ManifestError:
                entries = []  # unreadable: forget it, which only keeps files
            if entries and not any((e.name, e.fname) in named for e in entries):
                continue
        logger.info("forgetting save journal %s: the manifest it committed to is replaced", owner)
        for journal_id in ids:
            with contextlib.suppress(FileNotFoundError):
                store.delete_journal(journal_id)
