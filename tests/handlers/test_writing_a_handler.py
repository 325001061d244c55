"""docs/writing-a-handler.md stays true: its examples run, and its handler passes the suite.

Blocks that start with a ``# path`` comment (``# pyproject.toml``, ``# src/...``,
``# tests/...``) are the files of the plugin package the guide builds: they are written to a
folder, the package is imported from there, and its test module is collected here. The other
Python blocks run in order in one namespace, as a user would paste them.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import archivist
from archivist.testing import HandlerConformanceTests

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "writing-a-handler.md"
FENCE = re.compile(r"```(python|toml)\n(.*?)```", re.DOTALL)
FILE_COMMENT = re.compile(r"# ([\w./-]+\.(?:py|toml))\n")
#: The modules of the guide's plugin package, imported once for the whole test session.
PACKAGE_MODULES = ("my_formats", "my_formats.csv_rows", "my_formats.hooks")


def _files() -> dict[str, str]:
    files = {}
    for _, block in FENCE.findall(GUIDE.read_text()):
        found = FILE_COMMENT.match(block)
        if found:
            files[found.group(1)] = block
    return files


def _run_guide() -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "writing_a_handler"}
    blocks = [b for kind, b in FENCE.findall(GUIDE.read_text()) if kind == "python"]
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        try:
            for block in blocks:
                if not FILE_COMMENT.match(block):
                    exec(compile(block, str(GUIDE), "exec"), namespace)
        finally:
            os.chdir(cwd)
            archivist.unregister(namespace["CSVRows"])
    return namespace


def _build_package() -> dict[str, Any]:
    """Write the guide's package, import it and its test module, and remove the folder.

    The modules stay imported, so nothing needs the folder afterwards, and the suite leaves
    nothing behind in the system's temporary folder.
    """
    with tempfile.TemporaryDirectory(prefix="archivist-guide-plugin-") as folder:
        project = Path(folder)
        for name, text in _files().items():
            path = project / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        (project / "src" / "my_formats" / "__init__.py").write_text("")
        sys.path.insert(0, str(project / "src"))
        try:
            for module in PACKAGE_MODULES:
                importlib.import_module(module)
            namespace: dict[str, Any] = {"__name__": "test_csv_rows"}
            code = (project / "tests" / "test_csv_rows.py").read_text()
            exec(compile(code, "tests/test_csv_rows.py", "exec"), namespace)
        finally:
            sys.path.remove(str(project / "src"))
    return namespace


GUIDE_NAMESPACE = _run_guide()
PACKAGE_NAMESPACE = _build_package()

#: The guide's conformance test class, collected here: the guide's handler keeps the contract.
TestGuideCSVRows: type[HandlerConformanceTests] = PACKAGE_NAMESPACE["TestCSVRows"]


def test_the_package_is_complete() -> None:
    files = _files()
    assert set(files) == {
        "pyproject.toml",
        "src/my_formats/csv_rows.py",
        "src/my_formats/hooks.py",
        "tests/test_csv_rows.py",
    }
    project = tomllib.loads(files["pyproject.toml"])
    assert project["build-system"]["build-backend"] == "hatchling.build"
    assert project["project"]["version"] and project["project"]["name"] == "my-formats"
    [(alias, target)] = project["project"]["entry-points"]["archivist"].items()
    assert alias == "csv-rows"
    assert target in PACKAGE_MODULES
    assert set(files) >= {f"src/{module.replace('.', '/')}.py" for module in PACKAGE_MODULES[1:]}


def test_the_package_hooks_register_the_handler() -> None:
    hooks = importlib.import_module("my_formats.hooks")
    name = archivist.register(hooks)
    try:
        assert archivist.get_handler("csv-rows").__module__ == "my_formats.csv_rows"
    finally:
        archivist.unregister(name)


def test_guide_shows_each_step() -> None:
    text = GUIDE.read_text()
    for needle in (
        "archivist.register(CSVRows)",
        "[project.entry-points.archivist]",
        "@hookimpl",
        "HandlerConformanceTests",
        'pytest_plugins = ["archivist.testing"]',
        "plugins/archivist-plugin-example/",
    ):
        assert needle in text, needle


def test_guide_registration_did_not_leak() -> None:
    assert "csv-rows" not in archivist.handlers()


def test_versioned_handler_records_its_environment() -> None:
    handler = GUIDE_NAMESPACE["VersionedCSVRows"]()
    metadata = handler.metadata([["a"], ["b"]])
    assert metadata == {"archivist_version": archivist.__version__, "rows": 2}
    assert handler.mismatches({"archivist_version": "0.0.1"}) != []
