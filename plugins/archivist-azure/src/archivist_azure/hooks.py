"""Register the ``az`` backend with archivist (the ``archivist`` entry point of archivist-azure)."""

from __future__ import annotations

from collections.abc import Sequence

from archivist import Backend, hookimpl
from archivist_azure.backend import AzureBlobBackend


@hookimpl
def archivist_register_backends() -> Sequence[type[Backend]]:
    """Return the Azure Blob backend, serving ``az://``, ``abfs://`` and ``abfss://`` URLs."""
    return [AzureBlobBackend]
