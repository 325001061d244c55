"""The one way archivist opens a file on local disk: a regular file only, never blocking.

Every local file archivist reads goes through :func:`open_regular` (a stream) or
:func:`read_regular` (the whole file, up to a bound): manifests, save journals, alias,
release and project files (through the local backend), version files, cache entries, the
manifest index cache, remembered probes and the TOML file of a release.

A path is opened non-blocking and without becoming a controlling terminal, and its type is
checked twice: with ``stat`` before the open (so a device is not even opened) and with
``fstat`` on the opened descriptor (so a FIFO or a symlink to ``/dev/zero`` swapped in
between is refused too). A FIFO therefore never makes a read wait for a writer, and a
device never streams without end. Anything but a regular file (a symlink's target counts)
raises :class:`~archivist.errors.IrregularFileError`, naming the path and what is there.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from typing import BinaryIO

from archivist.errors import IrregularFileError, StorageError

__all__ = ["DOCUMENT_LIMIT", "open_regular", "read_regular"]

#: The most bytes :func:`read_regular` reads by default: a manifest, journal, alias, release
#: or project file larger than this (2 GiB) is refused rather than read into memory.
DOCUMENT_LIMIT = 2 << 30

#: How a path is opened: read-only, non-blocking, never a controlling terminal, not inherited.
_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)

#: What each kind of file that is not a regular file is called in messages.
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a local file for reading, only if it is a regular file, without blocking.

    Parameters
    ----------
    path : str or os.PathLike
        The file (a symlink is followed; its target must be a regular file).

    Returns
    -------
    BinaryIO
        A buffered, seekable, blocking binary stream at the start of the file, named by
        ``path`` as :func:`open` names it; the caller closes it.

    Raises
    ------
    FileNotFoundError
        Nothing is at ``path``.
    archivist.errors.IrregularFileError
        ``path`` is a FIFO, device, socket or folder (checked before and after opening).
    """
    _require_regular(path, os.stat(path).st_mode)
    try:
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        if exc.errno in (errno.ENXIO, errno.ENODEV):  # a socket or device swapped in since
            _require_regular(path, os.stat(path).st_mode)
        raise
    try:
        _require_regular(path, os.fstat(fd).st_mode)
        if _FLAGS & getattr(os, "O_NONBLOCK", 0):  # POSIX: restore ordinary reads
            os.set_blocking(fd, True)
        raw = io.FileIO(fd, "rb")
        raw.name = os.fspath(path)  # named as open(path) names it, not by the descriptor
        return io.BufferedReader(raw)
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike[str], limit: int = DOCUMENT_LIMIT) -> bytes:
    """Read a whole local regular file of at most ``limit`` bytes.

    A larger file is refused, never truncated: its size (from ``fstat``) is checked first,
    and a file that grows while it is read is read no further than ``limit`` plus one byte.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    limit : int, optional
        The most bytes the file may hold (default :data:`DOCUMENT_LIMIT`).

    Returns
    -------
    bytes
        The content.

    Raises
    ------
    FileNotFoundError
        Nothing is at ``path``.
    archivist.errors.IrregularFileError
        ``path`` is a FIFO, device, socket or folder.
    archivist.errors.StorageError
        The file holds more than ``limit`` bytes.
    """
    with open_regular(path) as stream:
        expected = os.fstat(stream.fileno()).st_size
        if expected > limit:
            raise _too_large(path, limit)
        data = stream.read(expected + 1)  # one byte more tells that it grew
        if len(data) <= expected:
            return data
        chunks, size = [data], len(data)
        while size <= limit:
            chunk = stream.read(min(1 << 20, limit + 1 - size))
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
        raise _too_large(path, limit)


def _require_regular(path: str | os.PathLike[str], mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "a special file")
        raise IrregularFileError(
            f"{os.fspath(path)} is {kind}, not a regular file; archivist reads only regular "
            "files. Put the file back there, or remove what is in its place"
        )


def _too_large(path: str | os.PathLike[str], limit: int) -> StorageError:
    return StorageError(
        f"{os.fspath(path)} is larger than {limit} bytes, the most archivist reads of it; "
        "it was not read (is it the right file?)"
    )
