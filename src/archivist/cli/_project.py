"""``archivist project ls|show|diff|promote``: a project's experiments, and promoting their files.

A project is a ``project.json`` of experiments (lazyscribe's format), each with metrics,
parameters, tests and artifacts. PROJECT is that file, the folder holding it, or a URL; left
out, it is the ``project.json`` of the current folder or the nearest folder above it. An
experiment is named by its slug or short slug (the latest experiment of that name).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from archivist.cli._app import EXIT_FAILED, cli
from archivist.cli._common import (
    json_option,
    open_repository,
    storage_options,
    storage_options_option,
)
from archivist.cli._locate import FIND_REPOSITORY, PROJECT_NAME, describe_document, find_upward
from archivist.cli._output import echo, print_json, print_table
from archivist.errors import ManifestError, RepositoryNotFoundError
from archivist.experiment import Experiment
from archivist.project import Project

__all__ = ["project"]


def _location(given: str) -> str:
    if given == FIND_REPOSITORY:
        return find_upward(PROJECT_NAME, "project")
    if "://" not in given and Path(given).is_dir():
        return os.path.join(given, PROJECT_NAME)
    return given


def _open(given: str, options_json: str | None, pairs: tuple[str, ...]) -> Project:
    """Open PROJECT read-only; a missing or foreign file is one error naming the fix."""
    location = _location(given)
    try:
        return Project(location, mode="r", **storage_options(options_json, pairs))
    except RepositoryNotFoundError:
        raise RepositoryNotFoundError(
            f"no project at {location}: there is no project.json there. Give the path or URL "
            "of a project.json, or the folder holding one"
        ) from None
    except ManifestError as exc:
        described = None if "://" in location else describe_document(Path(location), "project")
        if described is None:
            raise
        raise ManifestError(described) from exc


def project_argument(function: Any) -> Any:
    """Add the ``PROJECT`` argument, which may be left out."""
    return click.argument("project_", metavar="[PROJECT]")(function)


def _summary(experiment: Experiment) -> dict[str, Any]:
    data = experiment.to_dict()
    return {
        "slug": data["slug"],
        "short_slug": data["short_slug"],
        "name": data["name"],
        "author": data["author"],
        "created_at": data["created_at"],
        "last_updated": data["last_updated"],
        "tags": data["tags"],
        "metrics": data["metrics"],
        "parameters": data["parameters"],
        "tests": [test["name"] for test in data["tests"]],
        "artifacts": [artifact["name"] for artifact in data["artifacts"]],
    }


def _value(value: Any) -> str:
    return json.dumps(value, default=str)


def _pairs(values: dict[str, Any]) -> str:
    return ", ".join(f"{key}={_value(value)}" for key, value in values.items()) or "-"


@cli.group("project")
def project() -> None:
    """Look at a project's experiments and promote their artifacts.

    Promotion copies an experiment's artifact into a repository as its next version.

    PROJECT is a project.json (lazyscribe's format), the folder holding one, or a URL; left
    out, the project.json of the current folder or the nearest folder above it. EXPERIMENT is
    a slug or short slug (the latest experiment of that name).
    """


@project.command("ls")
@project_argument
@json_option
@storage_options_option
def ls(
    project_: str,
    as_json: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """List the experiments of a project, oldest first.

    One row per experiment: slug, created, author, metrics, tests, artifacts.
    """
    opened = _open(project_, storage_options_json, storage_option_pairs)
    rows = [_summary(experiment) for experiment in opened.experiments]
    if as_json:
        print_json(rows)
        return
    if not rows:
        echo(f"{opened.location} holds no experiments")
        return
    print_table(
        ["SLUG", "CREATED", "AUTHOR", "METRICS", "TESTS", "ARTIFACTS"],
        [
            [
                row["slug"],
                row["created_at"],
                row["author"],
                _pairs(row["metrics"]),
                len(row["tests"]),
                ", ".join(row["artifacts"]) or "-",
            ]
            for row in rows
        ],
        whole=("SLUG",),
    )


@project.command("show")
@project_argument
@click.argument("experiment")
@json_option
@storage_options_option
def show(
    project_: str,
    experiment: str,
    as_json: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """Show one experiment: metrics, parameters, tests and artifacts.

    As JSON: the experiment as project.json stores it.
    """
    found = _open(project_, storage_options_json, storage_option_pairs)[experiment]
    data = found.to_dict()
    if as_json:
        print_json(data)
        return
    for key in ("slug", "name", "author", "created_at", "last_updated"):
        echo(f"{key.ljust(13)} {data[key]}")
    echo(f"{'tags'.ljust(13)} {', '.join(data['tags']) or '-'}")
    echo(f"{'dependencies'.ljust(13)} {', '.join(data['dependencies']) or '-'}")
    for section in ("metrics", "parameters"):
        echo(f"{section}:")
        for key, value in data[section].items():
            echo(f"  {key}: {_value(value)}")
    echo("tests:")
    for test in data["tests"]:
        echo(f"  {test['name']}: metrics {_pairs(test['metrics'])}")
    echo("artifacts:")
    for artifact in data["artifacts"]:
        echo(f"  {artifact['name']}: {artifact['handler']}, {artifact['fname']}")


def _flat(data: dict[str, Any]) -> dict[str, Any]:
    """Return what ``project diff`` compares: metrics, parameters, tags, tests, artifacts."""
    flat: dict[str, Any] = {}
    for section in ("metrics", "parameters"):
        for key, value in data[section].items():
            flat[f"{section}.{key}"] = value
    flat["tags"] = sorted(data["tags"])
    for test in data["tests"]:
        for key, value in test["metrics"].items():
            flat[f"tests.{test['name']}.metrics.{key}"] = value
        for key, value in test["parameters"].items():
            flat[f"tests.{test['name']}.parameters.{key}"] = value
    for artifact in data["artifacts"]:
        flat[f"artifacts.{artifact['name']}"] = artifact.get("sha256") or artifact["fname"]
    return flat


@project.command("diff")
@project_argument
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option(
    "--exit-code", is_flag=True, help="Exit with 1 when the experiments differ, as git diff does."
)
@json_option
@storage_options_option
@click.pass_context
def diff(
    ctx: click.Context,
    project_: str,
    a: str,
    b: str,
    exit_code: bool,
    as_json: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """Compare two experiments: metrics, parameters, tags, tests and artifacts.

    One line per value that differs (an artifact differs when its content does), values as
    JSON; a value only one experiment has shows as null in the other.
    """
    opened = _open(project_, storage_options_json, storage_option_pairs)
    old, new = opened[a].to_dict(), opened[b].to_dict()
    before, after = _flat(old), _flat(new)
    changes = {
        key: [before.get(key), after.get(key)]
        for key in dict.fromkeys([*before, *after])
        if before.get(key) != after.get(key)
    }
    if as_json:
        print_json({"a": old["slug"], "b": new["slug"], "changes": changes})
    elif not changes:
        echo(f"{old['slug']} and {new['slug']} have the same metrics, parameters and artifacts")
    else:
        echo(f"{old['slug']} -> {new['slug']}")
        for key, (was, now) in changes.items():
            echo(f"  {key}: {_value(was)} -> {_value(now)}")
    if exit_code and changes:
        ctx.exit(EXIT_FAILED)


@project.command("promote")
@project_argument
@click.argument("experiment")
@click.argument("artifact")
@click.option(
    "--to",
    "repo",
    default=FIND_REPOSITORY,
    metavar="REPO",
    show_default=False,
    help="The repository to promote into (default: the repository.json of the current folder "
    "or the nearest folder above it). It must exist.",
)
@json_option
@storage_options_option
def promote(
    project_: str,
    experiment: str,
    artifact: str,
    repo: str,
    as_json: bool,
    storage_options_json: str | None,
    storage_option_pairs: tuple[str, ...],
) -> None:
    """Copy an experiment's artifact into a repository as its next version.

    The file is copied verified against its digest and committed at once; the new version
    records where it came from (the project file and the experiment's slug).
    """
    found = _open(project_, storage_options_json, storage_option_pairs)[experiment]
    repository = open_repository(repo, "a", storage_options_json, storage_option_pairs)
    found.promote_artifact(repository, artifact)
    record = repository.get_artifact_metadata(artifact)
    if as_json:
        print_json(record)
        return
    echo(
        f"promoted {artifact} of {found.slug} to {repository.location} as version "
        f"{record['version']}"
    )
