"""archivist-parquet: the ``parquet`` handler for archivist repositories.

The handler is found through the ``archivist`` entry point group; import it from here only to
subclass it or to name it in tests.
"""

from __future__ import annotations

from archivist_parquet._handler import KIND_METADATA_KEY, ParquetHandler

__all__ = ["KIND_METADATA_KEY", "ParquetHandler"]
