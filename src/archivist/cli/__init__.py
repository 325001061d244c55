"""The ``archivist`` command: look inside repositories, export versions, maintain storage.

Each command group lives in its own module and registers on :data:`cli`, the click group;
:func:`main` is the console script. Exit codes: 0 success, 1 a check failed or what was
asked for does not exist, 2 a usage error.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from archivist.cli import (
    _alias,
    _cache,
    _demo,
    _files,
    _inspect,
    _maintenance,
    _project,
    _put,
    _release,
)
from archivist.cli._app import cli, silence_stdout
from archivist.cli._demo import demo

__all__ = ["cli", "demo", "main"]

# the command modules register themselves on ``cli`` when imported
_COMMAND_MODULES = (
    _alias,
    _cache,
    _demo,
    _files,
    _inspect,
    _maintenance,
    _project,
    _put,
    _release,
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``archivist`` command.

    Parameters
    ----------
    argv : Sequence[str], optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 ok, 1 failed or not found, 2 usage error.
    """
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="archivist")
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    finally:
        _flush()


def _flush() -> None:
    """Flush standard output now: a closed pipe then ends quietly, not at the interpreter's exit."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
