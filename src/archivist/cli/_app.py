"""The ``archivist`` command group: global options, logging, and how failures are reported.

Exit codes: 0 success; 1 a check failed or what was asked for does not exist (any archivist
error); 2 a usage error (unknown option, malformed NAME@VERSION, duration or storage
options). A failure prints one line, ``archivist: error: ...``, naming the fix; ``--debug``
adds the traceback. A closed pipe (``archivist ls | head``) ends quietly.
"""

from __future__ import annotations

import logging
import sys
import traceback
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import click

from archivist.cli._output import escape
from archivist.errors import (
    ArchivistError,
    InvalidModeError,
    InvalidNameError,
    InvalidVersionError,
)

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "cli"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

#: Archivist errors that mean the command line asked for something malformed.
_USAGE_ERRORS = (InvalidVersionError, InvalidNameError, InvalidModeError)


def _version() -> str:
    try:
        return version("archivist")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return escape(f"archivist: {record.levelname.lower()}: {record.getMessage()}")


def _configure_logging(ctx: click.Context, verbose: int, quiet: int) -> None:
    """Send ``archivist`` log records to standard error at the level -v/-q ask for."""
    level = logging.WARNING - 10 * verbose + 10 * quiet
    logger = logging.getLogger("archivist")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(max(logging.DEBUG, min(level, logging.CRITICAL)))

    def restore() -> None:
        logger.removeHandler(handler)
        logger.setLevel(previous)

    ctx.call_on_close(restore)


def _report(ctx: click.Context, exc: BaseException) -> None:
    debug = bool(ctx.find_root().meta.get("archivist.debug"))
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    message = " ".join(str(exc).split("\n")) if str(exc) else type(exc).__name__
    if isinstance(exc, ArchivistError):
        line = f"archivist: error: {message}"
    else:
        line = f"archivist: error: {type(exc).__name__}: {message}"
        if not debug:
            line += " (run with --debug for the traceback)"
    click.echo(escape(line), err=True)


class ArchivistGroup(click.Group):
    """A click group that turns archivist's errors into one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; report failures as one line (the traceback with ``--debug``)."""
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a closed pipe surfaces here, inside click's EPIPE handling
            return result
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            raise
        except _USAGE_ERRORS as exc:
            _report(ctx, exc)
            ctx.exit(EXIT_USAGE)
        except (ArchivistError, OSError) as exc:
            _report(ctx, exc)
            ctx.exit(EXIT_FAILED)
        except Exception as exc:
            _report(ctx, exc)
            ctx.exit(EXIT_FAILED)


@click.group(
    cls=ArchivistGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(
    _version(), "--version", prog_name="archivist", message="%(prog)s %(version)s"
)
@click.option("-v", "--verbose", count=True, help="Log more: -v commits and gc, -vv everything.")
@click.option("-q", "--quiet", count=True, help="Log less: only errors.")
@click.option("--debug", is_flag=True, help="Show the traceback of a failure.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: int, debug: bool) -> None:
    """Version ML and data artifacts in a folder or bucket: look inside, export, maintain.

    REPO is a repository.json, the folder holding one, or a URL any installed backend serves
    (default: ./repository.json). Versions are NAME@VERSION: a number (negative counts from
    the end), an ISO time (the version created then), ~TIME (the newest at or before it), an
    alias such as production (the version it names), or ALIAS~TIME (what it named then).

    Exit codes: 0 ok, 1 a check failed or what was asked for does not exist, 2 usage error.
    """
    ctx.meta["archivist.debug"] = debug
    ctx.meta["archivist.quiet"] = quiet > 0
    _configure_logging(ctx, verbose, quiet)
