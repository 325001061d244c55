"""HashingWriter: the digest is right whether bytes are hashed inline or on the worker."""

from __future__ import annotations

import hashlib
import io
import threading
from typing import Any

import pytest

from archivist._io import streams as _streams
from archivist._io.streams import BACKGROUND_HASH_AFTER, WRITE_SLICE, HashingWriter
from archivist.errors import StorageError


@pytest.mark.parametrize("total", [0, 1000, BACKGROUND_HASH_AFTER, 3 * BACKGROUND_HASH_AFTER + 7])
def test_digest_and_size_match_what_was_written(total: int) -> None:
    data = bytes(i % 251 for i in range(total))
    sink = io.BytesIO()
    writer = HashingWriter(sink)
    reused = bytearray(65_537)  # the caller reuses one buffer, as buffered writers do
    for start in range(0, total, len(reused)):
        piece = data[start : start + len(reused)]
        reused[: len(piece)] = piece
        writer.write(memoryview(reused)[: len(piece)])
        reused[:] = b"\xff" * len(reused)  # scribble over it once write returned
    assert writer.sha256 == hashlib.sha256(data).hexdigest()
    assert writer.size == total
    assert sink.getvalue() == data


def test_worker_thread_ends_with_the_digest_or_on_close() -> None:
    before = threading.active_count()
    writer = HashingWriter(io.BytesIO())
    writer.write(b"x" * (2 * BACKGROUND_HASH_AFTER))
    assert writer.sha256 == hashlib.sha256(b"x" * (2 * BACKGROUND_HASH_AFTER)).hexdigest()
    assert threading.active_count() == before
    abandoned = HashingWriter(io.BytesIO())
    abandoned.write(b"y" * (2 * BACKGROUND_HASH_AFTER))
    abandoned.close()  # a failed save never asks for the digest
    assert threading.active_count() == before


def test_large_reusable_buffers_keep_their_place_in_the_digest() -> None:
    small = b"a" * (BACKGROUND_HASH_AFTER + 10)  # switches to the worker
    large = bytearray(b"b" * (3 * BACKGROUND_HASH_AFTER))  # hashed inline, not copied
    tail = b"c" * 1000
    writer = HashingWriter(io.BytesIO())
    for piece in (small, large, tail, small):
        writer.write(piece)
    large[:] = b"\x00" * len(large)
    expected = hashlib.sha256(small + b"b" * len(large) + tail + small).hexdigest()
    assert writer.sha256 == expected


class RecordingSink(io.BytesIO):
    """A destination that records the size of every write it receives."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[int] = []

    def write(self, data: Any) -> int:
        self.writes.append(memoryview(data).nbytes)
        return super().write(data)


def test_a_large_write_is_hashed_in_slices_while_it_is_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = bytes(range(256)) * (4 * WRITE_SLICE // 256) + b"tail"  # one write, as pickle does
    sink = RecordingSink()
    handed: list[int] = []  # bytes the destination held when each slice went to the worker

    class Recording(_streams.HashWorker):
        def put(self, batch: Any) -> None:
            handed.append(len(sink.getbuffer()))
            super().put(batch)

    monkeypatch.setattr(_streams, "HashWorker", Recording)
    writer = HashingWriter(sink)
    assert writer.write(data) == len(data)
    assert sink.writes == [WRITE_SLICE] * 4 + [4]
    # Each slice was handed to the hash worker right after it was written, while the rest
    # of the write was still to come.
    assert handed == [WRITE_SLICE * (i + 1) for i in range(4)] + [len(data)]
    assert writer.sha256 == hashlib.sha256(data).hexdigest()
    assert writer.size == len(data)


def test_a_large_reusable_buffer_is_hashed_before_write_returns() -> None:
    small = b"s" * 1000
    large = bytearray(b"L" * (2 * WRITE_SLICE + 3))  # not copied, so hashed before returning
    writer = HashingWriter(io.BytesIO())
    writer.write(small)
    writer.write(large)
    large[:] = b"\x00" * len(large)  # the caller reuses its buffer
    writer.write(small)
    expected = hashlib.sha256(small + b"L" * len(large) + small).hexdigest()
    assert writer.sha256 == expected


def test_a_write_failing_midway_is_a_storage_error_and_stops_the_worker() -> None:
    before = threading.active_count()

    class Full(io.BytesIO):
        def write(self, data: Any) -> int:
            if self.tell() >= WRITE_SLICE:
                raise OSError(28, "No space left on device")
            return super().write(data)

    writer = HashingWriter(Full())
    with pytest.raises(StorageError, match="No space left"):
        writer.write(bytearray(3 * WRITE_SLICE))
    writer.close()
    assert threading.active_count() == before


def test_no_view_of_a_written_buffer_outlives_the_write() -> None:
    buffer = bytearray(b"r" * (2 * WRITE_SLICE))
    writer = HashingWriter(io.BytesIO())
    writer.write(b"x" * BACKGROUND_HASH_AFTER)  # the worker is running
    writer.write(buffer)
    buffer.clear()  # resizing raises BufferError while any view of it is alive
    assert (
        writer.sha256
        == hashlib.sha256(b"x" * BACKGROUND_HASH_AFTER + b"r" * (2 * WRITE_SLICE)).hexdigest()
    )


@pytest.mark.parametrize(
    "pattern",
    ["reused-small", "bytes-large", "mixed"],
)
def test_blake3_and_block_digests_match_whichever_path_hashed_them(pattern: str) -> None:
    import blake3

    block = 4 << 20
    data = bytes(i % 253 for i in range(3 * BACKGROUND_HASH_AFTER // 2 + block // 3 + 11))
    writer = HashingWriter(io.BytesIO())
    sizes = {"reused-small": [65_537], "bytes-large": [WRITE_SLICE + 5], "mixed": [1, 7 << 20, 3]}
    position, turn = 0, 0
    while position < len(data):
        step = sizes[pattern][turn % len(sizes[pattern])]
        piece = data[position : position + step]
        writer.write(bytearray(piece) if pattern == "reused-small" else piece)
        position, turn = position + len(piece), turn + 1
    digests = writer.digests
    assert digests.size == len(data)
    assert digests.sha256 == hashlib.sha256(data).hexdigest()
    assert digests.blake3 == blake3.blake3(data).hexdigest()
    assert digests.blocks is not None
    assert digests.blocks.blocks == tuple(
        blake3.blake3(data[start : start + block]).hexdigest()
        for start in range(0, len(data), block)
    )


def test_a_file_of_8_mib_or_less_gets_no_block_list() -> None:
    writer = HashingWriter(io.BytesIO())
    writer.write(b"z" * BACKGROUND_HASH_AFTER)
    assert writer.digests.blocks is None
    writer.write(b"z")
    assert writer.digests.blocks is not None
