"""Understanding the version values users pass: numbers, datetimes and ISO strings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from archivist.errors import InvalidArgumentError, InvalidVersionError

__all__ = [
    "MAX_NUMBER_DIGITS",
    "NAIVE_MEANS_UTC",
    "Match",
    "TimeSpec",
    "VersionValue",
    "check_duration",
    "parse_match",
    "parse_number",
    "parse_time",
    "parse_version",
]

Match = Literal["exact", "asof"]
VersionValue = int | datetime | str | None

_TIME_PART = re.compile(
    r"^(?P<hour>\d{2})(?::?(?P<minute>\d{2})(?::?(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,6})\d*)?)?)?",
    re.ASCII,
)
#: A version number as text: ASCII digits only (``int()`` would also read other scripts'
#: digits, fullwidth or Arabic-Indic).
_NUMBER = re.compile(r"[+-]?[0-9]+", re.ASCII)
#: The most digits a version number given as text may have: past this it names no version
#: (and ``int()`` refuses texts past 4,300 digits).
MAX_NUMBER_DIGITS = 18
#: The earliest time a duration may reach back to: a day after the calendar's start, so that
#: "now minus the duration" stays in range for as long as a call runs.
_EARLIEST = datetime(1, 1, 2)


@dataclass(frozen=True)
class TimeSpec:
    """A point in time given to some precision.

    Attributes
    ----------
    start : datetime.datetime
        Naive UTC.
    precision : datetime.timedelta
        The unit it was given to: a value "to the second" matches that whole second.
    naive : bool
        It was given without a UTC offset, and so taken as UTC.
    """

    start: datetime
    precision: timedelta
    naive: bool = False

    @property
    def last(self) -> datetime:
        """The last microsecond the time stands for (never past :attr:`datetime.datetime.max`).

        ``"2026-03-01"`` stands for the whole day, so its last microsecond is
        ``2026-03-01T23:59:59.999999``; ``"9999-12-31"`` ends at the calendar's end.
        """
        try:
            return self.start + (self.precision - timedelta(microseconds=1))
        except OverflowError:
            return datetime.max


#: Added to a failed lookup by a time given without an offset.
NAIVE_MEANS_UTC = (
    "a time without a UTC offset is read as UTC (as lazyscribe does), not as local time: "
    "give the offset for another zone, e.g. '2026-01-31T12:00:00+01:00' or "
    "datetime(..., tzinfo=...)"
)


def _to_naive_utc(value: datetime, what: str, shown: object) -> datetime:
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        raise InvalidVersionError(
            f"{what} {shown!r} is outside the years 1 to 9999 once converted to UTC; give a "
            "time in UTC instead"
        ) from None


def _precision_of(text: str) -> timedelta:
    separator = next((i for i, ch in enumerate(text) if ch in "T "), None)
    if separator is None or separator < 8:
        return timedelta(days=1)
    found = _TIME_PART.match(text[separator + 1 :])
    if found is None:
        return timedelta(microseconds=1)
    if found["fraction"]:
        return timedelta(microseconds=10 ** (6 - len(found["fraction"])))
    if found["second"]:
        return timedelta(seconds=1)
    if found["minute"]:
        return timedelta(minutes=1)
    return timedelta(hours=1)


def parse_time(value: datetime | str, what: str = "version") -> TimeSpec:
    """Turn a datetime or an ISO 8601 string into naive UTC with its precision.

    Naive datetimes and strings without an offset are taken as UTC; aware ones are
    converted. A datetime with zero microseconds, or a string without a fraction, stands
    for its whole second (a date alone, for its whole day).

    Parameters
    ----------
    value : datetime.datetime or str
        The time.
    what : str, optional
        What the value is, for error messages.

    Returns
    -------
    TimeSpec
        The time and its precision.

    Raises
    ------
    archivist.errors.InvalidVersionError
        The string is not an ISO 8601 date or date-time, or its offset moves it outside the
        years 1 to 9999. The precision may reach past :attr:`datetime.datetime.max`
        (``"9999-12-31"`` stands for its whole day); compare with
        :func:`archivist.manifest.end_of`, which never overflows.
    """
    if isinstance(value, datetime):
        precision = timedelta(seconds=1) if value.microsecond == 0 else timedelta(microseconds=1)
        return TimeSpec(_to_naive_utc(value, what, value), precision, value.tzinfo is None)
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidVersionError(
                f"{what} {value!r:.200} is not an ISO 8601 date or time; use for example "
                "'2026-01-31T12:00:00', '2026-01-31T12:00:00.250000+01:00' or '2026-01-31'"
            ) from None
        return TimeSpec(
            _to_naive_utc(parsed, what, value), _precision_of(text), parsed.tzinfo is None
        )
    raise InvalidVersionError(
        f"{what} must be a datetime or an ISO 8601 string, got {type(value).__name__} "
        f"{value!r:.200}"
    )


def parse_match(match: object) -> Match:
    """Validate a ``match`` argument.

    Parameters
    ----------
    match : object
        The value given.

    Returns
    -------
    {"exact", "asof"}
        The value, checked.

    Raises
    ------
    archivist.errors.InvalidVersionError
        Anything else.
    """
    if match == "exact":
        return "exact"
    if match == "asof":
        return "asof"
    raise InvalidVersionError(f"match must be 'exact' or 'asof', got {match!r}")


def parse_version(version: object, match: object = "exact") -> tuple[int | TimeSpec | None, Match]:
    """Normalize a version argument and its match mode.

    Parameters
    ----------
    version : int, datetime.datetime, str or None
        ``None`` for the latest version, an int for a version number (negative counts
        from the end), or a time.
    match : {"exact", "asof"}
        How a time is matched; ``asof`` only applies to times.

    Returns
    -------
    tuple
        ``(None | int | TimeSpec, match)``.

    Raises
    ------
    archivist.errors.InvalidVersionError
        The version or match mode cannot be understood.
    """
    mode = parse_match(match)
    if version is None:
        return None, mode
    if isinstance(version, bool):
        raise InvalidVersionError(
            f"version must be an int, a datetime or a string, not {version!r}"
        )
    if isinstance(version, int):
        if mode == "asof":
            raise InvalidVersionError(
                "match='asof' needs a time (a datetime or an ISO string), not a version number"
            )
        return version, mode
    if isinstance(version, datetime | str):
        return parse_time(version), mode
    raise InvalidVersionError(
        f"version must be an int, a datetime or an ISO 8601 string, got "
        f"{type(version).__name__} {version!r}"
    )


def parse_number(text: str, what: str = "version") -> int | None:
    """Read a version number given as text (``"3"``, ``"-1"``); ``None`` if it is not one.

    Only ASCII digits make a number: fullwidth or Arabic-Indic digits are not version
    numbers (such a text is then read as a time, which refuses it).

    Parameters
    ----------
    text : str
        The text.
    what : str, optional
        What the value is, for error messages.

    Returns
    -------
    int or None
        The number, or ``None`` when the text is not a number.

    Raises
    ------
    archivist.errors.InvalidVersionError
        The number has more than :data:`MAX_NUMBER_DIGITS` digits: no version has it.
    """
    if not _NUMBER.fullmatch(text):
        return None
    digits = len(text.lstrip("+-"))
    if digits > MAX_NUMBER_DIGITS:
        raise InvalidVersionError(
            f"{what} {text[:20]}... has {digits} digits; a version number has at most "
            f"{MAX_NUMBER_DIGITS}. Give a number such as 3 or -1"
        )
    return int(text)


def check_duration(value: object, what: str) -> timedelta:
    """Validate a duration reaching back from now (``keep_within``, ``older_than``).

    Parameters
    ----------
    value : object
        The duration given.
    what : str
        Its name, for error messages.

    Returns
    -------
    datetime.timedelta
        The duration, unchanged.

    Raises
    ------
    archivist.errors.InvalidArgumentError
        It is not a :class:`~datetime.timedelta`, is negative, or reaches back before the
        calendar's start (the year 1) from now.
    """
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise InvalidArgumentError(
            f"{what} must be a timedelta of zero or more, got {value!r:.200}; for example "
            "timedelta(hours=1)"
        )
    longest = datetime.now(UTC).replace(tzinfo=None) - _EARLIEST
    if value > longest:
        raise InvalidArgumentError(
            f"{what} of {value.days} days reaches back before the year 1; give at most "
            f"{longest.days} days"
        )
    return value
