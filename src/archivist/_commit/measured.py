"""A save's bytes measured before any is stored, so that its progress starts with the total.

A handler only knows how many bytes a value makes by writing it. So when a save reports
progress (``save(progress=...)``), :func:`measured` first serializes each pending value,
through the one handler I/O function, into a :class:`Spool` of its own: memory while the
save's spools hold less than :data:`MEMORY_BUDGET` bytes (a quarter of the physical memory,
as for a verified read), an anonymous temporary file past that (where ``tempfile`` puts it:
``TMPDIR`` chooses the disk). The sum of their sizes is announced to the callback, and only
then is each file copied from its spool to storage, its bytes reported as the storage takes
them (see :meth:`archivist.storage.Backend.open_new`). The price is one local copy of what
the save writes (at its peak, a save holds the values and their bytes); a save without
progress writes each value straight to storage, as before.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, cast

from archivist._commit.session import Pending
from archivist._formats.hashes import FileDigests
from archivist._io.handlers import write_value
from archivist._io.progress import (
    FileProgress,
    ProgressCallback,
    TransferReport,
    takes_callback,
)
from archivist._io.streams import WRITE_SLICE
from archivist._io.verified import BUFFER_LIMIT

if TYPE_CHECKING:
    from typing_extensions import Buffer

    from archivist.stores import AbstractRepositoryStore

__all__ = ["MEMORY_BUDGET", "Measured", "Spool", "measured"]

#: The most bytes one save's spools keep in memory (as many as a verified read may hold: a
#: quarter of the physical memory); the rest go to temporary files.
MEMORY_BUDGET = BUFFER_LIMIT


class Spool(io.BufferedIOBase):
    """A write-once byte stream kept in memory up to a limit, then in a temporary file.

    In memory the bytes are kept as slices of at most about :data:`WRITE_SLICE` bytes, so
    that copying them out passes ``bytes`` a slice at a time: each is hashed on a worker
    while the next is written, and a cancelled save stops between two.

    Parameters
    ----------
    memory : int
        The most bytes kept in memory; the first write that would pass it moves what was
        written to an anonymous temporary file, where the rest goes.
    """

    def __init__(self, memory: int) -> None:
        super().__init__()
        self._memory = memory
        self._slices: list[bytes] = []
        self._last = bytearray()  # small writes gather here into one slice
        self._file: IO[bytes] | None = None
        #: Bytes written so far.
        self.size = 0

    @property
    def in_memory(self) -> bool:
        """Whether every byte is still in memory."""
        return self._file is None

    def writable(self) -> bool:
        return True

    def write(self, data: Buffer) -> int:
        view = memoryview(data).cast("B")
        if self._file is None and self.size + len(view) > self._memory:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
            for piece in self._pieces():
                self._file.write(piece)
            self._slices, self._last = [], bytearray()
        self.size += len(view)
        if self._file is not None:
            self._file.write(view)
        elif len(view) >= WRITE_SLICE:
            self._gather()
            self._slices.extend(
                view[start : start + WRITE_SLICE].tobytes()
                for start in range(0, len(view), WRITE_SLICE)
            )
        else:
            self._last += view
            if len(self._last) >= WRITE_SLICE:
                self._gather()
        return len(view)

    def _gather(self) -> None:
        if self._last:
            self._slices.append(bytes(self._last))
            self._last = bytearray()

    def _pieces(self) -> Iterator[bytes]:
        self._gather()
        yield from self._slices

    def copy_to(self, target: IO[bytes]) -> None:
        """Write everything spooled to ``target``, about :data:`WRITE_SLICE` bytes at a time."""
        if self._file is None:
            for piece in self._pieces():
                target.write(piece)
            return
        self._file.seek(0)
        while piece := self._file.read(WRITE_SLICE):
            target.write(piece)

    def close(self) -> None:
        """Free the memory or the temporary file."""
        self._slices, self._last = [], bytearray()
        if self._file is not None:
            self._file.close()
        super().close()


@dataclass
class Measured:
    """One pending version, and, when the save reports progress, its spooled bytes.

    Attributes
    ----------
    pending : Pending
        The version.
    spool : Spool or None
        Its file's bytes, already written by its handler (``None``: no progress report,
        the handler writes straight to storage).
    progress : FileProgress or None
        Where the storage reports the file's bytes.
    """

    pending: Pending
    spool: Spool | None = None
    progress: FileProgress | None = None

    def write(self, raw: IO[bytes]) -> None:
        """Write the version's bytes to ``raw``: from its spool, or through its handler."""
        if self.spool is not None:
            self.spool.copy_to(raw)
            return
        record = self.pending.record
        write_value(
            self.pending.handler,
            self.pending.value,
            raw,
            self.pending.writer_kwargs,
            record.handler,
            record.name,
        )

    def write_file(
        self,
        store: AbstractRepositoryStore,
        fname: str,
        write: Callable[[IO[bytes]], None],
    ) -> FileDigests:
        """Try writing the version's file under ``fname`` with ``store.write_file``.

        With progress, the store reports the bytes as the storage takes them; a store whose
        ``write_file`` was written before it took a ``callback`` reports the whole file once
        it is written.
        """
        name = self.pending.record.name
        if self.progress is None:
            return store.write_file(name, fname, write)
        attempt = self.progress.attempt()
        if takes_callback(type(store).write_file):
            return store.write_file(name, fname, write, callback=attempt)
        digests = store.write_file(name, fname, write)
        attempt.relative_update(digests.size)
        return digests


@contextlib.contextmanager
def measured(
    pending: Sequence[Pending], callback: ProgressCallback | None
) -> Iterator[list[Measured]]:
    """Spool every pending value and announce their total, when there is a callback.

    Parameters
    ----------
    pending : Sequence[Pending]
        The versions a save writes.
    callback : ProgressCallback or None
        The save's progress report; ``None`` spools nothing.

    Yields
    ------
    list[Measured]
        One per pending version, in order; the spools are freed when the block ends.
    """
    if callback is None:
        yield [Measured(one) for one in pending]
        return
    report = TransferReport(callback)
    budget = MEMORY_BUDGET
    with contextlib.ExitStack() as spools:
        sources: list[Measured] = []
        for one in pending:
            spool = spools.enter_context(Spool(budget))
            Measured(one).write(cast("IO[bytes]", spool))
            if spool.in_memory:
                budget -= spool.size
            sources.append(Measured(one, spool, report.file()))
        report.announce(sum(source.spool.size for source in sources if source.spool))
        yield sources
