"""Streaming: large files in and out, and a failed stream leaves nothing."""

from __future__ import annotations

import hashlib
import tracemalloc

import pytest

from archivist._backends.base import Backend
from archivist.testing.backends._kit import BackendKit
from archivist.testing.backends._target import MIB, pattern
from archivist.testing.backends._target import blocks as make_blocks

__all__ = ["StreamingTests"]


class StreamingTests(BackendKit):
    """``open_new`` and ``open_read`` stream large files whole, or leave nothing."""

    def test_large_files_stream_both_ways(self, opened: tuple[Backend, str]) -> None:
        """A file larger than the part and chunk sizes streams in and out intact."""
        backend, base = opened
        path = backend.join(base, "big", "blob.bin")
        digest = hashlib.sha256()
        blocks = make_blocks()
        tracemalloc.start()
        try:
            with backend.open_new(path) as stream:
                for piece in pattern(blocks, self.large_file_size):
                    stream.write(piece)
                    digest.update(piece)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        if self.streams_writes:
            assert peak < self.large_file_size // 2, (
                f"open_new held {peak} bytes for a {self.large_file_size}-byte file"
            )
        read_back, size = hashlib.sha256(), 0
        with backend.open_read(path) as stream:
            while chunk := stream.read(MIB):
                read_back.update(chunk)
                size += len(chunk)
        assert size == self.large_file_size
        assert read_back.hexdigest() == digest.hexdigest()

    def test_a_large_write_never_overwrites(self, opened: tuple[Backend, str]) -> None:
        """A file streamed in parts is refused at an existing path, which stays as it was."""
        backend, base = opened
        path = backend.join(base, "taken.bin")
        backend.write_if_absent(path, b"first")
        blocks = make_blocks(seed=1)

        def stream_over() -> None:
            with backend.open_new(path) as stream:
                for piece in pattern(blocks, self.large_file_size):
                    stream.write(piece)

        with pytest.raises(FileExistsError):
            stream_over()
        assert backend.read_bytes(path) == b"first"

    def test_a_failed_stream_leaves_nothing(self, opened: tuple[Backend, str]) -> None:
        """An exception inside open_new leaves nothing at the path."""
        backend, base = opened
        path = backend.join(base, "failed.bin")

        def fail_midway() -> None:
            with backend.open_new(path) as stream:
                stream.write(b"partial")
                raise RuntimeError("handler failed")

        with pytest.raises(RuntimeError, match="handler failed"):
            fail_midway()
        assert not backend.exists(path)
        with pytest.raises(FileNotFoundError):
            backend.read_bytes(path)
        backend.write_if_absent(path, b"whole")
        assert backend.read_bytes(path) == b"whole"
