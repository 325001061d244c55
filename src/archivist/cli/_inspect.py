"""``archivist ls``, ``log`` and ``show``: what a repository holds, read-only."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import click

from archivist.cli._app import cli
from archivist.cli._common import (
    json_option,
    open_repository,
    parse_version_spec,
    record_summary,
    repository_argument,
    storage_options_option,
)
from archivist.cli._output import echo, human_size, print_json, print_table
from archivist.errors import VersionNotFoundError
from archivist.repository import Repository

__all__ = ["log", "ls", "show"]


def _latest(repository: Repository, name: str) -> dict[str, Any] | None:
    try:
        return repository.get_artifact_metadata(name)
    except VersionNotFoundError:  # every version expired
        return None


def artifact_rows(repository: Repository) -> list[dict[str, Any]]:
    """Return one summary per artifact: its version count and its latest version's record.

    Costs one record per artifact (its latest), whatever the number of versions: the counts
    come from the repository's index, not from reading every record.
    """
    counts = repository._session.version_counts()
    rows = []
    for name in sorted(counts):
        latest = _latest(repository, name)
        rows.append(
            {
                "name": name,
                "versions": counts[name],
                "latest": None if latest is None else latest["version"],
                "handler": None if latest is None else latest["handler"],
                "size": None if latest is None else latest.get("size"),
                "created_at": None if latest is None else latest["created_at"],
            }
        )
    return rows


@cli.command("ls")
@repository_argument
@json_option
@storage_options_option
def ls(
    repo: str,
    as_json: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """List the artifacts of a repository.

    One row per artifact: versions, latest, handler, size, created.

    The latest version is the newest that has not expired (blank when all have).
    """
    repository = open_repository(repo, "r", storage_options_json, storage_option_pairs)
    rows = artifact_rows(repository)
    if as_json:
        print_json(rows)
        return
    if not rows:
        echo(f"{repository.location} holds no artifacts")
        return
    print_table(
        ["NAME", "VERSIONS", "LATEST", "HANDLER", "SIZE", "CREATED"],
        [
            [
                row["name"],
                row["versions"],
                row["latest"],
                row["handler"],
                human_size(row["size"]),
                row["created_at"],
            ]
            for row in rows
        ],
        whole=("CREATED",),
    )


@cli.command("log")
@repository_argument
@click.argument("name")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Show only the N newest versions.",
)
@json_option
@storage_options_option
def log(
    repo: str,
    name: str,
    limit: int | None,
    as_json: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """Show an artifact's history, newest first.

    Every version of artifact NAME in REPO (the N newest with --limit N), with its expiry
    and the aliases naming it.
    """
    repository = open_repository(repo, "r", storage_options_json, storage_option_pairs)
    numbers = repository.versions(name)
    if limit is not None:
        numbers = numbers[-limit:]  # only these versions' records are read
    named: dict[int, list[str]] = defaultdict(list)
    for alias, version in repository.aliases(name).items():
        named[version].append(alias)
    records = [
        record_summary(repository.get_artifact_metadata(name, n)) | {"aliases": named[n]}
        for n in numbers
    ]
    records.reverse()
    if as_json:
        print_json(records)
        return
    print_table(
        ["VERSION", "CREATED", "EXPIRY", "HANDLER", "SIZE", "SHA256", "ALIASES"],
        [
            [
                r["version"],
                r["created_at"],
                r["expiry"],
                r["handler"],
                human_size(r["size"]),
                (r["sha256"] or "-")[:12],
                ", ".join(r["aliases"]) or None,
            ]
            for r in records
        ],
        whole=("CREATED",),
    )


@cli.command("show")
@repository_argument
@click.argument("spec", metavar="NAME[@VERSION]")
@json_option
@storage_options_option
def show(
    repo: str,
    spec: str,
    as_json: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """Show the record of one version.

    NAME alone means the latest version.

    VERSION is a number (-1 is the last), an ISO time, ~TIME for the newest version
    created at or before it, an alias, or ALIAS~TIME for what the alias named then:
    features@0, features@-1, features@~2026-01-31, model@production,
    model@production~2026-03-01.
    """
    repository = open_repository(repo, "r", storage_options_json, storage_option_pairs)
    wanted = parse_version_spec(spec, repository._session.index().names)
    found = wanted.metadata(repository)
    # name and version first: which version this is, then what it holds
    record = {"name": found["name"], "version": found["version"]} | found
    if as_json:
        print_json(record)
        return
    width = max(len(key) for key in record)
    for key, value in record.items():
        shown = json.dumps(value) if isinstance(value, dict | list) else value
        echo(f"{key.ljust(width)}  {'-' if value is None else shown}")
