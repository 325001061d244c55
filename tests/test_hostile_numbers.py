"""Numbers past the calendar or the machine, and forged alias files, get archivist's errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from archivist import Repository
from archivist.cli import cli
from archivist.errors import InvalidVersionError, ManifestError


@pytest.fixture
def aliased(tmp_path: Path) -> Path:
    """A repository folder: 'features' v0 and v1, alias 'production' naming v0."""
    repository = Repository(tmp_path / "repository.json", mode="w+")
    for value in (0, 1):
        repository.log_artifact(name="features", value=[value], handler="json")
        repository.save()
    repository.set_alias("features", "production", 0)
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


# -- the end of the calendar ------------------------------------------------------------------


def test_an_alias_as_of_the_last_day_is_what_it_names(aliased: Path) -> None:
    reader = Repository(aliased / "repository.json", mode="r")
    for as_of in ("9999-12-31", "9999-12-31T23:59:59.999999"):
        assert reader.load_artifact("features", alias="production", as_of=as_of) == [0]
    code, out, err = run("cat", str(aliased), "features@production~9999-12-31")
    assert (code, json.loads(out)) == (0, [0]), err


# -- numbers past the machine -----------------------------------------------------------------


@pytest.mark.parametrize("digits", [19, 5000])
def test_a_version_number_with_too_many_digits_is_a_usage_error(aliased: Path, digits: int) -> None:
    code, _, err = run("show", str(aliased), f"features@{'9' * digits}")
    assert code == 2, err
    assert err.startswith("archivist: error: version 99999") and "at most 18" in err
    assert len(err.splitlines()) == 1 and len(err) < 400
    code, _, err = run("alias", "set", str(aliased), "features", "staging", "-" + "1" * digits)
    assert code == 2 and "at most 18" in err, err


@pytest.mark.parametrize(
    "args",
    [
        ["prune", "--keep-within", "800000d", "--yes"],
        ["prune", "--keep-within", "999999999d", "--dry-run"],
        ["gc", "--older-than", "800000d", "--yes"],
        ["gc", "--older-than", f"{800000 * 86400}", "--dry-run"],
    ],
)
def test_durations_past_the_calendar_are_usage_errors(aliased: Path, args: list[str]) -> None:
    before = Repository(aliased / "repository.json", mode="r").versions("features")
    code, _, err = run(args[0], str(aliased), *args[1:])
    assert code == 2 and "before the year 1" in err, err
    assert Repository(aliased / "repository.json", mode="r").versions("features") == before


@pytest.mark.parametrize(
    "option",
    [
        ["--storage-options", '{"a":' * 3000 + "1" + "}" * 3000],
        ["--storage-options", "[" * 100 + "]" * 100],
        ["--storage-options", '{"anon": true, "anon": false}'],
    ],
)
def test_hostile_storage_options_are_usage_errors(aliased: Path, option: list[str]) -> None:
    code, _, err = run("ls", str(aliased), *option)
    assert code == 2 and "--storage-options" in err, err
    assert "RecursionError" not in err and "Traceback" not in err


def test_a_deeply_nested_storage_option_value_is_no_crash(aliased: Path) -> None:
    code, _, err = run("ls", str(aliased), "--storage-option", "x=" + "[" * 3000 + "]" * 3000)
    assert "RecursionError" not in err and "Traceback" not in err
    assert code in (1, 2), err  # the filesystem refuses the option; nothing crashed


# -- Unicode digits are not version numbers ---------------------------------------------------


@pytest.mark.parametrize("version", ["\uff11", "\u0663", "-\uff11", "\uff11\uff12"])
def test_unicode_digits_are_not_version_numbers(aliased: Path, version: str) -> None:
    code, _, err = run("show", str(aliased), f"features@{version}")
    assert code == 2 and "other than ASCII digits" in err, err
    with pytest.raises(InvalidVersionError):
        Repository(aliased / "repository.json", mode="r").load_artifact("features", version)


@pytest.mark.parametrize("value", ["\uff11h", "\u0663", "1\u0663d"])
def test_unicode_digits_are_not_durations(aliased: Path, value: str) -> None:
    code, _, err = run("gc", str(aliased), "--older-than", value, "--dry-run")
    assert code == 2 and "is not a duration" in err, err


@pytest.mark.parametrize("value", ["\uff11", "\u0663"])
def test_unicode_digits_are_not_counts(aliased: Path, value: str) -> None:
    code, _, err = run("prune", str(aliased), "--keep-last", value, "--yes")
    assert code == 2 and "ASCII digits" in err, err
    assert Repository(aliased / "repository.json", mode="r").versions("features") == [0, 1]


# -- the alias file, read as strictly as a manifest -------------------------------------------

_MOVE = (
    '{"id": "a", "name": "features", "alias": "production", "from": null, "to": 0, '
    '"at": "2026-03-01T09:00:00.000000"'
)


@pytest.mark.parametrize(
    "text",
    [
        '{"format": 1, "format": 1, "moves": []}',
        '{"format": 1, "moves": [' + _MOVE + ', "to": 1}]}',
        '{"format": 1, "moves": [' + _MOVE.replace('"features"', '".."') + "}]}",
        '{"format": 1, "moves": [' + _MOVE.replace('"features"', '"a/b"') + "}]}",
        '{"format": 1, "moves": [' + _MOVE.replace('"features"', '""') + "}]}",
        '{"format": 1, "moves": [' + _MOVE.replace('"production"', '"\\uff11"') + "}]}",
        '{"format": 1, "moves": [' + _MOVE.replace('"production"', '"prod uction"') + "}]}",
    ],
)
def test_the_alias_file_is_read_as_strictly_as_a_manifest(aliased: Path, text: str) -> None:
    (aliased / "repository.aliases.json").write_text('{"format": 1, "moves": [' + _MOVE + "}]}")
    assert Repository(aliased / "repository.json", mode="r").aliases("features") == {
        "production": 0
    }
    (aliased / "repository.aliases.json").write_text(text)
    with pytest.raises(ManifestError, match=r"repository\.aliases\.json"):
        Repository(aliased / "repository.json", mode="r").aliases("features")
    code, _, err = run("show", str(aliased), "features@production")
    assert code == 1 and "repository.aliases.json" in err, err
