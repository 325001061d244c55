"""One pass over a large stored file: read it into memory while a worker thread hashes it.

:func:`read_hashed` reads a stream into an anonymous memory map, a slice at a time, and
hands each slice, as soon as it is read, to a hash worker
(:class:`~archivist._io.streams.HashWorker`):
the digest of a large file costs little more than reading it, instead of a pass of its own.
The caller checks the digest and size, and only then gives the bytes to a handler through a
:class:`BufferStream` (a read-only, seekable stream over them that copies nothing until it is
read): the stored file is never read a second time, and nothing unverified is deserialized.
"""

from __future__ import annotations

import contextlib
import io
import mmap
import threading
from typing import IO, TYPE_CHECKING

from archivist._formats.hashes import Algorithm, new_hash
from archivist._io.streams import HashWorker

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = ["READ_SLICE", "BufferStream", "read_hashed", "reserve", "seek_target"]

#: Mapping flags for reserved memory: private where the platform takes flags (POSIX).
_PRIVATE: dict[str, int] = {"flags": mmap.MAP_PRIVATE} if hasattr(mmap, "MAP_PRIVATE") else {}
#: Memory maps at least this large are unmapped on a worker thread when their stream closes:
#: returning a gigabyte of pages to the system takes a noticeable fraction of a second.
_UNMAP_AFTER = 64 << 20

#: Bytes read (and then hashed) at a time: large enough that a read and a hash update each
#: release the GIL for long, small enough that hashing starts early and ends soon after.
READ_SLICE = 8 << 20


def reserve(size: int) -> mmap.mmap | None:
    """Reserve ``size`` bytes of anonymous memory, or return ``None`` when there is no room.

    The pages are not touched (the kernel provides them as they are written), so reserving
    for a recorded size that the file does not reach costs nothing.
    """
    try:
        # Private, not mmap's default shared mapping: faulting in and freeing shared
        # (shmem) pages costs about half as much again.
        return mmap.mmap(-1, max(size, 1), **_PRIVATE)
    except (OSError, MemoryError, OverflowError):  # an address-space limit, a 32-bit build
        return None


def read_hashed(
    stream: IO[bytes], memory: mmap.mmap, algorithm: Algorithm = "sha256"
) -> tuple[BufferStream, str]:
    """Read ``stream`` into ``memory`` (at most its length), hashing while reading.

    Parameters
    ----------
    stream : IO[bytes]
        A readable byte stream (read from its current position; not closed).
    memory : mmap.mmap
        Where the bytes go (see :func:`reserve`); owned by the returned stream, or closed
        here if reading fails.
    algorithm : {"sha256", "blake3"}, optional
        The digest to compute (default SHA-256).

    Returns
    -------
    tuple[BufferStream, str]
        A stream over the bytes read (its :attr:`BufferStream.size` is how many), and their
        hex digest. The caller closes the stream, which frees the memory.
    """
    limit = len(memory)
    view = memoryview(memory)
    digest = new_hash(algorithm)
    worker = HashWorker(digest)
    size = 0
    try:
        readinto = getattr(stream, "readinto", None)
        while size < limit:
            target = view[size : min(limit, size + READ_SLICE)]
            if readinto is not None:
                count = readinto(target) or 0
            else:
                chunk = stream.read(len(target))
                count = len(chunk)
                target[:count] = chunk
            if not count:
                break
            worker.put([target[:count]])  # hashed while the next slice is read
            size += count
    except BaseException:
        worker.finish()
        target = view  # drop the last slice, so that nothing but ``view`` holds the map
        view.release()
        with contextlib.suppress(BufferError):  # a reader kept a view: garbage-collected later
            memory.close()
        raise
    worker.finish()  # every slice hashed: no view of the memory is held any more
    view.release()
    return BufferStream(memory, size), str(digest.hexdigest())


def seek_target(position: int, size: int, offset: int, whence: int) -> int:
    """Return where a seek of a read-only file of ``size`` bytes at ``position`` lands.

    Raises
    ------
    ValueError
        The target is before the start.
    """
    base = {io.SEEK_SET: 0, io.SEEK_CUR: position, io.SEEK_END: size}[whence]
    if base + offset < 0:
        raise ValueError(f"negative seek position {base + offset}")
    return base + offset


class BufferStream(io.BufferedIOBase):
    """A read-only, seekable byte stream over the first ``size`` bytes of a memory map.

    Reads copy out of the map (``readinto`` straight into the caller's buffer, as
    :mod:`pickle` does for large arrays); closing the stream unmaps the memory (a large map
    on a worker thread, so that the caller does not wait for the pages to be returned).

    Parameters
    ----------
    memory : mmap.mmap
        The bytes; owned (and closed) by this stream.
    size : int
        How many of them are content.
    """

    def __init__(self, memory: mmap.mmap, size: int) -> None:
        super().__init__()
        self._memory = memory
        self._position = 0
        #: The number of content bytes.
        self.size = size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def _span(self, size: int | None) -> tuple[int, int]:
        self._checkClosed()
        start = min(self._position, self.size)
        end = self.size if size is None or size < 0 else min(self.size, start + size)
        return start, end

    def read(self, size: int | None = -1) -> bytes:
        start, end = self._span(size)
        if end > start:
            self._position = end
        return self._memory[start:end]

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    def readinto(self, buffer: Buffer) -> int:
        with memoryview(buffer) as target, target.cast("B") as flat:
            start, end = self._span(len(flat))
            with memoryview(self._memory) as source:  # copied once, straight into buffer
                flat[: end - start] = source[start:end]
        if end > start:
            self._position = end
        return end - start

    def readinto1(self, buffer: Buffer) -> int:
        return self.readinto(buffer)

    def readline(self, size: int | None = -1) -> bytes:
        start, end = self._span(size)
        newline = self._memory.find(b"\n", start, end)
        return self.read((newline + 1 if newline >= 0 else end) - start)

    def peek(self, size: int = 0) -> bytes:
        start, end = self._span(max(size, 1))
        return self._memory[start:end]

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._checkClosed()
        self._position = seek_target(self._position, self.size, offset, whence)
        return self._position

    def tell(self) -> int:
        self._checkClosed()
        return self._position

    def close(self) -> None:
        if not self.closed:
            if len(self._memory) >= _UNMAP_AFTER:  # the caller need not wait for it
                threading.Thread(
                    target=self._memory.close, name="archivist-unmap", daemon=True
                ).start()
            else:
                self._memory.close()
        super().close()
