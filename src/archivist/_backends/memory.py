"""The built-in ``memory`` backend: fsspec's in-process memory filesystem (``memory://``)."""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any, ClassVar

from fsspec.implementations.memory import MemoryFileSystem

from archivist._backends.base import Backend, content_token
from archivist._io.progress import ProgressCallback, metered
from archivist.errors import StaleTokenError

if TYPE_CHECKING:
    from fsspec.spec import AbstractFileSystem

__all__ = ["MemoryBackend"]

# MemoryFileSystem keeps one store per process, so one lock per process guards it.
_LOCK = threading.Lock()


class MemoryBackend(Backend):
    """Files in this process's memory: for tests, notebooks and throw-away repositories.

    Every ``MemoryBackend`` in a process sees the same files, as fsspec's memory filesystem
    does. Compare-and-swap and write-if-absent hold a process-wide lock.
    """

    protocols: ClassVar[tuple[str, ...]] = ("memory",)
    sha256_tokens = True

    def make_filesystem(self, **storage_options: Any) -> AbstractFileSystem:
        """Return an fsspec :class:`~fsspec.implementations.memory.MemoryFileSystem`."""
        return MemoryFileSystem(**storage_options)

    def read_with_token(self, path: str) -> tuple[bytes, str]:
        """Read ``path`` and return it with its content token."""
        data = self.read_bytes(path)
        return data, content_token(data)

    def replace_if_unchanged(self, path: str, data: bytes, token: str | None) -> str:
        """Replace ``path`` if its content token is still ``token``."""
        with _LOCK:
            try:
                current: str | None = content_token(self.read_bytes(path))
            except FileNotFoundError:
                current = None
            if current != token:
                raise StaleTokenError(f"memory://{path} changed since it was read")
            self.fs.pipe_file(path, data)
        return content_token(data)

    @contextlib.contextmanager
    def open_new(
        self, path: str, *, callback: ProgressCallback | None = None
    ) -> Iterator[IO[bytes]]:
        """Buffer the new file, then store it if ``path`` is still free.

        The buffer is the file's memory: ``callback`` is told each write to it.
        """
        if self.exists(path):
            raise FileExistsError(path)
        buffer = io.BytesIO()
        yield metered(buffer, callback)
        with _LOCK:
            if self.exists(path):
                raise FileExistsError(path)
            self.fs.pipe_file(path, buffer.getvalue())
