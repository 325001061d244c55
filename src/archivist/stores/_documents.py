"""Documents on storage, and the one compare-and-swap loop that changes every one of them.

A *document* is one small stored file that many writers change: a repository's manifest,
its alias file, ``releases.json``, ``project.json``, the digests side file. Each is changed
the same way, by :func:`update`:

1. read the document and its state token (the first round may start from a copy already
   in memory, ``first=``, without reading again);
2. apply the caller's ``change`` to it: the new value, or ``None`` when nothing needs
   writing (an error raised here writes nothing and reaches the caller);
3. replace the document only if its token is unchanged
   (:meth:`~archivist.Backend.replace_if_unchanged`);
4. refused (another writer came first: nothing was written): read again and go back to 2;
   after ``attempts`` rounds, :class:`~archivist.errors.ConflictError` naming the
   document. Where the document has a writer lock (local disk, ``Document.exclusive``),
   every round runs holding it: no other archivist writer can replace the document between
   a read and the replace, so a writer loses a round only to a stale first copy (``first=``)
   or a writer that takes no lock (lazyscribe), retries at once, and waits for the lock in
   the kernel rather than polling. Elsewhere (object stores) each retry waits first:
   bounded, jittered exponential backoff (:func:`archivist.stores._retry.cas_rounds`).

**The lost-acknowledgement rule.** A replace can land and still be reported as refused: the
client retried a request whose answer was lost, and the retry met its own write. So after a
refusal, every re-read is first shown to ``landed``: when the document already holds the
change (a release with this tag and time, a move with this id, the save's file names), it
landed, once, and nothing is written again. A replace that fails *without* an answer (a
network error, Ctrl-C while it was in flight) is never retried: it is raised at once, and
the :class:`Tally` passed in records ``unanswered``, because that request may still land
after any re-read. A caller that cleans up after a failure (removing the files a save
wrote) reads the tally and keeps what an unanswered request may have committed.

Every round is logged the same way, on the ``archivist.stores`` logger::

    <location>: <what>: another writer committed first (attempt 1 of 64); re-reading and retrying
    <location>: <what>: an earlier attempt had landed; not written again

**How the manifest commit maps onto it** (``save()``'s loop; prune and adopt alike): the
document is :class:`ManifestDocument` (``store.manifest()``), whose value is the records
indexed by name (:class:`~archivist.manifest.ManifestIndex`), so that ``first=`` is the
snapshot the repository already holds and ``done.value`` the index it holds next::

    tally = Tally()
    try:
        done = update(
            store.manifest(),            # mode "w" wraps read() to fall back to
                                         #   (ManifestIndex(), store.current_token())
            lambda base: merged(base, new_records, expiry_changes),   # renumbers; an index
            landed=lambda base: already_committed(base, new_records) is not None,
            first=(committed_index, token),   # the first round does not read again
            what="saving",
            attempts=MAX_COMMIT_ATTEMPTS,
            tally=tally,
        )
    except BaseException:
        # remove the files only if provably not committed: every request was answered
        settle_failed_commit(new_records, journal, answered=not tally.unanswered)
        raise
    committed_index, token = done.value, done.token

``done.status`` tells a write (``"written"``) from a commit found already applied
(``"landed"``; its records are in ``done.value``); ``done.base`` is the manifest the
winning change was applied to (renumbering is logged against it). Prune passes a change
that returns ``None`` when nothing is left to remove (another prune did it; the removed
records are ``done.base`` minus ``done.value``), and its put-back one that returns ``None``
when nothing is missing (it returns ``ManifestIndex([*base.records, *missing])``:
``ManifestIndex.appended`` is only for records numbered after every version of their
name). Adopt returns ``None`` when every digest is recorded already.

The users today: ``ReleaseStore.add`` (a duplicate tag raises from the change),
``AliasStore.move`` (landed: a move with this id), ``ProjectStore.update`` (landed: the
save's files or experiments), ``adopt``; a side file of one's own is a
:class:`FileDocument` (a path, a parser, a serializer and the empty value).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Literal, Protocol, TypeVar

from archivist.errors import ConflictError, StaleTokenError
from archivist.manifest import ManifestIndex
from archivist.stores._locations import storage_errors
from archivist.stores._retry import cas_rounds

if TYPE_CHECKING:
    from archivist._backends.base import Backend
    from archivist.stores._interface import AbstractRepositoryStore

__all__ = [
    "MAX_ATTEMPTS",
    "Document",
    "FileDocument",
    "ManifestDocument",
    "Tally",
    "Updated",
    "update",
]

#: How many rounds :func:`update` tries by default before giving up.
MAX_ATTEMPTS = 64

_log = logging.getLogger("archivist.stores")

V = TypeVar("V")

#: How an update ended: the change was written, found already applied, or not needed.
Status = Literal["written", "landed", "unchanged"]


class Document(Protocol[V]):
    """A stored document: read it with a state token, replace it only if unchanged.

    Attributes
    ----------
    location : str
        The document's path or URL, for messages and logs.
    """

    @property
    def location(self) -> str:
        """The document's path or URL, for messages and logs."""
        ...

    def read(self) -> tuple[V, str | None]:
        """Return the document's value and its state token.

        Returns
        -------
        tuple[V, str or None]
            The value (an empty one when the document does not exist yet) and the token
            (``None`` when it does not exist).
        """
        ...

    def replace(self, value: V, token: str | None) -> str:
        """Store ``value`` only if the document is still in the state ``token`` names.

        Parameters
        ----------
        value : V
            The new value.
        token : str or None
            The token read with the value it replaces (``None``: create only if absent).

        Returns
        -------
        str
            The new token.

        Raises
        ------
        archivist.errors.StaleTokenError
            Refused: the document changed since ``token`` was read; nothing was written.
        """
        ...

    def exclusive(self) -> AbstractContextManager[bool]:
        """Keep other archivist writers from replacing the document during the block.

        Its value tells whether it does (local disk) or is a no-op (object stores).
        """
        ...


@dataclass
class Tally:
    """What the requests of one :func:`update` came to; read it after a failure.

    Attributes
    ----------
    rounds : int
        Rounds started.
    refused : int
        Replaces answered with a refusal (nothing written).
    unanswered : bool
        A replace failed without an answer (an error or an interrupt while it was sent): it
        may have landed, or still land after any re-read. Any error out of
        :meth:`Document.replace` but a refusal counts, even one raised before sending (a
        value that cannot be serialized): when unsure, the caller keeps its files.
    """

    rounds: int = 0
    refused: int = 0
    unanswered: bool = False


@dataclass(frozen=True)
class Updated(Generic[V]):
    """How :func:`update` ended.

    Attributes
    ----------
    value : V
        The document as it now stands: the value written, or, when nothing was written, the
        value last read.
    base : V
        The value the last round read (and applied the change to).
    token : str or None
        The token of ``value``.
    status : {"written", "landed", "unchanged"}
        ``"written"``: this call's replace stored ``value``. ``"landed"``: after a refusal
        the re-read showed an earlier round's write had landed. ``"unchanged"``: the change
        returned ``None`` (nothing to write).
    attempt : int
        The round that ended it, from 0.
    """

    value: V
    base: V
    token: str | None
    status: Status
    attempt: int


def update(
    document: Document[V],
    change: Callable[[V], V | None],
    *,
    what: str,
    landed: Callable[[V], bool] | None = None,
    first: tuple[V, str | None] | None = None,
    attempts: int = MAX_ATTEMPTS,
    tally: Tally | None = None,
) -> Updated[V]:
    """Read, change and compare-and-swap ``document``, retrying after refusals.

    Parameters
    ----------
    document : Document
        The document.
    change : Callable[[V], V | None]
        Given the value read, return the value to store, or ``None`` when nothing needs
        writing. It runs once per round, on the value that round read; whatever it raises
        reaches the caller and nothing is written.
    what : str
        What the update does, for logs and the error (``"adding release 'v1'"``).
    landed : Callable[[V], bool], optional
        Given a value re-read after a refusal, tell whether it already holds this call's
        change (an earlier round's write landed though it was reported refused). Without
        it, every re-read is changed again.
    first : tuple[V, str or None], optional
        The value and token to start from, already in memory: the first round does not
        read the document (a stale copy costs one refused round).
    attempts : int, optional
        The most rounds (default :data:`MAX_ATTEMPTS`).
    tally : Tally, optional
        Filled in as the rounds go, for the caller to read after a failure.

    Returns
    -------
    Updated
        The stored value, its token and how it ended.

    Raises
    ------
    archivist.errors.ConflictError
        Every round was refused; this call changed nothing.
    """
    tally = Tally() if tally is None else tally
    with contextlib.ExitStack() as held:
        return _rounds(document, change, what, landed, first, attempts, tally, held)


def _rounds(
    document: Document[V],
    change: Callable[[V], V | None],
    what: str,
    landed: Callable[[V], bool] | None,
    first: tuple[V, str | None] | None,
    attempts: int,
    tally: Tally,
    held: contextlib.ExitStack,
) -> Updated[V]:
    """Run :func:`update`'s rounds, all under the document's lock where it has one."""
    # Where the document has a lock, every round holds it: racing optimistically around a
    # lock that serializes the replace anyway only costs a lost round and a second wait.
    locked = [held.enter_context(document.exclusive())]
    for attempt in cas_rounds(attempts, wait=lambda: not locked[0]):
        tally.rounds += 1
        if attempt == 0 and first is not None:
            base, token = first
        else:
            base, token = document.read()
            if attempt and landed is not None and landed(base):
                _log.info(
                    "%s: %s: an earlier attempt had landed; not written again",
                    document.location,
                    what,
                )
                return Updated(base, base, token, "landed", attempt)
        new = change(base)
        if new is None:
            return Updated(base, base, token, "unchanged", attempt)
        try:
            new_token = document.replace(new, token)
        except StaleTokenError:  # refused: nothing was written
            tally.refused += 1
            _log.info(
                "%s: %s: another writer committed first (attempt %d of %d); re-reading and "
                "retrying",
                document.location,
                what,
                attempt + 1,
                attempts,
            )
            continue
        except BaseException:
            tally.unanswered = True  # the request may have landed, its answer lost
            raise
        return Updated(new, base, new_token, "written", attempt)
    raise ConflictError(
        f"gave up {what} after {attempts} attempts: other writers kept changing "
        f"{document.location} first. This call changed nothing in it; try again."
    )


class FileDocument(Generic[V]):
    """A document kept in one file on a Backend, parsed and serialized by the caller.

    Parameters
    ----------
    backend : Backend
        The backend holding the file.
    path : str
        The file's path in the backend's form.
    location : str
        The path or URL, for messages.
    parse : Callable[[bytes], V]
        Turn the stored bytes into the value (raising
        :class:`~archivist.errors.ManifestError` on bad content).
    serialize : Callable[[V], bytes]
        Turn a value into the bytes to store.
    empty : Callable[[], V]
        The value of a document that does not exist yet.
    """

    def __init__(
        self,
        backend: Backend,
        path: str,
        location: str,
        *,
        parse: Callable[[bytes], V],
        serialize: Callable[[V], bytes],
        empty: Callable[[], V],
    ) -> None:
        self.backend = backend
        self.path = path
        self._location = location
        self._parse = parse
        self._serialize = serialize
        self._empty = empty

    @property
    def location(self) -> str:
        """The file's path or URL."""
        return self._location

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._location!r})"

    def read(self) -> tuple[V, str | None]:
        """Read and parse the file (the empty value and ``None`` when it does not exist)."""
        try:
            with storage_errors(f"reading {self._location}"):
                data, token = self.backend.read_with_token(self.path)
        except FileNotFoundError:
            return self._empty(), None
        return self._parse(data), token

    def replace(self, value: V, token: str | None) -> str:
        """Serialize ``value`` and replace the file if its token is still ``token``."""
        data = self._serialize(value)
        with storage_errors(f"writing {self._location}"):
            return self.backend.replace_if_unchanged(self.path, data, token)

    def exclusive(self) -> AbstractContextManager[bool]:
        """Hold the file's writer lock where the backend has one (see ``Backend.exclusive``)."""
        return self.backend.exclusive(self.path)


class ManifestDocument:
    """A repository store's manifest as a document whose value is its indexed records.

    Parameters
    ----------
    store : AbstractRepositoryStore
        The store; :meth:`read` and :meth:`replace` call its ``read`` and ``commit``.
    authoritative : bool, optional
        Read with ``read_authoritative`` (a full parse): the manifest a prune, which deletes,
        decides from.
    """

    def __init__(self, store: AbstractRepositoryStore, *, authoritative: bool = False) -> None:
        self.store = store
        #: Read with a full parse, never through the index cache (what deletions decide from).
        self.authoritative = authoritative

    @property
    def location(self) -> str:
        """The manifest's path or URL."""
        return self.store.location

    def __repr__(self) -> str:
        return f"ManifestDocument({self.store.location!r})"

    def read(self) -> tuple[ManifestIndex, str | None]:
        """Read the manifest: its records indexed by name, and its token."""
        if self.authoritative:
            snapshot = self.store.read_authoritative()
            return ManifestIndex(snapshot.records), snapshot.token
        snapshot = self.store.read()
        return snapshot.indexed or ManifestIndex(snapshot.records), snapshot.token

    def replace(self, value: ManifestIndex, token: str | None) -> str:
        """Commit ``value``'s records if the manifest is still in the state ``token`` names."""
        return self.store.commit(value.records, token)

    def exclusive(self) -> AbstractContextManager[bool]:
        """Hold the manifest's writer lock where the store has one."""
        return self.store.exclusive()
