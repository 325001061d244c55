"""``archivist verify``, ``gc`` and ``adopt``: check and maintain a repository's files."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Any, cast

import click

from archivist.cli._app import EXIT_FAILED, cli
from archivist.cli._common import (
    json_option,
    open_repository,
    parse_duration,
    repository_argument,
    storage_options_option,
)
from archivist.cli._output import echo, print_json
from archivist.errors import IntegrityError

__all__ = ["adopt", "gc", "verify"]


@cli.command("verify")
@repository_argument
@json_option
@storage_options_option
@click.pass_context
def verify(
    ctx: click.Context,
    repo: str,
    as_json: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """Check every stored file against its SHA-256.

    Exit code 1 when a file is missing or does not match its SHA-256 and size.

    Also lists versions without a digest (written by lazyscribe; archivist adopt records
    them) and files no version references.
    """
    repository = open_repository(repo, "r", storage_options_json, storage_option_pairs)
    try:
        report = repository.verify()
    except IntegrityError as exc:
        problems = str(exc).splitlines()
        if as_json:
            print_json({"ok": False, "problems": problems[1:] or problems})
        for line in problems:
            echo(f"archivist: {line}", err=True)
        ctx.exit(EXIT_FAILED)
    if as_json:
        print_json(
            {
                "ok": True,
                "checked": report.checked,
                "unverifiable": [list(pair) for pair in report.unverifiable],
                "orphans": report.orphans,
            }
        )
        return
    echo(f"{report.checked} files verified")
    for name, version in report.unverifiable:
        echo(f"no digest recorded (written by lazyscribe; see archivist adopt): {name} v{version}")
    for orphan in report.orphans:
        echo(f"orphan (referenced by no version): {orphan}")


def _can_ask() -> bool:
    """Tell whether standard input is a terminal, where a person can confirm."""
    return sys.stdin.isatty()


def _duration(ctx: click.Context, param: click.Parameter, value: str) -> timedelta:
    return parse_duration(value)


@cli.command("gc")
@repository_argument
@click.option(
    "--older-than",
    default="1h",
    metavar="DURATION",
    callback=_duration,
    show_default=True,
    help="Keep files younger than this: a save in progress may own them. Seconds (3600) or "
    "a duration (1h, 30m, 2d).",
)
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted.")
@click.option("-y", "--yes", is_flag=True, help="Delete without asking.")
@json_option
@storage_options_option
def gc(
    repo: str,
    older_than: timedelta,
    dry_run: bool,
    yes: bool,
    as_json: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """Delete files of saves that never committed.

    Lists them first, and asks before deleting (--yes skips the question).

    Refuses when REPO has no manifest, so a mistyped path never deletes anything.
    """
    reader = open_repository(repo, "r", storage_options_json, storage_option_pairs)
    candidates = reader.gc(older_than=older_than, dry_run=True)
    if dry_run or not candidates:
        if as_json:
            print_json({"dry_run": True, "deleted": [], "would_delete": candidates})
            return
        for location in candidates:
            echo(f"would delete {location}")
        echo(f"{len(candidates)} file(s) would be deleted" if candidates else "nothing to delete")
        return
    if not as_json:
        for location in candidates:
            echo(f"would delete {location}")
    if not yes:
        if not _can_ask():
            raise click.UsageError(
                f"{len(candidates)} file(s) would be deleted; standard input is not a terminal "
                "to confirm: pass --yes to delete, or --dry-run to only list"
            )
        click.confirm(f"Delete these {len(candidates)} file(s)?", abort=True, err=True)
    writer = open_repository(repo, "a", storage_options_json, storage_option_pairs)
    deleted = writer.gc(older_than=older_than, dry_run=False)
    if as_json:
        print_json({"dry_run": False, "deleted": deleted, "would_delete": []})
        return
    for location in deleted:
        echo(f"deleted {location}")
    echo(f"{len(deleted)} file(s) deleted")


@cli.command("adopt")
@repository_argument
@click.option("--dry-run", is_flag=True, help="Only list the versions that would be adopted.")
@json_option
@storage_options_option
def adopt(
    repo: str,
    dry_run: bool,
    as_json: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """Record digests for versions stored without one.

    Versions lazyscribe wrote have no SHA-256 and size in their records; adopt hashes their
    files and records both.

    From then on every read of them is verified. The files are read once to hash them.
    """
    repository = open_repository(repo, "w+", storage_options_json, storage_option_pairs)
    # Repository.adopt: (name, version) of each version given a digest
    adopted: list[tuple[str, int]] = cast(Any, repository).adopt(dry_run=dry_run)
    if as_json:
        print_json({"dry_run": dry_run, "adopted": [{"name": n, "version": v} for n, v in adopted]})
        return
    verb = "would record" if dry_run else "recorded"
    for name, version in adopted:
        echo(f"{verb} a digest for {name} v{version}")
    echo(f"{len(adopted)} version(s) {'would be ' if dry_run else ''}adopted")
