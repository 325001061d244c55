"""``archivist put``: store a file as a new version of an artifact, showing the save's progress."""

from __future__ import annotations

from pathlib import Path

import click

from archivist._io.handlers import read_value
from archivist._io.local import open_regular
from archivist._io.progress import RichCallback
from archivist.cli._app import cli
from archivist.cli._common import (
    json_option,
    open_repository,
    repository_argument,
    storage_options_option,
)
from archivist.cli._output import echo, print_json
from archivist.plugin.manager import get_handler

__all__ = ["put"]


@cli.command("put")
@repository_argument
@click.argument("name")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--handler",
    "alias",
    required=True,
    help="The handler that reads FILE and writes the version: json, pickle, parquet, ...",
)
@json_option
@storage_options_option
def put(
    repo: str,
    name: str,
    file: Path,
    alias: str,
    as_json: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """Store FILE as a new version of artifact NAME.

    The handler reads FILE, and the value is saved as NAME's next version, exactly as
    log_artifact() and save() would: files first, then one compare-and-swap of the manifest.
    On a terminal, a large save shows a progress bar on standard error: the size of the
    file the handler writes, then the bytes as the storage takes them (-q hides it).
    """
    handler = get_handler(alias)()
    with open_regular(file) as raw:
        value = read_value(handler, raw, {}, alias, str(file), name)
    repository = open_repository(repo, "a", storage_options_json, storage_option_pairs)
    repository.log_artifact(name=name, value=value, handler=alias)
    quiet = bool(click.get_current_context().find_root().meta.get("archivist.quiet"))
    bar = RichCallback(f"{name} <- {file.name}")
    # no bar can show (-q, or not a terminal): no report, and the save spools nothing
    repository.save(progress=bar if bar.can_draw and not quiet else None)
    record = repository.get_artifact_metadata(name)
    if as_json:
        print_json({k: record[k] for k in ("name", "version", "fname", "size", "sha256")})
        return
    echo(f"saved {name} v{record['version']} ({record['size']} bytes) from {file}")
