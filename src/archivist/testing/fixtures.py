"""pytest fixtures for testing code that uses archivist or extends it with plugins.

They become available with ``pytest_plugins = ["archivist.testing"]``; the context
managers here work without pytest's fixture machinery too.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import archivist
from archivist._backends.memory import MemoryBackend
from archivist.repository import Repository

__all__ = [
    "archivist_register",
    "archivist_repository",
    "memory_repository_url",
    "registered",
]


def _registered_names() -> set[str]:
    return {name for name, _ in archivist.plugin_manager().list_name_plugin()}


@contextlib.contextmanager
def registered(*objs: object, override: bool = False) -> Iterator[list[str]]:
    """Register plugins or handler/backend classes for the duration of a ``with`` block.

    Only what this block registered is unregistered afterwards: an object that was already
    registered (by an entry point, say) stays registered.

    Parameters
    ----------
    *objs : object
        Anything :func:`archivist.register` accepts.
    override : bool, optional
        Let the classes replace other plugins' classes of the same alias or protocol.

    Yields
    ------
    list[str]
        The names the objects were registered under.
    """
    names: list[str] = []
    owned: list[str] = []
    try:
        for obj in objs:
            before = _registered_names()
            name = archivist.register(obj, override=override)
            names.append(name)
            if name not in before:
                owned.append(name)
        yield names
    finally:
        for name in reversed(owned):
            archivist.unregister(name)


@contextlib.contextmanager
def memory_repository_url() -> Iterator[str]:
    """Give a fresh ``memory://`` manifest URL, and delete everything under it afterwards.

    Yields
    ------
    str
        A URL such as ``memory://archivist-testing/<random>/repository.json``.
    """
    folder = f"/archivist-testing/{uuid.uuid4().hex}"
    try:
        yield f"memory://{folder}/repository.json"
    finally:
        filesystem = MemoryBackend().fs
        if filesystem.exists(folder):
            filesystem.rm(folder, recursive=True)


@pytest.fixture
def archivist_repository(tmp_path: Path) -> Repository:
    """Return an empty repository (mode ``w+``) in a temporary folder on local disk.

    Parameters
    ----------
    tmp_path : pathlib.Path
        pytest's temporary folder for the test.

    Returns
    -------
    archivist.Repository
        A repository whose manifest is ``tmp_path / "repository.json"``.
    """
    return Repository(tmp_path / "repository.json", mode="w+")


@pytest.fixture
def archivist_register() -> Iterator[Callable[..., str]]:
    """Register plugins for one test; they are unregistered when it ends, even if it fails.

    Yields
    ------
    Callable[..., str]
        ``register(obj, *, override=False) -> name``, with the signature of
        :func:`archivist.register`.

    Examples
    --------
    >>> def test_my_format(archivist_register, archivist_repository):  # doctest: +SKIP
    ...     archivist_register(MyHandler)
    ...     archivist_repository.log_artifact("x", value, handler="my-format")
    """
    with contextlib.ExitStack() as stack:

        def register(obj: object, *, override: bool = False) -> str:
            names = stack.enter_context(registered(obj, override=override))
            return names[0]

        yield register
