"""``archivist demo``: log, version and time-travel a feature list on local disk."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import click

from archivist.cli._app import cli
from archivist.repository import Repository

__all__ = ["demo", "demo_command"]


def _say(text: str) -> None:
    click.echo(text)


def _run(*args: str) -> None:
    """Show an ``archivist`` command, then run it as a user would type it."""
    _say("   $ archivist " + " ".join(args))
    cli.main(list(args), prog_name="archivist", standalone_mode=False)


def demo(folder: Path, *, kept: bool = True) -> None:
    """Log, version and time-travel a feature list in a repository under ``folder``.

    Parameters
    ----------
    folder : pathlib.Path
        Where the demo repository is created.
    kept : bool, optional
        Whether ``folder`` outlives the demo; the closing lines point into it only then.
    """
    manifest = folder / "repository.json"
    where = manifest if kept else "a temporary folder (removed when the demo ends)"
    _say(f"archivist demo: a repository at {where}\n")

    _say("1. Log version 0 of 'features' and save it.")
    repository = Repository(manifest, mode="w")
    repository.log_artifact(name="features", value=["age", "income"], handler="json", indent=4)
    repository.save()
    first = repository.get_artifact_metadata("features")
    _say(f"   saved version {first['version']} at {first['created_at']} -> {first['fname']}")

    time.sleep(1.1)  # so the next version is created in a later second
    _say("2. A new experiment adds a feature: append version 1 (mode 'a'), with the model it")
    _say("   trained, 'model' (a pickle), in the same save.")
    repository = Repository(manifest, mode="a")
    repository.log_artifact(
        name="features", value=["age", "income", "tenure"], handler="json", indent=4
    )
    repository.log_artifact(name="model", value={"weights": [0.4, 0.6]}, handler="pickle")
    repository.save()
    _say(f"   'features' now has versions {repository.versions('features')}, 'model' version 0")

    _say("3. Read it back, read-only (mode 'r').")
    repository = Repository(manifest, mode="r")
    _say(f"   latest:            {repository.load_artifact('features')}")
    _say(f"   version=0:         {repository.load_artifact('features', version=0)}")
    at = first["created_at"][:19]
    _say(f"   exact '{at}': {repository.load_artifact('features', version=at)}")
    _say(f"   as of '{at}': {repository.load_artifact('features', version=at, match='asof')}")
    _say(f"   model:             {repository.load_artifact('model')}")

    _say("4. Diff the two versions of the feature list.")
    _run("diff", str(folder), "features", "0", "1")

    _say("5. Verify every stored file against its SHA-256.")
    report = repository.verify()
    _say(f"   {report.checked} files verified, {len(report.orphans)} orphans")

    _say("6. What the repository holds now.")
    _run("ls", str(folder))
    if kept:
        _say(f"\nThe manifest is plain JSON: {manifest}")
    else:
        _say("\nThe demo ran in a temporary folder, now removed: run 'archivist demo FOLDER' to")
        _say("keep the repository in FOLDER and look inside it.")


@cli.command("demo")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
def demo_command(folder: Path | None) -> None:
    """Create a demo repository and time-travel in it.

    Logs, versions and time-travels artifacts in a repository on local disk.

    The repository is created in FOLDER (kept), or in a temporary folder removed afterwards.
    """
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        demo(folder.resolve())
        return
    with tempfile.TemporaryDirectory(prefix="archivist-demo-") as temporary:
        demo(Path(temporary), kept=False)
