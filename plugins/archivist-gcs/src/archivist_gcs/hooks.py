"""Register the ``gs`` backend with archivist (the ``archivist`` entry point of archivist-gcs)."""

from __future__ import annotations

from collections.abc import Sequence

from archivist import Backend, hookimpl
from archivist_gcs.backend import GCSBackend


@hookimpl
def archivist_register_backends() -> Sequence[type[Backend]]:
    """Return the GCS backend, serving ``gs://`` and ``gcs://`` URLs."""
    return [GCSBackend]
