from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from tests.cli.conftest import Run, Tty

from archivist import Repository

Invoke = Callable[..., Result]


def parse_json(result: Result) -> object:
    return json.loads(result.stdout)  # stdout holds exactly one JSON document


def test_ls_lists_each_artifact_as_json(repo: Path, invoke: Invoke) -> None:
    rows = parse_json(invoke("ls", str(repo), "--json"))
    assert [row["name"] for row in rows] == ["features", "model"]
    features = rows[0]
    assert features["versions"] == 2 and features["latest"] == 1
    assert features["handler"] == "json" and features["size"] > 0
    assert set(features) == {"name", "versions", "latest", "handler", "size", "created_at"}


def test_ls_human_output_is_plain_text_off_a_terminal(repo: Path, invoke: Invoke) -> None:
    out = invoke("ls", str(repo)).stdout
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "VERSIONS", "LATEST", "HANDLER", "SIZE", "CREATED"]
    assert lines[1].split()[:4] == ["features", "2", "1", "json"]
    assert "\x1b" not in out and "│" not in out  # no colour codes, no box drawing


def test_repo_defaults_to_the_current_folder(
    repo: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    assert len(parse_json(invoke("ls", "--json"))) == 2


@pytest.mark.parametrize("form", ["folder", "manifest", "file-url"])
def test_repo_is_a_folder_a_manifest_or_a_url(repo: Path, invoke: Invoke, form: str) -> None:
    arg = {
        "folder": str(repo),
        "manifest": str(repo / "repository.json"),
        "file-url": (repo / "repository.json").as_uri(),
    }[form]
    assert len(parse_json(invoke("ls", arg, "--json"))) == 2


def test_repo_in_a_memory_folder_url(invoke: Invoke, memory_url: str) -> None:
    repository = Repository(memory_url, mode="w")
    repository.log_artifact(name="a", value=1, handler="json")
    repository.save()
    folder = memory_url.rsplit("/", 1)[0]
    assert parse_json(invoke("ls", folder, "--json"))[0]["name"] == "a"
    assert parse_json(invoke("ls", folder + "/", "--json"))[0]["name"] == "a"


def test_a_missing_repository_is_one_line_and_exit_1(tmp_path: Path, invoke: Invoke) -> None:
    result = invoke("ls", str(tmp_path / "typo"), code=1)
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "no repository at" in result.stderr and "repository.json" in result.stderr
    assert "Traceback" not in result.stderr


def test_log_limit_shows_only_the_newest_versions(repo: Path, invoke: Invoke) -> None:
    repository = Repository(repo / "repository.json", mode="a")
    repository.log_artifact(name="features", value=["id"], handler="json")
    repository.save()
    records = parse_json(invoke("log", str(repo), "features", "--limit", "2", "--json"))
    assert [r["version"] for r in records] == [2, 1]
    everything = parse_json(invoke("log", str(repo), "features", "--limit", "9", "--json"))
    assert [r["version"] for r in everything] == [2, 1, 0]
    human = invoke("log", str(repo), "features", "--limit", "1").stdout.splitlines()
    assert len(human) == 2 and human[1].split()[0] == "2"


@pytest.mark.parametrize("limit", ["0", "-1", "many"])
def test_log_limit_must_be_a_positive_number(repo: Path, invoke: Invoke, limit: str) -> None:
    result = invoke("log", str(repo), "features", "--limit", limit, code=2)
    assert "--limit" in result.stderr and result.stdout == ""


def test_log_is_newest_first_with_expiry(repo: Path, invoke: Invoke) -> None:
    repository = Repository(repo / "repository.json", mode="w+")
    repository.set_artifact_expiry("features", 0, expiry="2020-01-01")
    repository.save()
    records = parse_json(invoke("log", str(repo), "features", "--json"))
    assert [r["version"] for r in records] == [1, 0]
    assert records[1]["expiry"].startswith("2020-01-01") and records[0]["expiry"] is None
    human = invoke("log", str(repo), "features").stdout.splitlines()
    assert human[1].split()[0] == "1" and "2020-01-01" in human[2]


def test_log_of_an_unknown_name_names_what_exists(repo: Path, invoke: Invoke) -> None:
    result = invoke("log", str(repo), "featurez", code=1)
    assert "'features'" in result.stderr and "'model'" in result.stderr


@pytest.mark.parametrize(
    ("spec", "version"),
    [("features", 1), ("features@0", 0), ("features@-1", 1), ("features@-2", 0)],
)
def test_show_by_number(repo: Path, invoke: Invoke, spec: str, version: int) -> None:
    assert parse_json(invoke("show", str(repo), spec, "--json"))["version"] == version


def test_show_by_time_and_as_of(repo: Path, invoke: Invoke) -> None:
    first = Repository(repo / "repository.json", mode="r").get_artifact_metadata("features", 0)
    exact = parse_json(invoke("show", str(repo), f"features@{first['created_at']}", "--json"))
    assert exact["version"] == 0
    later = parse_json(invoke("show", str(repo), "features@~2999-01-01", "--json"))
    assert later["version"] == 1
    result = invoke("show", str(repo), "features@~2000-01-01", code=1)
    assert "predates" in result.stderr or "no version" in result.stderr.lower()


def test_show_human_lists_every_field(repo: Path, invoke: Invoke) -> None:
    out = invoke("show", str(repo), "features@0").stdout
    for field in ("name", "version", "handler", "fname", "created_at", "sha256", "size"):
        assert any(line.split()[0] == field for line in out.splitlines())


def test_a_malformed_version_is_a_usage_error(repo: Path, invoke: Invoke) -> None:
    result = invoke("show", str(repo), "features@31/01/2026", code=2)
    assert "ISO 8601" in result.stderr
    invoke("show", str(repo), "@3", code=2)
    assert "alias" in invoke("show", str(repo), "features@prod!", code=2).stderr


def _write_manifest(path: Path, **fields: object) -> None:
    record = {
        "name": "features",
        "version": 0,
        "handler": "json",
        "fname": "x.json",
        "created_at": "2026-01-01T00:00:00",
        **fields,
    }
    path.write_text(json.dumps([record]))


def test_control_characters_are_escaped_in_human_output(tmp_path: Path, invoke: Invoke) -> None:
    # other tools write manifests too: a field may hold terminal escapes
    manifest = tmp_path / "repository.json"
    _write_manifest(manifest, note="\x1b[2Jgone\u202e")
    out = invoke("show", str(manifest), "features").stdout
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\x1b[2Jgone\\u202e" in out
    record = parse_json(invoke("show", str(manifest), "features", "--json"))
    assert isinstance(record, dict) and record["note"] == "\x1b[2Jgone\u202e"


def test_control_characters_are_escaped_in_errors(tmp_path: Path, invoke: Invoke) -> None:
    manifest = tmp_path / "repository.json"
    _write_manifest(manifest, name="evil\x1b[2J")
    result = invoke("ls", str(manifest), code=1)
    assert "\x1b" not in result.stderr and "evil\\x1b[2J" in result.stderr


def test_log_keeps_whole_times_on_80_columns(repo: Path, run_tty: Tty) -> None:
    code, out = run_tty("log", str(repo), "features")
    assert code == 0
    records = Repository(repo / "repository.json").records
    for record in records:
        if record.name == "features":
            assert record.to_dict()["created_at"] in out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert ("VERSION" in out and "ALIASES" in out) or "ALIA" in out


def test_ls_keeps_whole_times_on_80_columns(repo: Path, run_tty: Tty) -> None:
    code, out = run_tty("ls", str(repo))
    created = Repository(repo / "repository.json").get_artifact_metadata("model")["created_at"]
    assert code == 0 and created in out


def test_show_lists_name_and_version_first(repo: Path, run: Run) -> None:
    for args in (["model"], ["features@0"], ["model", "--json"]):
        out = run("show", str(repo), *args).stdout
        keys = (
            list(json.loads(out))
            if "--json" in args
            else [line.split()[0] for line in out.splitlines()]
        )
        assert keys[:2] == ["name", "version"], keys


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("features@", "nothing after '@'"),
        ("features@@0", "write features@0"),
        ("features@\u0661", "ASCII digits"),  # Arabic-Indic one
        ("features@\uff11", "ASCII digits"),  # fullwidth one
        ("features@~\u0663d", "ASCII digits"),
    ],
)
def test_malformed_versions_say_what_is_wrong(repo: Path, run: Run, spec: str, words: str) -> None:
    err = run("show", str(repo), spec, code=2).stderr
    assert words in err and err.count("\n") == 1, err
    assert "no artifact named" not in err


@pytest.mark.parametrize(
    ("spec", "version"),
    [
        ("features@~today", 1),
        ("features@~yesterday", None),
        ("features@~0s", 1),
        ("features@~3d", None),
        ("features@~2h", None),
        ("features@~1w", None),
    ],
)
def test_relative_times(repo: Path, run: Run, spec: str, version: int | None) -> None:
    """The repository's versions were made just now: nothing existed a second ago."""
    if version is None:
        err = run("show", str(repo), spec, code=1).stderr
        assert "predates the first version" in err
    else:
        assert json.loads(run("show", str(repo), spec, "--json").stdout)["version"] == version


def test_relative_time_after_an_alias(repo: Path, run: Run) -> None:
    run("alias", "set", str(repo), "features", "prod", "0")
    assert json.loads(run("show", str(repo), "features@prod~0s", "--json").stdout)["version"] == 0
    assert "did not exist" in run("show", str(repo), "features@prod~1d", code=1).stderr


def test_a_time_not_understood_names_the_relative_forms(repo: Path, run: Run) -> None:
    err = run("show", str(repo), "features@~3days", code=2).stderr
    assert "~yesterday" in err and "2026-01-31" in err
