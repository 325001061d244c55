"""The ``archivist`` command group: global options, logging, and how failures are reported.

Exit codes: 0 success; 1 a check failed or what was asked for does not exist (any archivist
error); 2 a usage error (unknown option, malformed NAME@VERSION, duration or storage
options). A failure, usage errors included, prints one line, ``archivist: error: ...``,
naming the fix; ``--debug`` adds the traceback. The global flags (``--debug``, ``-v``,
``-q``) may stand anywhere on the line. A closed pipe (``archivist ls | head``) ends
quietly with exit code 0, whether it closed while the command wrote or before the output
still buffered at exit was flushed.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import traceback
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import IO, Any

import click

from archivist.cli._advice import for_the_command_line
from archivist.cli._locate import RepoCommand
from archivist.cli._output import escape
from archivist.errors import (
    ArchivistError,
    InvalidModeError,
    InvalidNameError,
    InvalidVersionError,
)

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "cli", "hoist_global_flags", "silence_stdout"]

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
    message = for_the_command_line(message)
    if isinstance(exc, ArchivistError):
        line = f"archivist: error: {message}"
    else:
        line = f"archivist: error: {type(exc).__name__}: {message}"
        if not debug:
            line += " (run with --debug for the traceback)"
    click.echo(escape(line), err=True)


class CommandLineError(click.ClickException):
    """A failure click itself found (a usage error), printed as one ``archivist: error:`` line.

    Parameters
    ----------
    message : str
        What is wrong and, for a usage error, where the help is.
    """

    exit_code = EXIT_USAGE

    def show(self, file: IO[Any] | None = None) -> None:
        """Print the one line on standard error."""
        click.echo(escape(f"archivist: error: {self.format_message()}"), err=True)


def _one_line(exc: click.ClickException) -> CommandLineError:
    """Return click's error (a four-line block when shown) as one line with the same code."""
    if isinstance(exc, click.BadParameter) and exc.param is None and exc.param_hint is None:
        text = exc.message  # click would lead with "Invalid value:"; the message says more
    else:
        text = exc.format_message()
    message = " ".join(text.split())
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        message = f"{message.rstrip('.')} (see '{exc.ctx.command_path} --help')"
    return CommandLineError(message) if exc.exit_code == EXIT_USAGE else _Failure(message)


class _Failure(CommandLineError):
    """Another failure click found (a file it cannot open): exit code 1."""

    exit_code = EXIT_FAILED


#: The global flags, which ``archivist`` accepts anywhere on the command line.
_GLOBAL_FLAG = re.compile(r"--debug|--verbose|--quiet|-[vq]+")


def hoist_global_flags(args: Sequence[str]) -> list[str]:
    """Move the global flags (``--debug``, ``-v``, ``-q``) to the front, where click reads them.

    ``archivist ls REPO --debug`` then means ``archivist --debug ls REPO``. Nothing after
    ``--`` moves.

    Parameters
    ----------
    args : Sequence[str]
        The command line after ``archivist``.

    Returns
    -------
    list[str]
        The same words, the global flags first.
    """
    words = list(args)
    end = words.index("--") if "--" in words else len(words)
    flags = [word for word in words[:end] if _GLOBAL_FLAG.fullmatch(word)]
    rest = [word for word in words[:end] if not _GLOBAL_FLAG.fullmatch(word)]
    return [*flags, *rest, *words[end:]]


def silence_stdout() -> None:
    """Point standard output at the null device, so the flush at exit cannot fail again."""
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a file (a test's capture)
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, descriptor)
    finally:
        os.close(null)


class _Subgroup(click.Group):
    """A command group below ``archivist`` (alias, release, ...): its commands take [REPO]."""

    command_class = RepoCommand


class ArchivistGroup(click.Group):
    """A click group that turns archivist's errors into one line and an exit code.

    Its commands take REPO optionally (:class:`~archivist.cli._locate.RepoCommand`).
    """

    command_class = RepoCommand
    group_class = _Subgroup

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """Read the global flags wherever they stand; report a usage error as one line."""
        try:
            return super().make_context(info_name, hoist_global_flags(args), parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.ClickException as exc:
            raise _one_line(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; report failures as one line (the traceback with ``--debug``)."""
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a closed pipe surfaces here, not at the interpreter's exit
            return result
        except click.exceptions.NoArgsIsHelpError:
            raise
        except CommandLineError:
            raise
        except click.ClickException as exc:
            raise _one_line(exc) from None
        except (click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            # the reader stopped reading (| head): what it read is all it wanted, as for git
            silence_stdout()
            ctx.exit(EXIT_OK)
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

    REPO is a repository.json, the folder holding one, or a URL any installed backend serves;
    left out, the repository.json of the current folder or the nearest folder above it.
    Versions are NAME@VERSION: a number (negative counts from the end), an ISO time (the
    version created then), ~TIME (the newest at or before it; also ~3d, ~2h, ~yesterday), an
    alias such as production (the version it names), or ALIAS~TIME (what it named then).

    --debug, -v and -q may stand anywhere on the line. Exit codes: 0 ok, 1 a check failed or
    what was asked for does not exist, 2 usage error.
    """
    ctx.meta["archivist.debug"] = debug
    ctx.meta["archivist.quiet"] = quiet > 0
    _configure_logging(ctx, verbose, quiet)
