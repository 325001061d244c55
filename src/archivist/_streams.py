"""Stream wrappers: hashing while writing, and text views over byte streams."""

from __future__ import annotations

import hashlib
import io
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

from archivist.errors import StorageError

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = ["HashingWriter", "digest_stream", "stream_for"]

CHUNK = 1 << 20

#: Past this many bytes, a HashingWriter hashes on a worker thread, so the digest of a large
#: file overlaps the serialization producing it instead of adding to it.
BACKGROUND_HASH_AFTER = 8 << 20
#: Bytes handed to the worker at a time, and how many such batches may wait (bounds memory).
_HASH_BATCH = 4 << 20
_HASH_BACKLOG = 8


class _HashWorker:
    """Feed batches of bytes, in order, to a hash object on a daemon thread."""

    def __init__(self, digest: Any) -> None:
        self._queue: queue.Queue[list[bytes] | None] = queue.Queue(maxsize=_HASH_BACKLOG)
        self._thread = threading.Thread(
            target=self._run, args=(digest, self._queue), name="archivist-hash", daemon=True
        )
        self._thread.start()

    @staticmethod
    def _run(digest: Any, batches: queue.Queue[list[bytes] | None]) -> None:
        while (batch := batches.get()) is not None:
            for piece in batch:
                digest.update(piece)  # hashlib releases the GIL for large buffers

    def put(self, batch: list[bytes]) -> None:
        self._queue.put(batch)

    def finish(self) -> None:
        self._queue.put(None)
        self._thread.join()


class HashingWriter(io.BufferedIOBase):
    """Pass writes through to ``raw`` while computing their SHA-256 and size.

    The first :data:`BACKGROUND_HASH_AFTER` bytes are hashed inline; past that, a worker
    thread hashes batches of what was written (``bytes`` as given, other buffers copied), so
    a large file's digest overlaps its serialization. :attr:`sha256` waits for the worker.

    Parameters
    ----------
    raw : IO[bytes]
        The destination; it is not closed when this wrapper is.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw
        self._hash = hashlib.sha256()
        self._batch: list[bytes] = []
        self._batch_size = 0
        self._worker: _HashWorker | None = None
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Buffer) -> int:
        view = memoryview(data).cast("B")
        try:
            self._raw.write(view)
        except Exception as exc:
            raise StorageError(f"writing to storage failed: {type(exc).__name__}: {exc}") from exc
        inline = self._worker is None and self.size + len(view) <= BACKGROUND_HASH_AFTER
        if inline or (len(view) >= _HASH_BATCH and not isinstance(data, bytes)):
            # Small files, and large buffers the caller may reuse (not worth a copy), are
            # hashed here, after whatever the worker still holds.
            self._finish_hashing()
            self._hash.update(view)
        else:
            # bytes cannot change; any other buffer may be reused once we return: copy it.
            self._batch.append(data if isinstance(data, bytes) else view.tobytes())
            self._batch_size += len(view)
            if self._batch_size >= _HASH_BATCH:
                self._hand_over_batch()
        self.size += len(view)
        return len(view)

    def _hand_over_batch(self) -> None:
        if self._worker is None:
            self._worker = _HashWorker(self._hash)
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
        """The hex digest of everything written so far."""
        self._finish_hashing()
        return self._hash.hexdigest()


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
    stream: IO[bytes], limit: int | None = None, sink: IO[bytes] | None = None
) -> tuple[str, int]:
    """Read ``stream`` in chunks and return the SHA-256 and size of what was read.

    Parameters
    ----------
    stream : IO[bytes]
        A readable byte stream.
    limit : int, optional
        Read at most this many bytes (default: to the end).
    sink : IO[bytes], optional
        Also write every chunk read here (a spool the caller hands on).

    Returns
    -------
    tuple[str, int]
        The hex digest and the number of bytes read.
    """
    digest, size = hashlib.sha256(), 0
    while limit is None or size < limit:
        chunk = stream.read(CHUNK if limit is None else min(CHUNK, limit - size))
        if not chunk:
            break
        digest.update(chunk)
        size += len(chunk)
        if sink is not None:
            sink.write(chunk)
    return digest.hexdigest(), size
