"""The :class:`Handler` interface: how a value becomes a stored file and back."""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import IO, Any, ClassVar

__all__ = ["Handler"]


class Handler(ABC):
    """Serialize values of one format to a stream, and read them back.

    A handler is a class with three class variables and two methods. archivist
    instantiates it with no arguments whenever it needs one, so keep ``__init__`` free of
    required parameters.

    Attributes
    ----------
    alias : str
        The name users pass as ``handler=`` (for example ``"json"``). Unique among the
        installed handlers.
    suffix : str
        The file extension, without the dot, of the files this handler writes.
    binary : bool
        ``True`` when :meth:`write` and :meth:`read` take byte streams, ``False`` when they
        take text streams (UTF-8).
    executes_code : bool
        ``True`` when :meth:`read` can run code the file names (pickle, joblib). Such a
        handler never reads a file lacking a recorded digest under ``trust="verified"``,
        and reads one with an :class:`~archivist.errors.ArchivistWarning` otherwise.
        Default ``False``.
    reads_in_memory : bool
        Whether a large verified file may be read into memory (in one pass, hashed while
        read) before :meth:`read` decodes it: the fastest read, with a peak memory of the
        file plus the value. ``False`` spools the verified bytes to a temporary file
        instead, for a handler whose decoding allocates the whole value anyway (a columnar
        table): slower, with a peak near the value alone. Default ``True``.
    output_only : bool
        ``True`` when what :meth:`read` returns is not the value that was written (a
        rendered report, a plot): logging, saving and loading such a version warn with a
        :class:`UserWarning`, as lazyscribe's ``output_only`` handlers do. Default ``False``.

        .. versionadded:: 0.2.0

    Examples
    --------
    >>> import csv
    >>> from archivist import Handler
    >>> class CSVRows(Handler):
    ...     alias, suffix, binary = "csv-rows", "csv", False
    ...     def write(self, value, stream, **kwargs):
    ...         csv.writer(stream, **kwargs).writerows(value)
    ...     def read(self, stream, **kwargs):
    ...         return list(csv.reader(stream, **kwargs))
    """

    alias: ClassVar[str]
    suffix: ClassVar[str]
    binary: ClassVar[bool]
    executes_code: ClassVar[bool] = False
    reads_in_memory: ClassVar[bool] = True
    output_only: ClassVar[bool] = False

    @abstractmethod
    def write(self, value: Any, stream: IO[Any], **kwargs: Any) -> None:
        """Write ``value`` to ``stream``.

        Parameters
        ----------
        value : Any
            The object to store.
        stream : IO
            A writable stream: bytes when :attr:`binary` is true, text otherwise. Do not
            close it.
        **kwargs
            The writer options the user passed to ``log_artifact``.
        """

    @abstractmethod
    def read(self, stream: IO[Any], **kwargs: Any) -> Any:
        """Read a value back from ``stream``.

        Parameters
        ----------
        stream : IO
            A readable stream: bytes when :attr:`binary` is true, text otherwise.
        **kwargs
            The reader options the user passed to ``load_artifact``.

        Returns
        -------
        Any
            The value that was written.
        """

    def environment(self) -> dict[str, Any]:
        """Describe the running environment that reading depends on.

        Each key is recorded with every version this handler writes, and compared on load:
        a difference is reported by :meth:`mismatches`.

        Returns
        -------
        dict[str, Any]
            JSON-serializable facts, for example ``{"python_version": "3.11"}``.
        """
        return {}

    def metadata(self, value: Any) -> dict[str, Any]:
        """Describe ``value`` for the manifest record.

        Parameters
        ----------
        value : Any
            The value about to be written.

        Returns
        -------
        dict[str, Any]
            JSON-serializable fields stored in the version's record. The default is
            :meth:`environment`.
        """
        return self.environment()

    def mismatches(self, recorded: Mapping[str, Any]) -> list[str]:
        """List how the running environment differs from the one a version was written in.

        Parameters
        ----------
        recorded : Mapping[str, Any]
            The version's record, as stored in the manifest.

        Returns
        -------
        list[str]
            One readable line per difference; empty when reading is safe.
        """
        return [
            f"{key}: written with {recorded[key]!r}, running {value!r}"
            for key, value in self.environment().items()
            if key in recorded and recorded[key] != value
        ]


def python_minor_version() -> str:
    """Return the running Python's ``major.minor`` version, as lazyscribe records it."""
    return ".".join(str(part) for part in sys.version_info[:2])
