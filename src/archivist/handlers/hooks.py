"""Register the built-in handlers through the same hook third-party plugins use."""

from __future__ import annotations

from collections.abc import Sequence

from archivist.handlers._json import JSONHandler
from archivist.handlers._pickle import PickleHandler
from archivist.handlers.base import Handler
from archivist.plugin import hookimpl


@hookimpl
def archivist_register_handlers() -> Sequence[type[Handler]]:
    """Return the built-in ``json`` and ``pickle`` handlers."""
    return [JSONHandler, PickleHandler]
