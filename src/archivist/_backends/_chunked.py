"""Buffered multi-part uploads: the one place object stores cut a stream into parts."""

from __future__ import annotations

import io
from abc import ABC, abstractmethod
from typing import Any

__all__ = ["ChunkedUpload"]


class ChunkedUpload(io.RawIOBase, ABC):
    """A writable stream that uploads to an object store in parts, never holding it whole.

    Object stores take large objects as multipart (S3), resumable (GCS) or block (Azure)
    uploads. This class does the buffering once: bytes collect until more than
    :attr:`part_size` are waiting, then a part is sent. A stream that never fills a part
    is sent in one request by :meth:`put_whole`; a longer one starts an upload with
    :meth:`begin`, sends parts with :meth:`put_part` and ends with :meth:`finish`.
    A backend's ``open_new`` yields one and calls :meth:`commit` on a clean exit and
    :meth:`abort` on an exception.

    Progress is reported as the store acknowledges the bytes: each part once
    :meth:`put_part` returned, the last part (or the whole object) once :meth:`finish` (or
    :meth:`put_whole`) did; never a byte that is only buffered.

    Parameters
    ----------
    part_size : int
        Bytes per part; at most ``part_size`` plus one write's size is buffered.

    Attributes
    ----------
    callback : fsspec.callbacks.Callback or None
        Told (``relative_update``) the bytes of each request the store acknowledged;
        ``open_new`` sets it from its ``callback``.
    """

    def __init__(self, part_size: int) -> None:
        super().__init__()
        if part_size <= 0:
            raise ValueError(f"part_size must be positive, got {part_size}")
        self.part_size = part_size
        self._buffer = bytearray()
        self._started = False
        self._done = False
        #: Bytes taken so far.
        self.size = 0
        self.callback: Any = None

    def writable(self) -> bool:
        """Return ``True``: this stream only writes."""
        return True

    def write(self, data: Any) -> int:
        """Buffer ``data`` and send every full part.

        Parameters
        ----------
        data : bytes-like
            The bytes to append.

        Returns
        -------
        int
            The number of bytes taken (all of them).
        """
        if self._done:
            raise ValueError("the upload is finished; no more writes")
        view = memoryview(data).cast("B")
        self._buffer += view
        self.size += len(view)
        # Keep at least one byte back, so the last part is never empty.
        while len(self._buffer) > self.part_size:
            with memoryview(self._buffer) as whole:
                part = whole[: self.part_size].tobytes()
            del self._buffer[: self.part_size]
            if not self._started:
                self.begin()
                self._started = True
            self.put_part(part)
            self._acknowledged(len(part))
        return len(view)

    def tell(self) -> int:
        """Return how many bytes were written."""
        return self.size

    def commit(self) -> None:
        """Land the object: one request for a small object, else the last part and finish.

        Raises
        ------
        FileExistsError
            The store refused the write because an object exists at the path (the
            upload was aborted).
        """
        if self._done:
            return
        self._done = True
        data, self._buffer = bytes(self._buffer), bytearray()
        if not self._started:
            self.put_whole(data)
            self._acknowledged(len(data))
            return
        try:
            self.finish(data)
        except BaseException:
            self.abort_upload()
            raise
        self._acknowledged(len(data))

    def _acknowledged(self, count: int) -> None:
        if self.callback is not None:
            self.callback.relative_update(count)

    def abort(self) -> None:
        """Give up: discard the parts sent so far; nothing lands."""
        self._buffer = bytearray()
        if self._done:
            return
        self._done = True
        if self._started:
            self.abort_upload()

    @abstractmethod
    def put_whole(self, data: bytes) -> None:
        """Store the whole object in one conditional request.

        Parameters
        ----------
        data : bytes
            The complete content (smaller than :attr:`part_size` plus one write).
        """

    @abstractmethod
    def begin(self) -> None:
        """Start a multipart, resumable or block upload."""

    @abstractmethod
    def put_part(self, data: bytes) -> None:
        """Send one full part of the upload.

        Parameters
        ----------
        data : bytes
            Exactly :attr:`part_size` bytes.
        """

    @abstractmethod
    def finish(self, data: bytes) -> None:
        """Send the last part and complete the upload, conditionally on absence.

        Parameters
        ----------
        data : bytes
            The last part: at least one byte, at most :attr:`part_size`.
        """

    @abstractmethod
    def abort_upload(self) -> None:
        """Discard an upload that :meth:`begin` started (best effort)."""
