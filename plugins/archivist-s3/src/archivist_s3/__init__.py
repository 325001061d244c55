"""archivist-s3: keep archivist repositories in Amazon S3 or an S3-compatible store.

Installing the distribution is enough: it registers :class:`S3Backend` for ``s3://`` and
``s3a://`` URLs through the ``archivist`` entry point group::

    from archivist import Repository

    repository = Repository("s3://bucket/team/repository.json", mode="a", anon=False)
"""

from __future__ import annotations

from archivist_s3.backend import S3Backend

__all__ = ["S3Backend"]
