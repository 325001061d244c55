"""archivist.errors: each native error's base says what went wrong; lazyscribe's names are
the native classes of the same meaning (archivist.exception)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

import archivist.exception
from archivist import Project, Repository, errors
from archivist.errors import (
    ArchivistError,
    DecodingError,
    EncodingError,
    LoadError,
    SerializationError,
    StorageError,
    StorageWriteError,
    WriteError,
)


def url() -> str:
    return f"archfail://{uuid.uuid4().hex}/repository.json"


def test_a_storage_failure_while_reading_is_not_a_write_error(
    failing: Any,
) -> None:
    location = url()
    writer = Repository(location, mode="w", single_writer=True)
    # a value of its own: a cached copy of the same bytes would be read instead
    writer.log_artifact(name="features", value=[uuid.uuid4().hex], handler="json")
    writer.save()
    failing.fail = "read"
    with pytest.raises(StorageError, match="on fire") as info:
        Repository(location, mode="r").load_artifact("features")
    assert isinstance(info.value, OSError)
    assert not isinstance(info.value, WriteError)
    assert not isinstance(info.value, archivist.exception.SaveError)


def test_a_storage_failure_while_writing_is_lazyscribe_s_save_error(
    failing: Any,
) -> None:
    failing.fail = "write"
    repository = Repository(url(), mode="w", single_writer=True)
    repository.log_artifact(name="features", value=[1], handler="json")
    with pytest.raises(StorageWriteError, match="on fire") as info:
        repository.save()
    assert isinstance(info.value, StorageError)
    assert isinstance(info.value, OSError)
    assert isinstance(info.value, archivist.exception.SaveError)


def test_a_handler_that_cannot_read_fails_the_load_not_a_save(tmp_path: Path) -> None:
    repository = Repository(tmp_path / "repository.json", mode="w")
    repository.log_artifact(name="features", value=[1], handler="json")
    repository.save()
    with pytest.raises(DecodingError, match="could not read") as info:
        repository.load_artifact("features", no_such_option=1)
    assert isinstance(info.value, SerializationError)  # as the handler kits expect
    assert isinstance(info.value, archivist.exception.ArtifactLoadError)
    assert not isinstance(info.value, archivist.exception.SaveError)


def test_a_handler_that_cannot_read_fails_an_experiment_s_load_alike(tmp_path: Path) -> None:
    project = Project(tmp_path / "project.json", mode="w")
    with project.log("run") as exp:
        exp.log_artifact("features", [1], handler="json")
    project.save()
    saved = Project(tmp_path / "project.json", mode="r")["run"]
    with pytest.raises(DecodingError):
        saved.load_artifact("features", no_such_option=1)


def test_a_value_that_cannot_be_written_is_a_save_error(tmp_path: Path) -> None:
    repository = Repository(tmp_path / "repository.json", mode="w")
    repository.log_artifact(name="features", value={1, 2}, handler="json")
    with pytest.raises(EncodingError) as info:
        repository.save()
    assert isinstance(info.value, SerializationError)
    assert isinstance(info.value, archivist.exception.SaveError)
    assert not isinstance(info.value, LoadError)


def test_lazyscribe_s_names_are_the_native_classes_of_their_meaning() -> None:
    assert archivist.exception.LazyscribeError is ArchivistError
    assert archivist.exception.SaveError is WriteError
    assert archivist.exception.ArtifactLoadError is LoadError
    assert archivist.exception.ArtifactLogError is errors.LogError
    assert archivist.exception.ArtifactError is errors.ArtifactError
    # the native tree does not carry lazyscribe's names
    for name in ("SaveError", "ArtifactLoadError", "ArtifactLogError"):
        assert not hasattr(errors, name)


@pytest.mark.parametrize("name", errors.__all__)
def test_every_native_error_roots_at_archivist_error(name: str) -> None:
    cls = getattr(errors, name)
    assert issubclass(cls, ArchivistError) or name == "ArchivistWarning"
    assert cls.__module__ == "archivist.errors"
