from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from archivist._versions import parse_time, parse_version
from archivist.errors import InvalidVersionError


@pytest.mark.parametrize(
    ("text", "start", "precision"),
    [
        ("2026-01-31", datetime(2026, 1, 31), timedelta(days=1)),
        ("2026-01-31T12", datetime(2026, 1, 31, 12), timedelta(hours=1)),
        ("2026-01-31T12:30", datetime(2026, 1, 31, 12, 30), timedelta(minutes=1)),
        ("2026-01-31T12:30:15", datetime(2026, 1, 31, 12, 30, 15), timedelta(seconds=1)),
        (
            "2026-01-31 12:30:15.5",
            datetime(2026, 1, 31, 12, 30, 15, 500000),
            timedelta(milliseconds=100),
        ),
        (
            "2026-01-31T12:30:15.000001",
            datetime(2026, 1, 31, 12, 30, 15, 1),
            timedelta(microseconds=1),
        ),
        ("2026-01-31T13:30:15+01:00", datetime(2026, 1, 31, 12, 30, 15), timedelta(seconds=1)),
        ("2026-01-31T12:30:15Z", datetime(2026, 1, 31, 12, 30, 15), timedelta(seconds=1)),
    ],
)
def test_iso_strings(text: str, start: datetime, precision: timedelta) -> None:
    spec = parse_time(text)
    assert spec.start == start
    assert spec.precision == precision


def test_datetimes() -> None:
    aware = datetime(2026, 1, 31, 7, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert parse_time(aware).start == datetime(2026, 1, 31, 12, 0)
    assert parse_time(datetime(2026, 1, 1, 0, 0, 0, 5)).precision == timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("version", "match"),
    [("2026-13-01", "exact"), ("soon", "asof"), (3, "asof"), (2.0, "exact"), (None, "near")],
)
def test_rejected(version: object, match: object) -> None:
    with pytest.raises(InvalidVersionError):
        parse_version(version, match)


def test_accepted() -> None:
    assert parse_version(None) == (None, "exact")
    assert parse_version(-2) == (-2, "exact")
