"""Freshness: another instance or process sees a commit at once."""

from __future__ import annotations

from archivist._backends.base import Backend
from archivist.testing.backends._kit import BackendKit
from archivist.testing.backends._target import BackendTarget, commit_from_elsewhere, listed

__all__ = ["FreshnessTests"]


class FreshnessTests(BackendKit):
    """No cache of one backend instance hides another instance's or process's writes."""

    def test_another_instance_sees_a_commit_at_once(
        self, backend_target: BackendTarget, opened: tuple[Backend, str]
    ) -> None:
        """No cache of one instance hides another instance's writes and deletes."""
        reader, base = opened
        writer, writer_base = backend_target.open()
        path = reader.join(base, "manifest.json")
        token = writer.replace_if_unchanged(writer.join(writer_base, "manifest.json"), b"1", None)
        # Prime every cache the reader may have: content, listing, existence.
        assert reader.read_with_token(path) == (b"1", token)
        assert listed(reader, base) == [path]
        new_file = reader.join(base, "v", "new.bin")
        assert not reader.exists(new_file)
        new_token = writer.replace_if_unchanged(
            writer.join(writer_base, "manifest.json"), b"2", token
        )
        writer.write_if_absent(writer.join(writer_base, "v", "new.bin"), b"new")
        assert reader.read_with_token(path) == (b"2", new_token)
        assert reader.exists(new_file)
        assert listed(reader, base) == sorted([path, new_file])
        writer.delete(writer.join(writer_base, "v", "new.bin"))
        assert not reader.exists(new_file)
        assert listed(reader, base) == [path]

    def test_another_process_sees_a_commit_at_once(
        self, backend_target: BackendTarget, opened: tuple[Backend, str]
    ) -> None:
        """A commit made by another process is visible at once."""
        backend, base = opened
        path = backend.join(base, "manifest.json")
        token = backend.replace_if_unchanged(path, b"first", None)
        assert backend.read_with_token(path) == (b"first", token)
        assert listed(backend, base) == [path]
        [new_token] = self._processes(
            [(commit_from_elsewhere, (backend_target, "manifest.json", token, "new.bin"))]
        )
        assert backend.read_with_token(path) == (b"second", new_token)
        assert backend.read_bytes(backend.join(base, "new.bin")) == b"new"
        assert listed(backend, base) == sorted([path, backend.join(base, "new.bin")])
