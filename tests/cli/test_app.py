"""What every command shares: --version, exit codes, errors, logging, output, options."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import Result
from tests.conftest import make_orphan

import archivist
from archivist import Repository
from archivist.cli import _output, main
from archivist.cli._common import parse_duration, parse_version_spec, storage_options

Invoke = Callable[..., Result]


def test_version(invoke: Invoke) -> None:
    assert invoke("--version").stdout.strip() == f"archivist {archivist.__version__}"


def test_help_is_plain_text(invoke: Invoke) -> None:
    out = invoke("--help").stdout
    assert "Exit codes" in out and "``" not in out and ":class:" not in out
    for command in ("ls", "log", "show", "get", "cat", "diff", "release", "verify", "gc"):
        assert f"  {command} " in out or f"  {command}\n" in out


def test_usage_errors_exit_2(invoke: Invoke) -> None:
    assert "No such command" in invoke("frobnicate", code=2).stderr
    assert "No such option" in invoke("ls", "--bogus", code=2).stderr


def test_main_returns_the_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ls", str(tmp_path / "nowhere")]) == 1
    assert "no repository at" in capsys.readouterr().err
    assert main(["ls", "--bogus"]) == 2
    assert main(["--version"]) == 0


def test_debug_shows_the_traceback(tmp_path: Path, invoke: Invoke) -> None:
    assert "Traceback" not in invoke("ls", str(tmp_path / "x"), code=1).stderr
    assert "Traceback" in invoke("--debug", "ls", str(tmp_path / "x"), code=1).stderr


def test_an_unexpected_error_is_one_line(
    repo: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Repository, "verify", boom)
    result = invoke("verify", str(repo), code=1)
    assert result.stderr == (
        "archivist: error: RuntimeError: disk on fire (run with --debug for the traceback)\n"
    )


def test_verbose_logs_commits_and_gc_decisions(repo: Path, invoke: Invoke) -> None:
    make_orphan(repo / "repository.json", fname="stray.json")
    quiet = invoke("gc", str(repo), "--dry-run", "--older-than", "0")
    assert "archivist: info:" not in quiet.stderr
    loud = invoke("-v", "gc", str(repo), "--dry-run", "--older-than", "0")
    assert "archivist: info: gc: would delete" in loud.stderr
    assert logging.getLogger("archivist").handlers == []  # removed after the command


def test_quiet_hides_warnings(repo: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    original = Repository.gc

    def warn(*args: Any, **kwargs: Any) -> Any:
        logging.getLogger("archivist.repository").warning("careful")
        return original(*args, **kwargs)

    monkeypatch.setattr(Repository, "gc", warn)
    assert "careful" in invoke("gc", str(repo)).stderr
    assert "careful" not in invoke("-q", "gc", str(repo)).stderr


def test_storage_options_reach_the_filesystem(
    repo: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, Any]] = []
    original = Repository.__init__

    def spy(self: Repository, *args: Any, **kwargs: Any) -> None:
        seen.append({k: v for k, v in kwargs.items() if k != "mode"})
        original(self, *args, **kwargs)

    monkeypatch.setattr(Repository, "__init__", spy)
    invoke(
        "ls",
        str(repo),
        "--storage-options",
        '{"auto_mkdir": false, "use_listings_cache": false}',
        "--storage-option",
        "auto_mkdir=true",
        "--storage-option",
        "skip_instance_cache=true",
    )
    assert seen[0] == {"auto_mkdir": True, "use_listings_cache": False, "skip_instance_cache": True}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--storage-options", "{nope"], "not valid JSON"),
        (["--storage-options", "[1]"], "JSON object"),
        (["--storage-option", "novalue"], "KEY=VALUE"),
    ],
)
def test_bad_storage_options_are_usage_errors(
    repo: Path, invoke: Invoke, args: list[str], message: str
) -> None:
    assert message in invoke("ls", str(repo), *args, code=2).stderr


def test_storage_options_parse() -> None:
    assert storage_options(None, ()) == {}
    assert storage_options('{"a": 1}', ("b=null", "c=x=y")) == {"a": 1, "b": None, "c": "x=y"}


def test_version_specs() -> None:
    spec = parse_version_spec("a@b@-1")
    assert (spec.name, spec.version, spec.match) == ("a@b", -1, "exact")
    spec = parse_version_spec("f@~2026-01-31")
    assert (spec.version, spec.match, str(spec)) == ("2026-01-31", "asof", "f@~2026-01-31")
    assert parse_version_spec("a@b", lambda: ["a@b"]).name == "a@b"
    for bad in ("@1", "f@", "f@@1"):
        with pytest.raises(click.BadParameter):
            parse_version_spec(bad)


def test_durations() -> None:
    assert parse_duration("1h30m").total_seconds() == 5400
    assert parse_duration("0.5").total_seconds() == 0.5
    assert parse_duration("1w").days == 7
    for bad in ("-5", "nan", "-inf", "5 parsecs", "1e400", ""):
        with pytest.raises(click.BadParameter):
            parse_duration(bad)


def test_a_terminal_gets_a_table(
    repo: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_output, "_is_terminal", lambda: True)
    monkeypatch.setenv("NO_COLOR", "1")
    out = invoke("ls", str(repo)).stdout
    assert "features" in out and "─" in out
    assert "\x1b[" not in out  # NO_COLOR


def test_json_output_is_only_json(repo: Path, invoke: Invoke) -> None:
    for args in (
        ["ls", str(repo)],
        ["log", str(repo), "features"],
        ["show", str(repo), "model"],
        ["verify", str(repo)],
        ["gc", str(repo)],
        ["release", "list", str(repo)],
        ["prune", str(repo), "--keep-last", "1", "--dry-run"],
        ["alias", "list", str(repo), "model"],
        ["cache", "info", "--cache-dir", str(repo.parent / "cache")],
    ):
        json.loads(invoke("-v", *args, "--json").stdout)


@pytest.mark.parametrize("group", [[], ["release"], ["alias"], ["cache"]])
def test_command_summaries_are_whole_sentences(invoke: Invoke, group: list[str]) -> None:
    listing = invoke(*group, "--help").stdout.split("Commands:")[1]
    for line in listing.strip().splitlines():
        assert line.rstrip().endswith(".") and not line.rstrip().endswith("..."), line
