"""Fixtures for the GCS backend's tests: fake-gcs-server and a fresh bucket per test."""

from __future__ import annotations

import os

# Before gcsfs is imported: otherwise it tries gRPC against the plain-HTTP emulator.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

from typing import Any

import pytest
from gcsfs.core import GCSFileSystem

from archivist.testing.emulators import (
    Emulator,
    gcs_emulator,
    private_archivist_cache,
    unique_bucket_name,
)

__all__ = ["gcs_emulator", "private_archivist_cache"]


@pytest.fixture
def gcs_options(gcs_emulator: Emulator) -> dict[str, Any]:
    """Storage options for the emulator: endpoint and anonymous credentials."""
    return dict(gcs_emulator.storage_options)


@pytest.fixture
def gcs_bucket(gcs_options: dict[str, Any]) -> str:
    """A new, empty bucket on the emulator."""
    name = unique_bucket_name("gcs")
    GCSFileSystem(skip_instance_cache=True, **gcs_options).mkdir(name)
    return name
