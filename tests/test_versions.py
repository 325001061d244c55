from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from archivist._formats.versions import (
    MAX_NUMBER_DIGITS,
    check_duration,
    parse_number,
    parse_time,
    parse_version,
)
from archivist.errors import InvalidArgumentError, InvalidVersionError


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


@pytest.mark.parametrize(
    ("text", "last"),
    [
        ("2026-03-01", datetime(2026, 3, 1, 23, 59, 59, 999999)),
        ("9999-12-31", datetime.max),
        ("9999-12-31T23:59:59", datetime.max),
        ("9999-12-31T23:59:59.999999", datetime.max),
    ],
)
def test_the_last_microsecond_of_a_time_never_overflows(text: str, last: datetime) -> None:
    assert parse_time(text).last == last


@pytest.mark.parametrize(
    ("text", "number"),
    [("0", 0), ("-1", -1), ("+3", 3), ("9" * MAX_NUMBER_DIGITS, int("9" * MAX_NUMBER_DIGITS))],
)
def test_ascii_digits_make_a_number(text: str, number: int) -> None:
    assert parse_number(text) == number


@pytest.mark.parametrize("text", ["\uff11", "\u0663", "-\uff11", "1.0", "", "2026-01-31", "1e3"])
def test_anything_else_is_not_a_number(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize("digits", [MAX_NUMBER_DIGITS + 1, 4301, 100_000])
def test_a_number_longer_than_any_version_is_refused(digits: int) -> None:
    with pytest.raises(InvalidVersionError, match=f"at most {MAX_NUMBER_DIGITS}"):
        parse_number("7" * digits)


@pytest.mark.parametrize(
    "value", [timedelta(days=800_000), timedelta.max, timedelta(-1), 3600, None, "1h"]
)
def test_durations_out_of_range_or_of_another_type_are_refused(value: object) -> None:
    with pytest.raises(InvalidArgumentError, match="older_than"):
        check_duration(value, "older_than")


def test_durations_up_to_the_calendar_start_are_accepted() -> None:
    assert check_duration(timedelta(0), "x") == timedelta(0)
    assert check_duration(timedelta(days=700_000), "x") == timedelta(days=700_000)
