"""The manifest contract: version records, their JSON form, and an index for lookups.

A manifest (``repository.json``) is a JSON array of version records in lazyscribe's shape,
plus additive fields (``sha256``, ``size``, handler metadata, ``source``). Parsing it once
and indexing it by name makes the latest, by-number and as-of lookups O(log n).
"""

from __future__ import annotations

import itertools
import json
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

from archivist._formats.manifest_lines import from_micros, micros, non_decreasing
from archivist._formats.names import (
    MAX_NAME_BYTES,
    SIDE_FILES,
    check_file_name,
    check_name,
    check_name_beside,
    check_stored_file_name,
    check_stored_name,
    check_stored_record,
)
from archivist._formats.records import (
    CORE_FIELDS,
    VersionRecord,
    format_seconds,
    format_time,
    is_sha256,
    parse_stored_time,
    utcnow,
)
from archivist.errors import (
    AmbiguousVersionError,
    VersionNotFoundError,
)

__all__ = [
    "CORE_FIELDS",
    "MAX_NAME_BYTES",
    "SIDE_FILES",
    "ManifestIndex",
    "VersionRecord",
    "check_file_name",
    "check_name",
    "check_name_beside",
    "check_stored_file_name",
    "check_stored_name",
    "check_stored_record",
    "describe_precision",
    "end_of",
    "format_seconds",
    "format_time",
    "is_sha256",
    "parse_manifest",
    "parse_stored_time",
    "serialize_manifest",
    "splice_manifest",
    "utcnow",
]


def parse_manifest(data: bytes | str, location: str = "the manifest") -> list[VersionRecord]:
    """Parse and validate a manifest.

    Parameters
    ----------
    data : bytes or str
        The manifest's JSON text.
    location : str, optional
        Where it was read from, for error messages.

    Returns
    -------
    list[VersionRecord]
        The records, in manifest order.

    Raises
    ------
    archivist.errors.ManifestError
        The text is not a JSON array of valid records, or a (name, version) pair repeats.
        Hostile text too: nesting too deep, ``NaN``, a key twice (see
        :func:`archivist._formats.strict_json.load_json`).
    """
    from archivist._formats.manifest_parse import decode_manifest, no_gc, records_from_dicts

    with no_gc():  # only new, acyclic objects: collecting during the parse finds nothing
        return records_from_dicts(decode_manifest(data, location), location)


def serialize_manifest(records: Iterable[VersionRecord]) -> bytes:
    """Serialize records to manifest JSON: an array with one record per line, keys sorted.

    Parameters
    ----------
    records : Iterable[VersionRecord]
        The records, in manifest order.

    Returns
    -------
    bytes
        UTF-8 JSON, readable by lazyscribe and by humans, friendly to line diffs.
    """
    dicts = [record.to_dict() for record in records]
    if not dicts:
        return b"[]\n"
    # One C encoding pass over the whole array, then one line per record: the array's item
    # separator "}, {" occurs once between each two records, and anywhere else only inside
    # a value (a string, a nested list of objects); if it occurs elsewhere, encode each
    # record on its own. Both give the bytes of one json.dumps(record) per line.
    whole = _ENCODER.encode(dicts)
    if whole.count("}, {") == len(dicts) - 1:
        body = whole[1:-1].replace("}, {", "},\n{")
    else:
        body = ",\n".join(map(_ENCODER.encode, dicts))
    return ("[\n" + body + "\n]\n").encode("utf-8")


def splice_manifest(data: bytes, records: Sequence[VersionRecord]) -> bytes | None:
    """Append records to manifest text by inserting their lines before its closing bracket.

    Costs O(new records): the existing records are neither parsed nor serialized again.
    When ``data`` is :func:`serialize_manifest`'s output for some records, the result is
    byte for byte :func:`serialize_manifest`'s output for those records plus ``records``.

    Parameters
    ----------
    data : bytes
        Manifest text in :func:`serialize_manifest`'s layout (``[]`` on one line, or one
        record per line between ``[`` and ``]`` lines), already validated by
        :func:`parse_manifest`.
    records : Sequence[VersionRecord]
        The records to append.

    Returns
    -------
    bytes or None
        The new text, or ``None`` when ``data`` is not in that layout (another tool wrote
        it): serialize every record instead.
    """
    if not records:
        return data
    if data == b"[]\n":
        return serialize_manifest(records)
    if not (data.startswith(b"[\n{") and data.endswith(b"}\n]\n")):
        return None
    added = ",\n".join(_ENCODER.encode(record.to_dict()) for record in records)
    return b"".join((memoryview(data)[:-3], b",\n", added.encode("utf-8"), b"\n]\n"))  # one copy


_ENCODER = json.JSONEncoder(sort_keys=True)  # json.dumps(value, sort_keys=True), reused


class _NameIndex:
    """The versions of one name, sorted by number, with a time-sorted view for as-of.

    ``records`` may be a lazy sequence (see :mod:`archivist.stores._index_cache`) that builds each
    record when it is first used; ``created`` then gives each version's creation time in
    microseconds (in ``records`` order) without building records, ``fnames`` the file
    names and ``numbers`` the version numbers. ``times_sorted`` tells whether ``created``
    never decreases (numbers follow time, the usual case): then :attr:`by_time` is
    ``records`` itself and a lookup by time bisects ``created`` in O(log n). ``None``
    means not known: the first lookup by time finds out (a pass over ``created``). The
    time-sorted view is built by the first lookup by time (latest and by-number lookups
    never need it).
    """

    __slots__ = (
        "_by_time",
        "_times",
        "created",
        "fname_column",
        "number_column",
        "records",
        "times_sorted",
    )

    def __init__(
        self,
        records: Sequence[VersionRecord],
        created: Sequence[int] | None = None,
        fnames: Sequence[str] | None = None,
        numbers: Sequence[int] | None = None,
        times_sorted: bool | None = None,
    ) -> None:
        if isinstance(records, list):
            records.sort(key=_VERSION)
        self.records = records
        self.created = created
        self.fname_column = fnames
        self.number_column = numbers
        self.times_sorted = times_sorted
        self._by_time: Sequence[VersionRecord] | None = None
        self._times: Sequence[datetime] = []

    @property
    def by_time(self) -> Sequence[VersionRecord]:
        """The versions sorted by creation time (then number)."""
        if self._by_time is None:
            created = self.created
            if created is None:
                by_time: Sequence[VersionRecord] = sorted(self.records, key=_TIME_ORDER)
                self._times = list(map(_CREATED_AT, by_time))
            elif self._sorted_by_time(created):  # the usual case: numbers follow time
                by_time, self._times = self.records, _Times(created)
            else:
                order = sorted(range(len(created)), key=created.__getitem__)  # stable
                by_time = _Picked(self.records, order)
                self._times = _Times(_Picked(created, order))
            self._by_time = by_time
        return self._by_time

    def _sorted_by_time(self, created: Sequence[int]) -> bool:
        if self.times_sorted is None:
            self.times_sorted = non_decreasing(created)
        return self.times_sorted

    @property
    def times(self) -> Sequence[datetime]:
        """The creation times of :attr:`by_time`, in its order."""
        self.by_time  # noqa: B018 - builds the view
        return self._times

    def numbers(self) -> Sequence[int]:
        """Return the version numbers, ascending (from the column when there is one)."""
        if self.number_column is not None:
            return self.number_column
        return [record.version for record in self.records]

    def fnames(self) -> set[str]:
        """Return the file names of these versions."""
        if self.fname_column is not None:
            return set(self.fname_column)
        return {record.fname for record in self.records}

    def appended(self, added: Sequence[VersionRecord]) -> _NameIndex:
        """Return this index with ``added`` (numbered after every version here) at the end."""
        created, fnames, numbers = self.created, self.fname_column, self.number_column
        new_created = [micros(r.created_at) for r in added]
        times_sorted = self.times_sorted
        if times_sorted and created:
            times_sorted = non_decreasing([created[-1], *new_created])
        return _NameIndex(
            Chain(self.records, added),
            None if created is None else Chain(created, new_created),
            None if fnames is None else Chain(fnames, [r.fname for r in added]),
            None if numbers is None else Chain(numbers, [r.version for r in added]),
            times_sorted if created is not None else None,
        )


_VERSION = attrgetter("version")
_CREATED_AT = attrgetter("created_at")
_TIME_ORDER = attrgetter("created_at", "version")


class Chain(Sequence[Any]):
    """Two sequences read as one, without copying either.

    Parameters
    ----------
    head, tail : Sequence
        The items, ``head``'s first.
    """

    __slots__ = ("head", "tail")

    def __init__(self, head: Sequence[Any], tail: Sequence[Any]) -> None:
        self.head = head
        self.tail = tail

    def __len__(self) -> int:
        return len(self.head) + len(self.tail)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        size = len(self.head)
        if index < 0:
            index += len(self)
            if index < 0:
                raise IndexError("index out of range")
        return self.head[index] if index < size else self.tail[index - size]

    def __iter__(self) -> Iterator[Any]:
        return itertools.chain(self.head, self.tail)


class _Picked(Sequence[Any]):
    """The items of ``items`` at the positions ``order`` lists, without copying them."""

    __slots__ = ("items", "order")

    def __init__(self, items: Sequence[Any], order: Sequence[int]) -> None:
        self.items = items
        self.order = order

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self.items[i] for i in self.order[index]]
        return self.items[self.order[index]]

    def __iter__(self) -> Iterator[Any]:
        return map(self.items.__getitem__, self.order)


class _Times(Sequence[datetime]):
    """Times stored as :func:`micros`, read as datetimes (one per lookup, for bisection)."""

    __slots__ = ("values",)

    def __init__(self, values: Sequence[int]) -> None:
        self.values = values

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [from_micros(value) for value in self.values[index]]
        return from_micros(self.values[index])


class ManifestIndex:
    """Records indexed by name for O(log n) lookups.

    Parameters
    ----------
    records : Iterable[VersionRecord]
        The records, in manifest order.
    """

    def __init__(self, records: Iterable[VersionRecord] = ()) -> None:
        self.records: Sequence[VersionRecord] = list(records)
        grouped: dict[str, list[VersionRecord]] = {}
        for record in self.records:
            grouped.setdefault(record.name, []).append(record)
        self._names = {name: _NameIndex(group) for name, group in grouped.items()}

    @classmethod
    def from_parts(
        cls, records: Sequence[VersionRecord], names: dict[str, _NameIndex]
    ) -> ManifestIndex:
        """Build an index from records and their per-name indexes (no pass over records).

        Parameters
        ----------
        records : Sequence[VersionRecord]
            The records in manifest order, possibly a lazy sequence.
        names : dict
            Each name's versions, in order of first appearance.

        Returns
        -------
        ManifestIndex
            The index.
        """
        index = cls.__new__(cls)
        index.records = records
        index._names = names
        return index

    def appended(
        self, added: Sequence[VersionRecord], records: Sequence[VersionRecord] | None = None
    ) -> ManifestIndex:
        """Return this index with ``added`` at the end, in O(added + names).

        Parameters
        ----------
        added : Sequence[VersionRecord]
            New records, each numbered after every version of its name here, in order.
        records : Sequence[VersionRecord], optional
            The new index's records if already at hand: this index's records then
            ``added`` (default: a :class:`Chain` of the two).

        Returns
        -------
        ManifestIndex
            A new index; this one is unchanged.
        """
        if not added:
            return self
        names = dict(self._names)
        grouped: dict[str, list[VersionRecord]] = {}
        for record in added:
            grouped.setdefault(record.name, []).append(record)
        for name, group in grouped.items():
            entry = names.get(name)
            names[name] = _NameIndex(group) if entry is None else entry.appended(group)
        if records is None:
            records = Chain(self.records, list(added))
        return ManifestIndex.from_parts(records, names)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[VersionRecord]:
        return iter(self.records)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def names(self) -> list[str]:
        """Return the artifact names, in order of first appearance."""
        return list(self._names)

    def versions(self, name: str) -> Sequence[VersionRecord]:
        """Return the versions of ``name`` sorted by number (empty if unknown)."""
        entry = self._names.get(name)
        return entry.records if entry is not None else ()

    def count(self, name: str) -> int:
        """Return how many versions ``name`` has (0 if unknown), building no record."""
        entry = self._names.get(name)
        return len(entry.records) if entry is not None else 0

    def numbers(self, name: str) -> Sequence[int]:
        """Return the version numbers of ``name``, ascending (empty if unknown).

        From the index's number column when it has one, building no record: a listing,
        never checked against the manifest lines (a lookup by one of them builds and checks
        its record).
        """
        entry = self._names.get(name)
        return entry.numbers() if entry is not None else ()

    def last_version(self, name: str) -> int:
        """Return the highest version number of ``name``, or -1 when it has none."""
        entry = self._names.get(name)
        return entry.records[-1].version if entry is not None else -1

    def fnames(self, name: str) -> set[str]:
        """Return the file names used by the versions of ``name``."""
        entry = self._names.get(name)
        return entry.fnames() if entry is not None else set()

    def _entry(self, name: str) -> _NameIndex:
        entry = self._names.get(name)
        if entry is None:
            raise KeyError(name)
        return entry

    def latest(self, name: str, now: datetime) -> VersionRecord:
        """Return the highest version of ``name`` not expired at ``now``."""
        for record in reversed(self._entry(name).records):
            if not record.is_expired(now):
                return record
        raise VersionNotFoundError(
            f"every version of {name!r} has expired (as of {format_time(now)} UTC); load one "
            "by number to read it anyway"
        )

    def by_number(self, name: str, version: int) -> VersionRecord:
        """Return version ``version`` of ``name``; a negative number counts from the end."""
        records = self._entry(name).records
        if version < 0:
            if -version > len(records):
                raise self._missing(name, f"version {version}")
            return records[version]
        if version < len(records) and records[version].version == version:
            return records[version]  # gap-free numbering: direct index
        position = bisect_left(records, version, key=lambda r: r.version)
        if position < len(records) and records[position].version == version:
            return records[position]
        raise self._missing(name, f"version {version}")

    def at_time(self, name: str, start: datetime, precision: timedelta) -> VersionRecord:
        """Return the version of ``name`` created within ``[start, start + precision)``."""
        entry = self._entry(name)
        low = bisect_left(entry.times, start)
        high = end_of(entry.times, start, precision)
        matches = entry.by_time[low:high]
        if not matches:
            raise self._missing(name, f"version created at {format_time(start)}")
        if len(matches) > 1:
            listing = ", ".join(
                f"version {r.version} ({format_time(r.created_at)})" for r in matches
            )
            raise AmbiguousVersionError(
                f"{len(matches)} versions of {name!r} were created within "
                f"{describe_precision(precision)} of {format_time(start)}: {listing}. Give the "
                "time with microseconds, or the version number."
            )
        return matches[0]

    def as_of(self, name: str, at: datetime, precision: timedelta) -> VersionRecord:
        """Return the newest version of ``name`` created by ``at``, to its precision, unexpired."""
        entry = self._entry(name)
        end = end_of(entry.times, at, precision)
        if end == 0:
            raise VersionNotFoundError(
                f"{format_time(at)} predates the first version of {name!r} (version "
                f"{entry.by_time[0].version}, created {format_time(entry.by_time[0].created_at)})"
            )
        by_time = entry.by_time
        for position in range(end - 1, -1, -1):  # no slice: O(log n) when the newest is live
            if not by_time[position].is_expired(at):
                return by_time[position]
        raise VersionNotFoundError(
            f"every version of {name!r} created by {format_time(at)} had expired by then"
        )

    def _missing(self, name: str, what: str) -> VersionNotFoundError:
        records = self._entry(name).records
        numbers = f"{records[0].version}..{records[-1].version}"
        if records[-1].version - records[0].version + 1 != len(records):  # pruned: gaps
            shown = [str(r.version) for r in records[:20]]
            numbers = ", ".join(shown) + (", ..." if len(records) > 20 else "")
        return VersionNotFoundError(
            f"{name!r} has no {what}; it has {len(records)} version(s), numbered "
            f"{numbers}, created "
            f"{format_time(records[0].created_at)} to {format_time(records[-1].created_at)}"
        )


def end_of(times: Sequence[datetime], start: datetime, precision: timedelta) -> int:
    """Return how many of the sorted ``times`` fall before ``start + precision``.

    Overflow-safe: at the end of the representable range (``"9999-12-31"`` to the day)
    every time up to :attr:`datetime.datetime.max` counts.

    Parameters
    ----------
    times : Sequence[datetime.datetime]
        Sorted times.
    start : datetime.datetime
        The start of the span.
    precision : datetime.timedelta
        Its length.

    Returns
    -------
    int
        The index where ``start + precision`` would be inserted.
    """
    try:
        return bisect_left(times, start + precision)
    except OverflowError:
        return len(times)


def describe_precision(precision: timedelta) -> str:
    """Name the span a time was given to: ``"the day"``, ``"the hour"``, ``"the second"``...

    Parameters
    ----------
    precision : datetime.timedelta
        A :class:`~archivist._formats.versions.TimeSpec` precision.

    Returns
    -------
    str
        Words for messages such as "created within the hour of ..." (a fraction of a
        second is counted in microseconds).
    """
    for unit, words in (
        (timedelta(days=1), "the day"),
        (timedelta(hours=1), "the hour"),
        (timedelta(minutes=1), "the minute"),
        (timedelta(seconds=1), "the second"),
    ):
        if precision >= unit:
            return words
    return f"{precision // timedelta(microseconds=1)} microseconds"
