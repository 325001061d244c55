"""Fixtures for the Azure backend's tests: Azurite and a fresh container per test."""

from __future__ import annotations

from typing import Any

import pytest
from adlfs import AzureBlobFileSystem

from archivist.testing.emulators import (
    Emulator,
    azure_emulator,
    private_archivist_cache,
    unique_bucket_name,
)

__all__ = ["azure_emulator", "private_archivist_cache"]


@pytest.fixture
def azure_options(azure_emulator: Emulator) -> dict[str, Any]:
    """Storage options for the emulator: a connection string for its development account."""
    return dict(azure_emulator.storage_options)


@pytest.fixture
def azure_container(azure_options: dict[str, Any]) -> str:
    """A new, empty container on the emulator."""
    name = unique_bucket_name("az")
    AzureBlobFileSystem(skip_instance_cache=True, **azure_options).mkdir(name)
    return name
