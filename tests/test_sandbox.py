"""The test suite keeps to its sandbox: the user's cache folder and the system's temporary
folder gain nothing from a run.

A run of a sample of the suite (the tests that import a guide's package, run the demo, use
the cache, and start worker processes and subprocesses) is started in a subprocess whose
user cache folder (``XDG_CACHE_HOME``) and temporary folder (``TMPDIR``) are fresh, empty
folders, with no ``ARCHIVIST_CACHE_DIR`` set, as in a user's shell; both must stay empty.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = [
    "tests/handlers/test_writing_a_handler.py",
    "tests/cli/test_demo.py",
    "tests/test_cache.py",
    "tests/test_release.py",
]


@pytest.mark.skipif(sys.platform == "win32", reason="XDG_CACHE_HOME and TMPDIR are POSIX")
def test_a_run_leaves_the_user_cache_and_the_temporary_folder_alone(tmp_path: Path) -> None:
    cache, temporary = tmp_path / "user-cache", tmp_path / "system-tmp"
    cache.mkdir()
    temporary.mkdir()
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "TMPDIR": str(temporary)}
    env.pop("ARCHIVIST_CACHE_DIR", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(tmp_path / "basetemp"),
            *SAMPLE,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert sorted(p.name for p in temporary.iterdir()) == []
    assert sorted(str(p.relative_to(cache)) for p in cache.rglob("*")) == []
