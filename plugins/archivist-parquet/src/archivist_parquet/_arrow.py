"""The pyarrow side of the parquet handler, imported on first use: pyarrow is slow to import."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from typing import IO, Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from archivist.errors import DecodingError
from archivist_parquet._handler import KIND_METADATA_KEY

__all__ = ["Source", "pyarrow_version", "read", "read_table", "write"]

Kind = Literal["pandas", "arrow"]

#: A DataFrame is converted to Arrow about this many bytes of its columns at a time (numeric
#: columns convert without copying; strings and objects are copied, a slice at a time).
_CHUNK_BYTES = 256 << 20
#: The encoded bytes gathered before they are written to the storage stream.
_WRITE_BUFFER = 1 << 20
#: pyarrow's default row group length.
_ROW_GROUP_ROWS = 1 << 20


def _pandas() -> Any:
    """Return the pandas module if it is imported (a DataFrame exists only then)."""
    return sys.modules.get("pandas")


def _is_dataframe(value: Any) -> bool:
    pandas = _pandas()
    return pandas is not None and isinstance(value, pandas.DataFrame)


class Source:
    """A value to store, seen as an Arrow schema plus a way to produce its tables."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self.kind: Kind
        self.table: pa.Table | None = None
        if _is_dataframe(value):
            self.kind = "pandas"
            self.schema = pa.Schema.from_pandas(value, preserve_index=None)
            self.num_rows = len(value)
            return
        self.kind = "arrow"
        if isinstance(value, pa.RecordBatch):
            self.table = pa.Table.from_batches([value])
        elif isinstance(value, pa.Table):
            self.table = value
        elif hasattr(value, "__arrow_c_stream__") or hasattr(value, "__arrow_c_array__"):
            # An Arrow PyCapsule producer (polars, DuckDB, nanoarrow, a RecordBatchReader...):
            # imported once, mostly without copying, since a stream may be consumed only once.
            self.table = pa.table(value)
        else:
            raise TypeError(
                "the parquet handler stores pandas DataFrames, pyarrow Tables and RecordBatches, "
                "and objects with the Arrow PyCapsule interface (__arrow_c_stream__); got "
                f"{type(value).__module__}.{type(value).__qualname__}"
            )
        self.schema = self.table.schema
        self.num_rows = self.table.num_rows

    def tables(self, row_group_size: int | None) -> Iterator[pa.Table]:
        """Yield the value as Arrow tables; a DataFrame a slice at a time, to bound memory."""
        if self.table is not None:
            yield self.table
            return
        frame = self.value
        rows = self._chunk_rows(row_group_size or _ROW_GROUP_ROWS)
        for start in range(0, max(self.num_rows, 1), rows):
            yield pa.Table.from_pandas(
                frame.iloc[start : start + rows], schema=self.schema, preserve_index=None
            )

    def _chunk_rows(self, group_rows: int) -> int:
        """Rows per slice: whole row groups (so slices do not cut them), near _CHUNK_BYTES."""
        if self.num_rows == 0:
            return group_rows
        used = int(self.value.memory_usage(index=True, deep=False).sum())
        fitting = _CHUNK_BYTES // max(1, used // self.num_rows)
        return max(group_rows, fitting // group_rows * group_rows)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "num_rows": self.num_rows,
            "schema": [{"name": f.name, "type": str(f.type)} for f in self.schema],
        }


def _parameters(function: Any) -> frozenset[str]:
    return frozenset(inspect.signature(function).parameters) - {"self", "source"}


#: Reader options that pyarrow.parquet.ParquetFile takes, and those its read() takes.
_FILE_OPTIONS = _parameters(pq.ParquetFile.__init__)
_READ_OPTIONS = _parameters(pq.ParquetFile.read)


def read_table(stream: IO[Any], options: dict[str, Any]) -> pa.Table:
    """Read the whole file from ``stream``, without buffering its encoded bytes up front.

    ``pre_buffer=False`` decodes column chunk by column chunk from the stream, so memory
    peaks near the decoded table instead of the table plus the encoded file. Options only
    :func:`pyarrow.parquet.read_table` knows (``filters``) take that path.
    """
    options = {"pre_buffer": False, "use_pandas_metadata": True, **options}
    if not options.keys() <= _FILE_OPTIONS | _READ_OPTIONS:
        return pq.read_table(stream, **options)
    file_options = {k: v for k, v in options.items() if k in _FILE_OPTIONS}
    read_options = {k: v for k, v in options.items() if k not in _FILE_OPTIONS}
    return pq.ParquetFile(stream, **file_options).read(**read_options)


def write(source: Source, stream: IO[Any], options: dict[str, Any]) -> None:
    """Stream ``source`` into ``stream`` as Parquet, a row group at a time."""
    row_group_size = options.pop("row_group_size", None)
    schema = source.schema.with_metadata(
        {**(source.schema.metadata or {}), KIND_METADATA_KEY: source.kind.encode()}
    )
    # Parquet is written in many small pieces (page headers of a few bytes): gather them in
    # pyarrow's own buffer and pass them on a megabyte at a time, instead of one Python call
    # (and a bytes object) per piece.
    sink = pa.BufferedOutputStream(pa.PythonFile(_Borrowed(stream), mode="w"), _WRITE_BUFFER)
    with pq.ParquetWriter(sink, schema, **options) as writer:
        for table in source.tables(row_group_size):
            writer.write_table(table, row_group_size=row_group_size)
    sink.close()  # flushes the last bytes; the storage stream stays open


class _Borrowed:
    """A writable view of a stream that pyarrow may close without closing the stream."""

    def __init__(self, stream: IO[Any]) -> None:
        self._stream = stream
        self.closed = False

    def write(self, data: Any) -> int | None:
        return self._stream.write(data)

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        self.closed = True


def read(stream: IO[Any], options: dict[str, Any]) -> Any:
    """Read a table back, as a DataFrame when one was stored (or as asked)."""
    as_table = bool(options.pop("as_table", False))
    as_pandas = bool(options.pop("as_pandas", False))
    if as_table and as_pandas:
        raise ValueError("as_table=True and as_pandas=True exclude each other; pass one")
    table = read_table(stream, options)
    stored = (table.schema.metadata or {}).get(KIND_METADATA_KEY)
    # Files without the key (lazyscribe-arrow wrote them) were read back as tables there.
    if as_table or (stored != b"pandas" and not as_pandas):
        return table.replace_schema_metadata(
            {k: v for k, v in (table.schema.metadata or {}).items() if k != KIND_METADATA_KEY}
            or None
        )
    _require_pandas()
    # Hand the Arrow buffers over column by column: peak memory stays near one copy.
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    return frame


def _require_pandas() -> None:
    """Refuse, naming the fix, to rebuild a DataFrame where pandas is not installed."""
    try:
        import pandas  # noqa: F401
    except ImportError:
        raise DecodingError(
            "this version was stored from a pandas DataFrame, and loading it as one needs "
            "pandas, which is not installed: install the handler's pandas extra (pip install "
            '"./plugins/archivist-parquet[pandas]", or pip install pandas), or load it as a '
            "pyarrow Table with as_table=True"
        ) from None


def pyarrow_version() -> str:
    """Return the running pyarrow's version."""
    return str(pa.__version__)
