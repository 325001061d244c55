"""``import archivist`` stays light: experiment tracking and plugin discovery load on use."""

from __future__ import annotations

import subprocess
import sys

import pytest

import archivist


def _run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return result.stdout.strip()


def test_import_loads_no_experiment_module_and_scans_no_plugin() -> None:
    loaded = _run(
        "import sys, archivist\n"
        "from archivist.plugin import manager\n"
        "print(sorted(m for m in sys.modules if m in {'archivist.experiment', "
        "'archivist.project', 'archivist.test', 'archivist._tracking.tracked'}))\n"
        "print(manager._PLUGINS._loaded)\n"
    )
    assert loaded.splitlines() == ["[]", "False"]


def test_lazy_names_load_on_first_use() -> None:
    from archivist import Experiment, Project
    from archivist.experiment import Experiment as Direct

    assert Experiment is Direct
    assert Project.__module__ == "archivist.project"
    assert {"Experiment", "Project", "__version__"} <= set(dir(archivist))
    assert isinstance(archivist.__version__, str)
    assert _run("import archivist; print(archivist.Project.__name__)") == "Project"


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        archivist.NoSuchThing  # noqa: B018
