"""``archivist release create|list|show|from-toml``: tags pinning a version of each artifact."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import click

from archivist._io.local import read_regular
from archivist.cli._app import cli
from archivist.cli._common import (
    json_option,
    open_repository,
    parse_version_text,
    repository_argument,
    storage_options,
    storage_options_option,
)
from archivist.cli._output import echo, print_json, print_table
from archivist.errors import ArchivistWarning, ConfigError
from archivist.release import Release, create_release, find_release, release_store_of
from archivist.release import release_from_toml as _from_toml

__all__ = ["release"]


def _as_dict(release_: Release) -> dict[str, Any]:
    return release_.to_dict()


@cli.group("release")
def release() -> None:
    """Tag releases pinning a version of every artifact.

    Releases are kept in releases.json beside REPO.
    """


@release.command("create")
@click.argument("repo", metavar="REPO")
@click.argument("tag")
@json_option
@storage_options_option
def create(
    repo: str,
    tag: str,
    as_json: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """Pin the latest version of every artifact under TAG."""
    repository = open_repository(repo, "r", storage_options_json, storage_option_pairs)
    made = create_release(repository, tag)
    store = release_store_of(repository)
    store.add(made)
    if as_json:
        print_json(_as_dict(made))
        return
    pinned = ", ".join(f"{name}@{version}" for name, version in made.artifacts) or "nothing"
    echo(f"release {made.tag} in {store.location}: {pinned}")


@release.command("list")
@repository_argument
@json_option
@storage_options_option
def list_(
    repo: str,
    as_json: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """List the releases of REPO, oldest first."""
    repository = open_repository(repo, "r", storage_options_json, storage_option_pairs)
    store = release_store_of(repository)
    releases = sorted(store.list(), key=lambda r: r.created_at)
    if as_json:
        print_json([_as_dict(r) for r in releases])
        return
    if not releases:
        echo(f"no releases in {store.location}; create one with: archivist release create")
        return
    print_table(
        ["TAG", "CREATED", "ARTIFACTS"],
        [[r.tag, _as_dict(r)["created_at"], len(r.artifacts)] for r in releases],
    )


@release.command("show")
@click.argument("repo", metavar="REPO")
@click.argument("which", metavar="[TAG|TIME|~TIME]", required=False)
@json_option
@storage_options_option
def show(
    repo: str,
    which: str | None,
    as_json: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """Show one release.

    By tag, by creation time, or ~TIME for the newest by then (default: the newest).
    """
    repository = open_repository(repo, "r", storage_options_json, storage_option_pairs)
    store = release_store_of(repository)
    if which is None:
        found = find_release(store.list())
    else:
        value, match = parse_version_text(which)
        found = find_release(store.list(), str(value), match)
    if as_json:
        print_json(_as_dict(found))
        return
    echo(f"release {found.tag}, created {_as_dict(found)['created_at']}")
    print_table(["NAME", "VERSION"], [[name, version] for name, version in found.artifacts])


#: The largest TOML file ``release from-toml`` reads.
_MAX_CONFIG_BYTES = 16 << 20


@release.command("from-toml")
@click.argument("config", default="pyproject.toml", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@storage_options_option
def from_toml(
    config: Path,
    as_json: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """Tag the project version in every repository a TOML file lists.

    The tag is v{version}; the repositories are [tool.archivist].repositories.

    CONFIG defaults to ./pyproject.toml; the version is [project].version.
    """
    try:
        text = read_regular(config, _MAX_CONFIG_BYTES).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise ConfigError(f"cannot read {config}: {reason}") from None
    options = storage_options(storage_options_json, storage_option_pairs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ArchivistWarning)
        recorded = _from_toml(text, **options)
    for warning in caught:
        echo(f"archivist: note: {warning.message}", err=True)
    if as_json:
        print_json([_as_dict(r) for r in recorded])
        return
    for made in recorded:
        pinned = ", ".join(f"{name}@{version}" for name, version in made.artifacts)
        echo(f"release {made.tag}: {pinned}")
