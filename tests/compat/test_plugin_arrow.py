"""lazyscribe-arrow next to archivist's core: the same code under both libraries.

``lazyscribe_arrow.interchange.to_table`` gives the same pyarrow Table for an archivist
project or repository as for lazyscribe's (archivist's records add ``sha256``, ``size`` and,
when archivist wrote the file, ``blake3``), whichever of archivist and lazyscribe-arrow is
imported first. Its handlers: ``csv`` is lazyscribe-arrow's alone. With archivist's core alone
(the ``lazyscribe_plugins`` session) ``parquet`` is lazyscribe-arrow's too, found through its
entry point, and these tests use it as it is; where archivist-parquet is installed too (the
full test run), that one wins, and these tests choose lazyscribe-arrow's as its user would,
with ``archivist.register(..., override=True)`` (see ``_plugins.py``). Files either library
writes load in the other as pyarrow Tables.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lazyscribe
import pyarrow as pa
import pytest
from lazyscribe_arrow import CSVArtifact, ParquetArtifact
from lazyscribe_arrow.interchange import to_table
from tests.compat._plugins import check_alias, check_discovered, lazyscribe_s

import archivist

LIBRARIES = (lazyscribe, archivist)
TABLE = pa.table({"model": ["svc", "tree"], "auc": [0.7, 0.8]})
#: Columns whose values differ between any two runs (times, and names made of them).
VOLATILE = {"created_at", "last_updated", "slug", "fname"}


def library_id(lib: Any) -> str:
    return str(lib.__name__)


def project(lib: Any, path: Path) -> Any:
    written = lib.Project(str(path), mode="w", author="ada")
    with written.log("baseline") as exp:
        exp.log_metric("auc", 0.7)
        exp.log_parameter("depth", 3)
        exp.tag("first")
    with written.log("tuned") as exp:
        exp.log_metric("auc", 0.8)
        exp.log_parameter("depth", 5)
    written.save()
    return lib.Project(str(path), mode="r")


def repository(lib: Any, path: Path) -> Any:
    written = lib.Repository(str(path), mode="w")
    written.log_artifact(name="features", value=["age", "income"], handler="json")
    written.log_artifact(name="features", value=["age"], handler="json")
    written.log_artifact(name="model", value={"w": 1}, handler="pickle")
    written.save()
    return lib.Repository(str(path), mode="r")


def comparable(table: pa.Table, columns: set[str]) -> list[dict[str, Any]]:
    return table.select(sorted(columns - VOLATILE)).to_pylist()


def test_a_project_table_is_lazyscribe_s(tmp_path: Path) -> None:
    theirs = to_table(project(lazyscribe, tmp_path / "theirs" / "project.json"))
    ours = to_table(project(archivist, tmp_path / "ours" / "project.json"))
    assert isinstance(ours, pa.Table)
    assert ours.schema == theirs.schema
    assert comparable(ours, set(ours.column_names)) == comparable(theirs, set(ours.column_names))
    assert ours.column("created_at").type == pa.timestamp("s", tz="UTC")


def test_a_repository_table_is_lazyscribe_s(tmp_path: Path) -> None:
    theirs = to_table(repository(lazyscribe, tmp_path / "theirs" / "repository.json"))
    ours = to_table(repository(archivist, tmp_path / "ours" / "repository.json"))
    assert isinstance(ours, pa.Table)
    assert set(ours.column_names) == set(theirs.column_names) | {"sha256", "blake3", "size"}
    shared = set(theirs.column_names)
    assert comparable(ours, shared) == comparable(theirs, shared)
    for column in shared:
        assert ours.schema.field(column).type == theirs.schema.field(column).type, column
    assert ours.num_rows == 3


def test_a_repository_lazyscribe_wrote_gives_the_same_table_in_both(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    repository(lazyscribe, path)
    theirs = to_table(lazyscribe.Repository(str(path), mode="r"))
    ours = to_table(archivist.Repository(str(path), mode="r"))
    assert set(ours.column_names) == set(theirs.column_names) | {"sha256", "size"}  # no blake3
    assert ours.select(theirs.column_names).equals(theirs)  # times and file names too


@pytest.mark.parametrize("first", ["archivist", "lazyscribe_arrow.interchange"])
def test_to_table_knows_archivist_whichever_is_imported_first(tmp_path: Path, first: str) -> None:
    path = tmp_path / "repository.json"
    repository(archivist, path)
    script = f"""
import {first}
import archivist
from lazyscribe_arrow.interchange import to_table
table = to_table(archivist.Repository({str(path)!r}, mode="r"))
print(type(table).__name__, table.num_rows)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["Table", "3"]


#: The distribution of the handler classes, and the archivist plugin that claims ``parquet``.
PROVIDER, RIVAL = "lazyscribe-arrow", "archivist-parquet"


@pytest.fixture
def lazyscribe_parquet() -> Iterator[None]:
    """Make ``handler="parquet"`` lazyscribe-arrow's, as its user has it."""
    with lazyscribe_s(ParquetArtifact, PROVIDER, RIVAL):
        yield


def test_parquet_is_lazyscribe_arrow_s_unless_archivist_parquet_is_installed() -> None:
    check_alias("parquet", ParquetArtifact, PROVIDER, RIVAL)


def test_csv_is_lazyscribe_arrow_s() -> None:
    check_discovered(archivist.get_handler("csv"), CSVArtifact, PROVIDER)


@pytest.mark.usefixtures("lazyscribe_parquet")
@pytest.mark.parametrize("alias", ["parquet", "csv"])
@pytest.mark.parametrize("writer", LIBRARIES, ids=library_id)
def test_a_table_loads_in_both(tmp_path: Path, writer: Any, alias: str) -> None:
    path = tmp_path / "repository.json"
    written = writer.Repository(str(path), mode="w")
    written.log_artifact(name="scores", value=TABLE, handler=alias)
    written.save()
    (record,) = json.loads(path.read_text())
    assert record["fname"].endswith(f".{alias}")
    for reader in LIBRARIES:
        stored = reader.Repository(str(path), mode="r")
        if (
            reader is archivist and writer is lazyscribe
        ):  # no digest; code archivist can't vouch for
            with pytest.warns(archivist.ArchivistWarning, match="no recorded digest"):
                loaded = stored.load_artifact("scores")
        else:
            loaded = stored.load_artifact("scores")
        assert isinstance(loaded, pa.Table), reader.__name__
        assert loaded.equals(TABLE), reader.__name__


@pytest.mark.usefixtures("lazyscribe_parquet")
def test_an_experiment_table_loads_in_both(tmp_path: Path) -> None:
    for writer in LIBRARIES:
        path = tmp_path / writer.__name__ / "project.json"
        written = writer.Project(str(path), mode="w")
        with written.log("scores") as exp:
            exp.log_artifact(name="scores", value=TABLE, handler="parquet")
        assert isinstance(exp.artifacts[0], ParquetArtifact)  # the handler object
        written.save()
        for reader in LIBRARIES:
            experiment = reader.Project(str(path), mode="r")["scores"]
            assert isinstance(experiment.artifacts[0], ParquetArtifact), reader.__name__
            if reader is archivist and writer is lazyscribe:
                with pytest.warns(archivist.ArchivistWarning, match="no recorded digest"):
                    loaded = experiment.load_artifact("scores")
            else:
                loaded = experiment.load_artifact("scores")
            assert loaded.equals(TABLE), (writer.__name__, reader.__name__)
