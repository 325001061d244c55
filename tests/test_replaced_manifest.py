"""What a mode "w" save replaces: the warning names the user's line, and the files it unlisted
are kept, listed by verify and gc, with why and how to remove them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from datetime import timedelta
from pathlib import Path

import pytest

from archivist import Repository
from archivist.errors import ArchivistWarning

SCRIPT = Path(sys.executable).with_name("archivist")


def saved(path: Path, mode: str, value: object) -> Repository:
    repository = Repository(path, mode=mode)
    repository.log_artifact("features", value, handler="json")
    return repository


def replaced(repo_path: Path) -> Path:
    """Save a version, replace the manifest with mode "w"; return the unlisted file."""
    saved(repo_path, "w", ["old"]).save()
    [old] = (repo_path.parent / "features").iterdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchivistWarning)
        saved(repo_path, "w", ["new"]).save()
    return old


def test_the_mode_w_warning_names_the_users_line(repo_path: Path) -> None:
    saved(repo_path, "w", ["old"]).save()
    repository = saved(repo_path, "w", ["new"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = sys._getframe().f_lineno + 1
        repository.save()
    [warning] = [w for w in caught if issubclass(w.category, ArchivistWarning)]
    assert "mode 'w' replaces the manifest" in str(warning.message)
    assert (warning.filename, warning.lineno) == (__file__, line)


def test_verify_lists_what_mode_w_unlisted_and_gc_keeps_it(repo_path: Path) -> None:
    old = replaced(repo_path)
    repository = Repository(repo_path, mode="a")
    assert repository.verify().kept == [str(old)]
    assert repository.verify().orphans == []
    plan = repository.gc(timedelta(0), dry_run=True)
    assert plan.kept == (str(old),) and plan.locations == []
    assert repository.gc(timedelta(0)) == []
    assert old.is_file()  # kept: the replaced manifest may be restored


def test_a_pruned_file_is_not_listed(repo_path: Path) -> None:
    saved(repo_path, "w", ["a"]).save()
    saved(repo_path, "a", ["b"]).save()
    repository = Repository(repo_path, mode="w+")
    repository.prune(keep_last=1)
    assert repository.verify().kept == []


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_the_cli_says_why_they_are_kept_and_how_to_remove_them(repo_path: Path) -> None:
    old = replaced(repo_path)
    done = run("verify", str(repo_path))
    assert done.returncode == 0, done.stderr
    assert f"kept (referenced by no version): {old}" in done.stdout
    assert "replaced (mode 'w')" in done.stdout and "rm FILE" in done.stdout
    assert json.loads(run("verify", str(repo_path), "--json").stdout)["kept"] == [str(old)]
    done = run("gc", str(repo_path), "--older-than", "0s", "--yes")
    assert done.returncode == 0, done.stderr
    assert f"kept (referenced by no version): {old}" in done.stderr
    assert "replaced (mode 'w')" in done.stderr and "rm FILE" in done.stderr
    assert old.is_file()


@pytest.fixture(autouse=True)
def _quiet_index_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHIVIST_INDEX_CACHE", "0")
