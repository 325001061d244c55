"""DEBUG records of storage requests: one per call a user of a backend makes.

Every :class:`~archivist.Backend` subclass gets its request methods (reads, writes, listing,
deletes) wrapped once, when the class is made, so a record is logged to the
``archivist.storage`` logger at DEBUG for each, naming the backend, the method and the path,
whatever the backend. A method that calls another (``read_bytes`` through
``read_with_token``) logs once, for the outer call. With DEBUG off a call costs one level
check.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["REQUEST_METHODS", "log_requests"]

logger = logging.getLogger("archivist.storage")

#: The backend methods that send requests to the storage, each taking a path first.
REQUEST_METHODS = frozenset(
    {
        "read_with_token",
        "replace_if_unchanged",
        "open_new",
        "read_if_changed",
        "current_token",
        "write_if_absent",
        "read_bytes",
        "open_read",
        "read_at_most",
        "open_regular",
        "exists",
        "list",
        "delete",
        "discard",
        "modified",
    }
)
_inside = threading.local()


def log_requests(cls: type) -> None:
    """Wrap the request methods ``cls`` itself defines so that each call is logged.

    Parameters
    ----------
    cls : type
        A backend class.
    """
    for name in REQUEST_METHODS:
        method = cls.__dict__.get(name)
        if callable(method) and not getattr(method, "_logs_requests", False):
            setattr(cls, name, _logged(name, method))


def _logged(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def logged(self: Any, path: str, *args: Any, **kwargs: Any) -> Any:
        if getattr(_inside, "call", False) or not logger.isEnabledFor(logging.DEBUG):
            return method(self, path, *args, **kwargs)
        logger.debug("%s %s %s", type(self).__name__, name, path)
        _inside.call = True
        try:
            return method(self, path, *args, **kwargs)
        finally:
            _inside.call = False

    logged._logs_requests = True  # type: ignore[attr-defined]
    return logged
