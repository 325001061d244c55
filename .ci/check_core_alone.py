"""Fail unless archivist's core is installed without any of archivist's plugins.

Run by the ``lazyscribe_plugins`` nox session before its tests, with one ``DIST=MODULE``
argument per plugin distribution under plugins/: it exits non-zero, naming each, when one of
them is installed or importable, or when any distribution but the core registers an
``archivist`` entry point. Then lazyscribe's handler packages are all that claim an alias.
"""

from __future__ import annotations

import contextlib
import importlib.metadata as metadata
import importlib.util
import sys


def problems(plugins: dict[str, str]) -> list[str]:
    """Return one line per sign that an archivist plugin is present."""
    found = []
    for dist, module in plugins.items():
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.append(f"the distribution {dist} {metadata.version(dist)} is installed")
        spec = importlib.util.find_spec(module)
        if spec is not None:
            found.append(f"the module {module} is importable from {spec.origin}")
    for entry_point in metadata.entry_points(group="archivist"):
        owner = entry_point.dist.name if entry_point.dist is not None else "an unknown distribution"
        if owner != "archivist":
            found.append(f"{owner} registers the archivist entry point {entry_point.name!r}")
    return found


def main() -> None:
    """Check the ``DIST=MODULE`` pairs given; exit non-zero naming what is there."""
    plugins = dict(arg.split("=", 1) for arg in sys.argv[1:])
    if not plugins:
        sys.exit("usage: check_core_alone.py DIST=MODULE ...")
    found = problems(plugins)
    if found:
        sys.exit("not archivist's core alone:\n  " + "\n  ".join(found))
    lazyscribe = sorted(
        f"{d.metadata['Name']} {d.version}"
        for d in metadata.distributions()
        if d.metadata["Name"].startswith("lazyscribe")
    )
    print(f"archivist {metadata.version('archivist')} alone, with {', '.join(lazyscribe)}")


if __name__ == "__main__":
    main()
