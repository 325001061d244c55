"""Stream wrappers: hashing while writing, and text views over byte streams."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

from archivist.errors import StorageError

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = ["HashingWriter", "digest_stream", "stream_for"]

CHUNK = 1 << 20


class HashingWriter(io.BufferedIOBase):
    """Pass writes through to ``raw`` while computing their SHA-256 and size.

    Parameters
    ----------
    raw : IO[bytes]
        The destination; it is not closed when this wrapper is.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw
        self._hash = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Buffer) -> int:
        view = memoryview(data).cast("B")
        try:
            self._raw.write(view)
        except Exception as exc:
            raise StorageError(f"writing to storage failed: {type(exc).__name__}: {exc}") from exc
        self._hash.update(view)
        self.size += len(view)
        return len(view)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self._raw.flush()

    def close(self) -> None:
        # Leave the destination open: the backend commits it when its own block ends.
        super().close()

    @property
    def sha256(self) -> str:
        """The hex digest of everything written so far."""
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


def digest_stream(stream: IO[bytes]) -> tuple[str, int]:
    """Read ``stream`` to its end in chunks and return its SHA-256 and size.

    Parameters
    ----------
    stream : IO[bytes]
        A readable byte stream.

    Returns
    -------
    tuple[str, int]
        The hex digest and the number of bytes read.
    """
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size
