"""The ``archivist`` command: a demo, and a look inside repositories."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from archivist.errors import ArchivistError
from archivist.repository import Repository

__all__ = ["main"]


def _say(text: str) -> None:
    print(text, flush=True)


def demo(folder: Path) -> None:
    """Log, version and time-travel a feature list in a repository under ``folder``.

    Parameters
    ----------
    folder : pathlib.Path
        Where the demo repository is created.
    """
    manifest = folder / "repository.json"
    _say(f"archivist demo: a repository at {manifest}\n")

    _say("1. Log version 0 of 'features' and save it.")
    repository = Repository(manifest, mode="w")
    repository.log_artifact(name="features", value=["age", "income"], handler="json", indent=4)
    repository.save()
    first = repository.get_artifact_metadata("features")
    _say(f"   saved version {first['version']} at {first['created_at']} -> {first['fname']}")

    time.sleep(1.1)  # so the next version is created in a later second
    _say("2. A new experiment adds a feature: append version 1 (mode 'a').")
    repository = Repository(manifest, mode="a")
    repository.log_artifact(
        name="features", value=["age", "income", "tenure"], handler="json", indent=4
    )
    repository.log_artifact(name="model", value={"weights": [0.4, 0.6]}, handler="pickle")
    repository.save()
    _say(f"   'features' now has versions {repository.versions('features')}")

    _say("3. Read it back, read-only (mode 'r').")
    repository = Repository(manifest, mode="r")
    _say(f"   latest:            {repository.load_artifact('features')}")
    _say(f"   version=0:         {repository.load_artifact('features', version=0)}")
    at = first["created_at"][:19]
    _say(f"   exact '{at}': {repository.load_artifact('features', version=at)}")
    _say(f"   as of '{at}': {repository.load_artifact('features', version=at, match='asof')}")

    _say("4. Diff the two versions of the feature list.")
    for line in repository.get_version_diff("features", (0, 1)).splitlines():
        _say(f"   {line}")

    _say("5. Verify every stored file against its SHA-256.")
    report = repository.verify()
    _say(f"   {report.checked} files verified, {len(report.orphans)} orphans")
    _say(f"\nThe manifest is plain JSON: {manifest}")


def _show(path: str) -> None:
    repository = Repository(path, mode="r")
    _say(repr(repository))
    for record in repository:
        _say(json.dumps(record, sort_keys=True))


def _verify(path: str) -> None:
    report = Repository(path, mode="r").verify()
    _say(f"{report.checked} files verified")
    for name, version in report.unverifiable:
        _say(f"no digest recorded (written by lazyscribe): {name} v{version}")
    for orphan in report.orphans:
        _say(f"orphan (referenced by no version): {orphan}")


def _gc(path: str, older_than_hours: float, dry_run: bool) -> None:
    repository = Repository(path, mode="r" if dry_run else "a")
    removed = repository.gc(older_than=timedelta(hours=older_than_hours), dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for location in removed:
        _say(f"{verb} {location}")
    _say(f"{len(removed)} orphan file(s) {verb.split()[-1]}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``archivist`` command.

    Parameters
    ----------
    argv : Sequence[str], optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status.
    """
    parser = argparse.ArgumentParser(prog="archivist", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_demo = commands.add_parser("demo", help="log, version and time-travel on local disk")
    run_demo.add_argument("folder", nargs="?", help="where to create the demo repository")
    show = commands.add_parser("show", help="list the versions in a repository")
    show.add_argument("repository", help="path or URL of repository.json")
    verify = commands.add_parser("verify", help="check every stored file's digest")
    verify.add_argument("repository", help="path or URL of repository.json")
    gc = commands.add_parser("gc", help="delete orphan files left by saves that never committed")
    gc.add_argument("repository", help="path or URL of repository.json")
    gc.add_argument(
        "--older-than-hours",
        type=float,
        default=1.0,
        help="keep orphans younger than this, they may belong to a save in progress (default 1)",
    )
    gc.add_argument("--dry-run", action="store_true", help="only list what would be removed")
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            if args.folder:
                Path(args.folder).mkdir(parents=True, exist_ok=True)
                demo(Path(args.folder).resolve())
            else:
                with tempfile.TemporaryDirectory(prefix="archivist-demo-") as folder:
                    demo(Path(folder))
        elif args.command == "show":
            _show(args.repository)
        elif args.command == "gc":
            _gc(args.repository, args.older_than_hours, args.dry_run)
        else:
            _verify(args.repository)
    except ArchivistError as exc:
        print(f"archivist: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
