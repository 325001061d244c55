"""The parquet handler: the conformance suite, kinds, options, streaming and metadata."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from archivist_parquet import KIND_METADATA_KEY, ParquetHandler
from archivist_parquet import _arrow as parquet_arrow

import archivist
from archivist import Repository, SerializationError
from archivist.testing import HandlerConformanceTests, LegacyVersion


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": np.arange(5, dtype=np.int64),
            "score": [0.5, 1.5, np.nan, 3.5, 4.5],
            "label": ["a", "b", None, "d", "e"],
            "when": pd.date_range("2026-01-01", periods=5, freq="h", tz="UTC"),
            "group": pd.Categorical(["x", "y", "x", "y", "x"]),
        },
        index=pd.Index([10, 20, 30, 40, 50], name="row"),
    )


def _table() -> pa.Table:
    return pa.table(
        {
            "x": pa.array([1, 2, None], type=pa.int32()),
            "tags": pa.array([["a"], [], ["b", "c"]], type=pa.list_(pa.string())),
        }
    )


class _CapsuleOnly:
    """Exposes a table only through the Arrow PyCapsule stream interface, as polars does."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self._table.__arrow_c_stream__(requested_schema)


def _written(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


class TestParquetConformance(HandlerConformanceTests):
    handler_class = ParquetHandler
    sample_values = (_frame(), _table(), pd.DataFrame({"a": pd.Series([], dtype="int64")}))
    writer_kwargs: ClassVar[dict[str, Any]] = {"compression": "zstd", "row_group_size": 2}
    reader_kwargs: ClassVar[dict[str, Any]] = {"use_threads": False}
    unsupported_values = (object(), [1, 2, 3])
    other_environment: ClassVar[dict[str, Any]] = {"pyarrow_version": "999.0.0"}
    compatible_environment: ClassVar[dict[str, Any]] = {"pyarrow_version": "1.0.0"}

    def assert_equal(self, loaded: Any, expected: Any) -> None:
        assert type(loaded) is type(expected)
        if isinstance(expected, pd.DataFrame):
            pd.testing.assert_frame_equal(loaded, expected)
        else:
            assert loaded.equals(expected), f"{loaded} != {expected}"

    def legacy_versions(self) -> list[LegacyVersion]:
        table = _table()
        return [
            # lazyscribe-arrow wrote plain Parquet and no metadata: it loads as a Table.
            LegacyVersion(_written(table), table),
            LegacyVersion(_written(table), table, {"pyarrow_version": "999.1"}, mismatch=True),
        ]


@pytest.fixture
def repository(tmp_path: Path) -> Repository:
    return Repository(tmp_path / "repository.json", mode="w")


def test_records_kind_rows_schema_and_versions(repository: Repository) -> None:
    repository.log_artifact("frame", _frame(), handler="parquet")
    repository.log_artifact("table", _table(), handler="parquet")
    repository.save()
    frame = repository.get_artifact_metadata("frame")
    assert frame["kind"] == "pandas"
    assert frame["num_rows"] == 5
    assert frame["pyarrow_version"] == pa.__version__
    assert frame["pandas_version"] == pd.__version__
    assert {"name": "row", "type": "int64"} in frame["schema"]
    types = {field["name"]: field["type"] for field in frame["schema"]}
    assert types["group"].startswith("dictionary<values=")  # a Categorical
    table = repository.get_artifact_metadata("table")
    assert table["kind"] == "arrow"
    assert table["schema"] == [
        {"name": "x", "type": "int32"},
        {"name": "tags", "type": "list<item: string>"},
    ]
    assert "pandas_version" not in table


def test_as_table_and_as_pandas_convert(repository: Repository) -> None:
    repository.log_artifact("frame", _frame(), handler="parquet")
    repository.log_artifact("table", _table(), handler="parquet")
    repository.save()
    as_table = repository.load_artifact("frame", as_table=True)
    assert isinstance(as_table, pa.Table)
    assert KIND_METADATA_KEY not in (as_table.schema.metadata or {})
    pd.testing.assert_frame_equal(as_table.to_pandas(), _frame())
    as_pandas = repository.load_artifact("table", as_pandas=True)
    assert isinstance(as_pandas, pd.DataFrame)
    assert as_pandas["x"].tolist()[:2] == [1, 2]
    with pytest.raises(SerializationError, match="exclude each other"):
        repository.load_artifact("table", as_table=True, as_pandas=True)


def test_columns_keep_the_index(repository: Repository) -> None:
    repository.log_artifact("frame", _frame(), handler="parquet")
    repository.save()
    loaded = repository.load_artifact("frame", columns=["score"])
    pd.testing.assert_frame_equal(loaded, _frame()[["score"]])
    # filters is a read_table option: that path keeps the index too.
    filtered = repository.load_artifact("frame", filters=[("id", ">", 2)])
    pd.testing.assert_frame_equal(filtered, _frame().iloc[3:])


def test_capsule_objects_and_one_shot_streams_load_as_tables(repository: Repository) -> None:
    table = _table()
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches())
    repository.log_artifact("capsule", _CapsuleOnly(table), handler="parquet")
    repository.log_artifact("reader", reader, handler="parquet")
    repository.log_artifact("batch", table.combine_chunks().to_batches()[0], handler="parquet")
    repository.save()
    for name in ("capsule", "reader", "batch"):
        loaded = repository.load_artifact(name)
        assert isinstance(loaded, pa.Table)
        assert loaded.equals(table), name
        assert repository.get_artifact_metadata(name)["num_rows"] == 3


def test_frame_chunks_share_the_whole_frame_schema(
    repository: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Convert one row group at a time. The first holds only missing labels; its type still
    # comes from the whole frame.
    monkeypatch.setattr(parquet_arrow, "_CHUNK_BYTES", 1)
    frame = pd.DataFrame({"label": [None, None, "x", "y"], "n": [1, 2, 3, 4]})
    assert ParquetHandler().metadata(frame)["schema"][0]["type"] in {"string", "large_string"}
    repository.log_artifact("frame", frame, handler="parquet", row_group_size=2)
    repository.save()
    record = repository.get_artifact_metadata("frame")
    path = Path(repository.store.file_location("frame", record["fname"]))
    assert pq.ParquetFile(path).num_row_groups == 2
    pd.testing.assert_frame_equal(repository.load_artifact("frame"), frame)


def test_large_frame_is_written_in_row_groups_and_streamed_back(tmp_path: Path) -> None:
    # Above the core's 64 MiB in-memory limit the file is verified, then streamed.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.random(5_000_000), "b": rng.random(5_000_000)})
    repository = Repository(tmp_path / "repository.json", mode="w")
    repository.log_artifact("big", frame, handler="parquet", compression="none")
    repository.save()
    record = repository.get_artifact_metadata("big")
    assert record["size"] > 64 << 20
    path = Path(repository.store.file_location("big", record["fname"]))
    assert pq.ParquetFile(path).num_row_groups > 1
    pd.testing.assert_frame_equal(Repository(repository.location, "r").load_artifact("big"), frame)


def test_a_large_read_is_spooled_never_buffered_in_memory(
    repository: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/design.md: parquet sets ``reads_in_memory = False``, so a large load gets the spool."""
    assert ParquetHandler.reads_in_memory is False
    frame = pd.DataFrame({"a": np.arange(2000, dtype=np.int64)})  # past the 1 KiB limit below
    repository.log_artifact("frame", frame, handler="parquet", compression="none")
    repository.save()
    monkeypatch.setattr(archivist._io.verified, "IN_MEMORY_LIMIT", 1024)
    reserved: list[int] = []
    monkeypatch.setattr(archivist._io.verified, "reserve", lambda size: reserved.append(size))
    streams: list[type] = []
    real_read = ParquetHandler.read

    def read(self: ParquetHandler, stream: Any, **kwargs: Any) -> Any:
        streams.append(type(getattr(stream, "raw", stream)))
        return real_read(self, stream, **kwargs)

    monkeypatch.setattr(ParquetHandler, "read", read)
    loaded = Repository(repository.location, "r").load_artifact("frame")
    pd.testing.assert_frame_equal(loaded, frame)
    assert reserved == []  # no memory reserved beside the value
    assert streams and issubclass(streams[0], io.FileIO)  # a temporary file


def test_invalid_writer_option_value_is_a_serialization_error(repository: Repository) -> None:
    repository.log_artifact("frame", _frame(), handler="parquet", compression="no-such-codec")
    with pytest.raises(SerializationError, match="no-such-codec"):
        repository.save()


def test_found_through_its_entry_point() -> None:
    assert archivist.get_handler("parquet") is ParquetHandler


def test_a_one_shot_stream_can_be_written_twice_by_one_handler() -> None:
    # A save retries write() under a new name if the first name was taken meanwhile.
    table = _table()
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches())
    handler = ParquetHandler()
    assert handler.metadata(reader)["num_rows"] == 3
    for _ in range(2):
        buffer = io.BytesIO()
        handler.write(reader, buffer)
        assert pq.read_table(io.BytesIO(buffer.getvalue())).equals(table)


def test_discovery_does_not_import_pyarrow() -> None:
    # Everyone with the plugin installed pays for what its entry point module imports.
    code = (
        "import sys, archivist_parquet.hooks as hooks; "
        "assert hooks.archivist_register_handlers()[0].alias == 'parquet'; "
        "print('pyarrow' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


class _Recording(io.BytesIO):
    """A storage stream that records the size of each write and whether it was closed."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[int] = []

    def write(self, data: Any) -> int:
        self.writes.append(memoryview(data).nbytes)
        return super().write(data)


def test_small_pieces_reach_the_storage_stream_gathered_and_it_stays_open() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"c{i}": rng.standard_normal(100_000) for i in range(40)})
    stream = _Recording()
    ParquetHandler().write(frame, stream)
    assert not stream.closed  # the caller commits (and closes) it
    # pyarrow writes page headers of a few bytes each; they arrive gathered, near 1 MiB.
    assert len(stream.writes) > 1
    assert all(size >= parquet_arrow._WRITE_BUFFER // 2 for size in stream.writes[:-1])
    pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(stream.getvalue())), frame)


def test_a_failing_storage_stream_fails_the_write() -> None:
    class Full(io.BytesIO):
        def write(self, data: Any) -> int:
            raise OSError(28, "No space left on device")

    frame = pd.DataFrame({"x": np.arange(1_000_000)})
    with pytest.raises(OSError, match="No space left"):
        ParquetHandler().write(frame, Full())


def test_loading_a_frame_without_pandas_names_the_extra_or_as_table(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    writer = Repository(path, mode="w")
    writer.log_artifact("frame", _frame(), handler="parquet")
    writer.save()
    code = f"""
import sys
sys.modules["pandas"] = None  # as if pandas were not installed
from archivist import Repository
from archivist.errors import DecodingError
repository = Repository({str(path)!r}, mode="r")
print(repository.load_artifact("frame", as_table=True).num_rows)
try:
    repository.load_artifact("frame")
except DecodingError as exc:
    print(exc)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    rows, message = done.stdout.splitlines()
    assert rows == str(len(_frame()))
    assert "archivist-parquet[pandas]" in message and "as_table=True" in message
