"""archivist-azure: keep archivist repositories in Azure Blob Storage.

Installing the distribution is enough: it registers :class:`AzureBlobBackend` for ``az://``,
``abfs://`` and ``abfss://`` URLs through the ``archivist`` entry point group::

    from archivist import Repository

    repository = Repository(
        "az://container/team/repository.json", mode="a", account_name="myaccount"
    )
"""

from __future__ import annotations

from archivist_azure.backend import AzureBlobBackend

__all__ = ["AzureBlobBackend"]
