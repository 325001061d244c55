"""Stream wrappers: hashing while writing, and text views over byte streams."""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

from archivist._formats.hashes import Algorithm, DigestSet, FileDigests, new_hash
from archivist.errors import StorageWriteError

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = ["HashWorker", "HashingWriter", "digest_stream", "stream_for"]

CHUNK = 1 << 20

#: Past this many bytes, a HashingWriter hashes on a worker thread, so the digest of a large
#: file overlaps the serialization producing it instead of adding to it.
BACKGROUND_HASH_AFTER = 8 << 20
#: Bytes handed to the worker at a time, and how many such batches may wait (bounds memory).
_HASH_BATCH = 4 << 20
#: A write of at least _HASH_BATCH bytes is passed on in slices of this size, each hashed on
#: the worker while the next is written, so hashing overlaps the write instead of following it
#: (pickle hands a whole large array to one ``write()``).
WRITE_SLICE = 8 << 20
_HASH_BACKLOG = 8


class HashWorker:
    """Feed batches of buffers, in order, to hash objects, each on a daemon thread of its own.

    The buffers must not change until they are hashed: :meth:`drain` waits for that.

    Parameters
    ----------
    *digests : hashlib-like hash objects
        Each is updated with every buffer put, in order, on its own thread (two digests of
        one stream are computed side by side: hashlib and blake3 release the GIL).
    """

    def __init__(self, *digests: Any) -> None:
        self._queues: list[queue.Queue[Sequence[Buffer] | None]] = []
        self._threads: list[threading.Thread] = []
        for digest in digests:
            batches: queue.Queue[Sequence[Buffer] | None] = queue.Queue(maxsize=_HASH_BACKLOG)
            thread = threading.Thread(
                target=self._run, args=(digest, batches), name="archivist-hash", daemon=True
            )
            thread.start()
            self._queues.append(batches)
            self._threads.append(thread)

    @staticmethod
    def _run(digest: Any, batches: queue.Queue[Sequence[Buffer] | None]) -> None:
        while (batch := batches.get()) is not None:
            _update(digest, batch)
            del batch  # hold no view once hashed: its owner may reuse or resize the buffer
            batches.task_done()
        batches.task_done()

    def put(self, batch: Sequence[Buffer]) -> None:
        """Queue ``batch`` for hashing (waits while a backlog is full)."""
        for batches in self._queues:
            batches.put(batch)

    def drain(self) -> None:
        """Wait until everything put so far is hashed."""
        for batches in self._queues:
            batches.join()

    def finish(self) -> None:
        """Hash what is queued, then stop the threads."""
        for batches in self._queues:
            batches.put(None)
        for thread in self._threads:
            thread.join()


def _update(digest: Any, batch: Sequence[Buffer]) -> None:
    for piece in batch:
        digest.update(piece)  # hashlib releases the GIL for large buffers


class HashingWriter(io.BufferedIOBase):
    """Pass writes through to ``raw`` while computing their digests and size.

    The one place written bytes are hashed: SHA-256, BLAKE3 and, for a file past
    :data:`archivist._formats.hashes.BLOCKS_AFTER`, the BLAKE3 of each block, all in the
    pass that writes (:class:`archivist._formats.hashes.DigestSet`).

    The first :data:`BACKGROUND_HASH_AFTER` bytes are hashed inline; past that, a worker
    thread hashes batches of what was written (``bytes`` as given, other small buffers
    copied), so a large file's digest overlaps its serialization. A large write is passed on
    in slices of :data:`WRITE_SLICE` bytes, each hashed while the next is written, so its
    digest overlaps the write too; a large buffer other than ``bytes`` is not copied but
    fully hashed before ``write`` returns. :attr:`sha256` waits for the worker.

    Parameters
    ----------
    raw : IO[bytes]
        The destination; it is not closed when this wrapper is.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw
        self._hash = DigestSet()
        self._batch: list[bytes] = []
        self._batch_size = 0
        self._worker: HashWorker | None = None
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Buffer) -> int:
        view = memoryview(data).cast("B")
        if len(view) >= _HASH_BATCH and self.size + len(view) > BACKGROUND_HASH_AFTER:
            self._write_sliced(view, reusable=not isinstance(data, bytes))
            return len(view)
        self._write_raw(view)
        if self._worker is None and self.size + len(view) <= BACKGROUND_HASH_AFTER:
            self._hash.update(view)  # small files never start a thread
        else:
            # bytes cannot change; any other buffer may be reused once we return: copy it.
            self._batch.append(data if isinstance(data, bytes) else view.tobytes())
            self._batch_size += len(view)
            if self._batch_size >= _HASH_BATCH:
                self._hand_over_batch()
        self.size += len(view)
        return len(view)

    def _write_sliced(self, view: memoryview, reusable: bool) -> None:
        """Write ``view`` a slice at a time, each hashed on the worker during the next write.

        The slices are views, not copies: a buffer the caller may reuse (anything but
        ``bytes``) is fully hashed before this returns.
        """
        if self._batch:
            self._hand_over_batch()  # what came before goes first
        if self._worker is None:
            self._worker = HashWorker(*self._hash.parts())
        try:
            for start in range(0, len(view), WRITE_SLICE):
                piece = view[start : start + WRITE_SLICE]
                self._write_raw(piece)
                self._worker.put([piece])
                self.size += len(piece)
        finally:
            if reusable:
                self._worker.drain()

    def _write_raw(self, view: memoryview) -> None:
        try:
            self._raw.write(view)
        except Exception as exc:
            raise StorageWriteError(
                f"writing to storage failed: {type(exc).__name__}: {exc}"
            ) from exc

    def _hand_over_batch(self) -> None:
        if self._worker is None:
            self._worker = HashWorker(*self._hash.parts())
        self._worker.put(self._batch)
        self._batch, self._batch_size = [], 0

    def _finish_hashing(self) -> None:
        if self._batch:
            self._hand_over_batch()
        if self._worker is not None:
            self._worker.finish()
            self._worker = None

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self._raw.flush()

    def close(self) -> None:
        # Leave the destination open: the backend commits it when its own block ends.
        self._finish_hashing()
        super().close()

    @property
    def sha256(self) -> str:
        """The SHA-256 hex digest of everything written so far."""
        return self.digests.sha256

    @property
    def digests(self) -> FileDigests:
        """The digests (SHA-256, BLAKE3, block list) of everything written so far."""
        self._finish_hashing()
        return self._hash.result(self.size)


@contextmanager
def stream_for(raw: IO[bytes], binary: bool) -> Iterator[IO[Any]]:
    """Give a handler the stream kind it asked for over ``raw``: bytes, or UTF-8 text.

    Parameters
    ----------
    raw : IO[bytes]
        A byte stream, left open afterwards.
    binary : bool
        ``True`` for the byte stream itself, ``False`` for a UTF-8 text view of it.

    Yields
    ------
    IO
        The stream for the handler.
    """
    if binary:
        yield raw
        return
    text = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    try:
        yield text
        if text.writable():
            text.flush()
    finally:
        text.detach()


def digest_stream(
    stream: IO[bytes],
    limit: int | None = None,
    sink: IO[bytes] | None = None,
    algorithm: Algorithm = "sha256",
) -> tuple[str, int]:
    """Read ``stream`` in chunks and return the digest and size of what was read.

    Parameters
    ----------
    stream : IO[bytes]
        A readable byte stream.
    limit : int, optional
        Read at most this many bytes (default: to the end).
    sink : IO[bytes], optional
        Also write every chunk read here (a spool the caller hands on).
    algorithm : {"sha256", "blake3"}, optional
        The digest to compute (default SHA-256).

    Returns
    -------
    tuple[str, int]
        The hex digest and the number of bytes read.
    """
    digest, size = new_hash(algorithm), 0
    while limit is None or size < limit:
        chunk = stream.read(CHUNK if limit is None else min(CHUNK, limit - size))
        if not chunk:
            break
        digest.update(chunk)
        size += len(chunk)
        if sink is not None:
            sink.write(chunk)
    return str(digest.hexdigest()), size
