"""Releases side by side with lazyscribe 2.2.2: the same code, the same answers and files.

A ``releases.json`` lazyscribe wrote (tags are bare versions, ``1.0.0``) gains no ``v1.0.0``
beside them; arguments are checked before the list; a release copy needs a repository
opened read-only; and what lazyscribe's consumers read (``Release.to_dict()``, ``dump()``,
``list(repository)``, which lazyscribe-arrow's ``to_table`` casts to seconds) carries
times that parse to the second, as lazyscribe's did.
"""

from __future__ import annotations

import contextlib
import io
import json
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import lazyscribe
import lazyscribe.exception
import lazyscribe.release
import pytest

import archivist
import archivist.release
from archivist.errors import ArchivistWarning

LIBS = [pytest.param(lazyscribe, id="lazyscribe"), pytest.param(archivist, id="archivist")]
SECONDS = "%Y-%m-%dT%H:%M:%S"
CONFIG = '[project]\nversion = "1.0.0"\n[tool.lazyscribe]\nrepositories = ["repository.json"]\n'


def release_module(lib: ModuleType) -> Any:
    return lib.release


def make_repository(lib: ModuleType, path: Path) -> Any:
    repository = lib.Repository(str(path), mode="w")
    repository.log_artifact(name="features", value=[0, 1, 2], handler="json")
    repository.save()
    return lib.Repository(str(path), mode="r")


def skipped_warning(lib: ModuleType) -> Any:
    """archivist warns where lazyscribe logs that a release is there already."""
    if lib is archivist:
        return pytest.warns(ArchivistWarning, match="already has a release tagged")
    return contextlib.nullcontext()


# -- the bare version is the same release -------------------------------------------------


@pytest.mark.parametrize("lib", LIBS)
def test_release_from_toml_adds_nothing_beside_lazyscribe_s_release(
    lib: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    make_repository(lazyscribe, tmp_path / "repository.json")
    lazyscribe.release.release_from_toml(CONFIG)
    before = (tmp_path / "releases.json").read_bytes()
    assert [entry["tag"] for entry in json.loads(before)] == ["1.0.0"]
    with skipped_warning(lib):
        release_module(lib).release_from_toml(CONFIG)
    assert (tmp_path / "releases.json").read_bytes() == before
    releases = release_module(lib).loads(before.decode())
    assert release_module(lib).find_release(releases, "1.0.0").tag == "1.0.0"


# -- arguments are checked before the list ------------------------------------------------


@pytest.mark.parametrize("lib", LIBS)
def test_asof_with_a_tag_on_no_releases_is_a_value_error(lib: ModuleType) -> None:
    with pytest.raises(ValueError, match="asof") as info:
        release_module(lib).find_release([], "0.1.0", match="asof")
    assert not isinstance(info.value, LookupError)  # not "no such release": a wrong call
    with pytest.raises(ValueError, match=r"exact.*asof"):
        release_module(lib).find_release([], "0.1.0", match="latest")


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("mode", ["w+", "a"])
def test_a_release_copy_needs_a_read_only_repository(
    lib: ModuleType, mode: str, tmp_path: Path
) -> None:
    if mode not in ("w", "w+") and lib is lazyscribe:
        mode = "w"  # lazyscribe has no mode "a"
    make_repository(lib, tmp_path / "repository.json")
    repository = lib.Repository(str(tmp_path / "repository.json"), mode=mode)
    release = release_module(lib).Release("v1", [("features", 0)])
    with pytest.raises(RuntimeError, match="read-only"):
        release_module(lib).minimal_repository_from_release(tmp_path / "copy", repository, release)
    assert not (tmp_path / "copy").exists()


# -- what lazyscribe's consumers read parses to the second --------------------------------


@pytest.mark.parametrize("lib", LIBS)
def test_release_times_parse_to_the_second(lib: ModuleType, tmp_path: Path) -> None:
    module = release_module(lib)
    repository = make_repository(lib, tmp_path / "repository.json")
    release = module.create_release(repository, "v1.0.0")
    release.created_at = release.created_at.replace(microsecond=123456)
    as_dict = release.to_dict()
    assert datetime.strptime(as_dict["created_at"], SECONDS) == release.created_at.replace(
        microsecond=0
    )
    buffer = io.StringIO()
    module.dump([release], buffer)
    assert json.loads(buffer.getvalue()) == json.loads(module.dumps([release]))
    [dumped] = json.loads(buffer.getvalue())
    assert dumped["created_at"] == as_dict["created_at"]
    assert dumped["artifacts"] == [["features", 0]]


@pytest.mark.parametrize("lib", LIBS)
def test_a_repository_s_rows_parse_to_the_second(lib: ModuleType, tmp_path: Path) -> None:
    """What lazyscribe-arrow's ``to_table(repository)`` casts to ``timestamp("s")``."""
    repository = make_repository(lib, tmp_path / "repository.json")
    [row] = list(repository)
    created = datetime.strptime(row["created_at"], SECONDS)
    assert created == repository.artifacts[0].created_at.replace(microsecond=0)
    assert row["expiry"] is None
    assert (row["name"], row["version"], row["handler"]) == ("features", 0, "json")


def test_records_keep_microseconds_in_the_manifest(tmp_path: Path) -> None:
    repository = make_repository(archivist, tmp_path / "repository.json")
    [stored] = json.loads((tmp_path / "repository.json").read_text())
    assert datetime.fromisoformat(stored["created_at"]) == repository.records[0].created_at
    assert len(stored["created_at"]) == len("2026-01-01T00:00:00.000000")


def test_lazyscribe_reading_archivist_s_manifest_matches_times_to_the_microsecond(
    tmp_path: Path,
) -> None:
    """The price of the microseconds, for someone still on lazyscribe (the migration guide)."""
    path = tmp_path / "repository.json"
    make_repository(archivist, path)
    [stored] = json.loads(path.read_text())
    second, exact = stored["created_at"][:19], datetime.fromisoformat(stored["created_at"])
    theirs = lazyscribe.Repository(str(path), mode="r")
    assert theirs.load_artifact("features", version=exact) == [0, 1, 2]
    for match in ("exact", "asof"):
        with pytest.raises(lazyscribe.exception.VersionNotFoundError):
            theirs.load_artifact("features", version=second, match=match)
    ours = archivist.Repository(str(path), mode="r")
    for match in ("exact", "asof"):
        assert ours.load_artifact("features", version=second, match=match) == [0, 1, 2]
