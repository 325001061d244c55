"""lazyscribe-yaml next to archivist's core: the same code under both libraries.

Both of its aliases, ``yaml`` (PyYAML) and ``yaml12`` (the YAML 1.2 parser), are adapted:
files lazyscribe writes load in archivist and the other way round, byte for byte the same,
in repositories and in projects. They read plain data, so a file without a digest loads
without a trust warning.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lazyscribe
import pytest

import archivist
from archivist.handlers.lazyscribe import LazyscribeHandler

LIBRARIES = (lazyscribe, archivist)
ALIASES = ("yaml", "yaml12")
VALUE = {"features": ["age", "income"], "depth": 3, "rate": 0.5, "nested": {"on": True}}


def library_id(lib: Any) -> str:
    return str(lib.__name__)


@pytest.mark.parametrize("alias", ALIASES)
def test_the_alias_is_lazyscribe_yaml_s(alias: str) -> None:
    handler = archivist.get_handler(alias)
    assert issubclass(handler, LazyscribeHandler)
    assert handler.artifact_class.__module__.startswith("lazyscribe_yaml")
    assert handler.executes_code is False


@pytest.mark.parametrize("writer", LIBRARIES, ids=library_id)
@pytest.mark.parametrize("alias", ALIASES)
def test_a_repository_file_loads_in_both(tmp_path: Path, writer: Any, alias: str) -> None:
    path = tmp_path / "repository.json"
    repository = writer.Repository(str(path), mode="w")
    repository.log_artifact(name="config", value=VALUE, handler=alias)
    repository.save()
    for reader in LIBRARIES:
        assert reader.Repository(str(path), mode="r").load_artifact("config") == VALUE


@pytest.mark.parametrize("writer", LIBRARIES, ids=library_id)
@pytest.mark.parametrize("alias", ALIASES)
def test_an_experiment_file_loads_in_both(tmp_path: Path, writer: Any, alias: str) -> None:
    path = tmp_path / "project.json"
    project = writer.Project(str(path), mode="w")
    with project.log("tune") as exp:
        exp.log_artifact(name="config", value=VALUE, handler=alias)
    project.save()
    for reader in LIBRARIES:
        experiment = reader.Project(str(path), mode="r")["tune"]
        assert experiment.load_artifact("config") == VALUE


@pytest.mark.parametrize("alias", ALIASES)
def test_both_write_the_same_file_and_fields(tmp_path: Path, alias: str) -> None:
    files, records = [], []
    for lib in LIBRARIES:
        path = tmp_path / lib.__name__ / "repository.json"
        repository = lib.Repository(str(path), mode="w")
        repository.log_artifact(name="config", value=VALUE, handler=alias)
        repository.save()
        (record,) = json.loads(path.read_text())
        records.append(record)
        files.append((path.parent / "config" / record["fname"]).read_bytes())
    theirs, ours = records
    assert files[0] == files[1]
    assert set(ours) == set(theirs) | {"sha256", "blake3", "size"}
    assert ours["handler"] == theirs["handler"] == alias
    assert ours["fname"].rsplit(".", 1)[1] == theirs["fname"].rsplit(".", 1)[1]
