"""A manifest in archivist's layout, one record per line: where each line is, and its columns.

:func:`~archivist.manifest.serialize_manifest` writes a ``[`` line, one record per line and a
``]`` line. A manifest in that layout whose records hold no nested object or array can be
read a line at a time: :func:`line_spans` finds each record's line, :func:`record_columns`
takes the columns an index needs (name, number, creation time in :func:`micros`, file name)
from records, and :func:`parse_lines` takes them from the manifest's text in one parse,
checked exactly as the full parse checks records, without building any record
(:mod:`archivist.stores._index_cache` builds its index from them).
"""

from __future__ import annotations

import itertools
import operator
from array import array
from bisect import bisect_right
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from archivist._formats.manifest_parse import (
    bulk_columns,
    decode_manifest,
    no_gc,
    records_from_dicts,
)
from archivist._formats.records import VersionRecord

__all__ = [
    "LineColumns",
    "falling_groups",
    "flat",
    "from_micros",
    "increasing",
    "joined_fnames",
    "line_spans",
    "micros",
    "nested",
    "non_decreasing",
    "parse_lines",
    "record_columns",
]

_EPOCH = datetime(1, 1, 1)
_MICROSECOND = timedelta(microseconds=1)


def micros(value: datetime) -> int:
    """Return a naive UTC time as microseconds since 0001-01-01 (orders like the time)."""
    return (value - _EPOCH) // _MICROSECOND


def from_micros(value: int) -> datetime:
    """Return the naive UTC time :func:`micros` gave ``value`` for."""
    return _EPOCH + timedelta(microseconds=value)


def increasing(values: Sequence[int]) -> bool:
    """Tell whether each value is greater than the one before."""
    return all(map(operator.lt, values, itertools.islice(values, 1, None)))


def non_decreasing(values: Sequence[int]) -> bool:
    """Tell whether no value is less than the one before."""
    return all(map(operator.le, values, itertools.islice(values, 1, None)))


def falling_groups(values: Sequence[int], bounds: Sequence[int], *, strictly: bool) -> set[int]:
    """Return the groups in which a value is not above the one before (``strictly``: below).

    Group ``g`` is ``values[bounds[g]:bounds[g + 1]]``; a value may fall where a group
    starts.
    """
    fails = operator.gt if strictly else operator.ge
    falls = itertools.compress(
        range(1, len(values)), map(fails, values, itertools.islice(values, 1, None))
    )
    starts = set(bounds)
    return {bisect_right(bounds, fall) - 1 for fall in falls if fall not in starts}


def line_spans(data: bytes, count: int) -> tuple[array[int], array[int]] | None:
    """Return where each record's JSON object is, if ``data`` holds one record per line.

    That is: a ``[`` line, then ``count`` lines each starting with ``{`` and ending with
    ``},`` (the last with ``}``), then a ``]`` line. The spans are the objects' starts and
    ends (the comma left out); ``None`` for any other text.
    """
    if count == 0 or not (data.startswith(b"[\n{") and data.endswith(b"}\n]\n")):
        return None
    lengths = list(map(len, data[2:-3].split(b"\n")))
    if len(lengths) != count:
        return None
    starts = array("q", itertools.accumulate(lengths[:-1], lambda at, n: at + n + 1, initial=2))
    ends = array("q", map(operator.add, starts, lengths))  # after each line's last byte
    at = data.__getitem__
    firsts = bytes(map(at, starts))
    lasts = bytes(map(at, map(operator.sub, ends, itertools.repeat(1))))
    if firsts.count(b"{") != count or lasts.count(b",") != count - 1 or lasts[-1:] != b"}":
        return None
    if bytes(map(at, map(operator.sub, ends[:-1], itertools.repeat(2)))).count(b"}") != count - 1:
        return None
    ends = array("q", map(operator.sub, ends, itertools.repeat(1)))  # drop the commas
    ends[-1] += 1  # the last line has none
    return starts, ends


def flat(records: Sequence[VersionRecord], data: bytes) -> bool:
    """Tell whether no record holds a nested object or array (then a line is a record)."""
    if data.count(b"{") == len(records) and data.count(b"[") == 1:
        return True  # not even a string holds a bracket: nothing is nested
    return not nested(records)


def nested(records: Sequence[VersionRecord]) -> bool:
    """Tell whether a record holds a nested object or array."""
    return any(type(value) in (dict, list) for r in records for value in r.extra.values())


def record_columns(
    records: Sequence[VersionRecord], ids: dict[str, int]
) -> tuple[array[int], array[int], array[int], list[str]]:
    """Return the name ids (new names added to ``ids``), numbers, times and file names."""
    name_ids = array("i", [ids.setdefault(record.name, len(ids)) for record in records])
    versions = array("q", map(_VERSION, records))
    created = array("q", [micros(record.created_at) for record in records])
    return name_ids, versions, created, list(map(_FNAME, records))


def joined_fnames(fnames: list[str]) -> bytes | None:
    """Return the file names one per line, or ``None`` when one holds a newline."""
    blob = "\n".join(fnames).encode("utf-8")
    return blob if blob.count(b"\n") == max(len(fnames) - 1, 0) else None


_VERSION = operator.attrgetter("version")
_FNAME = operator.attrgetter("fname")


class LineColumns(NamedTuple):
    """The columns of a manifest's records, in manifest order, and where each line is."""

    spans: tuple[array[int], array[int]]
    names: list[str]
    name_ids: array[int]
    versions: array[int]
    created: array[int]
    fnames: list[str]


def parse_lines(data: bytes, location: str) -> LineColumns | list[VersionRecord]:
    """Parse and check all of manifest text ``data`` once, building no record if it can.

    Parameters
    ----------
    data : bytes
        The manifest's text.
    location : str
        Where it was read from, for messages.

    Returns
    -------
    LineColumns or list[VersionRecord]
        The columns of a manifest of common records
        (:func:`~archivist._formats.manifest_parse.bulk_columns`) in archivist's layout,
        checked exactly as :func:`~archivist.manifest.parse_manifest` checks them; the
        records of any other manifest.

    Raises
    ------
    archivist.errors.ManifestError
        As :func:`~archivist.manifest.parse_manifest`.
    """
    with no_gc():
        parsed = decode_manifest(data, location)
        spans = line_spans(data, len(parsed))
        bulk = bulk_columns(parsed) if spans is not None else None
        if spans is None or bulk is None:
            return records_from_dicts(parsed, location)
        del parsed  # the columns hold what an index needs
        ids: dict[str, int] = {}
        name_ids = array("i", [ids.setdefault(name, len(ids)) for name in bulk.names])
        return LineColumns(
            spans,
            list(ids),
            name_ids,
            array("q", bulk.versions),
            array("q", map(micros, bulk.created)),
            bulk.fnames,
        )
