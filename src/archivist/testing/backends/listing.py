"""Listing and deleting files."""

from __future__ import annotations

import pytest

from archivist._backends.base import Backend
from archivist.testing.backends._kit import BackendKit
from archivist.testing.backends._target import listed

__all__ = ["ListAndDeleteTests"]


class ListAndDeleteTests(BackendKit):
    """``list`` finds every file below a folder; ``delete`` removes one."""

    def test_list_and_delete(self, opened: tuple[Backend, str]) -> None:
        """List finds every file below a folder; delete removes one."""
        backend, base = opened
        paths = [backend.join(base, *parts) for parts in (("m.json",), ("a", "1"), ("a", "2"))]
        for path in paths:
            backend.write_if_absent(path, b"x")
        assert listed(backend, base) == sorted(paths)
        backend.delete(paths[1])
        assert listed(backend, base) == sorted([paths[0], paths[2]])
        assert not backend.exists(paths[1])
        with pytest.raises(FileNotFoundError):
            backend.read_bytes(paths[1])
