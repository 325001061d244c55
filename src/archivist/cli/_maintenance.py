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

__all__ = ["adopt", "confirm", "gc", "prune", "verify"]


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


def confirm(yes: bool, what: str, question: str, fix: str) -> None:
    """Ask before a destructive step, unless ``--yes`` was given.

    Parameters
    ----------
    yes : bool
        ``--yes``: go ahead without asking.
    what : str
        What would happen, e.g. ``3 file(s) would be deleted``.
    question : str
        The question, e.g. ``Delete these 3 file(s)?``.
    fix : str
        How to go ahead without a terminal, e.g. ``pass --yes to delete``.

    Raises
    ------
    click.UsageError
        Standard input is not a terminal to ask on (exit 2; nothing was changed).
    click.Abort
        The answer was no (exit 1).
    """
    if yes:
        return
    if not _can_ask():
        raise click.UsageError(f"{what}; standard input is not a terminal to confirm: {fix}")
    click.confirm(question, abort=True, err=True)


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> timedelta | None:
    return None if value is None else parse_duration(value)


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
    confirm(
        yes,
        f"{len(candidates)} file(s) would be deleted",
        f"Delete these {len(candidates)} file(s)?",
        "pass --yes to delete, or --dry-run to only list",
    )
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


def _pairs(pairs: list[tuple[str, int]]) -> list[dict[str, Any]]:
    return [{"name": name, "version": version} for name, version in pairs]


@cli.command("prune")
@repository_argument
@click.option(
    "--keep-last",
    type=click.IntRange(min=0),
    metavar="N",
    help="Keep the newest N versions of each artifact.",
)
@click.option(
    "--keep-within",
    metavar="DURATION",
    callback=_duration,
    help="Keep versions created within this long: seconds (86400) or a duration (12h, 30d).",
)
@click.option("--dry-run", is_flag=True, help="Only list the versions that would be removed.")
@click.option("-y", "--yes", is_flag=True, help="Remove without asking.")
@json_option
@storage_options_option
def prune(
    repo: str,
    keep_last: int | None,
    keep_within: timedelta | None,
    dry_run: bool,
    yes: bool,
    as_json: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """Remove old versions that no rule keeps and nothing pins.

    A version survives when either rule keeps it, or when a release, an alias or being the
    latest version of its name pins it. Lists what would go first, and asks before removing
    (--yes skips the question). The remaining versions keep their numbers.
    """
    if keep_last is None and keep_within is None:
        raise click.UsageError(
            "prune needs a rule: --keep-last N (the newest N versions of each artifact) "
            "and/or --keep-within DURATION (versions created since then)"
        )
    reader = open_repository(repo, "r", storage_options_json, storage_option_pairs)
    candidates = reader.prune(keep_last=keep_last, keep_within=keep_within, dry_run=True)
    if dry_run or not candidates:
        if as_json:
            print_json({"dry_run": True, "removed": [], "would_remove": _pairs(candidates)})
            return
        for name, version in candidates:
            echo(f"would remove {name} v{version}")
        echo(
            f"{len(candidates)} version(s) would be removed" if candidates else "nothing to remove"
        )
        return
    if not as_json:
        for name, version in candidates:
            echo(f"would remove {name} v{version}")
    confirm(
        yes,
        f"{len(candidates)} version(s) would be removed",
        f"Remove these {len(candidates)} version(s) and their files?",
        "pass --yes to remove, or --dry-run to only list",
    )
    writer = open_repository(repo, "w+", storage_options_json, storage_option_pairs)
    removed = writer.prune(keep_last=keep_last, keep_within=keep_within)
    if as_json:
        print_json({"dry_run": False, "removed": _pairs(removed), "would_remove": []})
        return
    for name, version in removed:
        echo(f"removed {name} v{version}")
    echo(f"{len(removed)} version(s) removed")
