"""Which requests of a save on a remote store overlap, and why that is safe.

On an object store a save would wait for each request in turn: the journal, the files, the
kept digests' read and write, the manifest's conditional write, the journal's deletion.
What depends on what allows less waiting, without weakening the commit protocol
(``docs/design.md``, "The commit protocol" and "Ownership"):

1. The journal, the files and the read of the kept digests go at once
   (:meth:`~archivist._commit.journal.SaveJournal.begin` with ``concurrently=True``, and
   :func:`read_kept_ahead`). A file may then be stored before the journal naming it: if
   the save dies in between, nothing proves the file its own, and gc leaves it (a file
   without a journal is only ever leaked, never deleted). A failed journal write fails the
   save before its commit, which removes the files it wrote, as any failure before the
   commit does.
2. Once the files and the journal are stored, the digests of the written files go into
   the journal (for generated names too: a file stored before its journal is older than
   it, so the time proof may not hold) at the same time as the kept digests' append
   (:func:`before_commit`). Both land before the manifest's commit is attempted.
3. The manifest's conditional write.
4. After a commit that landed, the journal is deleted while ``save()`` returns
   (:meth:`~archivist._commit.journal.SaveJournal.close` with ``later=True``): a process
   that dies first leaves a journal naming committed files, which gc never deletes (the
   manifest names them) and deletes with the rest of its journals.

Local disk and memory answer at once; their saves keep the one-after-another order.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from archivist._backends._background import run_together, submit

if TYPE_CHECKING:
    from archivist._commit.journal import SaveJournal
    from archivist.stores import AbstractRepositoryStore

__all__ = ["before_commit", "read_kept_ahead"]

#: The background read of each kept digests document still on its way (or done).
_reading: weakref.WeakKeyDictionary[Any, Future[None]] = weakref.WeakKeyDictionary()
_reading_lock = threading.Lock()


def read_kept_ahead(store: AbstractRepositoryStore, journal: SaveJournal | None = None) -> None:
    """Read the store's kept digests in the background, unless known or already on the way.

    Called when a repository that may save opens (the read goes with the manifest's, on a
    connection of its own, which the save's concurrent requests then reuse) and when a
    save starts. The append before the commit starts from what was read (one conditional
    write, no read); a read that fails is left to the append, which reads again and
    reports it. ``journal``'s :meth:`~archivist._commit.journal.SaveJournal.landed` waits
    for the read.
    """
    document = store.kept_digests()
    if document is None:
        return
    with _reading_lock:
        pending = _reading.get(document)
        if pending is None and getattr(document, "last", None) is None:

            def read() -> None:
                with contextlib.suppress(Exception):
                    document.read()

            pending = _reading[document] = submit(read)
    if pending is not None and journal is not None:
        journal.alongside(pending)


def before_commit(*calls: Callable[[], object] | None, together: bool) -> None:
    """Run what must land before the manifest's commit: at once when ``together``."""
    chosen = [call for call in calls if call is not None]
    if together:
        run_together(*chosen)
    else:
        for call in chosen:
            call()
