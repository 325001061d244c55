from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from archivist.errors import AmbiguousVersionError, ManifestError, VersionNotFoundError
from archivist.manifest import (
    ManifestIndex,
    VersionRecord,
    parse_manifest,
    serialize_manifest,
)

T0 = datetime(2026, 1, 31, 12, 0, 0)
SECOND = timedelta(seconds=1)
MICRO = timedelta(microseconds=1)


def record(name: str, version: int, at: datetime, **kw: object) -> VersionRecord:
    return VersionRecord(name, version, "json", f"{name}-{version}.json", at, **kw)  # type: ignore[arg-type]


def test_lazyscribe_records_parse_and_keep_unknown_fields() -> None:
    text = json.dumps(
        [
            {
                "name": "model",
                "version": 0,
                "handler": "pickle",
                "fname": "model-20250125123622.pkl",
                "created_at": "2025-01-25T12:36:22",
                "expiry": None,
                "python_version": "3.11",
            }
        ],
        indent=4,
        sort_keys=True,
    )
    (parsed,) = parse_manifest(text)
    assert parsed.sha256 is None and parsed.size is None
    assert parsed.extra == {"python_version": "3.11"}
    again = json.loads(serialize_manifest([parsed]))
    assert again[0]["python_version"] == "3.11"
    assert again[0]["created_at"] == "2025-01-25T12:36:22.000000"
    assert datetime.fromisoformat(again[0]["created_at"]) == parsed.created_at


def test_aware_times_become_naive_utc() -> None:
    text = json.dumps(
        [
            {
                "name": "a",
                "version": 0,
                "handler": "json",
                "fname": "a",
                "created_at": "2026-01-31T13:00:00+01:00",
                "expiry": "2026-02-01T00:00:00Z",
            }
        ]
    )
    (parsed,) = parse_manifest(text)
    assert parsed.created_at == T0
    assert parsed.expiry == datetime(2026, 2, 1)


@pytest.mark.parametrize(
    "bad",
    [
        [{"name": "a", "version": 0, "handler": "json", "fname": "a", "created_at": "x"}],
        [{"name": "a", "version": -1, "handler": "json", "fname": "a", "created_at": "2026-01-01"}],
        [{"name": "a", "version": 0, "handler": "", "fname": "a", "created_at": "2026-01-01"}],
        [
            {
                "name": "a",
                "version": 0,
                "handler": "json",
                "fname": "/etc/x",
                "created_at": "2026-01-01",
            }
        ],
        [
            {
                "name": "a",
                "version": 0,
                "handler": "json",
                "fname": "a",
                "created_at": "2026-01-01",
                "sha256": "nothex",
            }
        ],
        [
            {
                "name": "a",
                "version": 0,
                "handler": "json",
                "fname": "a",
                "created_at": "2026-01-01",
                "size": -3,
            }
        ],
        [
            {
                "name": "a",
                "version": 0,
                "handler": "json",
                "fname": "a",
                "created_at": "2026-01-01",
            },
            {
                "name": "a",
                "version": 0,
                "handler": "json",
                "fname": "b",
                "created_at": "2026-01-01",
            },
        ],
        ["not a record"],
    ],
)
def test_invalid_records(bad: object) -> None:
    with pytest.raises(ManifestError):
        parse_manifest(json.dumps(bad))


def test_serialized_manifest_is_one_record_per_line() -> None:
    data = serialize_manifest([record("a", 0, T0), record("a", 1, T0 + SECOND)])
    lines = data.decode().splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == 4
    assert serialize_manifest([]) == b"[]\n"


def test_index_lookups() -> None:
    records = [record("a", v, T0 + v * SECOND) for v in range(5)] + [record("b", 0, T0)]
    index = ManifestIndex(reversed(records))
    assert index.names() == ["b", "a"]
    assert index.latest("a", T0 + 10 * SECOND).version == 4
    assert index.by_number("a", 2).version == 2
    assert index.by_number("a", -1).version == 4
    assert index.at_time("a", T0 + 3 * SECOND, SECOND).version == 3
    assert index.as_of("a", T0 + 3 * SECOND + 500_000 * MICRO, MICRO).version == 3
    assert index.as_of("a", T0 + 3 * SECOND, SECOND).version == 3
    assert index.last_version("a") == 4 and index.last_version("zzz") == -1
    with pytest.raises(VersionNotFoundError, match="predates"):
        index.as_of("a", T0 - SECOND, SECOND)


def test_index_with_gaps_and_expiry() -> None:
    records = [
        record("a", 0, T0),
        record("a", 2, T0 + SECOND, expiry=T0 + 5 * SECOND),
        record("a", 3, T0 + 2 * SECOND, expiry=T0 + 3 * SECOND),
    ]
    index = ManifestIndex(records)
    assert index.by_number("a", 2).version == 2
    with pytest.raises(VersionNotFoundError):
        index.by_number("a", 1)
    assert index.latest("a", T0 + 4 * SECOND).version == 2
    assert index.latest("a", T0 + 6 * SECOND).version == 0
    assert index.as_of("a", T0 + 2 * SECOND, SECOND).version == 3
    assert index.as_of("a", T0 + 4 * SECOND, SECOND).version == 2


def test_ambiguous_exact_time() -> None:
    index = ManifestIndex([record("a", 0, T0 + 10 * MICRO), record("a", 1, T0 + 20 * MICRO)])
    with pytest.raises(AmbiguousVersionError, match=r"version 0.*version 1"):
        index.at_time("a", T0, SECOND)
    assert index.at_time("a", T0 + 20 * MICRO, MICRO).version == 1


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"note": "}, {"},
        {"note": 'a "}, {" b', "other": "}, {}, {"},
        {"items": [{"a": 1}, {"b": 2}]},
        {"nested": {"deep": [{"x": "}, {"}]}},
    ],
    ids=["plain", "separator-in-string", "separators", "list-of-objects", "nested"],
)
def test_serialized_manifest_is_one_json_dumps_per_line(extra: dict[str, object]) -> None:
    records = [
        VersionRecord("m", v, "json", f"m-{v}.json", datetime(2026, 1, 1), extra=extra)
        for v in range(3)
    ]
    lines = [json.dumps(record.to_dict(), sort_keys=True) for record in records]
    assert serialize_manifest(records) == ("[\n" + ",\n".join(lines) + "\n]\n").encode()
