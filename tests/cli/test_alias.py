"""``archivist alias``: errors in the command line's words, and only aliases that exist."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Run


def test_a_missing_alias_gives_command_line_advice(repo: Path, run: Run) -> None:
    err = run("show", str(repo), "features@production", code=1).stderr
    assert "archivist alias set" in err and "set_alias(" not in err


def test_a_removed_alias_is_not_listed_as_one(repo: Path, run: Run) -> None:
    run("alias", "set", str(repo), "features", "prod", "0")
    run("alias", "remove", str(repo), "features", "prod")
    assert run("alias", "list", str(repo), "features", "--json").stdout.strip() == "{}"
    err = run("show", str(repo), "features@banana", code=1).stderr
    assert "its aliases are none" in err and "removed: 'prod'" in err
    run("alias", "set", str(repo), "features", "staging", "1")
    err = run("show", str(repo), "features@banana", code=1).stderr
    assert "its aliases are 'staging' (removed: 'prod')" in err
