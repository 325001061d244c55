"""archivist-gcs: keep archivist repositories in Google Cloud Storage.

Installing the distribution is enough: it registers :class:`GCSBackend` for ``gs://`` and
``gcs://`` URLs through the ``archivist`` entry point group::

    from archivist import Repository

    repository = Repository("gs://bucket/team/repository.json", mode="a", project="my-project")
"""

from __future__ import annotations

from archivist_gcs.backend import GCSBackend

__all__ = ["GCSBackend"]
