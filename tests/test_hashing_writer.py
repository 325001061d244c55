"""HashingWriter: the digest is right whether bytes are hashed inline or on the worker."""

from __future__ import annotations

import hashlib
import io
import threading

import pytest

from archivist._streams import BACKGROUND_HASH_AFTER, HashingWriter


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
