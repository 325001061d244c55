"""Register the ``s3`` backend with archivist (the ``archivist`` entry point of archivist-s3)."""

from __future__ import annotations

from collections.abc import Sequence

from archivist import Backend, hookimpl
from archivist_s3.backend import S3Backend


@hookimpl
def archivist_register_backends() -> Sequence[type[Backend]]:
    """Return the S3 backend, serving ``s3://`` and ``s3a://`` URLs."""
    return [S3Backend]
