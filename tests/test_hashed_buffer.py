"""One-pass reads: bytes are hashed while they are read, then served from memory."""

from __future__ import annotations

import hashlib
import io
import json
import mmap
import pickle
import threading
from typing import Any

import pytest

from archivist._io import hashed_buffer as _hashed_buffer
from archivist._io.hashed_buffer import BufferStream, read_hashed, reserve
from archivist._io.streams import HashWorker

DATA = bytes(i % 251 for i in range(300_000))


class OnlyRead:
    """A stream with ``read`` but no ``readinto`` (as some fsspec files are)."""

    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)


def buffered(data: bytes, extra: int = 1) -> BufferStream:
    memory = reserve(len(data) + extra)
    assert memory is not None
    stream, _ = read_hashed(io.BytesIO(data), memory)
    return stream


@pytest.mark.parametrize("reader", [io.BytesIO, OnlyRead], ids=["readinto", "read"])
@pytest.mark.parametrize("extra", [0, 1, 1000])
def test_digest_and_size_are_those_of_what_was_read(
    reader: Any, extra: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_hashed_buffer, "READ_SLICE", 4096)  # many slices
    memory = reserve(len(DATA) + extra)
    assert memory is not None
    stream, digest = read_hashed(reader(DATA), memory)
    with stream:
        assert stream.size == len(DATA)
        assert digest == hashlib.sha256(DATA).hexdigest()
        assert stream.read() == DATA  # the spare bytes of the map are not content


def test_reading_stops_at_the_reserved_size() -> None:
    memory = reserve(1001)  # a recorded size of 1000, plus the byte that tells "longer"
    assert memory is not None
    source = io.BytesIO(DATA)
    stream, digest = read_hashed(source, memory)
    assert (stream.size, source.tell()) == (1001, 1001)
    assert digest == hashlib.sha256(DATA[:1001]).hexdigest()
    stream.close()


def test_each_slice_is_hashed_while_the_next_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_hashed_buffer, "READ_SLICE", 10_000)
    source = io.BytesIO(DATA)
    handed: list[tuple[int, int]] = []  # (bytes read from the file so far, slice length)

    class Recording(HashWorker):
        def put(self, batch: Any) -> None:
            handed.append((source.tell(), sum(memoryview(piece).nbytes for piece in batch)))
            super().put(batch)

    monkeypatch.setattr(_hashed_buffer, "HashWorker", Recording)
    memory = reserve(len(DATA) + 1)
    assert memory is not None
    stream, digest = read_hashed(source, memory)
    stream.close()
    assert digest == hashlib.sha256(DATA).hexdigest()
    assert len(handed) == 30
    # Each slice went to the worker as soon as it was read, not after the whole file.
    assert [position for position, _ in handed] == [10_000 * (i + 1) for i in range(30)]


def test_a_failing_read_frees_the_memory_and_stops_the_worker() -> None:
    before = threading.active_count()

    class Failing(io.BytesIO):
        def readinto(self, buffer: Any) -> int:
            if self.tell():
                raise OSError("disk gone")
            return super().readinto(buffer)

    memory = reserve(len(DATA) + 1)
    assert memory is not None
    with pytest.raises(OSError, match="disk gone") as failed:
        read_hashed(Failing(DATA), memory)
    assert threading.active_count() == before
    del failed  # its traceback holds the failing reader's view of the memory
    memory.close()  # no view of archivist's is left (closing would raise BufferError)


def test_reserve_reports_no_room_instead_of_raising() -> None:
    assert reserve(1 << 62) is None  # far more than any address space allows


def test_the_stream_reads_like_a_file() -> None:
    text = b"first line\nsecond line\nno newline at the end"
    with buffered(text, extra=5) as stream:
        assert stream.readable() and stream.seekable() and not stream.writable()
        assert stream.peek(5) == b"first"
        assert stream.readline() == b"first line\n"
        assert stream.tell() == 11
        assert stream.read(6) == b"second"
        target = bytearray(6)
        assert stream.readinto(target) == 6
        assert target == b" line\n"
        assert stream.readline(2) == b"no"
        assert list(stream) == [b" newline at the end"]
        assert stream.read() == b""
        assert stream.readinto(bytearray(3)) == 0
        assert stream.seek(-3, io.SEEK_END) == len(text) - 3
        assert stream.read1(10) == b"end"
        assert stream.seek(100) == 100
        assert stream.read(4) == b""
        assert stream.seek(-90, io.SEEK_CUR) == 10
        assert stream.read(1) == b"\n"
        with pytest.raises(ValueError, match="negative"):
            stream.seek(-1)
    assert stream.closed
    with pytest.raises(ValueError, match="closed"):
        stream.read()


def test_handlers_read_text_and_pickles_from_it() -> None:
    value = {"weights": bytearray(DATA), "name": "model"}  # a bytearray: pickle's readinto
    with buffered(pickle.dumps(value, protocol=5)) as stream:
        assert pickle.load(stream) == value
    document = {"rows": list(range(10_000))}
    with (
        buffered(json.dumps(document).encode()) as stream,
        io.TextIOWrapper(stream, encoding="utf-8") as text,
    ):
        assert json.load(text) == document


def test_memory_is_private_and_a_large_map_is_unmapped_without_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_hashed_buffer, "_UNMAP_AFTER", 1000)
    memory = reserve(len(DATA) + 1)
    assert memory is not None
    if hasattr(mmap, "MAP_PRIVATE"):  # a private map's pages are not shared with children
        assert _hashed_buffer._PRIVATE == {"flags": mmap.MAP_PRIVATE}
    stream, _ = read_hashed(io.BytesIO(DATA), memory)
    stream.close()
    assert stream.closed
    for thread in threading.enumerate():
        if thread.name == "archivist-unmap":
            thread.join()
    assert memory.closed
    small = buffered(b"tiny")  # below the threshold: unmapped at once
    small.close()
    assert not [t for t in threading.enumerate() if t.name == "archivist-unmap"]
