"""Releases: create, find, dump/load, the release store and release_from_toml."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import pickle
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import archivist.release as lzr_module
from archivist import Release, ReleaseStore, Repository
from archivist import release as lzr
from archivist.errors import (
    AlreadyExistsError,
    AmbiguousVersionError,
    ArchivistWarning,
    ConfigError,
    InvalidVersionError,
    ManifestError,
    RepositoryNotFoundError,
    StaleTokenError,
    UnsavedChangesError,
    VersionNotFoundError,
)


def make_repository(path: Path) -> Repository:
    repository = Repository(path, mode="w")
    repository.log_artifact(name="features", value=[0, 1, 2], handler="json")
    repository.log_artifact(name="model", value={"w": 1}, handler="pickle")
    repository.save()
    repository = Repository(path, mode="a")
    repository.log_artifact(name="features", value=[0, 1, 2, 3], handler="json")
    repository.save()
    return Repository(path, mode="r")


def test_both_import_forms_give_the_module() -> None:
    assert lzr is lzr_module
    assert lzr.Release is Release


def test_create_release_pins_latest_unexpired(repo_path: Path) -> None:
    repository = make_repository(repo_path)
    release = lzr.create_release(repository, "v0.1.0")
    assert release.tag == "v0.1.0"
    assert release.artifacts == [("features", 1), ("model", 0)]
    assert release.created_at.tzinfo is None
    assert abs(datetime.utcnow() - release.created_at) < timedelta(seconds=5)

    editable = Repository(repo_path, mode="w+")
    editable.set_artifact_expiry("features", version=1, expiry="2000-01-01")
    editable.save()
    release = lzr.create_release(Repository(repo_path, mode="r"), "v0.2.0")
    assert release.artifacts == [("features", 0), ("model", 0)]


def test_create_release_refuses_unsaved_changes(repo_path: Path) -> None:
    make_repository(repo_path)
    repository = Repository(repo_path, mode="a")
    repository.log_artifact(name="features", value=[9], handler="json")
    with pytest.raises(UnsavedChangesError, match="save"):
        lzr.create_release(repository, "v1")


def test_dump_load_round_trip_and_format(repo_path: Path) -> None:
    release = lzr.create_release(make_repository(repo_path), "v0.1.0")
    buffer = io.StringIO()
    lzr.dump([release], buffer)
    raw = json.loads(buffer.getvalue())
    assert raw == [
        {
            "tag": "v0.1.0",
            "artifacts": [["features", 1], ["model", 0]],
            "created_at": release.created_at.isoformat(timespec="microseconds"),
        }
    ]
    buffer.seek(0)
    assert lzr.load(buffer) == [release]
    assert lzr.loads(lzr.dumps([release], indent=4)) == [release]


def test_filter_with_a_release(repo_path: Path) -> None:
    repository = make_repository(repo_path)
    release = lzr.create_release(repository, "v0.1.0")
    extra = Repository(repo_path, mode="a")
    extra.log_artifact(name="features", value=[5], handler="json")
    extra.save()
    complete = Repository(repo_path, mode="r")
    view = complete.filter(lzr.find_release([release], "v0.1.0").artifacts)
    assert view.mode == "r"
    assert view.load_artifact("features") == [0, 1, 2, 3]
    assert len(view) == 2


def test_filter_takes_the_release_itself(repo_path: Path) -> None:
    repository = make_repository(repo_path)
    release = lzr.create_release(repository, "v1")
    view = repository.filter(release)
    assert sorted((r["name"], r["version"]) for r in view) == [("features", 1), ("model", 0)]


def test_release_from_toml_file_urls(tmp_path: Path) -> None:
    make_repository(tmp_path / "m" / "repository.json")
    url = (tmp_path / "m" / "repository.json").as_uri()
    lzr.release_from_toml(f'[project]\nversion = "3"\n[tool.archivist]\nrepositories = ["{url}"]\n')
    assert ReleaseStore(tmp_path / "m" / "releases.json").get("v3").artifacts == [
        ("features", 1),
        ("model", 0),
    ]


def test_find_release_by_tag_time_and_asof() -> None:
    base = datetime(2026, 1, 1, 12, 0, 0)
    releases = [
        Release("v2", [], base + timedelta(days=2)),
        Release("v1", [], base),
        Release("v3", [], base + timedelta(days=3, microseconds=5)),
    ]
    assert lzr.find_release(releases).tag == "v3"
    assert lzr.find_release(releases, "v2").tag == "v2"
    assert lzr.find_release(releases, base + timedelta(days=2)).tag == "v2"
    assert lzr.find_release(releases, "2026-01-04T12:00:00").tag == "v3"  # whole second
    assert lzr.find_release(releases, base + timedelta(days=2, hours=1), match="asof").tag == "v2"
    assert lzr.find_release(releases, "2026-01-02", match="asof").tag == "v1"
    assert lzr.find_release(releases, version="v1").tag == "v1"  # lazyscribe's keyword

    with pytest.raises(VersionNotFoundError, match="no release is tagged 'v9'"):
        lzr.find_release(releases, "v9")
    with pytest.raises(VersionNotFoundError, match="predates the first release, 'v1'"):
        lzr.find_release(releases, base - timedelta(seconds=1), match="asof")
    with pytest.raises(VersionNotFoundError, match="no release was created"):
        lzr.find_release(releases, base + timedelta(hours=1))
    with pytest.raises(VersionNotFoundError, match="no releases"):
        lzr.find_release([], "v1")
    with pytest.raises(InvalidVersionError):
        lzr.find_release(releases, "v1", match="asof")
    with pytest.raises(InvalidVersionError):
        lzr.find_release(releases, "v1", match="latest")  # type: ignore[arg-type]


def test_find_release_ambiguous_second() -> None:
    base = datetime(2026, 1, 1, 12, 0, 0)
    releases = [
        Release("a", [], base.replace(microsecond=1)),
        Release("b", [], base.replace(microsecond=2)),
    ]
    with pytest.raises(AmbiguousVersionError, match=r"'a'.*'b'"):
        lzr.find_release(releases, base)
    assert lzr.find_release(releases, base.replace(microsecond=2)).tag == "b"


@pytest.mark.parametrize(
    "text",
    [
        "{",
        "{}",
        '[{"tag": "v1"}]',
        '[{"tag": "v1", "artifacts": [["a"]], "created_at": "2026-01-01T00:00:00"}]',
        '[{"tag": "v1", "artifacts": [], "created_at": "yesterday"}]',
        '[{"tag": "", "artifacts": [], "created_at": "2026-01-01T00:00:00"}]',
    ],
)
def test_corrupt_releases_raise_manifest_error(text: str) -> None:
    with pytest.raises(ManifestError):
        lzr.loads(text)


def test_store_add_get_find_and_duplicates(tmp_path: Path) -> None:
    store = ReleaseStore(tmp_path / "releases.json")
    assert store.list() == []
    first = Release("v1", [("a", 0)], datetime(2026, 1, 1))
    store.add(first)
    store.add(Release("v2", [("a", 1)], datetime(2026, 2, 1)))
    before = (tmp_path / "releases.json").read_bytes()
    with pytest.raises(AlreadyExistsError, match="'v1'"):
        store.add(Release("v1", [("a", 5)]))
    assert (tmp_path / "releases.json").read_bytes() == before
    assert store.get("v1") == first
    assert store.find().tag == "v2"
    assert store.find(datetime(2026, 1, 15), match="asof").tag == "v1"
    with pytest.raises(VersionNotFoundError, match=r"releases\.json"):
        store.get("v3")
    # The file is the list lazyscribe reads.
    assert lzr.loads((tmp_path / "releases.json").read_text())[0] == first


def test_store_keeps_fields_other_tools_added(tmp_path: Path) -> None:
    path = tmp_path / "releases.json"
    path.write_text(
        json.dumps(
            [{"tag": "v1", "artifacts": [], "created_at": "2026-01-01T00:00:00", "note": "x"}]
        )
    )
    ReleaseStore(path).add(Release("v2", []))
    assert json.loads(path.read_text())[0]["note"] == "x"


def test_store_on_memory_backend() -> None:
    store = ReleaseStore("memory://release-tests/a/releases.json")
    store.add(Release("v1", []))
    assert ReleaseStore("memory://release-tests/a/releases.json").get("v1").tag == "v1"


def test_a_release_whose_refused_retry_met_its_own_landed_write_is_added_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ReleaseStore(tmp_path / "releases.json")
    store.add(Release("v1", []))
    real = type(store.backend).replace_if_unchanged
    calls: list[str] = []

    def land_then_refuse(self: Any, path: str, data: bytes, token: str | None) -> str:
        calls.append(path)
        new_token = real(self, path, data, token)
        if len(calls) == 1:  # the answer was lost; the client's retry met its own write
            raise StaleTokenError("the retry of a landed request")
        return new_token

    monkeypatch.setattr(type(store.backend), "replace_if_unchanged", land_then_refuse)
    store.add(Release("v2", [("a", 0)]))  # not refused as a duplicate of itself
    monkeypatch.undo()
    assert len(calls) == 1
    assert [r.tag for r in store.list()] == ["v1", "v2"]


def test_a_release_store_pickles(tmp_path: Path) -> None:
    store = ReleaseStore(tmp_path / "releases.json")
    store.add(Release("v1", []))
    copy = pickle.loads(pickle.dumps(store))
    copy.add(Release("v2", []))
    assert [r.tag for r in store.list()] == ["v1", "v2"]


def _add_releases(path: str, worker: int) -> None:
    store = ReleaseStore(path)
    for i in range(10):
        store.add(Release(f"w{worker}-r{i}", [("a", i)]))


@pytest.mark.slow
def test_four_processes_adding_releases_keep_all(tmp_path: Path) -> None:
    path = str(tmp_path / "releases.json")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_add_releases, args=(path, w)) for w in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
        assert process.exitcode == 0
    tags = sorted(r.tag for r in ReleaseStore(path).list())
    assert tags == sorted(f"w{w}-r{i}" for w in range(4) for i in range(10))


def test_release_from_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for model in ("model-1", "model-2"):
        make_repository(tmp_path / "src" / model / "repository.json")
    config = """
[project]
version = "1.0.0"

[tool.archivist]
repositories = ["src/model-1/repository.json", "src/model-2/repository.json"]
"""
    recorded = lzr.release_from_toml(config)
    assert [r.tag for r in recorded] == ["v1.0.0", "v1.0.0"]
    for model in ("model-1", "model-2"):
        with open(tmp_path / "src" / model / "releases.json") as infile:
            releases = lzr.load(infile)
        assert [r.tag for r in releases] == ["v1.0.0"]
        assert releases[0].artifacts == [("features", 1), ("model", 0)]
    with pytest.warns(ArchivistWarning, match="already has a release tagged 'v1.0.0'"):
        assert lzr.release_from_toml(config) == []
    assert len(ReleaseStore(tmp_path / "src" / "model-1" / "releases.json").list()) == 1


def test_release_from_toml_lazyscribe_table_and_urls() -> None:
    url = "memory://release-toml/model/repository.json"
    repository = Repository(url, mode="w")
    repository.log_artifact(name="a", value=1, handler="json")
    repository.save()
    config = f"""
[tool.lazyscribe]
version = "2.0"
repositories = ["{url}"]
"""
    lzr.release_from_toml(config)
    assert ReleaseStore("memory://release-toml/model/releases.json").get("v2.0").artifacts == [
        ("a", 0)
    ]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("[project", "not valid TOML"),
        ('[project]\nversion = "1"\n', r"no \[tool.archivist\] table"),
        ('[tool.archivist]\nrepositories = ["r.json"]\n', "no version"),
        ('[project]\nversion = "1"\n[tool.archivist]\nrepositories = []\n', "non-empty list"),
    ],
)
def test_release_from_toml_config_errors(config: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        lzr.release_from_toml(config)


def test_release_from_toml_missing_repository_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    make_repository(tmp_path / "a" / "repository.json")
    config = (
        '[project]\nversion = "1"\n[tool.archivist]\n'
        'repositories = ["a/repository.json", "b/repository.json"]\n'
    )
    with pytest.raises(RepositoryNotFoundError):
        lzr.release_from_toml(config)
    assert not os.path.exists(tmp_path / "a" / "releases.json")
