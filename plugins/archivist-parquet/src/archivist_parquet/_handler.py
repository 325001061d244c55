"""The ``parquet`` handler: DataFrames and Arrow tables, streamed to and from storage.

pyarrow is imported on first use, not when archivist discovers the plugin.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any, ClassVar

from archivist import Handler

if TYPE_CHECKING:
    from archivist_parquet._arrow import Source

__all__ = ["KIND_METADATA_KEY", "ParquetHandler"]

#: The Parquet key-value metadata entry naming what was stored (``pandas`` or ``arrow``).
KIND_METADATA_KEY = b"archivist.kind"


def _major(version: object) -> int | None:
    if not isinstance(version, str):
        return None
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else None


class ParquetHandler(Handler):
    """Store tables as Parquet: pandas DataFrames, pyarrow Tables, Arrow PyCapsule objects.

    A value loads back as what was stored: a DataFrame as a DataFrame (index and dtypes
    restored from pandas' metadata), anything else as a :class:`pyarrow.Table`. Reader
    options ``as_table=True`` and ``as_pandas=True`` ask for the other form.

    Writer options go to :class:`pyarrow.parquet.ParquetWriter` (``compression="zstd"``,
    ``compression_level``, ``use_dictionary``, ...), except ``row_group_size``, the most
    rows per row group. Other reader options go to :class:`pyarrow.parquet.ParquetFile` and
    its ``read`` (``columns``, ``use_threads``), or to :func:`pyarrow.parquet.read_table`
    for the options only it takes (``filters``).

    The file is written a row group at a time into the storage stream (a DataFrame is
    converted to Arrow a slice at a time), and read from the stream archivist hands over
    without a further copy of the encoded file (archivist keeps the verified bytes of a file
    up to a quarter of the physical memory in memory, so the file is read only once; see
    "Reading a version" in archivist's design notes). A PyCapsule stream is imported as one
    table first (mostly without copying), since a stream can be read only once.

    Each version records ``kind``, ``num_rows``, ``schema`` (a list of
    ``{"name", "type"}``) and ``pyarrow_version``. A file written by a newer major version
    of pyarrow than the running one is flagged on load, since it may use types this one
    cannot read; older files load silently.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from archivist import Repository
    >>> repository = Repository("memory://parquet-doc/repository.json", mode="w")
    >>> repository.log_artifact("t", pa.table({"x": [1, 2]}), handler="parquet")
    >>> repository.save()
    >>> repository.get_artifact_metadata("t")["schema"]
    [{'name': 'x', 'type': 'int64'}]
    """

    alias: ClassVar[str] = "parquet"
    suffix: ClassVar[str] = "parquet"
    binary: ClassVar[bool] = True
    #: Decoding builds a whole new table: a large file is spooled while verified rather
    #: than held in memory beside it (peak memory near the table's, not twice it).
    reads_in_memory: ClassVar[bool] = False

    def __init__(self) -> None:
        self._source: Source | None = None

    def _source_of(self, value: Any) -> Source:
        # metadata() runs just before write(), and write() may run again if the file name
        # was taken: convert once, since a stream (a RecordBatchReader) can be read only once.
        if self._source is None or self._source.value is not value:
            from archivist_parquet import _arrow

            self._source = _arrow.Source(value)
        return self._source

    def write(self, value: Any, stream: IO[Any], **kwargs: Any) -> None:
        """Stream ``value`` into ``stream`` as Parquet, a row group at a time."""
        from archivist_parquet import _arrow

        _arrow.write(self._source_of(value), stream, kwargs)

    def read(self, stream: IO[Any], **kwargs: Any) -> Any:
        """Read a table back, as a DataFrame when one was stored (see the class docs)."""
        from archivist_parquet import _arrow

        return _arrow.read(stream, kwargs)

    def environment(self) -> dict[str, Any]:
        """Record the pyarrow version the file was written with."""
        from archivist_parquet import _arrow

        return {"pyarrow_version": _arrow.pyarrow_version()}

    def metadata(self, value: Any) -> dict[str, Any]:
        """Record the kind stored, its row count and schema, and the pyarrow version."""
        out = {**self.environment(), **self._source_of(value).describe()}
        pandas = sys.modules.get("pandas")
        if out["kind"] == "pandas" and pandas is not None:
            out["pandas_version"] = pandas.__version__
        return out

    def mismatches(self, recorded: Mapping[str, Any]) -> list[str]:
        """Flag a file written by a newer major version of pyarrow than the running one."""
        written = recorded.get("pyarrow_version")
        running = self.environment()["pyarrow_version"]
        written_major, running_major = _major(written), _major(running)
        if written_major is None or running_major is None or written_major <= running_major:
            return []
        return [
            f"pyarrow_version: written with {written!r}, running {running!r} (an older "
            "major version, which may not read every type the file uses)"
        ]
