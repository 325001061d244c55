"""The one verified reader: a handler gets exactly the bytes whose digest matched.

Storage and the local cache read the same way. A stored file is opened once, through
:meth:`~archivist.Backend.open_regular` (on local disk, :func:`archivist._io.local.open_regular`:
a regular file only, never a FIFO, device or folder); a cache entry is opened by the cache
with that same local opener. :func:`read_verified` then reads the opened stream at most to the
recorded size plus one byte while it is hashed (by the digest the record carries, BLAKE3
when it has one: :func:`archivist._formats.hashes.preferred`), keeps what it read (in memory up to
:data:`BUFFER_LIMIT`, hashed on a worker thread while the next slice is read, else in an
anonymous temporary file) and hands that copy on only if the digest and size match. The
opened file is never rewound, and nothing is opened by path again after the check, so a file
rewritten or swapped in the meantime is never deserialized, and a file that is longer than
recorded is never read to its end.
"""

from __future__ import annotations

import io
import os
import tempfile
from contextvars import ContextVar
from typing import IO, TYPE_CHECKING, cast

from archivist._formats.hashes import BlockList, Digest, as_digest, block_digest, new_hash
from archivist._io.hashed_buffer import read_hashed, reserve
from archivist._io.streams import digest_stream
from archivist.errors import IntegrityError

if TYPE_CHECKING:
    from archivist._backends.base import Backend

__all__ = [
    "BUFFER_LIMIT",
    "IN_MEMORY_LIMIT",
    "SPOOL_LARGE_READS",
    "check_stored",
    "open_stored",
    "read_verified",
]

#: Verified files up to this recorded size are read with one bounded request
#: (:meth:`~archivist.Backend.read_at_most`) and hashed in one call.
IN_MEMORY_LIMIT = 64 << 20


def _buffer_limit() -> int:
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - no sysconf (Windows)
        return 1 << 30
    return max(physical // 4, IN_MEMORY_LIMIT)


#: Larger verified files up to this recorded size (a quarter of the physical memory) are
#: read into memory in one pass, hashed while they are read; larger ones still are spooled
#: to an anonymous temporary file while they are hashed, so that memory stays bounded.
BUFFER_LIMIT = _buffer_limit()

#: Set (to ``True``) while a handler that prefers a spool to memory opens a file (see
#: :attr:`archivist.Handler.reads_in_memory`): large files are then spooled, not buffered.
SPOOL_LARGE_READS: ContextVar[bool] = ContextVar("archivist_spool_large_reads", default=False)


def open_stored(
    backend: Backend,
    path: str,
    where: str,
    digest: Digest | str | None,
    size: int | None,
    record: str,
) -> IO[bytes]:
    """Open a stored file and return the verified bytes, for a handler to read.

    Parameters
    ----------
    backend : Backend
        Where the file is stored.
    path : str
        Its path in the backend's form.
    where : str
        Its location for messages.
    digest : Digest or str or None
        The recorded digest (a string is a SHA-256); ``None`` (a record lazyscribe wrote)
        returns the opened regular file unverified, for the trust policy to judge.
    size : int or None
        The recorded size; at most this plus one byte is read.
    record : str
        What holds the record, for messages (``"its manifest record"``).

    Returns
    -------
    IO[bytes]
        A readable, seekable binary stream at its start; the caller closes it.

    Raises
    ------
    FileNotFoundError
        The file is missing.
    archivist.errors.IntegrityError
        It is not a regular file, or does not match the digest or size.
    """
    expected = as_digest(digest)
    if expected is None:
        return backend.open_regular(path)
    if size is not None and 0 <= size <= IN_MEMORY_LIMIT:
        data = backend.read_at_most(path, size + 1)  # one request on an object store
        return _verified_bytes(data, where, record, expected, size)
    with backend.open_regular(path) as stream:
        return read_verified(stream, where, expected, size, record)


def read_verified(
    stream: IO[bytes], where: str, digest: Digest | str, size: int | None, record: str
) -> IO[bytes]:
    """Read an opened file, hashing it, and return a copy of the bytes only if they matched.

    The one verified read, for stored files and cache entries alike: at most ``size`` plus
    one byte is read from ``stream`` (never rewound, never reopened) and kept; the copy is
    returned only if its digest (BLAKE3 or SHA-256, as recorded) and size match.

    Parameters
    ----------
    stream : IO[bytes]
        The opened file, read from its current position; left open (the caller closes it).
    where : str
        Its location for messages.
    digest : Digest or str
        The digest the bytes must have (a string is a SHA-256).
    size : int or None
        The size they must have; ``None`` reads to the end (spooled to a temporary file).
    record : str
        What holds the digest, for messages (``"its manifest record"``).

    Returns
    -------
    IO[bytes]
        A readable, seekable binary stream over the verified copy, at its start; the
        caller closes it.

    Raises
    ------
    archivist.errors.IntegrityError
        The bytes do not match the digest or size; nothing of them is returned.
    """
    expected = digest if isinstance(digest, Digest) else Digest("sha256", digest)
    if size is not None and 0 <= size <= IN_MEMORY_LIMIT:
        return _verified_bytes(_read_at_most(stream, size + 1), where, record, expected, size)
    memory = (
        reserve(size + 1)
        if size is not None and 0 <= size <= BUFFER_LIMIT and not SPOOL_LARGE_READS.get()
        else None
    )
    if memory is not None:  # one pass, hashed while read (the usual case)
        kept, actual = read_hashed(stream, memory, expected.algorithm)
        try:
            _check(where, record, expected, size, actual, kept.size)
        except BaseException:
            kept.close()
            raise
        return cast("IO[bytes]", kept)
    spool = _spool(size)
    try:
        actual, actual_size = digest_stream(stream, _limit(size), spool, expected.algorithm)
        _check(where, record, expected, size, actual, actual_size)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def check_stored(
    backend: Backend,
    path: str,
    where: str,
    digest: Digest | str | None,
    size: int | None,
    record: str,
    blocks: BlockList | None = None,
) -> None:
    """Check a stored file against its digest and size without keeping its bytes.

    Parameters are those of :func:`open_stored`; with ``digest`` ``None`` only presence and
    regularity are checked. With ``blocks`` (the file's block list, already checked
    against its record), each block is checked against it in the same pass, after the
    whole file matched: a block list that does not describe the file the record names is
    an :class:`~archivist.errors.IntegrityError` naming the first block that differs.

    Raises
    ------
    FileNotFoundError
        The file is missing.
    archivist.errors.IntegrityError
        It is not a regular file, or does not match the digest or size.
    """
    expected = as_digest(digest)
    with backend.open_regular(path) as stream:
        if expected is None:
            return
        if blocks is None:
            found = digest_stream(stream, _limit(size), None, expected.algorithm)
            _check(where, record, expected, size, *found)
            return
        whole, actual_size, index = new_hash(expected.algorithm), 0, 0
        wrong: int | None = None
        limit = _limit(size)
        while limit is None or actual_size < limit:
            want = blocks.block_size if limit is None else limit - actual_size
            chunk = _read_at_most(stream, min(blocks.block_size, want))
            if not chunk:
                break
            whole.update(chunk)
            actual_size += len(chunk)
            listed = blocks.blocks[index] if index < len(blocks.blocks) else None
            if wrong is None and listed != block_digest(chunk):
                wrong = index
            index += 1
        _check(where, record, expected, size, str(whole.hexdigest()), actual_size)
        if wrong is not None:
            start, end = blocks.span(wrong)
            raise IntegrityError(
                f"block {wrong} (bytes {start} to {end}) of {where} does not match its block "
                f"list: the block list does not describe the file {record} names"
            )


def _verified_bytes(data: bytes, where: str, record: str, expected: Digest, size: int) -> IO[bytes]:
    _check(where, record, expected, size, expected.of(data), len(data))
    return io.BytesIO(data)


def _read_at_most(stream: IO[bytes], limit: int) -> bytes:
    """Read up to ``limit`` bytes, however many reads a stream takes to give them."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = stream.read(limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _limit(size: int | None) -> int | None:
    # One byte past the recorded size tells "longer than recorded" without reading the rest.
    return None if size is None else max(size, 0) + 1


def _spool(size: int | None) -> IO[bytes]:
    if size is not None and size <= IN_MEMORY_LIMIT:
        return io.BytesIO()
    # Unnamed where the platform allows (O_TMPFILE), else unlinked at once; mode 0600.
    spool = tempfile.TemporaryFile(prefix="archivist-verified-")  # noqa: SIM115 - returned
    raw = getattr(spool, "raw", None)
    if isinstance(raw, io.FileIO) and not isinstance(raw.name, str):
        # named by its descriptor number, which handlers (onnx.load) would take for a path:
        # an anonymous file has no name, as a verified copy in memory has none
        del raw.name
    return spool


def _check(
    where: str, record: str, expected: Digest, size: int | None, actual: str, actual_size: int
) -> None:
    if actual == expected.hexdigest and (size is None or actual_size == size):
        return
    if size is not None and actual_size > size:
        found = f"more than {size} bytes (reading stopped there)"
    else:
        found = f"{expected.algorithm} {actual} and {actual_size} bytes"
    raise IntegrityError(
        f"{where} does not match {record}: expected {expected} and {size} bytes, found "
        f"{found}. The stored file was modified or damaged; it was not deserialized."
    )
