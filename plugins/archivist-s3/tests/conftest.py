"""Fixtures for the S3 backend's tests: moto's S3 server and a fresh bucket per test."""

from __future__ import annotations

import os

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from typing import Any

import pytest
from s3fs import S3FileSystem

from archivist.testing.emulators import (
    Emulator,
    private_archivist_cache,
    s3_emulator,
    unique_bucket_name,
)

__all__ = ["private_archivist_cache", "s3_emulator"]


@pytest.fixture
def s3_options(s3_emulator: Emulator) -> dict[str, Any]:
    """Storage options for the emulator: endpoint and explicit test credentials."""
    return dict(s3_emulator.storage_options)


@pytest.fixture
def s3_bucket(s3_options: dict[str, Any]) -> str:
    """A new, empty bucket on the emulator."""
    name = unique_bucket_name("s3")
    S3FileSystem(skip_instance_cache=True, **s3_options).mkdir(name)
    return name
