"""``archivist alias set|remove|list|log``: movable names for versions, with their history."""

from __future__ import annotations

from typing import Any

import click

from archivist._lifecycle.aliases import AliasMove
from archivist.cli._app import cli
from archivist.cli._common import (
    json_option,
    open_repository,
    parse_version_ref,
    storage_options_option,
)
from archivist.cli._output import echo, print_json, print_table
from archivist.manifest import format_time

__all__ = ["alias"]


def move_dict(move: AliasMove) -> dict[str, Any]:
    """Return the JSON form of one alias move, with the field names of :class:`AliasMove`."""
    return {
        "name": move.name,
        "alias": move.alias,
        "when": format_time(move.when),
        "from_version": move.from_version,
        "to_version": move.to_version,
    }


def _version(version: int | None) -> str:
    return "(none)" if version is None else f"v{version}"


def _describe(move: AliasMove) -> str:
    to = "removed" if move.to_version is None else _version(move.to_version)
    return f"{move.name}@{move.alias}: {_version(move.from_version)} -> {to}"


@cli.group("alias")
def alias() -> None:
    """Name versions (production, staging) and keep each move.

    Aliases live in repository.aliases.json beside REPO's repository.json, which keeps every
    move. Read a version by alias with NAME@ALIAS (e.g. archivist show REPO model@production)
    and what it named at a time with NAME@ALIAS~TIME.
    """


@alias.command("set", context_settings={"ignore_unknown_options": True})  # VERSION may be -1
@click.argument("repo", metavar="REPO")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@click.argument("version", metavar="VERSION")
@json_option
@storage_options_option
def set_(
    repo: str,
    name: str,
    alias_name: str,
    version: str,
    as_json: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """Point ALIAS of artifact NAME at VERSION, or move it there.

    VERSION is what follows NAME@: a number (-1 is the last), a time, ~TIME, or another
    alias (archivist alias set REPO model production staging promotes what staging names).

    The move is committed at once and kept in the alias's history.
    """
    repository = open_repository(repo, "w+", storage_options_json, storage_option_pairs)
    target = parse_version_ref(name, version).metadata(repository)["version"]
    move = repository.set_alias(name, alias_name, target)
    if as_json:
        print_json(move_dict(move))
        return
    echo(_describe(move))


@alias.command("remove")
@click.argument("repo", metavar="REPO")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@json_option
@storage_options_option
def remove(
    repo: str,
    name: str,
    alias_name: str,
    as_json: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """Remove ALIAS of artifact NAME; its history is kept."""
    repository = open_repository(repo, "w+", storage_options_json, storage_option_pairs)
    move = repository.remove_alias(name, alias_name)
    if as_json:
        print_json(move_dict(move))
        return
    echo(_describe(move))


@alias.command("list")
@click.argument("repo", metavar="REPO")
@click.argument("name")
@json_option
@storage_options_option
def list_(
    repo: str,
    name: str,
    as_json: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """List the aliases of artifact NAME and the version each names.

    As JSON: an object {alias: version}.
    """
    repository = open_repository(repo, "r", storage_options_json, storage_option_pairs)
    current = repository.aliases(name)
    if as_json:
        print_json(current)
        return
    if not current:
        echo(f"{name} has no aliases; set one with: archivist alias set REPO {name} ALIAS VERSION")
        return
    print_table(["ALIAS", "VERSION"], [[alias_, version] for alias_, version in current.items()])


@alias.command("log")
@click.argument("repo", metavar="REPO")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@json_option
@storage_options_option
def log(
    repo: str,
    name: str,
    alias_name: str,
    as_json: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """Show the moves of ALIAS of artifact NAME, oldest first.

    When each was made, and from which version to which (none: the alias was removed).
    """
    repository = open_repository(repo, "r", storage_options_json, storage_option_pairs)
    moves = repository.alias_history(name, alias_name)
    if as_json:
        print_json([move_dict(move) for move in moves])
        return
    print_table(
        ["WHEN", "FROM", "TO"],
        [
            [
                format_time(m.when),
                m.from_version,
                "removed" if m.to_version is None else m.to_version,
            ]
            for m in moves
        ],
    )
