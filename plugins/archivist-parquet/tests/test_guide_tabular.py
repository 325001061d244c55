"""lazyscribe's "Represent the project as a table" guide (docs/how-to/tabular.rst).

lazyscribe 2.2 removed ``to_tabular``; the guide sends users to ``lazyscribe-arrow``:
``to_table(project)`` returns a ``pyarrow.Table``, usable with pandas and friends. The real
``lazyscribe_arrow.interchange.to_table`` gives the same table for an archivist project or
repository as for lazyscribe's (plus archivist's ``sha256`` and ``size`` columns for a
repository). Data frames themselves are versioned with the ``parquet`` handler.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import lazyscribe
import pandas as pd
import pyarrow as pa
from lazyscribe_arrow.interchange import to_table

import archivist

#: Columns whose values differ between two runs (times, and names made of them).
VOLATILE = {"created_at", "last_updated", "slug", "fname"}


def fill_project(lib: Any, path: Path) -> Any:
    project = lib.Project(str(path), mode="w")
    with project.log("My experiment") as exp:
        exp.log_metric("auroc", 0.5)
        exp.log_parameter("algorithm", "lightgbm")
    project.save()
    return lib.Project(str(path), mode="r")


def fill(lib: Any, path: Path) -> Any:
    repository = lib.Repository(str(path), mode="w")
    repository.log_artifact(name="features", value=["age", "income"], handler="json")
    repository.log_artifact(name="model", value={"w": 1}, handler="pickle")
    repository.save()
    return lib.Repository(str(path), mode="r")


def test_the_guide_s_project_table(tmp_path: Path) -> None:
    # the guide's code, import changed only
    project = fill_project(archivist, tmp_path / "ours" / "project.json")
    table: pa.Table = to_table(project)
    frame = table.to_pandas()
    assert list(frame["name"]) == ["My experiment"]
    theirs = to_table(fill_project(lazyscribe, tmp_path / "theirs" / "project.json"))
    assert table.schema == theirs.schema
    shared = sorted(set(table.column_names) - VOLATILE)
    assert table.select(shared).to_pylist() == theirs.select(shared).to_pylist()


def test_the_same_table_as_lazyscribe(tmp_path: Path) -> None:
    theirs = to_table(fill(lazyscribe, tmp_path / "theirs" / "repository.json"))
    ours = to_table(fill(archivist, tmp_path / "ours" / "repository.json"))
    assert set(ours.column_names) == set(theirs.column_names) | {"sha256", "blake3", "size"}
    shared = sorted(set(theirs.column_names) - {"fname", "created_at"})
    assert ours.select(shared).to_pylist() == theirs.select(shared).to_pylist()
    assert ours.schema.field("created_at").type == theirs.schema.field("created_at").type
    frame = ours.to_pandas()
    assert list(frame["name"]) == ["features", "model"]


def test_a_data_frame_versioned_with_parquet(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    frame = pd.DataFrame({"auc": [0.7, 0.8], "model": ["svc", "tree"]})
    repository = archivist.Repository(str(path), mode="w")
    repository.log_artifact(name="scores", value=frame, handler="parquet")
    repository.save()
    time.sleep(0.001)
    loaded = archivist.Repository(str(path), mode="r").load_artifact("scores")
    pd.testing.assert_frame_equal(loaded, frame)
    assert archivist.Repository(str(path), mode="r")["scores"].fname.endswith(".parquet")
