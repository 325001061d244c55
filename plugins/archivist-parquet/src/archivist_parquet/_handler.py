"""The ``parquet`` handler: DataFrames and Arrow tables, streamed to and from storage."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator, Mapping
from typing import IO, Any, ClassVar, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from archivist import Handler

__all__ = ["KIND_METADATA_KEY", "ParquetHandler"]

#: The Parquet key-value metadata entry naming what was stored (``pandas`` or ``arrow``).
KIND_METADATA_KEY = b"archivist.kind"

Kind = Literal["pandas", "arrow"]

#: A DataFrame is converted to Arrow about this many bytes of its columns at a time (numeric
#: columns convert without copying; strings and objects are copied, a slice at a time).
_CHUNK_BYTES = 256 << 20
#: pyarrow's default row group length.
_ROW_GROUP_ROWS = 1 << 20


def _pandas() -> Any:
    """Return the pandas module if it is imported (a DataFrame exists only then)."""
    return sys.modules.get("pandas")


def _is_dataframe(value: Any) -> bool:
    pandas = _pandas()
    return pandas is not None and isinstance(value, pandas.DataFrame)


class _Source:
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


def _read_table(stream: IO[Any], options: dict[str, Any]) -> pa.Table:
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
    converted to Arrow a slice at a time), and read from the storage stream directly, so
    no extra copy of the encoded file is held in memory. A PyCapsule stream is imported as
    one table first (mostly without copying), since a stream can be read only once.

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

    def __init__(self) -> None:
        self._source: _Source | None = None

    def _source_of(self, value: Any) -> _Source:
        # metadata() runs just before write(), and write() may run again if the file name
        # was taken: convert once, since a stream (a RecordBatchReader) can be read only once.
        if self._source is None or self._source.value is not value:
            self._source = _Source(value)
        return self._source

    def write(self, value: Any, stream: IO[Any], **kwargs: Any) -> None:
        """Stream ``value`` into ``stream`` as Parquet, a row group at a time."""
        row_group_size = kwargs.pop("row_group_size", None)
        source = self._source_of(value)
        schema = source.schema.with_metadata(
            {**(source.schema.metadata or {}), KIND_METADATA_KEY: source.kind.encode()}
        )
        with pq.ParquetWriter(stream, schema, **kwargs) as writer:
            for table in source.tables(row_group_size):
                writer.write_table(table, row_group_size=row_group_size)

    def read(self, stream: IO[Any], **kwargs: Any) -> Any:
        """Read a table back, as a DataFrame when one was stored (see the class docs)."""
        as_table = bool(kwargs.pop("as_table", False))
        as_pandas = bool(kwargs.pop("as_pandas", False))
        if as_table and as_pandas:
            raise ValueError("as_table=True and as_pandas=True exclude each other; pass one")
        table = _read_table(stream, kwargs)
        stored = (table.schema.metadata or {}).get(KIND_METADATA_KEY)
        # Files without the key (lazyscribe-arrow wrote them) were read back as tables there.
        if as_table or (stored != b"pandas" and not as_pandas):
            return table.replace_schema_metadata(
                {k: v for k, v in (table.schema.metadata or {}).items() if k != KIND_METADATA_KEY}
                or None
            )
        # Hand the Arrow buffers over column by column: peak memory stays near one copy.
        frame = table.to_pandas(split_blocks=True, self_destruct=True)
        del table
        return frame

    def environment(self) -> dict[str, Any]:
        """Record the pyarrow version the file was written with."""
        return {"pyarrow_version": pa.__version__}

    def metadata(self, value: Any) -> dict[str, Any]:
        """Record the kind stored, its row count and schema, and the pyarrow version."""
        out = {**self.environment(), **self._source_of(value).describe()}
        pandas = _pandas()
        if out["kind"] == "pandas" and pandas is not None:
            out["pandas_version"] = pandas.__version__
        return out

    def mismatches(self, recorded: Mapping[str, Any]) -> list[str]:
        """Flag a file written by a newer major version of pyarrow than the running one."""
        written = recorded.get("pyarrow_version")
        written_major, running_major = _major(written), _major(pa.__version__)
        if written_major is None or running_major is None or written_major <= running_major:
            return []
        return [
            f"pyarrow_version: written with {written!r}, running {pa.__version__!r} (an older "
            "major version, which may not read every type the file uses)"
        ]
