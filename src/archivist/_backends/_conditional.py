"""Conditional writes: checking, once, that a store enforces what a backend relies on.

Write-if-absent and compare-and-swap are only as safe as the store's conditional requests.
:class:`ConditionalWrites` is the part of the :class:`~archivist.Backend` interface that
decides whether a write may go ahead: ``single_writer=True`` vouches for one writer; a store
:meth:`~ConditionalWrites.known_to_enforce_conditions` is trusted; any other is probed once
per process and :meth:`~ConditionalWrites.conditional_write_scope`, and a passed probe is
remembered across processes (:mod:`archivist._backends._probes`).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

from archivist._backends import _probes

__all__ = ["ConditionalWrites"]

#: (backend class, scope) pairs whose conditional writes were probed in this process.
_PROBED: set[tuple[type, Hashable]] = set()
_PROBE_LOCK = threading.Lock()


class ConditionalWrites:
    """The conditional-write check every :class:`~archivist.Backend` has.

    Attributes
    ----------
    single_writer : bool
        Set by the ``single_writer=True`` storage option: the user vouches that one process
        at a time writes, so a store without conditional writes may be used.
    reprobe : bool
        Set by the ``reprobe=True`` storage option: probe once in this process even where a
        past probe or the service's reputation vouches for the store.
    """

    single_writer: bool
    reprobe: bool

    def check_conditional_writes(self, path: str) -> None:
        """Check, once per :meth:`conditional_write_scope`, that writes are safe.

        Backends call it before their first write. Unless :attr:`single_writer` is set, it
        runs :meth:`probe_conditional_writes` once per process and scope, and remembers a
        scope that passed in the user's cache folder (see :mod:`archivist._backends._probes`),
        so a later process skips the probe for a week. A store that
        :meth:`known_to_enforce_conditions` is not probed at all. The ``reprobe=True``
        storage option ignores both and probes (once per process).

        Parameters
        ----------
        path : str
            A path about to be written.

        Raises
        ------
        archivist.errors.StorageError
            The store ignores or rejects conditional requests (raised by the probe).
        """
        if self.single_writer:
            return
        scope = self.conditional_write_scope(path)
        key = (type(self), scope)
        if key in _PROBED:
            return
        with _PROBE_LOCK:
            if key in _PROBED:
                return
            if not self.reprobe and (
                self.known_to_enforce_conditions(path) or _probes.remembered(type(self), scope)
            ):
                _PROBED.add(key)
                return
            self.probe_conditional_writes(path)
            _PROBED.add(key)
            _probes.remember(type(self), scope)

    def known_to_enforce_conditions(self, path: str) -> bool:
        """Tell whether the store is a service known to enforce conditional writes.

        Such a store is not probed (unless ``reprobe=True``). Only a backend's own class
        talking to the provider's real endpoint should answer ``True``: emulators, other
        endpoints and subclasses (which may send requests differently) are probed.

        Parameters
        ----------
        path : str
            A path about to be written.

        Returns
        -------
        bool
            ``False`` by default.
        """
        return False

    def conditional_write_scope(self, path: str) -> Hashable:
        """Name what one probe vouches for (for example an endpoint and a bucket).

        Parameters
        ----------
        path : str
            A path about to be written.

        Returns
        -------
        Hashable
            The default, ``None``, means one probe per backend class and process.
        """
        return None

    def probe_conditional_writes(self, path: str) -> None:
        """Make sure the store enforces the conditions the primitives rely on.

        Object-store backends write a probe object beside ``path`` and check that a write
        that must be refused is refused. The default does nothing: local disk and memory
        enforce the conditions themselves.

        Parameters
        ----------
        path : str
            A path about to be written; a probe should go in its folder, so that it needs
            no more permissions than the write itself.

        Raises
        ------
        archivist.errors.StorageError
            The store ignores or rejects conditional requests.
        """
