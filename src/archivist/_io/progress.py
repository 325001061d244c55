"""Progress reports for transfers: fsspec-compatible callbacks and metered streams.

:meth:`Repository.save <archivist.Repository.save>` and
:meth:`Repository.load_artifact <archivist.Repository.load_artifact>` take ``progress``:
``True`` for a bar on standard error (drawn by rich, only on a terminal and once a transfer
passes :data:`PROGRESS_THRESHOLD` bytes), or any object with fsspec's ``Callback`` methods
``set_size`` and ``relative_update`` (for example ``fsspec.callbacks.TqdmCallback()``), which
is told the total and then the bytes as they pass. The CLI uses the same callbacks for
``get``, ``cat`` and ``put``.

A save tells the callback its total before the first byte is stored, and then the bytes as
the storage takes them (each part of a multi-part upload once the store acknowledged it):
:class:`TransferReport` is that one report, shared by the files a save writes concurrently.
"""

from __future__ import annotations

import functools
import inspect
import io
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from fsspec.callbacks import Callback

from archivist.errors import ArchivistError

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID
    from typing_extensions import Buffer

__all__ = [
    "PROGRESS_THRESHOLD",
    "FileProgress",
    "ProgressCallback",
    "RichCallback",
    "TransferReport",
    "make_callback",
    "metered",
    "takes_callback",
]

#: A bar appears once a transfer passes this many bytes (or is known to be this large).
PROGRESS_THRESHOLD = 8 << 20


@runtime_checkable
class ProgressCallback(Protocol):
    """What archivist calls on a progress object: the two methods of fsspec's ``Callback``."""

    def set_size(self, size: int) -> None:
        """Announce the transfer's total bytes, when known."""

    def relative_update(self, inc: int = 1) -> None:
        """Report ``inc`` more bytes transferred."""


class RichCallback(Callback):  # type: ignore[misc] # fsspec ships no type information
    """An fsspec ``Callback`` that draws a rich progress bar on standard error.

    The bar appears only once the transfer passes ``threshold`` bytes (or its announced size
    does) and standard error is a terminal, so small transfers and logs stay quiet. Its rate
    is the transfer's own: the bytes so far over the time since the transfer began (its
    size announced or its first bytes reported), not over whatever preceded it.

    Parameters
    ----------
    description : str, optional
        The text beside the bar.
    threshold : int, optional
        Bytes after which the bar appears (default :data:`PROGRESS_THRESHOLD`).
    force : bool, optional
        Draw even when standard error is not a terminal (tests, notebooks).
    **kwargs
        Passed to ``fsspec.callbacks.Callback``.
    """

    def __init__(
        self,
        description: str = "",
        threshold: int = PROGRESS_THRESHOLD,
        force: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.description = description
        self.threshold = threshold
        self.force = force
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._began: float | None = None

    @property
    def can_draw(self) -> bool:
        """Whether a bar may appear at all: standard error is a terminal, or ``force``."""
        return self.force or sys.stderr.isatty()

    @property
    def rate(self) -> float | None:
        """Bytes per second since the transfer began; ``None`` before any time has passed."""
        if self._began is None:
            return None
        elapsed = time.monotonic() - self._began
        return self.value / elapsed if elapsed > 0 else None

    def call(self, *args: Any, **kwargs: Any) -> None:
        """Redraw the bar after ``set_size``, ``relative_update`` or ``absolute_update``."""
        if self._began is None:
            self._began = time.monotonic()
        if self._progress is None:
            if max(self.value, self.size or 0) < self.threshold:
                return
            if not self.can_draw:
                return
            self._start()
        assert self._progress is not None
        assert self._task is not None
        self._progress.update(
            self._task, completed=self.value, total=self.size, speed=self.describe_rate()
        )

    def describe_rate(self) -> str:
        """Return the rate and, with a known size, the time left at it (``12.5 MB/s 0:00:03``)."""
        from rich.filesize import decimal

        rate = self.rate
        if not rate:
            return "?"
        text = f"{decimal(int(rate))}/s"
        if self.size is not None and self.size > self.value:
            left = int((self.size - self.value) / rate)
            text += f" {left // 3600}:{left // 60 % 60:02}:{left % 60:02}"
        return text

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[speed]}", style="progress.data.speed"),
            console=Console(file=sys.stderr, force_terminal=self.force or None),
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task(self.description, total=self.size, speed="?")

    @property
    def shown(self) -> bool:
        """Whether the bar has been drawn."""
        return self._progress is not None

    def close(self) -> None:
        """Remove the bar, if it was drawn."""
        if self._progress is not None:
            self._progress.stop()


class InvalidProgressError(ArchivistError, TypeError):
    """``progress`` is neither a bool nor a callback with ``set_size`` and ``relative_update``."""


def make_callback(progress: object, description: str) -> ProgressCallback | None:
    """Turn a ``progress`` argument into a callback, or ``None`` for no reports.

    Parameters
    ----------
    progress : bool, ProgressCallback or None
        ``None``/``False``: no reports; ``True``: a :class:`RichCallback` when standard error
        is a terminal (else no reports: no bar could be drawn); anything with ``set_size``
        and ``relative_update`` (fsspec's ``Callback``) is used as it is.
    description : str
        The text beside a bar created here.

    Returns
    -------
    ProgressCallback or None
        The callback.

    Raises
    ------
    InvalidProgressError
        ``progress`` is something else.
    """
    if progress is None or progress is False:
        return None
    if progress is True:
        bar = RichCallback(description)
        return bar if bar.can_draw else None
    if isinstance(progress, ProgressCallback):
        return progress
    raise InvalidProgressError(
        "progress must be True, False, None or an object with set_size() and "
        f"relative_update() such as an fsspec Callback, got {type(progress).__name__}"
    )


@functools.cache
def takes_callback(function: Callable[..., object]) -> bool:
    """Tell whether ``function`` takes a ``callback`` keyword (or any keyword).

    ``Backend.open_new`` and ``AbstractRepositoryStore.write_file`` took none before
    progress was reported through them; implementations opt in to it, and one written
    before is called as it was then (see :func:`archivist._backends.base.open_reporting`).
    """
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # pragma: no cover - a builtin without a signature
        return False
    return any(
        (p.name == "callback" and p.kind is not p.POSITIONAL_ONLY) or p.kind is p.VAR_KEYWORD
        for p in parameters
    )


def close_callback(callback: ProgressCallback | None) -> None:
    """Close a callback that has ``close`` (a bar archivist drew is removed)."""
    close = getattr(callback, "close", None)
    if callable(close):
        close()


class TransferReport:
    """One transfer of several files, reported to one callback: the total, then the bytes.

    Files are written on several threads at once; the callback (a bar, a user's
    ``TqdmCallback``) is called from one thread at a time. Each file reports through its own
    :meth:`file`, which never reports a byte twice.

    Parameters
    ----------
    callback : ProgressCallback
        Told the total once (:meth:`announce`), then every byte the storage took.
    """

    def __init__(self, callback: ProgressCallback) -> None:
        self.callback = callback
        self._lock = threading.Lock()

    def announce(self, total: int) -> None:
        """Tell the callback the transfer's total bytes, before the first is reported."""
        with self._lock:
            self.callback.set_size(total)

    def add(self, count: int) -> None:
        """Report ``count`` more bytes taken by the storage."""
        if count > 0:
            with self._lock:
                self.callback.relative_update(count)

    def file(self) -> FileProgress:
        """Return the report of one file of this transfer."""
        return FileProgress(self)


class FileProgress:
    """The bytes of one file, each counted once even when its write is tried again.

    A write that is refused (its generated name was taken) is tried again under a fresh
    name: call :meth:`attempt` before each try. Only the bytes beyond what an earlier try
    reached are passed on, so the transfer's count never goes back and ends at its total.
    This object is the ``callback`` a backend's ``open_new`` is given.
    """

    def __init__(self, transfer: TransferReport) -> None:
        self._transfer = transfer
        self._reported = 0
        self._sent = 0

    def attempt(self) -> FileProgress:
        """Start a (new) try at writing the file; return this report for it."""
        self._sent = 0
        return self

    def set_size(self, size: int) -> None:
        """Ignore a size: the transfer announced its total already."""

    def relative_update(self, inc: int = 1) -> None:
        """Count ``inc`` more bytes of this try; pass on those beyond the furthest try."""
        self._sent += inc
        if self._sent > self._reported:
            self._transfer.add(self._sent - self._reported)
            self._reported = self._sent


class _Metered(io.BufferedIOBase):
    """A byte stream that reports every byte read or written through it to a callback."""

    def __init__(self, raw: IO[bytes], callback: ProgressCallback) -> None:
        super().__init__()
        self._raw = raw
        self._callback = callback

    def readable(self) -> bool:
        return self._raw.readable()

    def writable(self) -> bool:
        return self._raw.writable()

    def seekable(self) -> bool:
        return self._raw.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def read(self, size: int | None = -1) -> bytes:
        data = self._raw.read(-1 if size is None else size)
        self._callback.relative_update(len(data))
        return data

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    def readinto(self, buffer: Buffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def write(self, data: Buffer) -> int:
        written = self._raw.write(data)
        self._callback.relative_update(memoryview(data).nbytes)
        return written

    def flush(self) -> None:
        self._raw.flush()

    def close(self) -> None:
        """Close this view only; the underlying stream stays open for its owner."""
        super().close()


def metered(raw: IO[bytes], callback: ProgressCallback | None) -> IO[bytes]:
    """Return ``raw``, reporting its bytes to ``callback`` when there is one.

    Parameters
    ----------
    raw : IO[bytes]
        The stream (left open when the returned view is closed).
    callback : ProgressCallback or None
        Told every byte read or written.

    Returns
    -------
    IO[bytes]
        ``raw`` itself without a callback, else a view of it that reports.
    """
    if callback is None:
        return raw
    return cast("IO[bytes]", _Metered(raw, callback))
