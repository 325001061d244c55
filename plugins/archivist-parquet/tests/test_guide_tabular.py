"""lazyscribe's "Represent the project as a table" guide, repository part.

lazyscribe 2.2 removed ``to_tabular``; the guide sends users to ``lazyscribe-arrow``, whose
``to_table(repository)`` is ``pyarrow.Table.from_pylist(list(repository))`` with
``created_at`` made a UTC timestamp. That recipe (to the microsecond) gives the
same table from an archivist repository as from lazyscribe's (plus archivist's ``sha256`` and
``size`` columns). Data frames themselves are versioned with the ``parquet`` handler.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import lazyscribe
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

import archivist


def to_table(repository: Any) -> pa.Table:
    """lazyscribe-arrow's recipe for a repository, with microsecond timestamps.

    archivist records ``created_at`` with microseconds (a documented difference), so the
    column is cast to ``timestamp("us")`` where lazyscribe-arrow casts to seconds.
    """
    rows = list(repository)
    columns = sorted({key for row in rows for key in row})
    table = pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows])
    index = table.column_names.index("created_at")
    stamps = pc.assume_timezone(table.column("created_at").cast(pa.timestamp("us")), "UTC")
    return table.set_column(index, pa.field("created_at", pa.timestamp("us", tz="UTC")), stamps)


def fill(lib: Any, path: Path) -> Any:
    repository = lib.Repository(str(path), mode="w")
    repository.log_artifact(name="features", value=["age", "income"], handler="json")
    repository.log_artifact(name="model", value={"w": 1}, handler="pickle")
    repository.save()
    return lib.Repository(str(path), mode="r")


def test_the_same_table_as_lazyscribe(tmp_path: Path) -> None:
    theirs = to_table(fill(lazyscribe, tmp_path / "theirs" / "repository.json"))
    ours = to_table(fill(archivist, tmp_path / "ours" / "repository.json"))
    assert set(ours.column_names) == set(theirs.column_names) | {"sha256", "size"}
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
