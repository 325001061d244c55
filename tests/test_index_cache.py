"""The manifest index cache: lazy records, and a cache that is never used when stale.

Every test forces the cache on for small manifests (``MIN_BYTES = 0``), then checks that
what a repository opened through the cache answers is exactly what a full parse answers,
and that a missing, corrupt, foreign or stale cache file falls back to parsing.
"""

from __future__ import annotations

import json
import os
from array import array
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archivist import Repository
from archivist.errors import ManifestError, VersionNotFoundError
from archivist.manifest import (
    Chain,
    ManifestIndex,
    VersionRecord,
    parse_manifest,
    serialize_manifest,
    splice_manifest,
)
from archivist.stores import ManifestStore
from archivist.stores import _index_cache as index_cache

T0 = datetime(2026, 1, 1)
SECOND = timedelta(seconds=1)


#: The floor the docs give ("1 MiB and more"), before the fixture below lowers it.
DOCUMENTED_MIN_BYTES = index_cache.MIN_BYTES


@pytest.fixture(autouse=True)
def cache_small_manifests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_cache, "MIN_BYTES", 0)
    monkeypatch.delenv(index_cache.ENV, raising=False)
    # one folder per test (not the session's): tests count and clear what it holds
    monkeypatch.setenv("ARCHIVIST_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the full parses of manifests by the store."""
    calls: list[int] = []
    real = parse_manifest

    def counting(data: bytes | str, location: str = "the manifest") -> list[VersionRecord]:
        calls.append(len(data))
        return real(data, location)

    monkeypatch.setattr("archivist.stores._repository.parse_manifest", counting)
    real_columns = index_cache.parse_columns

    def counting_columns(
        data: bytes, location: str
    ) -> tuple[index_cache.IndexColumns | None, list[VersionRecord] | None]:
        calls.append(len(data))
        return real_columns(data, location)

    monkeypatch.setattr(index_cache, "parse_columns", counting_columns)
    return calls


def _fill(path: Path, names: tuple[str, ...] = ("model",), count: int = 5) -> Repository:
    repository = Repository(path, mode="w")
    for i in range(count):
        for name in names:
            repository.log_artifact(name=name, value=[name, i], handler="json")
    repository.save()
    return repository


def _answers(repository: Repository) -> dict[str, object]:
    """Everything lookups answer about a repository, to compare two openings."""
    out: dict[str, object] = {}
    index = repository._session.index()
    for name in index.names():
        versions = index.versions(name)
        out[f"{name}/versions"] = [r.to_dict() for r in versions]
        out[f"{name}/fnames"] = sorted(index.fnames(name))
        out[f"{name}/last"] = index.last_version(name)
        out[f"{name}/latest"] = repository.load_artifact(name)
        for record in versions:
            out[f"{name}/{record.version}"] = repository.load_artifact(name, version=record.version)
            when = record.created_at.isoformat()
            out[f"{name}/asof {when}"] = repository.get_artifact_metadata(
                name, version=when, match="asof"
            )
    out["records"] = [r.to_dict() for r in index]
    return out


def test_an_unchanged_manifest_opens_from_the_cache_without_parsing(
    tmp_path: Path, parses: list[int]
) -> None:
    path = tmp_path / "repository.json"
    _fill(path, ("a", "b"), 4)  # the save writes the columns of what it committed
    parsed = _answers(Repository(path, mode="r"))
    parses.clear()
    cached = Repository(path, mode="r")
    assert parses == []
    assert _answers(cached) == parsed
    assert parses == []


def test_records_are_built_only_when_used(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    _fill(path, ("a",), 50)
    repository = Repository(path, mode="r")
    records = repository._session.committed.records
    assert isinstance(records, index_cache.LazyRecords)
    assert repository.load_artifact("a") == ["a", 49]
    assert repository.load_artifact("a", version=7) == ["a", 7]
    built = [i for i, record in enumerate(records._built) if record is not None]
    assert len(built) <= 8  # latest, number 7, and the few a bisection touches


def test_appends_keep_the_cache_current(tmp_path: Path, parses: list[int]) -> None:
    path = tmp_path / "repository.json"
    _fill(path, ("a", "b"), 3)
    for round_ in range(3):  # each save splices and extends the columns
        repository = Repository(path, mode="a")
        repository.log_artifact(name="a", value=["a", round_ + 10], handler="json")
        repository.log_artifact(name="c", value=["c", round_], handler="json")
        repository.save()
        repository.log_artifact(name="b", value=["b", round_ + 10], handler="json")
        repository.save()  # a second append from the same open repository
    parses.clear()
    cached = _answers(Repository(path, mode="r"))
    assert parses == []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(index_cache.ENV, "0")
        assert _answers(Repository(path, mode="r")) == cached
    data = path.read_bytes()
    rebuilt = index_cache.IndexColumns.build(parse_manifest(data), data)
    assert rebuilt is not None
    saved = index_cache.cache_path(ManifestStore(path).location).read_bytes()
    digest = ManifestStore(path).backend.read_with_token(str(path))[1]
    assert saved == rebuilt.to_bytes(digest)  # what appends built equals a fresh index


def test_a_stale_cache_is_never_used(tmp_path: Path, parses: list[int]) -> None:
    path = tmp_path / "repository.json"
    _fill(path, ("a",), 5)
    data = path.read_bytes()
    # Another tool rewrites a record in place: same size, same layout, another file name.
    record = parse_manifest(data)[2]
    new_fname = record.fname[:-6] + ("x" if record.fname[-6] != "x" else "y") + record.fname[-5:]
    changed = data.replace(record.fname.encode(), new_fname.encode())
    assert len(changed) == len(data) and changed != data
    path.write_bytes(changed)
    parses.clear()
    repository = Repository(path, mode="r")
    assert parses == [len(changed)]  # the digest differs: parsed in full
    assert repository.get_artifact_metadata("a", version=2)["fname"] == new_fname


def test_another_writer_commit_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    _fill(path, ("a",), 3)
    mine = Repository(path, mode="a")
    other = Repository(path, mode="a")
    other.log_artifact(name="a", value=["other"], handler="json")
    other.save()
    mine.log_artifact(name="a", value=["mine"], handler="json")
    mine.save()  # stale token: re-reads, numbers after the other's version
    reopened = Repository(path, mode="r")
    assert [reopened.load_artifact("a", version=v) for v in (3, 4)] == [["other"], ["mine"]]
    mine.refresh()
    assert mine.load_artifact("a") == ["mine"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[:-1],  # truncated
        lambda blob: blob[:40] + bytes([blob[40] ^ 1]) + blob[41:],  # one bit flipped
        lambda blob: b"",
        lambda blob: b"not an index at all",
    ],
    ids=["truncated", "bit-flip", "empty", "garbage"],
)
def test_a_corrupt_cache_falls_back_to_parsing(
    tmp_path: Path, parses: list[int], damage: object
) -> None:
    path = tmp_path / "repository.json"
    _fill(path, ("a", "b"), 3)
    expected = _answers(Repository(path, mode="r"))
    cache = index_cache.cache_path(ManifestStore(path).location)
    cache.write_bytes(damage(cache.read_bytes()))  # type: ignore[operator]
    parses.clear()
    assert _answers(Repository(path, mode="r")) == expected
    assert len(parses) == 1
    parses.clear()
    Repository(path, mode="r")  # the parse wrote a good cache again
    assert parses == []


def test_the_cache_of_another_manifest_is_ignored(tmp_path: Path, parses: list[int]) -> None:
    one, two = tmp_path / "one" / "repository.json", tmp_path / "two" / "repository.json"
    _fill(one, ("a",), 3)
    _fill(two, ("a",), 4)
    cache_of = index_cache.cache_path
    cache_of(ManifestStore(two).location).write_bytes(
        cache_of(ManifestStore(one).location).read_bytes()
    )
    parses.clear()
    assert Repository(two, mode="r").load_artifact("a") == ["a", 3]
    assert len(parses) == 1


def test_a_cache_that_lies_is_caught_when_a_record_is_built(tmp_path: Path) -> None:
    """A well-formed cache file for this digest but with wrong columns (someone wrote it)."""
    path = tmp_path / "repository.json"
    _fill(path, ("a",), 3)
    store = ManifestStore(path)
    data, token = store.backend.read_with_token(store.path)
    columns = index_cache.IndexColumns.build(parse_manifest(data), data)
    assert columns is not None
    columns.versions[2] = 7
    index_cache.cache_path(store.location).write_bytes(columns.to_bytes(token))
    with pytest.raises(ManifestError, match="does not match its cached index"):
        Repository(path, mode="r").load_artifact("a", version=2)


def test_an_unwritable_cache_folder_only_costs_speed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("ARCHIVIST_CACHE_DIR", str(blocker))
    path = tmp_path / "repository.json"
    _fill(path, ("a",), 3)
    assert Repository(path, mode="r").load_artifact("a") == ["a", 2]


def test_the_environment_turns_the_cache_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parses: list[int]
) -> None:
    monkeypatch.setenv(index_cache.ENV, "off")
    path = tmp_path / "repository.json"
    _fill(path, ("a",), 3)
    assert not index_cache.cache_path(ManifestStore(path).location).exists()
    parses.clear()
    Repository(path, mode="r")
    assert len(parses) == 1


def test_a_manifest_in_another_layout_is_parsed_each_time(
    tmp_path: Path, parses: list[int]
) -> None:
    path = tmp_path / "repository.json"
    _fill(path, ("a",), 3)
    records = json.loads(path.read_bytes())
    path.write_text(json.dumps(records, indent=4))  # as lazyscribe writes it
    for _ in range(2):
        parses.clear()
        assert Repository(path, mode="r").load_artifact("a") == ["a", 2]
        assert len(parses) == 1


def test_expiry_changes_rewrite_and_reindex(tmp_path: Path, parses: list[int]) -> None:
    path = tmp_path / "repository.json"
    _fill(path, ("a",), 3)
    repository = Repository(path, mode="w+")
    repository.set_artifact_expiry("a", 2, expiry=T0)
    repository.save()
    parses.clear()
    reopened = Repository(path, mode="r")
    assert parses == []
    assert reopened.load_artifact("a") == ["a", 1]  # version 2 expired
    assert reopened.get_artifact_metadata("a", version=2)["expiry"].startswith(T0.isoformat())
    with pytest.raises(VersionNotFoundError):
        reopened.load_artifact("a", version="1999-01-01", match="asof")


# -- the lazy index answers as the eager one ------------------------------------------------

_names = st.sampled_from(["a", "b", "model", "x.y"])
_times = st.integers(min_value=0, max_value=50).map(lambda s: T0 + s * SECOND)


@st.composite
def _manifests(draw: st.DrawFn) -> list[VersionRecord]:
    count = draw(st.integers(min_value=1, max_value=25))
    next_version: dict[str, int] = {}
    records = []
    for i in range(count):
        name = draw(_names)
        version = next_version.get(name, 0) + draw(st.integers(min_value=0, max_value=2))
        next_version[name] = version + 1
        expiry = draw(st.one_of(st.none(), _times))
        extra = draw(st.sampled_from([{}, {"python_version": "3.11"}, {"note": 'a "}, {'}]))
        records.append(
            VersionRecord(
                name, version, "json", f"{name}-{i}.json", draw(_times), expiry, None, i, extra
            )
        )
    return draw(st.permutations(records))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(records=_manifests(), probe=_times, added=st.integers(min_value=0, max_value=3))
def test_the_lazy_index_answers_as_the_full_parse(
    records: list[VersionRecord], probe: datetime, added: int
) -> None:
    data = serialize_manifest(records)
    eager = ManifestIndex(parse_manifest(data))
    columns = index_cache.IndexColumns.build(parse_manifest(data), data)
    assert columns is not None
    blob = columns.to_bytes("d" * 64)
    loaded = index_cache.IndexColumns.from_bytes(blob, "d" * 64, len(data))
    assert loaded is not None
    assert index_cache.IndexColumns.from_bytes(blob, "e" * 64, len(data)) is None
    lazy = loaded.index(data, "test")
    new = [
        VersionRecord(
            "b", eager.last_version("b") + 1 + i, "json", f"new-{i}.json", T0 + i * SECOND
        )
        for i in range(added)
    ]
    if new:
        spliced = splice_manifest(data, new)
        assert spliced is not None
        extended = index_cache.columns_from(Chain(lazy.records, new), spliced, loaded)
        assert extended is not None
        data, eager = spliced, ManifestIndex(parse_manifest(spliced))
        lazy = extended.index(spliced, "test")
    assert [r.to_dict() for r in lazy] == [r.to_dict() for r in eager]
    assert lazy.names() == eager.names()
    for name in eager.names():
        assert list(lazy.versions(name)) == list(eager.versions(name))
        assert lazy.fnames(name) == eager.fnames(name)
        assert lazy.last_version(name) == eager.last_version(name)
        for precision in (SECOND, 10 * SECOND):
            for lookup in ("as_of", "at_time"):
                outcomes = []
                for index in (lazy, eager):
                    try:
                        outcomes.append(getattr(index, lookup)(name, probe, precision))
                    except Exception as exc:
                        outcomes.append((type(exc), str(exc)))
                assert outcomes[0] == outcomes[1]
        for version in range(-2, lazy.last_version(name) + 2):
            outcomes = []
            for index in (lazy, eager):
                try:
                    outcomes.append(index.by_number(name, version))
                except Exception as exc:
                    outcomes.append((type(exc), str(exc)))
            assert outcomes[0] == outcomes[1]
        outcomes = []
        for index in (lazy, eager):
            try:
                outcomes.append(index.latest(name, probe))
            except Exception as exc:
                outcomes.append((type(exc), str(exc)))
        assert outcomes[0] == outcomes[1]


def test_the_cache_keeps_the_most_recently_used_manifests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_cache, "MAX_FILES", 3)
    paths = [tmp_path / f"r{i}" / "repository.json" for i in range(5)]
    for i, path in enumerate(paths):
        _fill(path, ("a",), 2)
        written = index_cache.cache_path(ManifestStore(path).location)
        os.utime(written, (1_000_000 + i, 1_000_000 + i))  # strictly in order of use
    folder = index_cache.cache_path(ManifestStore(paths[0]).location).parent
    kept = {p.name for p in folder.iterdir()}
    assert kept == {index_cache.cache_path(ManifestStore(p).location).name for p in paths[2:]}


def test_a_manifest_under_the_documented_floor_is_not_indexed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/cache.md: manifests of 1 MiB and more are indexed; 64 of them are kept."""
    assert (DOCUMENTED_MIN_BYTES, index_cache.MAX_FILES) == (1 << 20, 64)
    monkeypatch.setattr(index_cache, "MIN_BYTES", DOCUMENTED_MIN_BYTES)
    path = tmp_path / "repository.json"
    _fill(path, ("a",), 2)
    assert not index_cache.cache_path(ManifestStore(path).location).exists()


def test_clearing_the_cache_removes_the_columns(tmp_path: Path) -> None:
    from archivist import clear_cache

    path = tmp_path / "repository.json"
    _fill(path, ("a",), 2)
    cache = index_cache.cache_path(ManifestStore(path).location)
    assert cache.exists()
    clear_cache()
    assert not cache.exists()


@pytest.mark.parametrize(
    "text",
    [
        # two records on one line, and one record over two lines: as many lines as records
        '[\n{"a": 1, "name": "m", "version": 0}, {"name": "m", "version": 1, "x": [\n'
        '{"y": 1}], "z": 2},\n{"name": "m", "version": 2}\n]\n',
        # a record over two lines whose second line starts with a brace
        '[\n{"name": "m", "version": 0, "x": [{"y": 1},\n{"y": 2}]},\n'
        '{"name": "m", "version": 1}\n]\n',
        # indented as lazyscribe writes it
        '[\n    {"name": "m", "version": 0},\n    {"name": "m", "version": 1}\n]\n',
        # no newline at the end, Windows line ends
        '[\n{"name": "m", "version": 0},\n{"name": "m", "version": 1}\n]',
        '[\r\n{"name": "m", "version": 0},\r\n{"name": "m", "version": 1}\r\n]\r\n',
    ],
    ids=["two-on-a-line", "brace-continuation", "indented", "no-final-newline", "crlf"],
)
def test_only_one_record_per_line_is_indexed(text: str) -> None:
    """Text in another layout gets no columns (and so is parsed in full on each open)."""
    count = len(json.loads(text))
    records = [VersionRecord("m", v, "json", f"m-{v}.json", T0 + v * SECOND) for v in range(count)]
    assert index_cache.IndexColumns.build(records, text.encode()) is None


# -- deletions never trust the index ---------------------------------------------------------


def _forge(path: Path, change: Any) -> None:
    """Rewrite the saved columns of ``path``'s manifest through ``change``, checksum recomputed."""
    store = ManifestStore(path)
    data, token = store.backend.read_with_token(store.path)
    columns = index_cache.IndexColumns.build(parse_manifest(data), data)
    assert columns is not None
    change(columns)
    index_cache.cache_path(store.location).write_bytes(columns.to_bytes(token))


def _repeat_the_previous_record(columns: index_cache.IndexColumns) -> None:
    for key in ("name_ids", "versions", "created", "starts", "ends"):
        values = getattr(columns, key)
        values[-1] = values[-2]
    fnames = columns.fnames
    columns.fname_blob = "\n".join([*fnames[:-1], fnames[-2]]).encode()
    columns.order[-1] = columns.order[-2]


def test_gc_under_a_forged_index_keeps_a_committed_file(tmp_path: Path) -> None:
    """A forged index hides the last version; a journal of its save was left behind."""
    from tests.conftest import crash_at_commit

    path = tmp_path / "repository.json"
    _fill(path, ("a",), 3)
    repository = Repository(path, mode="a")
    repository.log_artifact(name="a", value=["a", 3], handler="json")
    with crash_at_commit(repository, landed=True):  # committed, then died: journal left
        repository.save()
    last = parse_manifest(path.read_bytes())[-1]
    _forge(path, _repeat_the_previous_record)
    reopened = Repository(path, mode="a")
    assert reopened.gc(older_than=timedelta(0)) == []
    assert reopened.verify().orphans == []
    assert (tmp_path / "a" / last.fname).exists()


# -- a forged index answers as the full parse, or raises ManifestError ------------------------

_FIELDS = (
    "names",
    "fnames",
    "name_ids",
    "versions",
    "created",
    "starts",
    "ends",
    "order",
    "bounds",
    "time_sorted",
)


@st.composite
def _forgeries(draw: st.DrawFn, columns: index_cache.IndexColumns) -> str:
    """Change one field of the columns (a value, or two values swapped); say what changed."""
    field = draw(st.sampled_from(_FIELDS))
    if field == "names":
        values: list[Any] = list(columns.names)
        pool: list[Any] = [*values, "zz", "a.b", "../x", ""]
    elif field == "fnames":
        values = list(columns.fnames)
        pool = [*values, "evil.json", "a/b.json"]
    else:
        values = list(getattr(columns, field))
        pool = [*values, -1, 0, 1, 2, 3, len(values), 1 << 40]
    at = draw(st.integers(min_value=0, max_value=len(values) - 1))
    if draw(st.booleans()):
        other = draw(st.integers(min_value=0, max_value=len(values) - 1))
        values[at], values[other] = values[other], values[at]
        change = f"{field}: swapped {at} and {other}"
    else:
        values[at] = draw(st.sampled_from(pool))
        change = f"{field}[{at}] = {values[at]!r}"
    if field == "names":
        columns.names = values
    elif field == "fnames":
        columns.fname_blob = "\n".join(values).encode()
        columns._fnames = None
    else:
        typecode = getattr(columns, field).typecode
        if typecode == "i" and not all(-(1 << 31) <= v < 1 << 31 for v in values):
            return "nothing"
        if typecode == "B" and not all(0 <= v < 256 for v in values):
            return "nothing"
        setattr(columns, field, array(typecode, values))
    return change


def _outcome(lookup: Any) -> Any:
    try:
        return lookup()
    except ManifestError as exc:
        return ManifestError, "index" in str(exc)
    except Exception as exc:
        return type(exc), str(exc)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(records=_manifests(), data=st.data(), probe=_times)
def test_a_forged_index_answers_as_the_full_parse_or_raises(
    tmp_path: Path, records: list[VersionRecord], data: st.DataObject, probe: datetime
) -> None:
    """Any index file with a valid checksum: the answers of ARCHIVIST_INDEX_CACHE=0, or
    ManifestError (naming the file to delete) from the lookups it cannot answer."""
    path = tmp_path / "repository.json"
    text = serialize_manifest(records)
    path.write_bytes(text)
    store = ManifestStore(path)
    columns = index_cache.IndexColumns.build(parse_manifest(text), text)
    assert columns is not None
    change = data.draw(_forgeries(columns))
    digest = store.backend.read_with_token(store.path)[1]
    saved = index_cache.cache_path(store.location)
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_bytes(columns.to_bytes(digest))
    eager = ManifestIndex(parse_manifest(text))
    lazy = store.read().indexed or ManifestIndex(store.read().records)
    lookups: list[tuple[str, Any]] = [
        ("len", len),
        ("names", ManifestIndex.names),
        ("records", lambda index: [r.to_dict() for r in index]),
    ]
    for name in eager.names():
        lookups += [
            (f"versions {name}", lambda index, n=name: list(index.versions(n))),
            (f"fnames {name}", lambda index, n=name: index.fnames(n)),
            (f"last {name}", lambda index, n=name: index.last_version(n)),
            (f"latest {name}", lambda index, n=name: index.latest(n, probe)),
        ]
        for version in range(-2, eager.last_version(name) + 2):
            lookups.append(
                (f"{name} v{version}", lambda index, n=name, v=version: index.by_number(n, v))
            )
        for precision in (SECOND, 10 * SECOND):
            lookups += [
                (f"as_of {name}", lambda index, n=name, p=precision: index.as_of(n, probe, p)),
                (f"at {name}", lambda index, n=name, p=precision: index.at_time(n, probe, p)),
            ]
    for what, lookup in lookups:
        answer = _outcome(lambda lookup=lookup: lookup(lazy))
        if answer != (ManifestError, True):  # the file to delete is named
            assert answer == _outcome(lambda lookup=lookup: lookup(eager)), (what, change)


def _resigned(blob: bytes, header: Any, payload: bytes | None = None) -> bytes:
    """The index file ``blob`` with another header (and payload), its checksum recomputed."""
    import hashlib

    magic = b"archivist manifest index 2\n"
    body = blob[:-32]
    end = body.index(b"\n", len(magic))
    new_header = header if isinstance(header, bytes) else json.dumps(header).encode()
    new = magic + new_header + b"\n" + (body[end + 1 :] if payload is None else payload)
    return new + hashlib.sha256(new).digest()


def _header(blob: bytes) -> dict[str, Any]:
    magic = b"archivist manifest index 2\n"
    end = blob.index(b"\n", len(magic))
    header: dict[str, Any] = json.loads(blob[len(magic) : end])
    return header


def _with(blob: bytes, change: Any) -> bytes:
    header = _header(blob)
    change(header)
    return _resigned(blob, header)


@pytest.mark.parametrize(
    "malform",
    [
        lambda blob: _resigned(blob, [1, 2, 3]),
        lambda blob: _resigned(blob, b"null"),
        lambda blob: _resigned(blob, b'"text"'),
        lambda blob: _with(blob, lambda h: h["sections"].update(versions=[0, 16, "d"])),
        lambda blob: _with(blob, lambda h: h["sections"]["versions"].__setitem__(2, "d")),
        lambda blob: _with(blob, lambda h: h["sections"]["created"].__setitem__(2, "d")),
        lambda blob: _with(blob, lambda h: h["sections"]["name_ids"].__setitem__(2, "f")),
        lambda blob: _with(blob, lambda h: h["sections"].update(created=[-8, 8, "q"])),
        lambda blob: _with(blob, lambda h: h["sections"].update(starts=[0, 8.0, "q"])),
        lambda blob: _with(blob, lambda h: h["sections"].update(ends=[0, 1 << 40, "q"])),
        lambda blob: _with(blob, lambda h: h["sections"].update(order=[0, 3, "q"])),
        lambda blob: _with(blob, lambda h: h["sections"].pop("bounds")),
        lambda blob: _with(blob, lambda h: h["sections"].update(extra=[0, 0, "q"])),
        lambda blob: _with(blob, lambda h: h["sections"].update(name_ids="q")),
        lambda blob: _with(blob, lambda h: h.update(count=2.0)),
        lambda blob: _with(blob, lambda h: h.update(count=-1)),
        lambda blob: _with(blob, lambda h: h.update(count=True)),
        lambda blob: _with(blob, lambda h: h.update(names="a")),
        lambda blob: _with(blob, lambda h: h.update(names=[1])),
        lambda blob: _with(blob, lambda h: h.update(names=["a", "a"])),
        lambda blob: _with(blob, lambda h: h.update(names=["../a"])),
        lambda blob: _with(blob, lambda h: h.update(sections=[])),
        lambda blob: _resigned(blob, _header(blob), b""),  # every column empty
        lambda blob: blob[:27] + hashlib_of(blob[:27]),  # no header line at all
    ],
)
def test_a_malformed_index_with_a_valid_checksum_is_ignored(
    tmp_path: Path, parses: list[int], malform: Any
) -> None:
    path = tmp_path / "repository.json"
    _fill(path, ("a",), 3)
    expected = _answers(Repository(path, mode="r"))
    cache = index_cache.cache_path(ManifestStore(path).location)
    cache.write_bytes(malform(cache.read_bytes()))
    parses.clear()
    assert _answers(Repository(path, mode="r")) == expected
    assert len(parses) == 1  # ignored: parsed in full


def hashlib_of(body: bytes) -> bytes:
    import hashlib

    return hashlib.sha256(body).digest()


def test_prune_under_a_forged_index_keeps_what_the_manifest_names(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    _fill(path, ("a",), 4)
    records = parse_manifest(path.read_bytes())
    _forge(path, _repeat_the_previous_record)
    assert Repository(path, mode="w+").prune(keep_last=2) == [("a", 0), ("a", 1)]
    reopened = Repository(path, mode="r")
    assert reopened.versions("a") == [2, 3]
    assert reopened.load_artifact("a") == ["a", 3]
    assert (tmp_path / "a" / records[-1].fname).exists()


def test_a_forged_creation_time_never_moves_an_as_of_answer(
    tmp_path: Path, parses: list[int]
) -> None:
    """The issue's case: one record's time changed, the checksum recomputed.

    Version 1 now seems the newest: the times no longer rise with the numbers while the
    name's flag says they do, so the file is ignored and the manifest parsed in full.
    """
    path = tmp_path / "repository.json"
    _fill(path, ("a",), 3)
    records = parse_manifest(path.read_bytes())

    def later(columns: index_cache.IndexColumns) -> None:
        columns.created[1] = columns.created[2] + 1

    _forge(path, later)
    when = records[1].created_at.isoformat()
    parses.clear()
    repository = Repository(path, mode="r")
    assert len(parses) == 1  # ignored
    found = repository.get_artifact_metadata("a", version=when, match="asof")
    assert found["version"] == 1


def test_a_forged_time_kept_in_order_is_caught_by_the_lookup_that_reads_it(
    tmp_path: Path,
) -> None:
    """A time moved within its neighbours: the bisection reads it, checks its line, raises."""
    path = tmp_path / "repository.json"
    _fill(path, ("a",), 3)
    records = parse_manifest(path.read_bytes())

    def nudged(columns: index_cache.IndexColumns) -> None:
        columns.created[1] += 1

    _forge(path, nudged)
    repository = Repository(path, mode="r")
    cache_file = index_cache.cache_path(ManifestStore(path).location)
    with pytest.raises(ManifestError, match=f"delete {cache_file}"):  # the file to delete
        repository.get_artifact_metadata(
            "a", version=records[1].created_at.isoformat(), match="asof"
        )


def test_a_forged_time_that_hides_an_out_of_order_version_is_ignored(
    tmp_path: Path, parses: list[int]
) -> None:
    """Version 1 was created after version 2 (a clock step): as-of must not bisect.

    Putting version 1's time back in order in the columns makes them look sorted, but the
    name's flag (computed from the same parse) says they are not: the file is ignored.
    """
    path = tmp_path / "repository.json"
    times = [T0, T0 + 5 * SECOND, T0 + 2 * SECOND, T0 + 6 * SECOND]
    records = [VersionRecord("a", v, "json", f"a-{v}.json", t) for v, t in enumerate(times)]
    path.write_bytes(serialize_manifest(records))
    at = (T0 + 5 * SECOND).isoformat()
    assert Repository(path, mode="r").get_artifact_metadata("a", at, "asof")["version"] == 1

    def in_order(columns: index_cache.IndexColumns) -> None:
        columns.created[1] = columns.created[2] - 1

    _forge(path, in_order)
    parses.clear()
    repository = Repository(path, mode="r")
    assert len(parses) == 1  # ignored
    assert repository.get_artifact_metadata("a", at, "asof")["version"] == 1


# -- the first open: one parse, no record built ------------------------------------------------


def test_a_first_open_builds_no_record_until_a_lookup_reads_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "repository.json"
    records = [
        VersionRecord(name, v, "json", f"{name}-{v}.json", T0 + (2 * v + i) * SECOND, size=2)
        for v in range(400)
        for i, name in enumerate(("a", "b"))
    ]
    path.write_bytes(serialize_manifest(records))
    built: list[VersionRecord] = []
    real_init = VersionRecord.__init__

    def counting(self: VersionRecord, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        real_init(self, *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(VersionRecord, "__init__", counting)
        repository = Repository(path, mode="r")
        assert built == []
        assert repository.get_artifact_metadata("b")["version"] == 399
        assert len(built) == 1
    assert index_cache.cache_path(ManifestStore(path).location).is_file()  # written as it went


def test_a_first_open_answers_as_the_full_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "repository.json"
    _fill(path, ("a", "b"), 4)
    repository = Repository(path, mode="w+")
    repository.set_artifact_expiry("a", 1, expiry="2020-01-01")
    repository.save()
    index_cache.cache_path(ManifestStore(path).location).unlink()
    first = _answers(Repository(path, mode="r"))
    monkeypatch.setenv(index_cache.ENV, "0")
    assert first == _answers(Repository(path, mode="r"))


@pytest.mark.parametrize(
    "line",
    [
        '{"name": "a", "version": 0, "handler": "json", "fname": "x.json", '
        '"created_at": "2026-01-01T00:00:00"}',  # version 0 of "a" twice
        '{"name": "../a", "version": 5, "handler": "json", "fname": "x.json", '
        '"created_at": "2026-01-01T00:00:00"}',
        '{"name": "a", "version": 5, "handler": "json", "fname": "x.json", '
        '"created_at": "yesterday"}',
        '{"name": "a", "version": 5, "version": 6, "handler": "json", "fname": "x.json", '
        '"created_at": "2026-01-01T00:00:00"}',
    ],
)
def test_a_first_open_refuses_what_the_full_parse_refuses(tmp_path: Path, line: str) -> None:
    path = tmp_path / "repository.json"
    _fill(path, ("a",), 3)
    text = path.read_bytes()
    path.write_bytes(text[:-3] + b",\n" + line.encode() + b"\n]\n")
    with pytest.raises(ManifestError) as full:
        parse_manifest(path.read_bytes(), str(path))
    with pytest.raises(ManifestError) as opened:
        Repository(path, mode="r")
    assert str(opened.value) == str(full.value)
