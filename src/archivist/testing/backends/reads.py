"""Reading: missing files, conditional reads and reads of regular files only."""

from __future__ import annotations

import pytest

from archivist._backends.base import Backend
from archivist.errors import IntegrityError, StaleTokenError
from archivist.testing.backends._kit import BackendKit

__all__ = ["ReadTests"]


class ReadTests(BackendKit):
    """Reads name what they read; a missing file is ``FileNotFoundError``; only files are read."""

    def test_missing_files_raise_file_not_found(self, opened: tuple[Backend, str]) -> None:
        """Every read, and delete, of a missing file raises FileNotFoundError."""
        backend, base = opened
        path = backend.join(base, "nothing", "here.json")
        with pytest.raises(FileNotFoundError):
            backend.read_with_token(path)
        with pytest.raises(FileNotFoundError):
            backend.read_bytes(path)
        with pytest.raises(FileNotFoundError):
            backend.open_read(path).close()
        with pytest.raises(FileNotFoundError):
            backend.delete(path)
        assert not backend.exists(path)
        with pytest.raises(StaleTokenError):
            backend.replace_if_unchanged(path, b"x", "a-token-that-never-was")
        for token in (None, "a-token-that-never-was"):
            with pytest.raises(FileNotFoundError):
                backend.read_if_changed(path, token)
        assert backend.current_token(path) is None

    def test_read_if_changed_reads_only_a_changed_file(self, opened: tuple[Backend, str]) -> None:
        """A conditional read returns ``None`` for the token read, else the content and token."""
        backend, base = opened
        path = backend.join(base, "manifest.json")
        first = backend.replace_if_unchanged(path, b"one", None)
        assert backend.current_token(path) == first
        assert backend.read_if_changed(path, None) == (b"one", first)
        assert backend.read_if_changed(path, first) is None
        assert backend.read_if_changed(path, backend.read_with_token(path)[1]) is None
        second = backend.replace_if_unchanged(path, b"two", first)
        assert backend.current_token(path) == second
        assert backend.read_if_changed(path, first) == (b"two", second)
        assert backend.read_if_changed(path, "a-token-that-never-was") == (b"two", second)
        assert backend.read_if_changed(path, second) is None

    def test_open_regular_reads_stored_files_only(self, opened: tuple[Backend, str]) -> None:
        """``open_regular`` reads a stored file; a missing one or a folder is refused."""
        backend, base = opened
        path = backend.join(base, "folder", "file.bin")
        backend.write_if_absent(path, b"content")
        with backend.open_regular(path) as stream:
            assert stream.read() == b"content"
        with pytest.raises(FileNotFoundError):
            backend.open_regular(backend.join(base, "folder", "missing.bin")).close()
        with pytest.raises((FileNotFoundError, IntegrityError)):
            backend.open_regular(backend.join(base, "folder")).close()
