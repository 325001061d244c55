"""Without a plugin its name says what to install; in-house handlers register at runtime.

Each plugin distribution checks its own entry point (``archivist.testing.DistributionTests``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import IO, Any, ClassVar

import pytest

import archivist
from archivist import Handler, Repository, UnknownHandlerError
from archivist.handlers import JSONHandler
from archivist.testing import registered

# The opt-in pytest plugin: gives this module archivist_repository and archivist_register.
pytest_plugins = ["archivist.testing"]


def _run(code: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_without_the_plugin_parquet_names_its_distribution(tmp_path: Any) -> None:
    out = _run(
        f"""
        import archivist
        from archivist import Repository, UnknownHandlerError
        repository = Repository({str(tmp_path / "repository.json")!r}, mode="w")
        try:
            repository.log_artifact("frame", object(), handler="parquet")
        except UnknownHandlerError as exc:
            print(exc)
        """,
        ARCHIVIST_DISABLE_PLUGIN_AUTOLOAD="1",
    )
    assert "no handler named 'parquet'" in out
    assert "pip install ./plugins/archivist-parquet" in out


class Reversed(Handler):
    """An in-house format: text stored reversed."""

    alias: ClassVar[str] = "reversed-text"
    suffix: ClassVar[str] = "txt"
    binary: ClassVar[bool] = False

    def write(self, value: Any, stream: IO[Any], **kwargs: Any) -> None:
        stream.write(value[::-1])

    def read(self, stream: IO[Any], **kwargs: Any) -> Any:
        return stream.read()[::-1]


def test_register_at_runtime_with_the_fixtures(
    archivist_register: Any, archivist_repository: Repository
) -> None:
    assert "reversed-text" not in archivist.handlers()
    archivist_register(Reversed)
    archivist_repository.log_artifact("greeting", "hello", handler="reversed-text")
    archivist_repository.save()
    reopened = Repository(archivist_repository.location, mode="r")
    assert reopened.load_artifact("greeting") == "hello"


def test_fixture_registration_ended_with_the_test() -> None:
    # Runs after the test above: its registration did not leak.
    assert "reversed-text" not in archivist.handlers()


def test_registered_undoes_only_its_own_registrations() -> None:
    with registered(Reversed, JSONHandler):
        assert archivist.get_handler("reversed-text") is Reversed
    with pytest.raises(UnknownHandlerError):
        archivist.get_handler("reversed-text")
    # The built-in json handler was registered before the block, and stays.
    assert archivist.get_handler("json") is JSONHandler
