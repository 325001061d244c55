"""``archivist cache info|clear``: the local cache of files read from remote repositories."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from archivist._io.cache import ArtifactCache
from archivist.cli._app import cli
from archivist.cli._common import json_option
from archivist.cli._maintenance import confirm
from archivist.cli._output import echo, human_size, print_json
from archivist.errors import ConfigError, InvalidArgumentError

__all__ = ["cache"]

_CACHE_DIR = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="The cache folder (default: ARCHIVIST_CACHE_DIR, else the user cache folder, e.g. "
    "~/.cache/archivist).",
)


#: How many files ``cache clear`` lists before "... and N more".
_LISTED = 20


@cli.group("cache")
def cache() -> None:
    """Inspect or empty the local cache of files read from buckets.

    Each file is kept once under its SHA-256 and verified again on every read.
    """


def _cache(cache_dir: Path | None) -> ArtifactCache:
    """Open the cache folder; a bad ``ARCHIVIST_CACHE_SIZE`` is a usage error (exit 2)."""
    try:
        return ArtifactCache(cache_dir)
    except (ConfigError, InvalidArgumentError) as exc:
        raise click.UsageError(str(exc)) from None


@cache.command("info")
@_CACHE_DIR
@json_option
def info(cache_dir: Path | None, as_json: bool) -> None:
    """Show the cache's folder, entries, total size and bound.

    As JSON: path, entries, size and max_size (bytes), index_files and temp_files.
    """
    found = _cache(cache_dir).info()
    if as_json:
        print_json(dataclasses.asdict(found))
        return
    echo(f"folder   {found.path}")
    echo(f"entries  {found.entries}")
    echo(f"size     {human_size(found.size)} ({found.size} bytes)")
    echo(f"bound    {human_size(found.max_size)} ({found.max_size} bytes)")
    echo(f"indexes  {found.index_files}")


@cache.command("clear")
@_CACHE_DIR
@click.option("-y", "--yes", is_flag=True, help="Empty the cache without asking.")
@json_option
def clear(cache_dir: Path | None, yes: bool, as_json: bool) -> None:
    """Empty the cache.

    Lists the files archivist made in the cache folder, asks (--yes skips the question),
    then removes exactly those files; anything else in the folder is never touched, and a
    folder that is not marked as an archivist cache is refused (exit 2). Files are fetched
    again from their repositories when next read.
    """
    artifact_cache = _cache(cache_dir)
    try:
        plan = artifact_cache.plan_clear()
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    if not plan.files:
        if as_json:
            print_json(dataclasses.asdict(artifact_cache.info()))
            return
        echo(f"the cache is empty: {plan.path}")
        return
    others = len(plan.files) - plan.entries
    what = (
        f"{plan.entries} cached file(s) ({human_size(plan.size)}) and {others} index or "
        f"temporary file(s) in {plan.path}"
    )
    if not as_json:
        echo(f"the cache holds {len(plan.files)} file(s) archivist made, to remove: {what}")
        for relative in plan.files[:_LISTED]:
            echo(f"  {relative}")
        if len(plan.files) > _LISTED:
            echo(f"  ... and {len(plan.files) - _LISTED} more")
    confirm(
        yes,
        f"the cache holds {len(plan.files)} file(s) archivist made",
        f"Remove these {len(plan.files)} file(s) from the cache?",
        "pass --yes to empty it",
    )
    try:
        removed = artifact_cache.apply(plan)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        print_json(dataclasses.asdict(removed))
        return
    echo(
        f"removed {removed.entries} cached file(s) ({human_size(removed.size)}), "
        f"{removed.index_files} index file(s) and {removed.temp_files} temporary file(s) "
        f"from {removed.path}"
    )
