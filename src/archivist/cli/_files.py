"""``archivist get``, ``cat`` and ``diff``: the stored files of versions, verified."""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import IO, Any, cast

import click

from archivist._io.progress import PROGRESS_THRESHOLD, RichCallback, metered
from archivist.cli._app import EXIT_FAILED, cli
from archivist.cli._common import (
    VersionSpec,
    json_option,
    open_repository,
    parse_version_ref,
    parse_version_spec,
    repository_argument,
    storage_options_option,
)
from archivist.cli._output import echo, print_json
from archivist.errors import AlreadyExistsError, StorageError, UnknownHandlerError
from archivist.manifest import VersionRecord
from archivist.plugin.manager import get_handler
from archivist.repository import Repository
from archivist.stores._digests import with_kept_digests

__all__ = ["cat", "diff", "get"]

_CHUNK = 1 << 20
#: Record fields that say where and when a version is, not what it holds.
_IDENTITY = ("name", "version", "fname", "created_at", "expiry")


def _record(repository: Repository, spec: str) -> dict[str, Any]:
    wanted: VersionSpec = parse_version_spec(spec, repository._session.index().names)
    return wanted.metadata(repository)


def _threshold(quiet: bool) -> int:
    """Bytes after which ``get`` and ``cat`` draw a bar: never with ``-q``."""
    return sys.maxsize if quiet else PROGRESS_THRESHOLD


def _verified(record: dict[str, Any]) -> str:
    """Say which digest a copy was checked against: the one the record carries."""
    return "blake3 verified" if record.get("blake3") else "sha256 verified"


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
            stored.name, stored.fname, stored.digest, stored.size
        ) as raw:
            source = metered(raw, callback)
            while chunk := source.read(_CHUNK):
                out.write(chunk)
                copied += len(chunk)
    finally:
        callback.close()
    return copied


_OUTPUT_HELP = (
    "Where to write (a folder keeps the stored file name). Default: the stored file name in "
    "the current folder."
)


def _write(
    repository: Repository, record: dict[str, Any], output: Path | None, force: bool
) -> tuple[Path, int]:
    """Write a version's stored file, verified, to ``output`` (a file or a folder)."""
    target = output if output is not None else Path(record["fname"])
    if target.is_dir():
        target = target / record["fname"]
    if target.exists() and not force:
        raise AlreadyExistsError(f"{target} exists; pass --force to replace it")
    folder = target.absolute().parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise click.BadParameter(
            f"the folder {folder} {what}; create it first (mkdir -p {folder}) or write "
            "into an existing folder",
            param_hint="-o/--output",
        )
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=".archivist-get-", dir=folder)
    except OSError as exc:
        raise StorageError(f"cannot write into {folder}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(descriptor, "wb") as out:
            size = _copy(repository, record, out)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return target, size


@cli.command("get")
@repository_argument
@click.argument("spec", metavar="NAME[@VERSION]")
@click.option("-o", "--output", type=click.Path(path_type=Path), help=_OUTPUT_HELP)
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
    target, size = _write(repository, record, output, force)
    if as_json:
        print_json({**record, "path": str(target), "bytes": size})
        return
    echo(f"{record['name']} v{record['version']}: {size} bytes to {target} ({_verified(record)})")


class _LastByte:
    """Pass bytes on to a stream, remembering the last one."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.last = b""

    def write(self, data: bytes) -> int:
        if data:
            self.last = data[-1:]
        return self.out.write(data)


@cli.command("cat")
@repository_argument
@click.argument("spec", metavar="NAME[@VERSION]")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Write to this file (or folder) instead of standard output, as get does.",
)
@click.option(
    "-f",
    "--force",
    is_flag=True,
    help="Print a binary file on a terminal too; with -o, replace an existing file.",
)
@storage_options_option
def cat(
    repo: str,
    spec: str,
    output: Path | None,
    force: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """Print a version's stored file, verified.

    The file is checked against its SHA-256 before anything is printed. A binary file
    (such as a pickle) is not printed on a terminal, where it would garble the screen:
    pipe it, write it with -o FILE, or pass --force. On a terminal, text that does not end
    with a newline gets one; piped output is the stored bytes exactly.
    """
    repository = open_repository(repo, "r", storage_options_json, storage_option_pairs)
    record = _record(repository, spec)
    if output is not None:
        target, size = _write(repository, record, output, force)
        echo(
            f"{record['name']} v{record['version']}: {size} bytes to {target} ({_verified(record)})"
        )
        return
    terminal = sys.stdout.isatty()
    if terminal and not force and _is_binary(record["handler"]):
        raise click.UsageError(
            f"{record['name']} v{record['version']} is binary ({record['handler']}) and standard "
            "output is a terminal; pipe it, write it with -o FILE, or pass --force"
        )
    sys.stdout.flush()
    out = _LastByte(sys.stdout.buffer)
    _copy(repository, record, cast(IO[bytes], out))
    if terminal and out.last not in (b"", b"\n") and not _is_binary(record["handler"]):
        out.write(b"\n")
    sys.stdout.buffer.flush()


def _is_binary(handler: str) -> bool:
    try:
        return get_handler(handler).binary
    except UnknownHandlerError:
        return True  # not installed here: compare the records only


def _changes(a: dict[str, Any], b: dict[str, Any]) -> dict[str, list[Any]]:
    keys = [k for k in dict.fromkeys([*a, *b]) if k not in _IDENTITY]
    return {k: [a.get(k), b.get(k)] for k in keys if a.get(k) != b.get(k)}


@cli.command("diff", context_settings={"ignore_unknown_options": True})  # A may be -1
@repository_argument
@click.argument("name")
@click.argument("a", metavar="A")
@click.argument("b", metavar="[B]", required=False)
@click.option(
    "--exit-code",
    is_flag=True,
    help="Exit with 1 when the versions differ and 0 when they do not, as git diff does.",
)
@json_option
@storage_options_option
@click.pass_context
def diff(
    ctx: click.Context,
    repo: str,
    name: str,
    a: str,
    b: str | None,
    exit_code: bool,
    as_json: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """Compare two versions of an artifact.

    Versions A and B of artifact NAME (B defaults to the latest): each a number, a time,
    ~TIME, an alias, or ALIAS~TIME, as after NAME@.

    Text artifacts get a unified diff; binary ones a summary of what their records differ
    in: size, digest, and what the handler recorded (e.g. schema and row count), each value
    as JSON. Versions with the same content say so, text or binary.
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
    differ = bool(text) or bool(changes)
    if as_json:
        print_json(
            {"name": name, "a": old["version"], "b": new["version"], "changes": changes}
            | {"diff": text, "same": not differ}
        )
    elif not differ:
        echo(f"{name} v{old['version']} and v{new['version']} hold the same content")
    elif text:
        click.echo(text)
    else:
        echo(f"{name} v{old['version']} -> v{new['version']}")
        for key, (before_value, after_value) in changes.items():
            echo(f"  {key}: {_json(before_value)} -> {_json(after_value)}")
    if exit_code and differ:
        ctx.exit(EXIT_FAILED)


def _json(value: Any) -> str:
    """Return a record value as ``show`` prints it: JSON."""
    return json.dumps(value, default=str)
