"""The lifecycle commands: NAME@ALIAS, ``alias``, ``prune`` and ``cache``, through the runner."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import Result
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from archivist import Repository
from archivist._formats.aliases import _ALIAS
from archivist.cli._common import parse_version_ref, parse_version_spec
from archivist.errors import InvalidNameError

Invoke = Callable[..., Result]


def manifest(repo: Path) -> Path:
    return repo / "repository.json"


def with_versions(repo: Path, count: int) -> Repository:
    """Add versions to 'features' until it has ``count``."""
    repository = Repository(manifest(repo), mode="a")
    for i in range(count - len(repository.versions("features"))):
        repository.log_artifact(name="features", value=[f"f{i}"], handler="json")
        repository.save()
    return Repository(manifest(repo), mode="w+")


# -- NAME@ALIAS -------------------------------------------------------------------------------


def test_alias_specs_parse() -> None:
    spec = parse_version_spec("model@production")
    assert (spec.name, spec.version, spec.alias, spec.as_of) == ("model", None, "production", None)
    spec = parse_version_spec("model@production~2026-03-01")
    assert (spec.alias, spec.as_of, str(spec)) == (
        "production",
        "2026-03-01",
        "model@production~2026-03-01",
    )
    assert parse_version_spec("model@latest") == parse_version_spec("model")
    assert parse_version_ref("model", "-1").version == -1
    assert parse_version_ref("model", "~2026-01-31").match == "asof"
    assert parse_version_ref("model", "2026-01-31").alias is None
    with pytest.raises(InvalidNameError):
        parse_version_spec("model@prod!")
    with pytest.raises(click.BadParameter):
        parse_version_spec("model@production~")
    with pytest.raises(InvalidNameError, match="reserved"):
        parse_version_spec("model@latest~2026-03-01")


@settings(max_examples=200, deadline=None)
@given(
    alias=st.from_regex(_ALIAS, fullmatch=True),
    number=st.integers(min_value=-(10**18) + 1, max_value=10**18 - 1),  # at most 18 digits
)
def test_every_valid_alias_reads_as_an_alias_and_every_number_as_a_number(
    alias: str, number: int
) -> None:
    assume(alias != "latest")  # reserved: NAME@latest is the latest version
    spec = parse_version_spec(f"model@{alias}~2026-03-01T09:00:00")
    assert (spec.name, spec.version, spec.as_of) == ("model", None, "2026-03-01T09:00:00")
    assert parse_version_ref("model", alias).alias == alias == spec.alias
    assert parse_version_ref("model", str(number)).version == number


def test_show_get_cat_diff_take_an_alias(repo: Path, invoke: Invoke, tmp_path: Path) -> None:
    repository = Repository(manifest(repo), mode="w+")
    repository.set_alias("features", "production", 0)
    repository.set_alias("features", "staging", 1)
    record = json.loads(invoke("show", str(repo), "features@production", "--json").stdout)
    assert record["version"] == 0
    assert json.loads(invoke("cat", str(repo), "features@production").stdout) == ["age", "income"]
    out = tmp_path / "out.json"
    invoke("get", str(repo), "features@staging", "-o", str(out))
    assert json.loads(out.read_text()) == ["age", "income", "tenure"]
    diff = json.loads(
        invoke("diff", str(repo), "features", "production", "staging", "--json").stdout
    )
    assert (diff["a"], diff["b"]) == (0, 1) and "tenure" in diff["diff"]


def test_an_alias_as_of_a_time(repo: Path, invoke: Invoke) -> None:
    repository = Repository(manifest(repo), mode="w+")
    first = repository.set_alias("features", "production", 0)
    repository.set_alias("features", "production", 1)
    now = json.loads(invoke("show", str(repo), "features@production", "--json").stdout)
    assert now["version"] == 1
    when = first.when.isoformat()
    then = json.loads(invoke("show", str(repo), f"features@production~{when}", "--json").stdout)
    assert then["version"] == 0
    before = invoke("show", str(repo), "features@production~2000-01-01", code=1)
    assert "did not exist" in before.stderr


def test_a_missing_or_malformed_alias(repo: Path, invoke: Invoke) -> None:
    result = invoke("show", str(repo), "features@production", code=1)
    assert "no alias 'production'" in result.stderr and result.stderr.count("\n") == 1
    assert "alias" in invoke("cat", str(repo), "features@prod!", code=2).stderr
    assert "no time" in invoke("show", str(repo), "features@production~", code=2).stderr


def test_log_shows_the_aliases_of_each_version(repo: Path, invoke: Invoke) -> None:
    repository = Repository(manifest(repo), mode="w+")
    repository.set_alias("features", "production", 0)
    repository.set_alias("features", "staging", 0)
    records = json.loads(invoke("log", str(repo), "features", "--json").stdout)
    assert [r["aliases"] for r in records] == [[], ["production", "staging"]]
    human = invoke("log", str(repo), "features").stdout.splitlines()
    assert "ALIASES" in human[0] and human[2].endswith("production, staging")


# -- archivist alias --------------------------------------------------------------------------


def test_alias_set_moves_and_prints_the_move(repo: Path, invoke: Invoke) -> None:
    assert invoke("alias", "set", str(repo), "model", "production", "0").stdout == (
        "model@production: (none) -> v0\n"
    )
    moved = json.loads(
        invoke("alias", "set", str(repo), "model", "production", "-1", "--json").stdout
    )
    assert (moved["from_version"], moved["to_version"], moved["alias"]) == (0, 1, "production")
    assert Repository(manifest(repo), mode="r").aliases("model") == {"production": 1}


def test_alias_set_to_another_alias_or_a_time(repo: Path, invoke: Invoke) -> None:
    invoke("alias", "set", str(repo), "model", "staging", "1")
    invoke("alias", "set", str(repo), "model", "production", "staging")  # a promotion
    created = Repository(manifest(repo), mode="r").get_artifact_metadata("model", 0)["created_at"]
    invoke("alias", "set", str(repo), "model", "candidate", created)
    assert Repository(manifest(repo), mode="r").aliases("model") == {
        "candidate": 0,
        "production": 1,
        "staging": 1,
    }


def test_alias_set_refusals_change_nothing(repo: Path, invoke: Invoke) -> None:
    assert "no version" in invoke("alias", "set", str(repo), "model", "prod", "7", code=1).stderr
    invoke("alias", "set", str(repo), "modle", "prod", "0", code=1)
    assert "latest" in invoke("alias", "set", str(repo), "model", "latest", "0", code=2).stderr
    invoke("alias", "set", str(repo), "model", "2fast", "0", code=2)
    assert not (repo / "repository.aliases.json").exists()
    invoke("alias", "set", str(repo / "missing"), "model", "prod", "0", code=1)


def test_alias_list_and_remove(repo: Path, invoke: Invoke) -> None:
    assert "model has no aliases" in invoke("alias", "list", str(repo), "model").stdout
    assert json.loads(invoke("alias", "list", str(repo), "model", "--json").stdout) == {}
    invoke("alias", "set", str(repo), "model", "production", "0")
    invoke("alias", "set", str(repo), "model", "staging", "1")
    listing = json.loads(invoke("alias", "list", str(repo), "model", "--json").stdout)
    assert listing == {"production": 0, "staging": 1}
    human = invoke("alias", "list", str(repo), "model").stdout.splitlines()
    assert human[0].split() == ["ALIAS", "VERSION"] and human[1].split() == ["production", "0"]
    out = invoke("alias", "remove", str(repo), "model", "staging").stdout
    assert out == "model@staging: v1 -> removed\n"
    assert json.loads(invoke("alias", "list", str(repo), "model", "--json").stdout) == {
        "production": 0
    }
    invoke("alias", "remove", str(repo), "model", "staging", code=1)
    invoke("alias", "list", str(repo), "modle", code=1)


def test_alias_log_lists_the_moves_oldest_first(repo: Path, invoke: Invoke) -> None:
    for version in ("0", "1", "0"):
        invoke("alias", "set", str(repo), "model", "production", version)
    invoke("alias", "remove", str(repo), "model", "production")
    moves = json.loads(invoke("alias", "log", str(repo), "model", "production", "--json").stdout)
    assert [(m["from_version"], m["to_version"]) for m in moves] == [
        (None, 0),
        (0, 1),
        (1, 0),
        (0, None),
    ]
    assert all(m["name"] == "model" and m["alias"] == "production" for m in moves)
    human = invoke("alias", "log", str(repo), "model", "production").stdout.splitlines()
    assert human[0].split() == ["WHEN", "FROM", "TO"]
    assert human[1].split()[1:] == ["-", "0"] and human[4].split()[1:] == ["0", "removed"]
    invoke("alias", "log", str(repo), "model", "staging", code=1)


# -- archivist prune --------------------------------------------------------------------------


def test_prune_lists_then_removes_with_yes(repo: Path, invoke: Invoke) -> None:
    with_versions(repo, 4)
    dry = json.loads(invoke("prune", str(repo), "--keep-last", "2", "--dry-run", "--json").stdout)
    assert dry == {
        "dry_run": True,
        "removed": [],
        "would_remove": [{"name": "features", "version": 0}, {"name": "features", "version": 1}],
    }
    assert Repository(manifest(repo), mode="r").versions("features") == [0, 1, 2, 3]
    out = invoke("prune", str(repo), "--keep-last", "2", "--yes").stdout
    assert "would remove features v0" in out and "2 version(s) removed" in out
    assert Repository(manifest(repo), mode="r").versions("features") == [2, 3]
    assert "nothing to remove" in invoke("prune", str(repo), "--keep-last", "2").stdout


def test_prune_keeps_what_an_alias_pins(repo: Path, invoke: Invoke) -> None:
    with_versions(repo, 3).set_alias("features", "production", 0)
    result = json.loads(invoke("prune", str(repo), "--keep-last", "1", "--yes", "--json").stdout)
    assert result["removed"] == [
        {"name": "features", "version": 1},
        {"name": "model", "version": 0},
    ]
    assert Repository(manifest(repo), mode="r").versions("features") == [0, 2]


def test_prune_asks_before_removing(
    repo: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_versions(repo, 3)
    monkeypatch.setattr("archivist.cli._maintenance._can_ask", lambda: True)
    result = invoke("prune", str(repo), "--keep-last", "1", input="n\n", code=1)
    assert "Remove these 3 version(s)" in result.stderr
    assert Repository(manifest(repo), mode="r").versions("features") == [0, 1, 2]
    invoke("prune", str(repo), "--keep-last", "1", input="y\n")
    assert Repository(manifest(repo), mode="r").versions("features") == [2]


def test_prune_refuses_without_a_terminal_to_ask(repo: Path, invoke: Invoke) -> None:
    with_versions(repo, 3)
    result = invoke("prune", str(repo), "--keep-last", "1", code=2)
    assert "--yes" in result.stderr and "3 version(s) would be removed" in result.stderr
    assert Repository(manifest(repo), mode="r").versions("features") == [0, 1, 2]


def test_prune_keep_within(repo: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    original = Repository.prune

    def prune(self: Repository, **kwargs: Any) -> Any:
        seen.append(kwargs)
        return original(self, **kwargs)

    monkeypatch.setattr(Repository, "prune", prune)
    invoke("prune", str(repo), "--keep-within", "30d")
    assert seen == [{"keep_last": None, "keep_within": timedelta(days=30), "dry_run": True}]
    with_versions(repo, 3)
    monkeypatch.undo()
    # every version is younger than a day: nothing goes
    assert "nothing to remove" in invoke("prune", str(repo), "--keep-within", "1d").stdout
    removed = json.loads(invoke("prune", str(repo), "--keep-within", "0", "--yes", "--json").stdout)
    assert removed["removed"] == [
        {"name": "features", "version": 0},
        {"name": "features", "version": 1},
        {"name": "model", "version": 0},
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "needs a rule"),
        (["--keep-last", "-1"], "--keep-last"),
        (["--keep-last", "two"], "--keep-last"),
        (["--keep-within", "-1h"], "--keep-within"),
        (["--keep-within", "1 fortnight"], "--keep-within"),
    ],
)
def test_prune_usage_errors_remove_nothing(
    repo: Path, invoke: Invoke, args: list[str], message: str
) -> None:
    with_versions(repo, 3)
    assert message in invoke("prune", str(repo), "--yes", *args, code=2).stderr
    assert Repository(manifest(repo), mode="r").versions("features") == [0, 1, 2]


def test_prune_of_a_mistyped_path_removes_nothing(tmp_path: Path, invoke: Invoke) -> None:
    result = invoke("prune", str(tmp_path / "repositroy.json"), "--keep-last", "1", "--yes", code=1)
    assert "no repository at" in result.stderr
    assert not (tmp_path / "repositroy.json").exists()


# -- archivist cache --------------------------------------------------------------------------


def fill_cache(repo: Path, folder: Path) -> Repository:
    reader = Repository(manifest(repo), mode="r", cache=True, cache_dir=folder)
    reader.load_artifact("features", version=0)
    reader.load_artifact("features", version=1)
    return reader


def test_cache_info(repo: Path, invoke: Invoke, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    empty = json.loads(invoke("cache", "info", "--cache-dir", str(folder), "--json").stdout)
    assert (empty["path"], empty["entries"], empty["size"]) == (str(folder), 0, 0)
    fill_cache(repo, folder)
    info = json.loads(invoke("cache", "info", "--cache-dir", str(folder), "--json").stdout)
    assert info["entries"] == 2 and info["size"] > 0 and info["max_size"] == 10 * 1024**3
    human = invoke("cache", "info", "--cache-dir", str(folder)).stdout.splitlines()
    assert human[0].split() == ["folder", str(folder)] and human[1].split() == ["entries", "2"]


def test_cache_info_honours_the_environment(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHIVIST_CACHE_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("ARCHIVIST_CACHE_SIZE", "1MiB")
    info = json.loads(invoke("cache", "info", "--json").stdout)
    assert info["path"] == str(tmp_path / "elsewhere") and info["max_size"] == 1024**2


def test_cache_clear_with_yes(repo: Path, invoke: Invoke, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    fill_cache(repo, folder)
    out = invoke("cache", "clear", "--cache-dir", str(folder), "--yes").stdout
    assert "the cache holds 2 file(s)" in out and out.splitlines()[-1].startswith("removed 2")
    assert (
        json.loads(invoke("cache", "info", "--cache-dir", str(folder), "--json").stdout)["entries"]
        == 0
    )
    assert "the cache is empty" in invoke("cache", "clear", "--cache-dir", str(folder)).stdout


def test_cache_clear_asks(
    repo: Path, invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "cache"
    reader = fill_cache(repo, folder)
    assert reader.cache is not None
    monkeypatch.setattr("archivist.cli._maintenance._can_ask", lambda: True)
    result = invoke("cache", "clear", "--cache-dir", str(folder), input="n\n", code=1)
    assert "Remove these 2 file(s) from the cache?" in result.stderr
    assert reader.cache.info().entries == 2
    removed = json.loads(
        invoke("cache", "clear", "--cache-dir", str(folder), "--json", input="y\n").stdout
    )
    assert removed["entries"] == 2 and reader.cache.info().entries == 0


def test_cache_clear_refuses_without_a_terminal_to_ask(
    repo: Path, invoke: Invoke, tmp_path: Path
) -> None:
    folder = tmp_path / "cache"
    reader = fill_cache(repo, folder)
    assert reader.cache is not None
    result = invoke("cache", "clear", "--cache-dir", str(folder), code=2)
    assert "--yes" in result.stderr and reader.cache.info().entries == 2


def test_prune_removes_exactly_the_versions_it_listed(
    repo: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archivist.cli import _maintenance

    with_versions(repo, 3)
    asked: list[str] = []

    def confirm_while_another_writer_saves(yes: bool, what: str, question: str, fix: str) -> None:
        asked.append(what)
        other = Repository(manifest(repo), mode="a")  # saves while the question is open
        other.log_artifact(name="features", value=["f3"], handler="json")
        other.save()

    monkeypatch.setattr(_maintenance, "confirm", confirm_while_another_writer_saves)
    result = json.loads(invoke("prune", str(repo), "--keep-last", "1", "--json").stdout)
    assert asked == ["3 version(s) would be removed"]
    assert result["removed"] == [
        {"name": "features", "version": 0},
        {"name": "features", "version": 1},
        {"name": "model", "version": 0},
    ]
    assert result["skipped"] == []
    # features v2 became removable under --keep-last 1 meanwhile, but was never listed
    assert Repository(manifest(repo), mode="r").versions("features") == [2, 3]


def test_prune_skips_a_listed_version_that_changed_and_says_why(
    repo: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archivist.cli import _maintenance

    with_versions(repo, 3)

    def confirm_while_an_alias_is_set(yes: bool, what: str, question: str, fix: str) -> None:
        Repository(manifest(repo), mode="a").set_alias("features", "production", 1)

    monkeypatch.setattr(_maintenance, "confirm", confirm_while_an_alias_is_set)
    result = invoke("prune", str(repo), "--keep-last", "1")
    assert "removed features v0" in result.stdout and "removed model v0" in result.stdout
    assert "2 version(s) removed; 1 skipped" in result.stdout
    assert "skipped features v1" in result.stderr and "alias or release" in result.stderr
    assert Repository(manifest(repo), mode="r").versions("features") == [1, 2]
