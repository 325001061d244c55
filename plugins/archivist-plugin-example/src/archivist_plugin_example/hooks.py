"""The module the ``archivist`` entry point names: it implements the registration hook."""

from __future__ import annotations

from collections.abc import Sequence

from archivist import Handler, hookimpl
from archivist_plugin_example._handler import LinesHandler


@hookimpl
def archivist_register_handlers() -> Sequence[type[Handler]]:
    """Return the ``example-lines`` handler."""
    return [LinesHandler]
