"""``archivist get``, ``cat`` and ``diff``: the stored files of versions, verified."""

from __future__ import annotations

import contextlib
import difflib
import os
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

import click

from archivist._io.progress import PROGRESS_THRESHOLD, RichCallback, metered
from archivist.cli._app import cli
from archivist.cli._common import (
    VersionSpec,
    json_option,
    open_repository,
    parse_version_ref,
    parse_version_spec,
    storage_options_option,
)
from archivist.cli._output import echo, print_json
from archivist.errors import AlreadyExistsError, UnknownHandlerError
from archivist.manifest import VersionRecord
from archivist.plugin.manager import get_handler
from archivist.repository import Repository
from archivist.stores._digests import with_kept_digests

__all__ = ["cat", "diff", "get"]

_CHUNK = 1 << 20
#: Record fields that say where and when a version is, not what it holds.
_IDENTITY = ("name", "version", "fname", "created_at", "expiry")


def _record(repository: Repository, spec: str) -> dict[str, Any]:
    wanted: VersionSpec = parse_version_spec(spec, lambda: [r["name"] for r in repository])
    return wanted.metadata(repository)


def _threshold(quiet: bool) -> int:
    """Bytes after which ``get`` and ``cat`` draw a bar: never with ``-q``."""
    return sys.maxsize if quiet else PROGRESS_THRESHOLD


def _copy(repository: Repository, record: dict[str, Any], out: IO[bytes]) -> int:
    """Copy a version's stored file, verified against its digest first, into ``out``."""
    quiet = bool(click.get_current_context().find_root().meta.get("archivist.quiet"))
    callback = RichCallback(f"{record['name']} v{record['version']}", threshold=_threshold(quiet))
    if record.get("size") is not None:
        callback.set_size(record["size"])
    copied = 0
    # a digest a lazyscribe save dropped from the record is the one archivist kept for it
    (stored,) = with_kept_digests(repository.store, [VersionRecord.from_dict(record)])
    try:
        with repository.store.open_file(
            stored.name, stored.fname, stored.sha256, stored.size
        ) as raw:
            source = metered(raw, callback)
            while chunk := source.read(_CHUNK):
                out.write(chunk)
                copied += len(chunk)
    finally:
        callback.close()
    return copied


@cli.command("get")
@click.argument("repo", metavar="REPO")
@click.argument("spec", metavar="NAME[@VERSION]")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Where to write (a folder keeps the stored file name). Default: the stored file "
    "name in the current folder.",
)
@click.option("-f", "--force", is_flag=True, help="Replace an existing file.")
@json_option
@storage_options_option
def get(
    repo: str,
    spec: str,
    output: Path | None,
    force: bool,
    as_json: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """Write a version's stored file, verified, to a file.

    The file is checked against its SHA-256 before anything is written.

    Large files show a progress bar on standard error when it is a terminal.
    """
    repository = open_repository(repo, "r", storage_options_json, storage_option_pairs)
    record = _record(repository, spec)
    target = output if output is not None else Path(record["fname"])
    if target.is_dir():
        target = target / record["fname"]
    if target.exists() and not force:
        raise AlreadyExistsError(f"{target} exists; pass --force to replace it")
    folder = target.resolve().parent
    descriptor, temporary = tempfile.mkstemp(prefix=".archivist-get-", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as out:
            size = _copy(repository, record, out)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    if as_json:
        print_json({**record, "path": str(target), "bytes": size})
        return
    echo(f"{record['name']} v{record['version']}: {size} bytes to {target} (sha256 verified)")


@cli.command("cat")
@click.argument("repo", metavar="REPO")
@click.argument("spec", metavar="NAME[@VERSION]")
@storage_options_option
def cat(
    repo: str, spec: str, storage_options_json: str | None, storage_option_pairs: tuple[str, ...]
) -> None:
    """Print a version's stored file, verified.

    The file is checked against its SHA-256 before anything is printed.
    """
    repository = open_repository(repo, "r", storage_options_json, storage_option_pairs)
    record = _record(repository, spec)
    out = sys.stdout.buffer
    _copy(repository, record, out)
    out.flush()


def _is_binary(handler: str) -> bool:
    try:
        return get_handler(handler).binary
    except UnknownHandlerError:
        return True  # not installed here: compare the records only


def _changes(a: dict[str, Any], b: dict[str, Any]) -> dict[str, list[Any]]:
    keys = [k for k in dict.fromkeys([*a, *b]) if k not in _IDENTITY]
    return {k: [a.get(k), b.get(k)] for k in keys if a.get(k) != b.get(k)}


@cli.command("diff", context_settings={"ignore_unknown_options": True})  # A may be -1
@click.argument("repo", metavar="REPO")
@click.argument("name")
@click.argument("a", metavar="A")
@click.argument("b", metavar="[B]", required=False)
@json_option
@storage_options_option
def diff(
    repo: str,
    name: str,
    a: str,
    b: str | None,
    as_json: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """Compare two versions of an artifact.

    Versions A and B of artifact NAME (B defaults to the latest): each a number, a time,
    ~TIME, an alias, or ALIAS~TIME, as after NAME@.

    Text artifacts get a unified diff; binary ones a summary of what their records differ
    in: size, digest, and what the handler recorded (e.g. schema and row count).
    """
    repository = open_repository(repo, "r", storage_options_json, storage_option_pairs)
    old = parse_version_ref(name, a).metadata(repository)
    new = parse_version_ref(name, b or "").metadata(repository)
    text = None
    if not _is_binary(old["handler"]) and not _is_binary(new["handler"]):
        before, after = (
            repository._text_lines(repository._find(name, record["version"], "exact"))
            for record in (old, new)
        )
        text = "\n".join(
            difflib.unified_diff(
                before,
                after,
                fromfile=f"{name} v{old['version']}",
                tofile=f"{name} v{new['version']}",
                lineterm="",
            )
        )
    changes = _changes(old, new)
    if as_json:
        print_json(
            {"name": name, "a": old["version"], "b": new["version"], "changes": changes}
            | {"diff": text}
        )
        return
    if text is not None:
        if text:
            click.echo(text)
        return
    echo(f"{name} v{old['version']} -> v{new['version']}")
    if not changes:
        echo("  the records are the same")
    for key, (before, after) in changes.items():
        echo(f"  {key}: {before!r} -> {after!r}")
