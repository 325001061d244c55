"""``archivist verify``, ``gc`` and ``adopt``: check and maintain a repository's files."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar, cast

import click

from archivist._lifecycle.gc import KEPT_REASON
from archivist.cli._app import EXIT_FAILED, cli
from archivist.cli._common import (
    Count,
    json_option,
    open_repository,
    parse_duration,
    repository_argument,
    storage_options_option,
)
from archivist.cli._output import echo, print_json
from archivist.errors import ArchivistWarning, IntegrityError

__all__ = ["Removal", "adopt", "confirm", "gc", "prune", "verify"]

T = TypeVar("T")


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
    them), versions whose digest a lazyscribe save dropped from the manifest and that were
    checked against the digest archivist kept, and files no version references.
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
                "recovered": [list(pair) for pair in report.recovered],
                "kept": report.kept,
            }
        )
        return
    echo(f"{report.checked} files verified")
    for name, version in report.recovered:
        echo(
            "digest dropped from the manifest, checked against the one archivist kept: "
            f"{name} v{version}"
        )
    for name, version in report.unverifiable:
        echo(f"no digest recorded (written by lazyscribe; see archivist adopt): {name} v{version}")
    for orphan in report.orphans:
        echo(f"orphan (referenced by no version): {orphan}")
    for kept in report.kept:
        echo(f"kept (referenced by no version): {kept}")
    if report.kept:
        echo(KEPT_REASON)


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


@dataclass(frozen=True)
class Removal(Generic[T]):
    """How a removing command (gc, prune) words and reports what it removes.

    Attributes
    ----------
    verb : str
        ``delete`` or ``remove``: gives ``would delete X``, ``deleted X`` and the JSON keys
        ``deleted`` and ``would_delete``.
    noun : str
        What is counted: ``file(s)``, ``version(s)``.
    question : str
        The confirmation, with ``{count}``: ``Delete these {count} file(s)?``.
    describe : callable
        One item as text, for human output.
    as_json : callable
        One item as JSON.
    """

    verb: str
    noun: str
    question: str
    describe: Callable[[T], str]
    as_json: Callable[[T], Any]

    def report(
        self, done: list[T], planned: list[T], dry_run: bool, skipped: list[T] | None = None
    ) -> None:
        """Print the JSON document: what was removed, what would be, and what was skipped."""
        document: dict[str, Any] = {
            "dry_run": dry_run,
            f"{self.verb}d": [self.as_json(item) for item in done],
            f"would_{self.verb}": [self.as_json(item) for item in planned],
        }
        if skipped is not None:
            document["skipped"] = [self.as_json(item) for item in skipped]
        print_json(document)

    def run(
        self,
        candidates: list[T],
        apply: Callable[[], list[T]],
        *,
        dry_run: bool,
        yes: bool,
        as_json: bool,
    ) -> None:
        """List the plan, ask (unless ``--yes``), then apply exactly that plan and report.

        Parameters
        ----------
        candidates : list
            What the plan lists.
        apply : callable
            Applies that plan (never recomputes one); returns what it removed. Planned items
            it skipped, because they changed since they were listed, are reported from the
            :class:`~archivist.ArchivistWarning` it gives for each.
        dry_run, yes, as_json : bool
            The command's flags.
        """
        if dry_run or not candidates:
            if as_json:
                self.report([], candidates, dry_run=True)
                return
            for item in candidates:
                echo(f"would {self.verb} {self.describe(item)}")
            count = len(candidates)
            echo(
                f"{count} {self.noun} would be {self.verb}d" if count else f"nothing to {self.verb}"
            )
            return
        if not as_json:
            for item in candidates:
                echo(f"would {self.verb} {self.describe(item)}")
        confirm(
            yes,
            f"{len(candidates)} {self.noun} would be {self.verb}d",
            self.question.format(count=len(candidates)),
            f"pass --yes to {self.verb}, or --dry-run to only list",
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ArchivistWarning)
            done = apply()
        for warning in caught:
            echo(f"archivist: note: {warning.message}", err=True)
        skipped = [item for item in candidates if item not in done]
        if as_json:
            self.report(done, [], dry_run=False, skipped=skipped)
            return
        for item in done:
            echo(f"{self.verb}d {self.describe(item)}")
        echo(
            f"{len(done)} {self.noun} {self.verb}d"
            + (f"; {len(skipped)} skipped (changed since listed)" if skipped else "")
        )


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> timedelta | None:
    return None if value is None else parse_duration(value)


_FILES: Removal[str] = Removal("delete", "file(s)", "Delete these {count} file(s)?", str, str)


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

    Lists them first, and asks before deleting (--yes skips the question); then deletes
    exactly the files listed, skipping any that changed meanwhile.

    Refuses when REPO has no manifest, so a mistyped path never deletes anything.
    """
    reader = open_repository(repo, "r", storage_options_json, storage_option_pairs)
    plan = reader.gc(older_than=older_than, dry_run=True)

    def delete() -> list[str]:
        writer = open_repository(repo, "a", storage_options_json, storage_option_pairs)
        return writer.gc(plan=plan)

    for kept in plan.kept:
        echo(f"kept (referenced by no version): {kept}", err=True)
    if plan.kept:
        echo(KEPT_REASON, err=True)
    _FILES.run(plan.locations, delete, dry_run=dry_run, yes=yes, as_json=as_json)


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


_VERSIONS: Removal[tuple[str, int]] = Removal(
    "remove",
    "version(s)",
    "Remove these {count} version(s) and their files?",
    lambda pair: f"{pair[0]} v{pair[1]}",
    lambda pair: {"name": pair[0], "version": pair[1]},
)


@cli.command("prune")
@repository_argument
@click.option(
    "--keep-last",
    type=Count(),
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
    (--yes skips the question); then removes exactly the versions listed, skipping any that
    changed meanwhile. The remaining versions keep their numbers.
    """
    if keep_last is None and keep_within is None:
        raise click.UsageError(
            "prune needs a rule: --keep-last N (the newest N versions of each artifact) "
            "and/or --keep-within DURATION (versions created since then)"
        )
    reader = open_repository(repo, "r", storage_options_json, storage_option_pairs)
    plan = reader.prune(keep_last=keep_last, keep_within=keep_within, dry_run=True)

    def remove() -> list[tuple[str, int]]:
        writer = open_repository(repo, "w+", storage_options_json, storage_option_pairs)
        return writer.prune(plan=plan)

    _VERSIONS.run(plan.pairs, remove, dry_run=dry_run, yes=yes, as_json=as_json)
