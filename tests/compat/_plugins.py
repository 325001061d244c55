"""Which handler an alias of lazyscribe's plugins names, in each of the two test runs.

The full run (``python3 dev.py -s tests``) installs archivist's plugins beside lazyscribe's:
archivist-joblib and archivist-parquet then claim ``joblib`` and ``parquet`` too, and win
with a warning. The ``lazyscribe_plugins`` session installs archivist's core alone beside
lazyscribe's handler packages, as a lazyscribe user has them (it first checks that no
archivist plugin is there): every alias is then the adapter of a lazyscribe entry point.
CI runs both. The per-plugin modules run in both too, and check in each what that
installation gives, read from the installed distributions' metadata, as the plugin manager
reads it.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import warnings
from collections.abc import Iterator
from typing import Any

import archivist
from archivist.errors import ArchivistWarning
from archivist.handlers.lazyscribe import LazyscribeHandler, adapt
from archivist.plugin import manager


def installed(distribution: str) -> bool:
    """Tell whether ``distribution`` is installed (its entry points are then registered)."""
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def check_discovered(handler: type, artifact_class: type, provider: str) -> None:
    """Assert that ``handler`` is the adapter of ``provider``'s entry point for the class."""
    assert issubclass(handler, LazyscribeHandler), handler
    assert handler.artifact_class is artifact_class
    assert handler.provided_by.startswith(f"{provider} ("), handler.provided_by


def check_alias(alias: str, artifact_class: type, provider: str, rival: str) -> None:
    """Assert which class ``alias`` names on its first use, and what that use warns.

    With ``rival`` (an archivist plugin claiming the alias) installed, the rival's class,
    with one warning naming ``provider`` and how to choose; without it, the adapter of
    ``provider``'s entry point, without a warning.
    """
    manager._PLUGINS._warned.discard(("handler alias", alias))  # warned once per process
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        handler = archivist.get_handler(alias)
    messages = [str(w.message) for w in caught if issubclass(w.category, ArchivistWarning)]
    if installed(rival):
        assert handler.__module__.split(".")[0] == rival.replace("-", "_"), handler
        (message,) = messages
        assert f"not {provider} (" in message
        assert "archivist.register(archivist.handlers.lazyscribe.adapt(cls), override=True)" in (
            message
        )
    else:
        check_discovered(handler, artifact_class, provider)
        assert messages == []


@contextlib.contextmanager
def lazyscribe_s(artifact_class: Any, provider: str, rival: str) -> Iterator[None]:
    """Within the block, make the class's alias name its lazyscribe handler, as its user has it.

    With the core alone, it already does: the discovered adapter is checked and used, and
    nothing is registered. With ``rival`` installed, the user chooses the lazyscribe class
    as the warning says, with ``archivist.register(adapt(cls), override=True)``.
    """
    alias = str(artifact_class.alias)
    if not installed(rival):
        check_discovered(archivist.get_handler(alias), artifact_class, provider)
        yield
        return
    name = archivist.register(adapt(artifact_class), override=True)
    try:
        yield
    finally:
        archivist.unregister(name)
