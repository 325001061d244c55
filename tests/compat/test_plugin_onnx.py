"""lazyscribe-onnx next to archivist's core: the same code under both libraries.

The model is a one-node graph built with ``onnx.helper`` in the test (no model hub). A
model lazyscribe wrote has no digest: archivist hands the handler the stored file itself,
and ``onnx.load`` reads that stream's ``name`` (to pick a format from the extension, and
the folder of external data); it must be a path, as in lazyscribe, or absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lazyscribe
import onnx
import pytest
from onnx import TensorProto, helper

import archivist
from archivist.errors import ArchivistWarning

LIBRARIES = (lazyscribe, archivist)


def tiny_model() -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "tiny", [x], [y])
    model = helper.make_model(graph, producer_name="archivist-tests")
    onnx.checker.check_model(model)
    return model


def loaded_by(reader: Any, writer: Any, stored: Any) -> Any:
    if reader is archivist and writer is lazyscribe:  # no digest; the handler may run code
        with pytest.warns(ArchivistWarning, match="no recorded digest"):
            return stored.load_artifact("model")
    return stored.load_artifact("model")


@pytest.mark.parametrize("writer", LIBRARIES, ids=lambda lib: lib.__name__)
def test_a_repository_model_loads_in_both(tmp_path: Path, writer: Any) -> None:
    path = tmp_path / "repository.json"
    repository = writer.Repository(str(path), mode="w")
    repository.log_artifact(name="model", value=tiny_model(), handler="onnx")
    repository.save()
    (record,) = json.loads(path.read_text())
    assert record["fname"].endswith(".onnx")
    for reader in LIBRARIES:
        stored = reader.Repository(str(path), mode="r")
        model = loaded_by(reader, writer, stored)
        assert isinstance(model, onnx.ModelProto)
        assert model == tiny_model(), reader.__name__


@pytest.mark.parametrize("writer", LIBRARIES, ids=lambda lib: lib.__name__)
def test_an_experiment_model_loads_in_both(tmp_path: Path, writer: Any) -> None:
    path = tmp_path / "project.json"
    project = writer.Project(str(path), mode="w")
    with project.log("export") as exp:
        exp.log_artifact(name="model", value=tiny_model(), handler="onnx")
    project.save()
    for reader in LIBRARIES:
        experiment = reader.Project(str(path), mode="r")["export"]
        model = loaded_by(reader, writer, experiment)
        assert model == tiny_model(), reader.__name__


def test_both_write_the_same_file(tmp_path: Path) -> None:
    files = []
    for lib in LIBRARIES:
        path = tmp_path / lib.__name__ / "repository.json"
        repository = lib.Repository(str(path), mode="w")
        repository.log_artifact(name="model", value=tiny_model(), handler="onnx")
        repository.save()
        (record,) = json.loads(path.read_text())
        files.append((path.parent / "model" / record["fname"]).read_bytes())
    assert files[0] == files[1]
