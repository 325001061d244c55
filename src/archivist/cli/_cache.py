"""``archivist cache info|clear``: the local cache of files read from remote repositories."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from archivist._cache import CacheInfo, cache_info, clear_cache
from archivist.cli._app import cli
from archivist.cli._common import json_option
from archivist.cli._maintenance import confirm
from archivist.cli._output import echo, human_size, print_json

__all__ = ["cache"]

_CACHE_DIR = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="The cache folder (default: ARCHIVIST_CACHE_DIR, else the user cache folder, e.g. "
    "~/.cache/archivist).",
)


def _summary(info: CacheInfo) -> str:
    return (
        f"{info.entries} file(s), {human_size(info.size)} of {human_size(info.max_size)}, "
        f"in {info.path}"
    )


@cli.group("cache")
def cache() -> None:
    """Inspect or empty the local cache of files read from buckets.

    Each file is kept once under its SHA-256 and verified again on every read.
    """


@cache.command("info")
@_CACHE_DIR
@json_option
def info(cache_dir: Path | None, as_json: bool) -> None:
    """Show the cache's folder, entries, total size and bound.

    As JSON: path, entries, size and max_size (bytes).
    """
    found = cache_info(cache_dir)
    if as_json:
        print_json(dataclasses.asdict(found))
        return
    echo(f"folder   {found.path}")
    echo(f"entries  {found.entries}")
    echo(f"size     {human_size(found.size)} ({found.size} bytes)")
    echo(f"bound    {human_size(found.max_size)} ({found.max_size} bytes)")


@cache.command("clear")
@_CACHE_DIR
@click.option("-y", "--yes", is_flag=True, help="Empty the cache without asking.")
@json_option
def clear(cache_dir: Path | None, yes: bool, as_json: bool) -> None:
    """Empty the cache.

    Shows what it holds and asks first (--yes skips the question). Files are fetched again
    from their repositories when next read.
    """
    found = cache_info(cache_dir)
    if found.entries == 0:
        if as_json:
            print_json(dataclasses.asdict(found))
            return
        echo(f"the cache is empty: {found.path}")
        return
    if not as_json:
        echo(f"the cache holds {_summary(found)}")
    confirm(
        yes,
        f"the cache holds {found.entries} file(s)",
        f"Remove these {found.entries} file(s) from the cache?",
        "pass --yes to empty it",
    )
    removed = clear_cache(cache_dir)
    if as_json:
        print_json(dataclasses.asdict(removed))
        return
    echo(f"removed {_summary(removed)}")
