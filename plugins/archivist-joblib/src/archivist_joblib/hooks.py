"""Register the ``joblib`` handler with archivist (entry point ``archivist: joblib``)."""

from __future__ import annotations

from collections.abc import Sequence

from archivist import Handler, hookimpl
from archivist_joblib._handler import JoblibHandler


@hookimpl
def archivist_register_handlers() -> Sequence[type[Handler]]:
    """Return the ``joblib`` handler."""
    return [JoblibHandler]
