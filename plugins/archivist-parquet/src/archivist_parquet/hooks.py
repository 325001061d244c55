"""Register the ``parquet`` handler with archivist (entry point ``archivist: parquet``)."""

from __future__ import annotations

from collections.abc import Sequence

from archivist import Handler, hookimpl
from archivist_parquet._handler import ParquetHandler


@hookimpl
def archivist_register_handlers() -> Sequence[type[Handler]]:
    """Return the ``parquet`` handler."""
    return [ParquetHandler]
