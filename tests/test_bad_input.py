"""Bad input gets a clear ArchivistError, and nothing stored changes.

Times at the edges of the representable range, hostile JSON in manifests and release
files, names too long for the store or named like the files beside the manifest, unknown
keywords, and mode ``w`` replacing a manifest that holds versions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import lazyscribe
import pytest

import archivist
from archivist import ManifestStore, Project, ReleaseStore, Repository
from archivist import release as lzr
from archivist._formats import strict_json as _json
from archivist.errors import (
    AmbiguousVersionError,
    ArchivistError,
    InvalidArgumentError,
    InvalidNameError,
    InvalidVersionError,
    ManifestError,
    VersionNotFoundError,
)
from archivist.manifest import ManifestIndex, VersionRecord, parse_manifest, parse_stored_time

Tree = Callable[[Path], dict[str, str]]


def without_kept_digests(tree: dict[str, str]) -> dict[str, str]:
    """A folder's tree without the kept digests: a save that failed in its commit kept its
    files' digests before (entries for removed files, whose names are never reused, which
    nothing reads; docs/design.md, "Kept digests")."""
    return {k: v for k, v in tree.items() if k != ".repository.json.archivist/digests.json"}


def record_dict(**changes: Any) -> dict[str, Any]:
    base = {
        "name": "a",
        "version": 0,
        "handler": "json",
        "fname": "a.json",
        "created_at": "2026-01-01T00:00:00",
    }
    return {**base, **changes}


def saved(path: Path | str, *values: Any, name: str = "a") -> Repository:
    repository = Repository(path, mode="w")
    for value in values:
        repository.log_artifact(name, value, handler="json")
        repository.save()
    return Repository(path, mode="r")


# -- times at the edges of the representable range -----------------------------------------


def test_the_last_day_as_of_answers_the_latest_version(repo_path: Path) -> None:
    repository = saved(repo_path, 1, 2)
    assert repository.load_artifact("a", version="9999-12-31", match="asof") == 2
    assert repository.load_artifact("a", version="9999-12-31T23:59:59.999999", match="asof") == 2
    assert repository.load_artifact("a", version=datetime.max, match="asof") == 2
    with pytest.raises(VersionNotFoundError, match="has no version created at 9999-12-31"):
        repository.load_artifact("a", version="9999-12-31")
    assert [r["version"] for r in repository.filter("9999-12-31")] == [1]


def test_the_first_day_predates_every_version(repo_path: Path) -> None:
    repository = saved(repo_path, 1)
    with pytest.raises(VersionNotFoundError, match="predates"):
        repository.load_artifact("a", version="0001-01-01", match="asof")
    with pytest.raises(VersionNotFoundError):
        repository.load_artifact("a", version=datetime.min)


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:00:00-05:00",
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
        datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_an_offset_beyond_the_range_is_an_invalid_version(repo_path: Path, value: Any) -> None:
    repository = saved(repo_path, 1)
    for match in ("exact", "asof"):
        with pytest.raises(InvalidVersionError, match="years 1 to 9999"):
            repository.load_artifact("a", version=value, match=match)
    with pytest.raises(InvalidVersionError):
        repository.filter(value)
    writable = Repository(repo_path, mode="w+")
    with pytest.raises(InvalidVersionError):
        writable.set_artifact_expiry("a", expiry=value)


@pytest.mark.parametrize("field", ["created_at", "expiry"])
@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-01:00"])
def test_a_stored_time_beyond_the_range_is_a_manifest_error(field: str, value: str) -> None:
    with pytest.raises(ManifestError, match="years 1 to 9999"):
        parse_manifest(json.dumps([record_dict(**{field: value})]))
    with pytest.raises(ManifestError):  # what project.json's experiments and tests use
        parse_stored_time(value, "created_at")


@pytest.mark.parametrize("field", ["created_at", "last_updated"])
def test_a_project_time_beyond_the_range_is_a_manifest_error(tmp_path: Path, field: str) -> None:
    path = tmp_path / "project.json"
    project = Project(path, mode="w")
    with project.log("exp") as experiment:
        experiment.log_metric("m", 1)
    project.save()
    entries = json.loads(path.read_text())
    entries[0][field] = "0001-01-01T00:00:00+05:00"
    path.write_text(json.dumps(entries))
    with pytest.raises(ManifestError, match="years 1 to 9999"):
        Project(path, mode="r")


def test_no_version_can_follow_one_created_at_the_last_representable_time(
    repo_path: Path, snapshot_tree: Tree
) -> None:
    repository = saved(repo_path, 1)
    records = json.loads(repo_path.read_text())
    records[0]["created_at"] = "9999-12-31T23:59:59.999999"
    repo_path.write_text(json.dumps(records))
    before = snapshot_tree(repo_path.parent)
    repository = Repository(repo_path, mode="a")
    assert repository.load_artifact("a", version="9999-12-31", match="asof") == 1
    repository.log_artifact("a", 2, handler="json")
    with pytest.raises(ManifestError, match="last time a manifest can hold"):
        repository.save()
    assert without_kept_digests(snapshot_tree(repo_path.parent)) == without_kept_digests(before)


def test_index_lookups_at_the_end_of_time() -> None:
    last = VersionRecord("a", 0, "json", "a.json", datetime.max)
    index = ManifestIndex([VersionRecord("a", 1, "json", "b.json", datetime(2026, 1, 1)), last])
    assert index.as_of("a", datetime(9999, 12, 31), timedelta(days=1)) is last
    assert index.at_time("a", datetime(9999, 12, 31, 23), timedelta(hours=1)) is last


def test_find_release_at_the_edges() -> None:
    releases = [lzr.Release("v1", [], datetime(2026, 1, 1)), lzr.Release("v2", [], datetime.max)]
    assert lzr.find_release(releases, "9999-12-31", match="asof").tag == "v2"
    assert lzr.find_release(releases, "9999-12-31").tag == "v2"
    with pytest.raises(VersionNotFoundError):
        lzr.find_release(releases, "0001-01-01", match="asof")
    with pytest.raises(InvalidVersionError):
        lzr.find_release(releases, "0001-01-01T00:00:00+01:00", match="asof")


def test_a_release_time_beyond_the_range_is_a_manifest_error() -> None:
    entry = {"tag": "v1", "artifacts": [], "created_at": "0001-01-01T00:00:00+01:00"}
    with pytest.raises(ManifestError, match="years 1 to 9999"):
        lzr.loads(json.dumps([entry]))


# -- hostile JSON -------------------------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000
HOSTILE = [
    pytest.param(DEEP, id="100000-nested-arrays"),
    pytest.param('{"a": ' * 50_000 + "1" + "}" * 50_000, id="50000-nested-objects"),
    pytest.param("[" + "9" * 5000 + "]", id="5000-digit-integer"),
    pytest.param("[NaN]", id="NaN"),
    pytest.param("[-Infinity]", id="Infinity"),
    pytest.param("[1e999]", id="float-overflow"),
    pytest.param(b"\xff\xfe[", id="bad-utf8"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_manifest_text_is_a_manifest_error(text: str | bytes) -> None:
    with pytest.raises(ManifestError):
        parse_manifest(text)


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_release_text_is_a_manifest_error(text: str | bytes, tmp_path: Path) -> None:
    with pytest.raises(ManifestError):
        lzr.loads(text)
    path = tmp_path / "releases.json"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    with pytest.raises(ManifestError):
        ReleaseStore(path).list()


@pytest.mark.parametrize(
    "records",
    [
        pytest.param([record_dict(extra=float("nan"))], id="NaN-in-an-extra-field"),
        pytest.param([record_dict(size=1e400)], id="infinite-size"),
        pytest.param(
            json.dumps([record_dict()]).replace('"version": 0', '"version": ' + "9" * 5000),
            id="huge-version",
        ),
        pytest.param([record_dict(version=1.0)], id="float-version"),
        pytest.param([record_dict(name=7)], id="int-name"),
        pytest.param([record_dict(fname=None)], id="null-fname"),
        pytest.param([record_dict(handler=["json"])], id="list-handler"),
        pytest.param([record_dict(created_at=20260101)], id="int-created-at"),
        pytest.param([record_dict(expiry={"at": 1})], id="object-expiry"),
        pytest.param([record_dict(sha256=0)], id="int-sha256"),
        pytest.param([record_dict(size="12")], id="string-size"),
        pytest.param([[record_dict()]], id="record-in-a-list"),
        pytest.param([None], id="null-record"),
        pytest.param([3], id="number-record"),
        pytest.param({"records": []}, id="object-not-array"),
    ],
)
def test_malformed_records_are_manifest_errors(records: Any) -> None:
    with pytest.raises(ManifestError):
        parse_manifest(records if isinstance(records, str) else json.dumps(records))


def test_an_extra_field_nested_too_deeply_is_refused() -> None:
    deep: Any = 0
    for _ in range(200):
        deep = [deep]
    with pytest.raises(ManifestError, match="levels deep"):
        parse_manifest(json.dumps([record_dict(meta=deep)]))


def test_a_record_with_a_key_twice_is_refused() -> None:
    text = '[{"name": "a", "version": 0, "handler": "json", "fname": "a.json", '
    text += '"created_at": "2026-01-01", "sha256": null, "sha256": "' + "a" * 64 + '"}]'
    with pytest.raises(ManifestError, match="twice"):
        parse_manifest(text)


@pytest.mark.parametrize("separator", [": ", ":", " : ", "\n:", "\t:", "\r:"], ids=repr)
@pytest.mark.parametrize("msgspec_from", [0, 1 << 60], ids=["msgspec", "stdlib"])
def test_a_key_twice_is_refused_however_it_is_spaced(
    separator: str, msgspec_from: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast decoders keep the last value of a repeated key: the key count catches it."""
    monkeypatch.setattr(_json, "MSGSPEC_FROM_BYTES", msgspec_from)
    lines = [json.dumps(record_dict(name=f"n{i}", fname=f"f{i}.json")) for i in range(3)]
    lines[1] = lines[1][:-1] + f', "handler"{separator}"pickle"' + "}"
    with pytest.raises(ManifestError, match="twice"):
        parse_manifest("[\n" + ",\n".join(lines) + "\n]\n")
    with pytest.raises(ManifestError, match="twice"):  # a string holding '":' besides
        parse_manifest(("[\n" + ",\n".join(lines) + "\n]\n").replace('"f0.json"', '"f\\":"'))


def test_a_key_twice_in_a_nested_object_is_refused() -> None:
    text = json.dumps([record_dict(meta={"a": 1})]).replace('{"a": 1}', '{"a": 1, "a": 2}')
    with pytest.raises(ManifestError, match="twice"):
        parse_manifest(text)


def test_a_hostile_manifest_on_disk_is_a_manifest_error_when_opened(repo_path: Path) -> None:
    repo_path.parent.mkdir()
    repo_path.write_text(DEEP)
    for mode in ("r", "a", "w+"):
        with pytest.raises(ManifestError, match="too deeply"):
            Repository(repo_path, mode=mode)
    assert repo_path.read_text() == DEEP


# -- release entries are validated, never coerced ------------------------------------------


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param({"tag": 1, "artifacts": [], "created_at": "2026-01-01"}, id="int-tag"),
        pytest.param({"tag": None, "artifacts": [], "created_at": "2026-01-01"}, id="null-tag"),
        pytest.param({"tag": ["v1"], "artifacts": [], "created_at": "2026-01-01"}, id="list-tag"),
        pytest.param({"tag": "v1", "artifacts": [[1, 2]], "created_at": "2026-01-01"}, id="name"),
        pytest.param({"tag": "v1", "artifacts": [["a", "1"]], "created_at": "2026-01-01"}, id="v"),
        pytest.param({"tag": "v1", "artifacts": [["a", True]], "created_at": "2026-01-01"}, id="b"),
        pytest.param({"tag": "v1", "artifacts": [["a", -1]], "created_at": "2026-01-01"}, id="n"),
        pytest.param({"tag": "v1", "artifacts": [["a"]], "created_at": "2026-01-01"}, id="one"),
        pytest.param({"tag": "v1", "artifacts": {"a": 1}, "created_at": "2026-01-01"}, id="map"),
        pytest.param({"tag": "v1", "artifacts": [], "created_at": 1}, id="int-created-at"),
        pytest.param(["v1", [], "2026-01-01"], id="array-entry"),
        pytest.param(
            {"tag": "v1", "artifacts": [], "created_at": "2026-01-01", "note": float("nan")},
            id="NaN-in-an-extra-field",
        ),
    ],
)
def test_malformed_release_entries_are_manifest_errors(entry: Any, tmp_path: Path) -> None:
    with pytest.raises(ManifestError):
        lzr.loads(json.dumps([entry]))
    path = tmp_path / "releases.json"
    text = json.dumps([entry])
    path.write_text(text)
    store = ReleaseStore(path)
    with pytest.raises(ManifestError):
        store.list()
    with pytest.raises(ManifestError):
        store.add(lzr.Release("v9", []))
    assert path.read_text() == text


# -- names too long for the store -----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fname"),
    [
        pytest.param("a" * 256, None, id="256-byte-name"),
        pytest.param("é" * 128, None, id="256-byte-utf8-name"),
        pytest.param("a", "f" * 256, id="256-byte-fname"),
        pytest.param("a", "ü" * 200, id="400-byte-utf8-fname"),
        pytest.param("a\ud800", None, id="lone-surrogate"),
    ],
)
@pytest.mark.parametrize("where", ["local", "memory"])
def test_names_too_long_are_refused_at_log_artifact(
    name: str,
    fname: str | None,
    where: str,
    repo_path: Path,
    memory_url: str,
    snapshot_tree: Tree,
) -> None:
    path: Path | str = repo_path if where == "local" else memory_url
    repository = saved(path, 1)
    before = snapshot_tree(repo_path.parent) if where == "local" else None
    writable = Repository(path, mode="a")
    with pytest.raises(InvalidNameError):
        writable.log_artifact(name, 2, handler="json", fname=fname)
    assert writable.artifacts == repository.artifacts
    writable.save()  # nothing pending: nothing written
    if where == "local":
        assert snapshot_tree(repo_path.parent) == before


def test_the_longest_names_save_and_load_on_local_disk(repo_path: Path) -> None:
    name, fname = "n" * 255, "é" * 127 + "x"  # 255 bytes each
    repository = Repository(repo_path, mode="w")
    repository.log_artifact(name, 1, handler="json", fname=fname)
    repository.log_artifact(name, 2, handler="json")  # an automatic file name fits too
    repository.save()
    reread = Repository(repo_path, mode="r")
    assert reread.load_artifact(name, version=0) == 1
    assert reread.load_artifact(name, version=1) == 2
    assert reread.verify().checked == 2


def test_a_path_too_long_for_the_local_disk_is_refused(tmp_path: Path, snapshot_tree: Tree) -> None:
    folder = tmp_path
    while len(str(folder).encode()) < 3700:
        folder /= "d" * 200
    repository = Repository(folder / "repository.json", mode="w")
    with pytest.raises(InvalidNameError, match="bytes long"):
        repository.log_artifact("n" * 250, 1, handler="json", fname="f" * 250)
    repository.log_artifact("short", 1, handler="json")  # short names still fit
    repository.save()
    assert Repository(folder / "repository.json", mode="r").load_artifact("short") == 1


def test_a_failed_first_save_leaves_no_empty_folders(tmp_path: Path) -> None:
    repository = Repository(tmp_path / "new" / "deeper" / "repository.json", mode="w")
    repository.log_artifact("a", object(), handler="json")  # json cannot write an object
    with pytest.raises(archivist.SerializationError):
        repository.save()
    assert os.listdir(tmp_path) == []


def test_a_temporary_file_that_cannot_be_created_leaves_no_folder(
    repo_path: Path, snapshot_tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    import archivist._backends.local as local

    saved(repo_path, 1)
    before = snapshot_tree(repo_path.parent)
    monkeypatch.setattr(local, "SMALL_FILE", 0)  # every file streams into a temporary one
    monkeypatch.setattr(local, "_temporary_name", lambda base: "x" * 300)  # ENAMETOOLONG
    repository = Repository(repo_path, mode="a")
    repository.log_artifact("b", 1, handler="json")
    with pytest.raises(ArchivistError):
        repository.save()
    assert snapshot_tree(repo_path.parent) == before


def test_a_small_file_that_cannot_be_created_leaves_no_folder(
    repo_path: Path, snapshot_tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    saved(repo_path, 1)
    before = snapshot_tree(repo_path.parent)
    real_open = os.open

    def refuse_new_files_of_b(path: str, flags: int, *args: int) -> int:
        folder = os.path.dirname(path)
        # refused once its folder was made for it: the folder must go again
        if flags & os.O_EXCL and os.path.basename(folder) == "b" and os.path.isdir(folder):
            raise OSError(errno.ENAMETOOLONG, "File name too long", path)
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refuse_new_files_of_b)
    repository = Repository(repo_path, mode="a")
    repository.log_artifact("b", 1, handler="json")
    with pytest.raises(ArchivistError):
        repository.save()
    assert snapshot_tree(repo_path.parent) == before


# -- names of the files beside the manifest --------------------------------------------------


@pytest.mark.parametrize(
    "name", ["repository.json", "releases.json", "project.json", "Releases.JSON", "models.json"]
)
def test_an_artifact_may_not_take_the_name_of_a_file_beside_the_manifest(
    name: str, tmp_path: Path, snapshot_tree: Tree
) -> None:
    path = tmp_path / "models.json"
    saved(path, 1)
    before = snapshot_tree(tmp_path)
    repository = Repository(path, mode="a")
    with pytest.raises(InvalidNameError, match="beside the manifest"):
        repository.log_artifact(name, 1, handler="json")
    repository.save()
    assert snapshot_tree(tmp_path) == before


def test_a_new_repository_cannot_be_blocked_by_an_artifact_named_like_its_manifest(
    repo_path: Path,
) -> None:
    repository = Repository(repo_path, mode="w")
    with pytest.raises(InvalidNameError):
        repository.log_artifact("repository.json", 1, handler="json")
    repository.log_artifact("a", 1, handler="json")
    repository.save()
    assert repo_path.is_file()


def test_lazyscribe_names_archivist_would_refuse_still_open_and_load(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    theirs = lazyscribe.Repository(str(path), mode="w")
    theirs.log_artifact(".hidden", [1], handler="json")
    theirs.log_artifact("releases.json", [2], handler="json")
    theirs.save()
    ours = Repository(path, mode="a")
    assert ours.load_artifact(".hidden") == [1]
    assert ours.load_artifact("releases.json") == [2]
    ours.log_artifact("features", [3], handler="json")
    ours.save()
    assert lazyscribe.Repository(str(path), mode="r").load_artifact(".hidden") == [1]


# -- release_from_toml checks everything before writing anything -----------------------------


def test_release_from_toml_checks_every_release_file_first(tmp_path: Path) -> None:
    first, second = tmp_path / "one" / "repository.json", tmp_path / "two" / "repository.json"
    saved(first, 1)
    saved(second, 1)
    corrupt = second.parent / "releases.json"
    corrupt.write_text('[{"tag": 1, "artifacts": [], "created_at": "2026-01-01"}]')
    config = (
        f'[project]\nversion = "1.0"\n[tool.archivist]\nrepositories = ["{first}", "{second}"]\n'
    )
    with pytest.raises(ManifestError, match="tag"):
        lzr.release_from_toml(config)
    assert not (first.parent / "releases.json").exists()
    corrupt.unlink()
    assert [r.tag for r in lzr.release_from_toml(config)] == ["v1.0", "v1.0"]


def test_release_from_toml_with_two_manifests_in_one_folder(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    saved(first, 1)
    saved(second, 1)
    config = f'[project]\nversion = "2"\n[tool.archivist]\nrepositories = ["{first}", "{second}"]\n'
    with pytest.warns(archivist.ArchivistWarning, match="already has a release tagged 'v2'"):
        recorded = lzr.release_from_toml(config)
    assert len(recorded) == 1
    assert [r.tag for r in ReleaseStore(tmp_path / "releases.json").list()] == ["v2"]


# -- keywords and storage options ------------------------------------------------------------


def test_a_misspelled_parameter_is_an_error(repo_path: Path, memory_url: str) -> None:
    saved(repo_path, 1)
    for path in (repo_path, memory_url):
        with pytest.raises(InvalidArgumentError, match="did you mean 'mode'") as caught:
            Repository(path, mdoe="r")  # type: ignore[call-arg]
        assert isinstance(caught.value, TypeError)


@pytest.mark.parametrize("option", ["key", "endpoint_url", "anon"])
def test_a_local_repository_refuses_options_its_filesystem_does_not_know(
    option: str, repo_path: Path, tmp_path: Path
) -> None:
    with pytest.raises(InvalidArgumentError, match=repr(option)):
        Repository(repo_path, mode="w", **{option: "x"})
    with pytest.raises(InvalidArgumentError):
        ManifestStore(repo_path, **{option: "x"})
    with pytest.raises(InvalidArgumentError):
        ReleaseStore(tmp_path / "releases.json", **{option: "x"})
    with pytest.raises(InvalidArgumentError):
        Project(tmp_path / "project.json", mode="w", **{option: "x"})
    with pytest.raises(InvalidArgumentError):
        Repository(repo_path, mode="w", storage_options={option: "x"})
    assert not repo_path.parent.exists()


def test_storage_options_beside_a_store_are_an_error(repo_path: Path) -> None:
    store = ManifestStore(repo_path)
    with pytest.raises(InvalidArgumentError, match="configure the store itself"):
        Repository(mode="w", store=store, auto_mkdir=True)
    with pytest.raises(InvalidArgumentError):
        Repository(mode="w", store=store, storage_options={"auto_mkdir": True})
    assert Repository(mode="w", store=store).store is store


def test_storage_options_as_one_mapping(repo_path: Path, memory_url: str, tmp_path: Path) -> None:
    local = Repository(repo_path, mode="w", storage_options={"auto_mkdir": True})
    assert local.storage_options == {"auto_mkdir": True}
    memory = Repository(memory_url, mode="w", storage_options={"skip_instance_cache": True})
    assert isinstance(memory.store, ManifestStore)
    assert memory.store.backend.storage_options == {"skip_instance_cache": True}
    store = ReleaseStore(tmp_path / "releases.json", storage_options={"auto_mkdir": True})
    assert store.backend.storage_options == {"auto_mkdir": True}
    project = Project(tmp_path / "project.json", mode="w", storage_options={"auto_mkdir": True})
    assert project.backend.storage_options == {"auto_mkdir": True}
    with pytest.raises(InvalidArgumentError, match="twice"):
        Repository(repo_path, mode="w", storage_options={"auto_mkdir": True}, auto_mkdir=False)
    with pytest.raises(InvalidArgumentError, match="mapping"):
        Repository(repo_path, mode="w", storage_options=["auto_mkdir"])  # type: ignore[arg-type]


def test_release_from_toml_takes_storage_options_as_one_mapping(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    saved(path, 1)
    config = f'[project]\nversion = "1"\n[tool.archivist]\nrepositories = ["{path}"]\n'
    with pytest.raises(InvalidArgumentError, match="'bogus'"):
        lzr.release_from_toml(config, storage_options={"bogus": 1})
    assert not (tmp_path / "releases.json").exists()
    assert len(lzr.release_from_toml(config, storage_options={"auto_mkdir": True})) == 1


# -- mode "w" on an existing manifest --------------------------------------------------------


def test_mode_w_warns_how_many_versions_its_save_replaces(
    repo_path: Path, snapshot_tree: Tree
) -> None:
    repository = Repository(repo_path, mode="w")
    for name in ("a", "b", "a"):
        repository.log_artifact(name, 1, handler="json")
    repository.save()
    fresh = Repository(repo_path, mode="w")  # no warning yet: nothing is replaced by opening
    fresh.log_artifact("c", 1, handler="json")
    with pytest.warns(archivist.ArchivistWarning, match=r"3 version\(s\) of 2 artifact\(s\)"):
        fresh.save()
    assert [r.name for r in Repository(repo_path, mode="r").artifacts] == ["c"]


def test_the_mode_w_warning_comes_before_the_manifest_is_replaced(
    repo_path: Path, snapshot_tree: Tree
) -> None:
    saved(repo_path, 1)
    before = snapshot_tree(repo_path.parent)
    fresh = Repository(repo_path, mode="w")
    fresh.log_artifact("b", 1, handler="json")
    with pytest.raises(archivist.ArchivistWarning):  # warnings are errors here: the save stops
        fresh.save()
    assert without_kept_digests(snapshot_tree(repo_path.parent)) == without_kept_digests(before)


def test_mode_w_does_not_warn_without_versions_to_replace(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("a", 1, handler="json")
    repository.save()  # no manifest yet
    repository.log_artifact("a", 2, handler="json")
    repository.save()  # its own manifest, saved by this repository
    empty = Repository(repo_path.parent / "empty.json", mode="w")
    empty.save()
    again = Repository(repo_path.parent / "empty.json", mode="w")
    again.log_artifact("a", 1, handler="json")
    again.save()  # replaces an empty manifest: nothing to warn about


# -- messages --------------------------------------------------------------------------------


def test_messages_read_well() -> None:
    hour = datetime(2026, 1, 1, 12)
    index = ManifestIndex(
        [
            VersionRecord("a", 0, "json", "a0", hour + timedelta(seconds=1)),
            VersionRecord("a", 1, "json", "a1", hour + timedelta(seconds=2)),
        ]
    )
    for precision, words in [
        (timedelta(days=1), "the day"),
        (timedelta(hours=1), "the hour"),
        (timedelta(minutes=1), "the minute"),
    ]:
        with pytest.raises(AmbiguousVersionError, match=f"within {words} of"):
            index.at_time("a", hour.replace(hour=0) if words == "the day" else hour, precision)
    with pytest.raises(VersionNotFoundError, match="'a' has no version created at") as caught:
        index.at_time("a", hour, timedelta(seconds=1))
    assert "no a version" not in str(caught.value)


def test_messages_through_the_repository(repo_path: Path) -> None:
    repository = saved(repo_path, 1, 2)
    created = repository.artifacts[0].created_at
    with pytest.raises(AmbiguousVersionError, match="within the hour of"):
        repository.load_artifact("a", version=created.strftime("%Y-%m-%dT%H"))
    with pytest.raises(VersionNotFoundError, match="has no version created at 2000"):
        repository.load_artifact("a", version="2000-01-01T00:00")
