"""Property-based tests (Hypothesis) of the manifest parser, names, times and lookups.

Each property is checked on a few hundred generated inputs: the parser answers any text
with records or a ManifestError, valid manifests round-trip, only safe names pass the name
checks, version values are understood or refused with an InvalidVersionError, and the
index's lookups agree with a plain reference model, expiry included.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
from datetime import datetime, timedelta, timezone
from pathlib import PureWindowsPath
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archivist import release as lzr
from archivist._formats import strict_json as _json
from archivist._formats.strict_json import load_json
from archivist._formats.versions import TimeSpec, parse_time, parse_version
from archivist.errors import (
    AmbiguousVersionError,
    InvalidNameError,
    InvalidVersionError,
    ManifestError,
    VersionNotFoundError,
)
from archivist.manifest import (
    CORE_FIELDS,
    MAX_NAME_BYTES,
    ManifestIndex,
    VersionRecord,
    check_file_name,
    check_name,
    end_of,
    format_time,
    parse_manifest,
    serialize_manifest,
    splice_manifest,
)

PROPERTIES = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- strategies ---------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
time_texts = st.one_of(
    st.datetimes().map(format_time),
    st.datetimes(timezones=st.timezones()).map(lambda t: t.isoformat()),
    st.dates().map(str),
    st.text(max_size=30),
)
safe_names = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters="/\\."
    ),
    min_size=1,
    max_size=40,
).filter(lambda n: n.strip() and not (len(n) > 1 and n[1] == ":"))
field_values = {
    "name": safe_names | json_values,
    "version": st.integers(min_value=-2, max_value=50) | json_values,
    "handler": st.sampled_from(["json", "pickle", ""]) | json_values,
    "fname": safe_names | json_values,
    "created_at": time_texts | json_values,
    "expiry": st.none() | time_texts | json_values,
    "sha256": st.none() | st.just("a" * 64) | json_values,
    "size": st.none() | st.integers(min_value=-1, max_value=10**12) | json_values,
    "python_version": st.just("3.11") | json_values,
}


@st.composite
def record_like(draw: st.DrawFn) -> Any:
    """A dict with some of the record's fields, each well- or ill-typed; or any JSON value."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    keys = draw(st.lists(st.sampled_from(sorted(field_values)), unique=True))
    return {key: draw(field_values[key]) for key in keys}


@st.composite
def valid_records(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A valid manifest's records: unique (name, version), good fields, extra fields."""
    names = draw(
        st.lists(
            safe_names.filter(lambda n: not n.startswith(".")), min_size=1, max_size=3, unique=True
        )
    )
    records = []
    for name in names:
        versions = draw(st.lists(st.integers(0, 20), max_size=4, unique=True))
        for version in versions:
            created = draw(st.datetimes())
            expiry = draw(st.none() | st.datetimes())
            extra = draw(
                st.dictionaries(
                    st.text(max_size=8).filter(lambda k: k not in CORE_FIELDS),
                    json_values.filter(_is_finite),
                    max_size=3,
                )
            )
            records.append(
                {
                    **extra,
                    "name": name,
                    "version": version,
                    "handler": draw(st.sampled_from(["json", "pickle", "yaml"])),
                    "fname": draw(safe_names),
                    "created_at": format_time(created),
                    "expiry": None if expiry is None else format_time(expiry),
                    "sha256": draw(
                        st.none() | st.text("0123456789abcdef", min_size=64, max_size=64)
                    ),
                    "size": draw(st.none() | st.integers(0, 10**15)),
                }
            )
    return records


def _is_finite(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        return False
    return True


# -- the parser ---------------------------------------------------------------------------


@PROPERTIES
@given(st.lists(record_like(), max_size=5) | json_values)
def test_parse_manifest_answers_records_or_a_manifest_error(value: Any) -> None:
    text = json.dumps(value, allow_nan=True)
    try:
        records = parse_manifest(text)
    except ManifestError:
        return
    assert all(isinstance(record, VersionRecord) for record in records)
    serialize_manifest(records)  # whatever parses can be written back


@PROPERTIES
@given(st.text(max_size=200) | st.binary(max_size=200))
def test_parse_manifest_of_any_text_is_records_or_a_manifest_error(text: str | bytes) -> None:
    with contextlib.suppress(ManifestError):
        parse_manifest(text)


@PROPERTIES
@given(st.integers(1, 3000), st.sampled_from(["[", '{"a":', '[{"b":[']))
def test_deep_nesting_is_a_manifest_error(depth: int, opener: str) -> None:
    closer = {"[": "]", '{"a":': "}", '[{"b":[': "]}]"}[opener]
    with contextlib.suppress(ManifestError):
        parse_manifest(opener * depth + "1" + closer * depth)


@PROPERTIES
@given(valid_records())
def test_valid_manifests_round_trip(records: list[dict[str, Any]]) -> None:
    parsed = parse_manifest(json.dumps(records))
    assert [(r.name, r.version) for r in parsed] == [(r["name"], r["version"]) for r in records]
    written = serialize_manifest(parsed)
    again = parse_manifest(written)
    assert again == parsed
    assert serialize_manifest(again) == written
    assert [r.to_dict() for r in again] == records


@PROPERTIES
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "tag": json_values | st.text(min_size=1),
                "artifacts": json_values,
                "created_at": time_texts | json_values,
            }
        )
        | json_values,
        max_size=3,
    )
)
def test_release_lists_parse_or_raise_a_manifest_error(entries: list[Any]) -> None:
    try:
        releases = lzr.loads(json.dumps(entries, allow_nan=True))
    except ManifestError:
        return
    for release, entry in zip(releases, entries, strict=True):
        assert release.tag == entry["tag"]  # a tag is never coerced
        assert [list(p) for p in release.artifacts] == entry["artifacts"]


# -- names --------------------------------------------------------------------------------


@PROPERTIES
@given(
    st.text(max_size=300)
    | st.text(min_size=200, max_size=300)
    | st.sampled_from([".", "..", "/", "a/b", "..\\x", "C:x", "/etc", "a\x00b", " ", ".git"])
    | st.text(alphabet="./\\:aé\x00", max_size=8)
)
def test_name_checks_accept_only_safe_names(name: str) -> None:
    for check in (check_name, check_file_name):
        try:
            accepted = check(name)
        except InvalidNameError:
            continue
        assert accepted == name
        # a file name may hold sub-folders (as in lazyscribe 2.2); each part obeys the name rules
        parts = name.split("/") if check is check_file_name else [name]
        for part in parts:
            assert part not in {".", ".."} and not part.startswith(".")
            assert not any(ch in part for ch in "/\\\x00")
            assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in part)
            assert len(part.encode("utf-8")) <= MAX_NAME_BYTES
            assert not PureWindowsPath(part).drive
        assert not os.path.isabs(name)
        joined = posixpath.normpath(posixpath.join("/base/folder", name))
        assert joined.startswith("/base/folder/")
        assert joined == "/base/folder/" + name


@PROPERTIES
@given(safe_names.filter(lambda n: not n.startswith(".") and len(n.encode()) <= MAX_NAME_BYTES))
def test_name_checks_accept_plain_names(name: str) -> None:
    assert check_name(name) == name
    assert check_file_name(name) == name


# -- times and version values ---------------------------------------------------------------

offsets = st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m)))
version_values = (
    st.none()
    | st.integers()
    | st.booleans()
    | st.floats()
    | st.datetimes()
    | st.datetimes(timezones=offsets)
    | st.sampled_from(
        [
            datetime.min,
            datetime.max,
            "9999-12-31",
            "0001-01-01",
            "0001-01-01T00:00+01:00",
            "9999-12-31T23:59-01:00",
        ]
    )
    | time_texts
    | st.datetimes(timezones=offsets).map(lambda t: t.isoformat(timespec="minutes"))
    | json_values
)


@PROPERTIES
@given(version_values, st.sampled_from(["exact", "asof", "nearest", None, 1]))
def test_parse_version_understands_or_raises_an_invalid_version_error(
    value: Any, match: Any
) -> None:
    try:
        spec, mode = parse_version(value, match)
    except InvalidVersionError:
        return
    assert mode in {"exact", "asof"}
    if isinstance(spec, TimeSpec):
        assert spec.start.tzinfo is None and spec.precision > timedelta(0)
        times = [datetime.min, spec.start, datetime.max]
        assert 1 <= end_of(times, spec.start, spec.precision) <= 3  # never overflows


@PROPERTIES
@given(version_values)
def test_parse_time_understands_or_raises_an_invalid_version_error(value: Any) -> None:
    try:
        spec = parse_time(value)
    except InvalidVersionError:
        return
    assert isinstance(spec.start, datetime) and spec.start.tzinfo is None


# -- lookups against a reference model ------------------------------------------------------

BASES = [datetime.min, datetime(2026, 1, 1, 12), datetime.max - timedelta(hours=2)]
PRECISIONS = [
    timedelta(microseconds=1),
    timedelta(seconds=1),
    timedelta(minutes=1),
    timedelta(hours=1),
    timedelta(days=1),
]
offsets_in = st.sampled_from(
    [
        timedelta(0),
        timedelta(microseconds=1),
        timedelta(seconds=1),
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=59),
        timedelta(hours=1),
        timedelta(hours=1, microseconds=1),
    ]
)


@st.composite
def version_sets(draw: st.DrawFn) -> tuple[list[VersionRecord], datetime]:
    base = draw(st.sampled_from(BASES))
    numbers = draw(st.lists(st.integers(0, 12), min_size=1, max_size=8, unique=True))
    records = []
    for number in numbers:
        created = base + draw(offsets_in)
        expiry = draw(st.none() | offsets_in.map(lambda d, b=base: b + d))
        records.append(VersionRecord("a", number, "json", f"a{number}", created, expiry))
    return records, base


def ref_latest(records: list[VersionRecord], now: datetime) -> VersionRecord | None:
    live = [r for r in records if r.expiry is None or r.expiry > now]
    return max(live, key=lambda r: r.version) if live else None


def ref_as_of(
    records: list[VersionRecord], at: datetime, precision: timedelta
) -> VersionRecord | None:
    try:
        end = at + precision
        created = [r for r in records if r.created_at < end]
    except OverflowError:
        created = list(records)
    live = [r for r in created if r.expiry is None or r.expiry > at]
    return max(live, key=lambda r: (r.created_at, r.version)) if live else None


def ref_at_time(
    records: list[VersionRecord], start: datetime, precision: timedelta
) -> list[VersionRecord]:
    try:
        end = start + precision
        return [r for r in records if start <= r.created_at < end]
    except OverflowError:
        return [r for r in records if start <= r.created_at]


@PROPERTIES
@given(version_sets(), offsets_in, st.sampled_from(PRECISIONS), st.integers(-10, 14))
def test_lookups_agree_with_a_reference_model(
    drawn: tuple[list[VersionRecord], datetime],
    offset: timedelta,
    precision: timedelta,
    number: int,
) -> None:
    records, base = drawn
    index = ManifestIndex(records)
    at = base + offset

    expected = ref_latest(records, at)
    if expected is None:
        with pytest.raises(VersionNotFoundError):
            index.latest("a", at)
    else:
        assert index.latest("a", at) is expected

    ordered = sorted(records, key=lambda r: r.version)
    if number < 0:
        wanted = ordered[number] if -number <= len(ordered) else None
    else:
        wanted = next((r for r in ordered if r.version == number), None)
    if wanted is None:
        with pytest.raises(VersionNotFoundError):
            index.by_number("a", number)
    else:
        assert index.by_number("a", number) is wanted

    found = ref_as_of(records, at, precision)
    if found is None:
        with pytest.raises(VersionNotFoundError):
            index.as_of("a", at, precision)
    else:
        assert index.as_of("a", at, precision) is found

    matches = ref_at_time(records, at, precision)
    if not matches:
        with pytest.raises(VersionNotFoundError) as caught:
            index.at_time("a", at, precision)
        assert not isinstance(caught.value, AmbiguousVersionError)
    elif len(matches) > 1:
        with pytest.raises(AmbiguousVersionError):
            index.at_time("a", at, precision)
    else:
        assert index.at_time("a", at, precision) is matches[0]


@PROPERTIES
@given(version_sets(), offsets_in, st.booleans())
def test_find_release_as_of_agrees_with_a_reference_model(
    drawn: tuple[list[VersionRecord], datetime], offset: timedelta, as_text: bool
) -> None:
    records, base = drawn
    releases = [lzr.Release(f"v{r.version}", [], r.created_at) for r in records]
    at = base + offset
    # a datetime without microseconds stands for its whole second; the text has them all
    whole_second = at.microsecond == 0 and not as_text
    precision = timedelta(seconds=1) if whole_second else timedelta(microseconds=1)
    try:
        created = [r for r in releases if r.created_at < at + precision]
    except OverflowError:
        created = releases
    wanted = format_time(at) if as_text else at
    if not created:
        with pytest.raises(VersionNotFoundError):
            lzr.find_release(releases, wanted, match="asof")
    else:
        newest = max(r.created_at for r in created)
        assert lzr.find_release(releases, wanted, match="asof").created_at == newest


@PROPERTIES
@given(valid_records(), valid_records())
def test_splicing_is_byte_identical_to_serializing(
    old: list[dict[str, Any]], new: list[dict[str, Any]]
) -> None:
    base = parse_manifest(json.dumps(old))
    added = [VersionRecord.from_dict(record) for record in new]
    assert splice_manifest(serialize_manifest(base), added) == serialize_manifest(base + added)
    if old and added:  # another tool's layout: serialize every record instead
        assert splice_manifest(json.dumps(old, indent=1).encode(), added) is None


def _parse_record_by_record(text: str) -> list[VersionRecord]:
    """The parser before the fast path: stdlib JSON, then from_dict of each record."""
    parsed = load_json(text, "the manifest")
    if not isinstance(parsed, list):
        raise ManifestError("the manifest must hold a JSON array of version records")
    return [VersionRecord.from_dict(item, i) for i, item in enumerate(parsed)]


@PROPERTIES
@given(valid_records() | st.lists(record_like(), max_size=5), st.booleans())
def test_the_fast_parser_agrees_with_parsing_record_by_record(
    records: list[Any], archivist_layout: bool
) -> None:
    text = json.dumps(records, allow_nan=True)
    if archivist_layout and all(isinstance(r, dict) for r in records):
        text = "[\n" + ",\n".join(json.dumps(r, sort_keys=True) for r in records) + "\n]\n"
    try:
        expected: list[VersionRecord] | str = _parse_record_by_record(text)
    except ManifestError as exc:
        expected = str(exc)
    for decoder_from in (_json.MSGSPEC_FROM_BYTES, 0):  # the standard library, msgspec
        with mock.patch.object(_json, "MSGSPEC_FROM_BYTES", decoder_from):
            try:
                got: list[VersionRecord] | str = parse_manifest(text)
            except ManifestError as exc:
                got = str(exc)
        if isinstance(expected, list) and isinstance(got, str):
            assert "twice" in got  # a (name, version) pair repeats: checked after the records
        else:
            assert got == expected


def test_a_common_manifest_is_checked_in_bulk(monkeypatch: pytest.MonkeyPatch) -> None:
    records = [
        VersionRecord(
            "a",
            i,
            "json",
            f"sub/a-{i}.json",
            datetime(2026, 1, 1, 0, 0, i),
            None,
            "0" * 64,
            i,
            {"python_version": "3.12"} if i % 2 else {},
        )
        for i in range(10)
    ]
    text = serialize_manifest(records)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the common form needs neither stdlib json nor from_dict")

    monkeypatch.setattr(_json, "_unique_object", refuse)  # load_json's per-object hook
    monkeypatch.setattr(VersionRecord, "from_dict", refuse)
    assert parse_manifest(text) == records
    monkeypatch.setattr(_json, "MSGSPEC_FROM_BYTES", 0)  # a large manifest: msgspec
    monkeypatch.setattr(json, "loads", refuse)
    assert parse_manifest(text) == records
    assert parse_manifest(text.decode()) == records
