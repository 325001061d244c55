"""lazyscribe's how-to "Log non-global metrics" (docs/how-to/tests.rst), import changed only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lazyscribe import Project as LazyscribeProject


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_tests_guide(in_tmp: Path) -> None:
    from archivist import Project

    project = Project(fpath="project.json", mode="w")

    with project.log(name="My experiment") as exp:  # noqa: SIM117 - the guide's code as written
        with exp.log_test(name="My test", description="Demo test") as test:
            test.log_metric("metric", 0.3)

    from archivist import Test

    with project.log(name="My experiment") as exp:
        test = Test(name="My test", description="Demo test")
        test.log_metric("metric", 0.3)
        exp.tests.append(test)

    project.save()
    stored = json.loads((in_tmp / "project.json").read_text())
    expected = {
        "name": "My test",
        "description": "Demo test",
        "metrics": {"metric": 0.3},
        "parameters": {},
        "artifacts": [],
    }
    assert [entry["tests"] for entry in stored] == [[expected], [expected]]
    lazy = LazyscribeProject("project.json", mode="r")
    assert [e.tests[0].metrics for e in lazy.experiments] == [{"metric": 0.3}] * 2


def test_appended_test_artifacts_go_to_the_test_folder(in_tmp: Path) -> None:
    from archivist import Project, Test

    project = Project(fpath="project.json", mode="w")
    with project.log(name="My experiment") as exp:
        test = Test(name="My test", description="Demo test")
        test.log_artifact("sample", [1, 2], handler="json")
        exp.tests.append(test)
    project.save()
    assert test.path == exp.path / "my-test"
    assert (in_tmp / exp.slug / "my-test").is_dir()
    reread = Project("project.json", mode="r")["my-experiment"].tests[0]
    assert reread.load_artifact("sample") == [1, 2]
    lazy = LazyscribeProject("project.json", mode="r")["my-experiment"].tests[0]
    assert lazy.load_artifact("sample") == [1, 2]
    assert reread.path == lazy.path
