"""Every public module and name of lazyscribe 2.2.2 has a counterpart under archivist.

``lazyscribe.X.name`` -> ``archivist.X.name``. The modules checked here are listed in
:data:`CHECKED`; the enumeration of lazyscribe's modules fails when lazyscribe has a public
module that is neither checked nor listed in :data:`NOT_YET_CHECKED` with its owner.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import lazyscribe
import pytest

#: lazyscribe's public modules whose names are checked.
CHECKED = [
    "lazyscribe",
    "lazyscribe.experiment",
    "lazyscribe.project",
    "lazyscribe.test",
    "lazyscribe.artifacts",
    "lazyscribe.artifacts.base",
    "lazyscribe.artifacts.json",
    "lazyscribe.artifacts.pickle",
    "lazyscribe.exception",
    "lazyscribe.linked",
    "lazyscribe.registry",
    "lazyscribe.release",
    "lazyscribe.repository",
]
#: Checked by the Project/Experiment/Test work; widen CHECKED with them once merged.
NOT_YET_CHECKED: list[str] = []


def _public_modules() -> list[str]:
    found = ["lazyscribe"]
    for info in pkgutil.walk_packages(lazyscribe.__path__, "lazyscribe."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            found.append(info.name)
    return sorted(found)


def _public_names(module: ModuleType) -> set[str]:
    names = set(getattr(module, "__all__", ()))
    for name in dir(module):
        if not name.startswith("_"):
            owner = getattr(getattr(module, name), "__module__", None)
            if owner == module.__name__:
                names.add(name)
    return names


def test_every_public_lazyscribe_module_is_accounted_for() -> None:
    assert sorted(CHECKED + NOT_YET_CHECKED) == _public_modules()


@pytest.mark.parametrize("module_name", CHECKED)
def test_each_public_name_has_a_counterpart(module_name: str) -> None:
    theirs = importlib.import_module(module_name)
    ours = importlib.import_module("archivist" + module_name.removeprefix("lazyscribe"))
    names = _public_names(theirs)
    assert names, f"{module_name} has no public names?"
    missing = sorted(name for name in names if not hasattr(ours, name))
    assert not missing, f"{ours.__name__} lacks {missing}"
    for name in names:
        if isinstance(getattr(theirs, name), type):
            assert isinstance(getattr(ours, name), type), f"{ours.__name__}.{name} is no class"
        elif callable(getattr(theirs, name)):
            assert callable(getattr(ours, name)), f"{ours.__name__}.{name} is not callable"
