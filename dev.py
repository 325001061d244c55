#!/usr/bin/env python3
"""Run the project's nox sessions on a fresh machine: ``python3 dev.py -s tests``.

Needs only Python 3.11+ (and Node.js and git for the cloud-emulator tests). On first use
it creates ``.dev-venv/`` holding pinned nox and uv, then hands every argument to nox.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

TOOLS = ("nox==2026.10.20", "uv==0.13.9")
HERE = Path(__file__).resolve().parent
VENV = HERE / ".dev-venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / "tools.txt"


def main() -> None:
    wanted = "\n".join(TOOLS)
    if not STAMP.is_file() or STAMP.read_text() != wanted:
        print(f"dev.py: preparing {VENV.name}/ with {', '.join(TOOLS)}", flush=True)
        venv.create(VENV, with_pip=True, clear=True)
        subprocess.run(
            [
                str(BIN / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                *TOOLS,
            ],
            check=True,
        )
        STAMP.write_text(wanted)
    os.chdir(HERE)
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    nox = str(BIN / "nox")
    if os.name == "nt":  # pragma: no cover
        sys.exit(subprocess.run([nox, *sys.argv[1:]], env=env, check=False).returncode)
    os.execve(nox, [nox, *sys.argv[1:]], env)


if __name__ == "__main__":
    main()
