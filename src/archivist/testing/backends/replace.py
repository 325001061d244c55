"""The replace-if-unchanged operation: compare-and-swap on a token."""

from __future__ import annotations

import hashlib
import json
import threading

import pytest

from archivist._backends.base import Backend
from archivist.errors import StaleTokenError
from archivist.stores import ManifestStore
from archivist.testing.backends._kit import BackendKit
from archivist.testing.backends._target import BackendTarget, append_entries, append_with

__all__ = ["ReplaceIfUnchangedTests"]


class ReplaceIfUnchangedTests(BackendKit):
    """``replace_if_unchanged`` lands only against the current token, and no update is lost."""

    def test_replace_if_unchanged_is_compare_and_swap(self, opened: tuple[Backend, str]) -> None:
        """A replace lands only against the current token; ``None`` only creates."""
        backend, base = opened
        path = backend.join(base, "manifest.json")
        first = backend.replace_if_unchanged(path, b"one", None)
        with pytest.raises(StaleTokenError):
            backend.replace_if_unchanged(path, b"not created twice", None)
        data, token = backend.read_with_token(path)
        assert (data, token) == (b"one", first)
        second = backend.replace_if_unchanged(path, b"two", token)
        with pytest.raises(StaleTokenError):
            backend.replace_if_unchanged(path, b"stale", first)
        assert backend.read_with_token(path) == (b"two", second)

    def test_token_changes_on_every_write(self, opened: tuple[Backend, str]) -> None:
        """Every write gives a new token, and a read returns the token of what it read."""
        backend, base = opened
        path = backend.join(base, "manifest.json")
        tokens = [backend.replace_if_unchanged(path, b"0", None)]
        for i in range(1, 5):
            tokens.append(backend.replace_if_unchanged(path, str(i).encode(), tokens[-1]))
            assert backend.read_with_token(path) == (str(i).encode(), tokens[-1])
        assert len(set(tokens)) == len(tokens)

    def test_sha256_tokens_are_the_content_digest(self, opened: tuple[Backend, str]) -> None:
        """A backend that says its tokens are SHA-256 digests gives exactly those.

        The manifest index cache trusts such a token as the digest of what was read; on any
        other backend the manifest store hashes the text itself.
        """
        backend, base = opened
        path = backend.join(base, "manifest.json")
        store = ManifestStore(path, backend=backend)
        digest = hashlib.sha256(b"[1, 2]").hexdigest()
        written = backend.replace_if_unchanged(path, b"[1, 2]", None)
        assert store._digest(b"[1, 2]", written) == digest
        assert store._digest(*backend.read_with_token(path)) == digest

    def test_replace_of_a_deleted_file_is_stale(self, opened: tuple[Backend, str]) -> None:
        """A token of a file deleted since is stale; the file is not recreated."""
        backend, base = opened
        path = backend.join(base, "manifest.json")
        token = backend.replace_if_unchanged(path, b"one", None)
        backend.delete(path)
        with pytest.raises(StaleTokenError):
            backend.replace_if_unchanged(path, b"two", token)
        assert not backend.exists(path)

    def test_replace_under_thread_contention(self, opened: tuple[Backend, str]) -> None:
        """Threads appending with compare-and-swap lose no update."""
        backend, base = opened
        backend.replace_if_unchanged(backend.join(base, "log.json"), b"[]", None)
        target_url = base
        barrier = threading.Barrier(self.workers)
        errors: list[BaseException] = []

        def run(worker: int) -> None:
            barrier.wait()
            try:
                append_with(backend, target_url, "log.json", worker, self.rounds)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(self.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors
        entries = json.loads(backend.read_bytes(backend.join(base, "log.json")))
        expected = {f"{w}-{i}" for w in range(self.workers) for i in range(self.rounds)}
        assert sorted(entries) == sorted(expected)

    def test_replace_under_process_contention(
        self, backend_target: BackendTarget, opened: tuple[Backend, str]
    ) -> None:
        """Processes appending with compare-and-swap lose no update."""
        backend, base = opened
        backend.replace_if_unchanged(backend.join(base, "log.json"), b"[]", None)
        self._processes(
            [
                (append_entries, (backend_target, "log.json", worker, self.rounds))
                for worker in range(self.workers)
            ]
        )
        entries = json.loads(backend.read_bytes(backend.join(base, "log.json")))
        expected = {f"{w}-{i}" for w in range(self.workers) for i in range(self.rounds)}
        assert sorted(entries) == sorted(expected)
