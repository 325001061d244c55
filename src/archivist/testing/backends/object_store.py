"""What an object store adds to the backend contract: conditional writes, probed once.

:class:`ObjectStoreConformanceTests` checks an
:class:`~archivist.storage.object_store.ObjectStoreBackend`: a store that ignores
conditional writes is refused, single-writer mode works without them, and the probe runs
once per scope and is remembered across processes.
"""

from __future__ import annotations

import contextlib
import logging
import re
from typing import Any

import pytest

from archivist._backends import _conditional, _probes
from archivist._backends.base import Backend
from archivist._backends.object_store import ObjectStoreBackend
from archivist.errors import StaleTokenError, StorageError
from archivist.repository import Repository
from archivist.testing.backends._target import BackendTarget
from archivist.testing.backends.conformance import BackendConformanceTests

__all__ = ["ObjectStoreConformanceTests"]


def _in_probe_order(absent: list[bool]) -> list[bool]:
    """Return the probe's uploads (``True``: only if absent), its two concurrent ones sorted."""
    return [*absent[:1], *sorted(absent[1:3]), *absent[3:]]


class ObjectStoreConformanceTests(BackendConformanceTests):
    """The contract, plus what an :class:`~archivist.storage.object_store.ObjectStoreBackend` adds.

    On top of :class:`BackendConformanceTests`: a store that ignores conditional writes is
    refused (the probe), single-writer mode works without them, and the probe runs once per
    :meth:`~archivist.Backend.conditional_write_scope`. The stores that ignore conditions
    are simulated by subclasses of the tested backend whose ``put_if`` sends none.
    """

    @pytest.fixture
    def store_class(self, opened: tuple[Backend, str]) -> type[ObjectStoreBackend]:
        """Return the tested backend's class (an ObjectStoreBackend subclass)."""
        backend_class = type(opened[0])
        assert issubclass(backend_class, ObjectStoreBackend)
        return backend_class

    @pytest.fixture(autouse=True)
    def private_probe_memory(
        self, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Remember passed probes in a folder of this test, not in the user's cache folder."""
        folder = tmp_path_factory.mktemp("archivist-cache")
        monkeypatch.setenv(_probes.CACHE_DIR_ENV, str(folder))

    @staticmethod
    def _counting(
        store_class: type[ObjectStoreBackend], sent: list[str | None]
    ) -> type[ObjectStoreBackend]:
        def put_if(self: ObjectStoreBackend, path: str, data: bytes, token: str | None) -> str:
            sent.append(token)
            return store_class.put_if(self, path, data, token)

        return type(f"Counting{store_class.__name__}", (store_class,), {"put_if": put_if})

    @staticmethod
    def _ignoring(store_class: type[ObjectStoreBackend]) -> type[ObjectStoreBackend]:
        def put_if(self: ObjectStoreBackend, path: str, data: bytes, token: str | None) -> str:
            return self.put_unconditionally(path, data)

        return type(f"Ignoring{store_class.__name__}", (store_class,), {"put_if": put_if})

    def test_a_store_that_ignores_conditions_is_refused(
        self,
        backend_target: BackendTarget,
        opened: tuple[Backend, str],
        store_class: type[ObjectStoreBackend],
    ) -> None:
        """Without single-writer mode, no write reaches a store that ignores conditions."""
        backend, base = opened
        ignoring = self._ignoring(store_class)(**backend_target.storage_options)
        with pytest.raises(StorageError, match="single_writer=True"):
            ignoring.replace_if_unchanged(backend.join(base, "repository.json"), b"[]", None)
        with pytest.raises(StorageError, match=re.escape(f"ignores {store_class.conditions}")):
            ignoring.write_if_absent(backend.join(base, "model", "v0.json"), b"{}")
        assert list(backend.list(base)) == []  # nothing written, the probe cleaned up

    def test_single_writer_mode_works_without_conditions(
        self,
        backend_target: BackendTarget,
        opened: tuple[Backend, str],
        store_class: type[ObjectStoreBackend],
    ) -> None:
        """With ``single_writer=True`` the token is checked before each plain write."""
        backend, base = opened
        options = dict(backend_target.storage_options)
        single = self._ignoring(store_class)(single_writer=True, **options)
        assert "single_writer" not in single.storage_options
        path = backend.join(base, "repository.json")
        token = single.replace_if_unchanged(path, b"[1]", None)
        with pytest.raises(StaleTokenError):
            single.replace_if_unchanged(path, b"[2]", None)
        token = single.replace_if_unchanged(path, b"[2]", token)
        with pytest.raises(StaleTokenError):
            single.replace_if_unchanged(path, b"[3]", single.stale_token(token))
        assert single.read_with_token(path) == (b"[2]", token)
        single.write_if_absent(backend.join(base, "a.bin"), b"a")
        with pytest.raises(FileExistsError):
            single.write_if_absent(backend.join(base, "a.bin"), b"b")
        assert not any(".archivist-probe" in p for p in backend.list(base))

        url = backend_target.url.rstrip("/") + "/single/repository.json"
        repository = Repository(url, mode="w", single_writer=True, **options)
        repository.log_artifact(name="features", value=[1], handler="json")
        repository.save()
        assert Repository(url, mode="r", **options).load_artifact("features") == [1]

    def test_the_probe_runs_once_per_scope(
        self,
        backend_target: BackendTarget,
        opened: tuple[Backend, str],
        store_class: type[ObjectStoreBackend],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """The first write probes (three conditional uploads, logged); later ones, no more."""
        backend, base = opened
        sent: list[str | None] = []
        counting = self._counting(store_class, sent)
        first = counting(**backend_target.storage_options)
        second = counting(**backend_target.storage_options)
        with caplog.at_level(logging.INFO, logger="archivist"):
            first.write_if_absent(backend.join(base, "one"), b"1")
        assert _in_probe_order([token is None for token in sent]) == [True, False, True]
        assert f"the store enforces {store_class.conditions}" in caplog.text
        sent.clear()
        second.write_if_absent(backend.join(base, "two"), b"2")
        with contextlib.suppress(StaleTokenError):
            second.replace_if_unchanged(backend.join(base, "two"), b"3", None)
        assert sent == [None]

    def test_a_passed_probe_is_remembered_across_processes(
        self,
        backend_target: BackendTarget,
        opened: tuple[Backend, str],
        store_class: type[ObjectStoreBackend],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A later process skips the probe; ``reprobe=True`` or a corrupt record forces it."""
        backend, base_path = opened
        options = backend_target.storage_options
        sent: list[str | None] = []
        counting = self._counting(store_class, sent)
        probe = [True, False, True]  # the probe: absent, then at once stale and absent again

        def fresh_process_writes(name: str, **extra: Any) -> list[bool]:
            monkeypatch.setattr(_conditional, "_PROBED", set())  # what this process probed: nothing
            sent.clear()
            counting(**extra, **options).replace_if_unchanged(
                backend.join(base_path, name), b"1", None
            )
            return _in_probe_order([token is None for token in sent])

        assert fresh_process_writes("one") == [*probe, True]
        assert fresh_process_writes("two") == [True]  # remembered: no probe
        assert fresh_process_writes("three", reprobe=True) == [*probe, True]
        with open(_probes.cache_file(), "wb") as stream:
            stream.write(b"{not json")
        assert fresh_process_writes("four") == [*probe, True]  # corrupt: probed again
        assert fresh_process_writes("five") == [True]
        ignoring = self._ignoring(store_class)(**options)
        monkeypatch.setattr(_conditional, "_PROBED", set())
        with pytest.raises(StorageError, match="single_writer=True"):  # refusals never remembered
            ignoring.replace_if_unchanged(backend.join(base_path, "six"), b"6", None)
        with pytest.raises(StorageError, match="single_writer=True"):
            ignoring.replace_if_unchanged(backend.join(base_path, "six"), b"6", None)
        assert not ignoring.known_to_enforce_conditions(backend.join(base_path, "six"))
