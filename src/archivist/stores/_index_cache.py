"""Opening a large manifest without parsing it: a column index of its records, cached locally.

A manifest in archivist's layout holds one record per line. :class:`IndexColumns` keeps, for
each record, what lookups need without building the record: its name, number, creation time
and file name, and where its line is in the manifest's bytes. From the columns,
:meth:`IndexColumns.index` makes a :class:`~archivist.manifest.ManifestIndex` whose records
are built one by one when a lookup first uses them (each validated as the full parse would).

The columns of a manifest are saved in the user cache folder (``<cache>/manifests/``, see
:func:`archivist._io.cache.default_cache_dir`), one file per manifest location, under the
manifest's SHA-256. Opening a manifest whose digest matches the saved columns costs a read of
the manifest, its hash and the columns: O(artifact names), not O(versions). The cache is
only ever an optimisation: a missing, corrupt, foreign-format or stale file (its digest is
not the manifest's) is ignored and the manifest parsed in full; failing to write one is
ignored too. A save writes the columns of the manifest it committed, so the next open hits.

A first open (no columns cached) parses the manifest once with :func:`parse_columns`, which
checks a manifest of common records column by column and indexes it from those columns,
building no record: records are built from their lines when a lookup first reads them.

Only manifests of at least :data:`MIN_BYTES` are indexed this way; ``ARCHIVIST_INDEX_CACHE=0``
turns the cache off.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import logging
import operator
import os
import secrets
import sys
from array import array
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from archivist._formats.manifest_lines import (
    falling_groups,
    flat,
    increasing,
    joined_fnames,
    line_spans,
    micros,
    nested,
    non_decreasing,
    parse_lines,
    record_columns,
)
from archivist._io import cache_folder
from archivist._io.local import read_regular
from archivist.errors import InvalidNameError, ManifestError
from archivist.manifest import (
    Chain,
    ManifestIndex,
    VersionRecord,
    _NameIndex,
    _Picked,
    check_stored_name,
    parse_manifest,
)

__all__ = ["MIN_BYTES", "IndexColumns", "cache_enabled", "load_columns", "save_columns"]

_log = logging.getLogger("archivist")

#: Manifests smaller than this are parsed (it takes milliseconds) and never cached.
MIN_BYTES = 1 << 20
#: The cache keeps the columns of at most this many manifests (least recently used go).
MAX_FILES = 64
#: Set to ``0``, ``false``, ``no`` or ``off`` to turn the index cache off.
ENV = "ARCHIVIST_INDEX_CACHE"
_MAGIC = b"archivist manifest index 2\n"
_DIGEST_BYTES = 32
_ARRAYS = ("name_ids", "versions", "created", "starts", "ends", "order", "bounds", "time_sorted")
_TYPECODES = {
    "name_ids": "i",
    "fnames": "B",
    "time_sorted": "B",
    **dict.fromkeys(_ARRAYS[1:-1], "q"),
}
_MAX_MICROS = micros(datetime.max)


def cache_enabled() -> bool:
    """Tell whether the index cache is on (``ARCHIVIST_INDEX_CACHE`` does not turn it off)."""
    return os.environ.get(ENV, "1").strip().lower() not in {"0", "false", "no", "off"}


class IndexColumns:
    """The lookup columns of a manifest's records, and where each record's line is.

    Every array has one item per record, in manifest order, except ``order`` (the record
    positions grouped by name, in :attr:`names` order, each group sorted by version number),
    ``bounds`` (where each name's group starts in ``order``, plus the end) and
    ``time_sorted`` (per name, 1 when its creation times never decrease in number order:
    a lookup by time then bisects them in O(log n), see :class:`~archivist.manifest.ManifestIndex`).
    """

    __slots__ = (*_ARRAYS, "_fnames", "fname_blob", "names", "size")

    names: list[str]
    name_ids: array[int]
    versions: array[int]
    created: array[int]
    starts: array[int]
    ends: array[int]
    order: array[int]
    bounds: array[int]
    time_sorted: array[int]
    fname_blob: bytes
    size: int

    def __init__(self, **parts: Any) -> None:
        for key, value in parts.items():
            setattr(self, key, value)
        self._fnames: list[str] | None = None

    def __len__(self) -> int:
        return len(self.versions)

    @property
    def fnames(self) -> list[str]:
        """The file names, in manifest order (decoded on first use)."""
        if self._fnames is None:
            self._fnames = self.fname_blob.decode("utf-8").split("\n") if self.fname_blob else []
        return self._fnames

    # -- building -------------------------------------------------------------------------

    @classmethod
    def build(cls, records: Sequence[VersionRecord], data: bytes) -> IndexColumns | None:
        """Index ``records``, the parsed and validated records of manifest text ``data``.

        Returns ``None`` unless ``data`` holds exactly one record per line (archivist's
        layout) and no record holds a nested object or array, which is what makes a line a
        whole record; other manifests are parsed in full on every open.
        """
        spans = line_spans(data, len(records))
        if spans is None or not flat(records, data):
            return None
        ids: dict[str, int] = {}
        name_ids, versions, created, fnames = record_columns(records, ids)
        return cls._assembled(spans, list(ids), name_ids, versions, created, fnames, len(data))

    @classmethod
    def _assembled(
        cls,
        spans: tuple[array[int], array[int]],
        names: list[str],
        name_ids: array[int],
        versions: array[int],
        created: array[int],
        fnames: list[str],
        size: int,
    ) -> IndexColumns | None:
        """Group the columns of a manifest's records by name; ``None`` if one cannot be."""
        starts, ends = spans
        fname_blob = joined_fnames(fnames)
        if fname_blob is None:
            return None
        order, bounds, time_sorted = array("q"), array("q", [0]), array("B")
        if len(names) == 1:
            groups: list[list[int]] = [list(range(len(versions)))]
        else:
            groups = [[] for _ in names]
            for position, name_id in enumerate(name_ids):
                groups[name_id].append(position)
        for group in groups:
            if not increasing(list(map(versions.__getitem__, group))):
                group.sort(key=versions.__getitem__)
            order.extend(group)
            bounds.append(len(order))
            time_sorted.append(non_decreasing(list(map(created.__getitem__, group))))
        columns = cls(
            names=names,
            name_ids=name_ids,
            versions=versions,
            created=created,
            starts=starts,
            ends=ends,
            order=order,
            bounds=bounds,
            time_sorted=time_sorted,
            fname_blob=fname_blob,
            size=size,
        )
        columns._fnames = fnames
        return columns

    def extended(self, added: Sequence[VersionRecord], data: bytes) -> IndexColumns | None:
        """Return the columns of ``data``, this manifest's text with ``added`` spliced in.

        ``data`` must be what :func:`~archivist.manifest.splice_manifest` made of the text
        these columns index: the old lines in place, the new ones before the closing
        bracket. ``None`` when it is not (the caller indexes the text in full instead).
        """
        tail = data[self.size - 3 : -3]  # b",\n" + the new lines
        if not (data.startswith(b"[\n{") and tail.startswith(b",\n")) or nested(added):
            return None
        lines = tail[2:].split(b"\n")
        if len(lines) != len(added) or any(
            not (line.startswith(b"{") and line.endswith((b"}", b"},"))) for line in lines
        ):
            return None
        ids = {name: i for i, name in enumerate(self.names)}
        new_ids, new_versions, new_created, fnames = record_columns(added, ids)
        new_blob = joined_fnames(fnames)
        if new_blob is None:
            return None
        starts, ends = self.starts[:], self.ends[:]
        offset = self.size - 3 + 2
        for line in lines:
            starts.append(offset)
            ends.append(offset + len(line) - line.endswith(b","))
            offset += len(line) + 1
        versions = self.versions + new_versions
        new_positions: dict[int, list[int]] = {}
        for position, name_id in enumerate(new_ids, start=len(self)):
            new_positions.setdefault(name_id, []).append(position)
        created = self.created + new_created
        order, bounds, time_sorted = array("q"), array("q", [0]), array("B")
        for name_id in range(len(ids)):
            known = name_id < len(self.names)
            old = self.order[self.bounds[name_id] : self.bounds[name_id + 1]] if known else []
            new = new_positions.get(name_id, [])
            if (new and old and versions[new[0]] <= versions[old[-1]]) or not increasing(
                [versions[p] for p in new]
            ):
                return None  # not numbered after the old versions: index in full
            order.extend(old)
            order.extend(new)
            bounds.append(len(order))
            sorted_before = self.time_sorted[name_id] if known else True
            time_sorted.append(
                bool(sorted_before) and non_decreasing([created[p] for p in (*old[-1:], *new)])
            )
        columns = IndexColumns(
            names=list(ids),
            name_ids=self.name_ids + new_ids,
            versions=versions,
            created=created,
            starts=starts,
            ends=ends,
            order=order,
            bounds=bounds,
            time_sorted=time_sorted,
            fname_blob=b"\n".join(part for part in (self.fname_blob, new_blob) if part),
            size=len(data),
        )
        if self._fnames is not None:
            columns._fnames = [*self._fnames, *fnames]
        return columns

    # -- the cache file -------------------------------------------------------------------

    def to_bytes(self, digest: str) -> bytes:
        """Serialize the columns for the manifest whose SHA-256 is ``digest``."""
        sections: dict[str, list[int]] = {}
        parts: list[bytes] = []
        offset = 0
        for key in _ARRAYS:
            values: array[int] = getattr(self, key)
            raw = values.tobytes()
            sections[key] = [offset, len(raw), values.typecode]  # type: ignore[list-item]
            parts.append(raw)
            offset += len(raw)
        sections["fnames"] = [offset, len(self.fname_blob), "B"]  # type: ignore[list-item]
        parts.append(self.fname_blob)
        header = json.dumps(
            {
                "digest": digest,
                "size": self.size,
                "count": len(self),
                "byteorder": sys.byteorder,
                "names": self.names,
                "sections": sections,
            },
            ensure_ascii=True,
        ).encode("ascii")
        body = b"".join((_MAGIC, header, b"\n", *parts))
        return body + hashlib.sha256(body).digest()

    @classmethod
    def from_bytes(cls, blob: bytes, digest: str, size: int) -> IndexColumns | None:
        """Read columns saved by :meth:`to_bytes`; ``None`` unless well-formed and for ``digest``.

        The file is a hint that anyone able to write the cache folder could forge (its
        checksum guards against damage, not forgery): every field is checked for its type
        and every column for the invariants :meth:`build` gives it (:meth:`_consistent`),
        and each lookup's answer is checked against its manifest line (:class:`LazyRecords`).
        """
        body, check = blob[:-_DIGEST_BYTES], blob[-_DIGEST_BYTES:]
        if not body.startswith(_MAGIC) or hashlib.sha256(body).digest() != check:
            return None
        end = body.find(b"\n", len(_MAGIC))
        if end < 0:
            return None
        header = json.loads(body[len(_MAGIC) : end])
        if not (
            isinstance(header, dict)
            and header.get("digest") == digest
            and header.get("size") == size
            and header.get("byteorder") == sys.byteorder
            and _is_count(header.get("count"))
            and isinstance(header.get("names"), list)
            and all(isinstance(name, str) for name in header["names"])
            and isinstance(header.get("sections"), dict)
            and set(header["sections"]) == {*_ARRAYS, "fnames"}
        ):
            return None
        payload = memoryview(body)[end + 1 :]
        parts: dict[str, Any] = {}
        for key, section in header["sections"].items():
            if not (
                isinstance(section, list)
                and len(section) == 3
                and _is_count(section[0])
                and _is_count(section[1])
                and section[2] == _TYPECODES[key]
                and section[0] + section[1] <= len(payload)
            ):
                return None
            raw = payload[section[0] : section[0] + section[1]]
            if key == "fnames":
                parts["fname_blob"] = bytes(raw)
                continue
            values = array(section[2])
            values.frombytes(raw)  # ValueError when not a whole number of items
            parts[key] = values
        columns = cls(names=header["names"], size=size, **parts)
        return columns if columns._consistent(header["count"]) else None

    def _consistent(self, count: int) -> bool:
        """Tell whether the columns hold the invariants :meth:`build` gives them."""
        names, bounds, order = self.names, self.bounds, self.order
        # the usual order: every group in manifest order (one name, or names in blocks)
        in_place = count > 0 and order[0] == 0 and order[-1] == count - 1 and increasing(order)
        if not (
            all(len(getattr(self, key)) == count for key in _ARRAYS[:6])
            and len(bounds) == len(names) + 1
            and len(self.time_sorted) == len(names)
            and (not names or max(self.time_sorted) <= 1)
            and len(set(names)) == len(names)
            and bounds[0] == 0
            and bounds[-1] == count
            and increasing(bounds)
            and (
                in_place
                or (
                    (count == 0 or (min(order) == 0 and max(order) == count - 1))
                    and len(set(order)) == count
                )
            )
            and (count == 0 or (min(self.created) >= 0 and max(self.created) <= _MAX_MICROS))
            and (count == 0 or min(self.versions) >= 0)
        ):
            return False
        try:
            for name in names:
                check_stored_name(name, "artifact name")
            blob = self.fname_blob
            if (blob.count(b"\n") + 1 if blob else 0) != count:
                return False
            blob.decode("utf-8")  # file names are UTF-8 (split into names when first used)
        except (InvalidNameError, UnicodeDecodeError):
            return False
        # Read in ``order``, the name ids are each group's id repeated, and the numbers
        # increase within each group (they may fall only where a group starts).
        grouped_ids = (
            self.name_ids if in_place else array("i", map(self.name_ids.__getitem__, order))
        )
        if len(names) == 1:
            expected = array("i", bytes(grouped_ids.itemsize * count))  # all 0
        else:
            sizes = list(map(operator.sub, bounds[1:], bounds[:-1]))
            repeated = map(itertools.repeat, range(len(names)), sizes)
            expected = array("i", itertools.chain.from_iterable(repeated))
        if grouped_ids != expected:
            return False
        if in_place and len(names) == 1:  # one name in manifest order: one pass each
            return increasing(self.versions) and self.time_sorted[0] == non_decreasing(self.created)
        grouped = self.versions if in_place else list(map(self.versions.__getitem__, order))
        if falling_groups(grouped, bounds, strictly=False):
            return False  # numbers must rise within each name
        # A lookup by time bisects a name flagged sorted, checking only the times it reads
        # against their lines: the flag must say what the time column holds (two fields one
        # parse computed, each a check on the other: a forged time that puts an out-of-order
        # version in order, or a forged flag, makes them disagree and the file is ignored).
        times = self.created if in_place else list(map(self.created.__getitem__, order))
        unsorted = falling_groups(times, bounds, strictly=True)
        if any(flag == (g in unsorted) for g, flag in enumerate(self.time_sorted)):
            return False
        firsts = [min(order[bounds[g] : bounds[g + 1]]) for g in range(len(names))]
        return increasing(firsts)  # names in order of first appearance, as a parse gives

    def fits(self, data: bytes) -> bool:
        """Tell whether these columns can index manifest text ``data``: one line per record.

        Each record's span must be exactly one line of ``data`` (so every line is indexed
        once), and the first record of each name must be that name's: a file that fails is
        ignored and the manifest parsed in full.
        """
        count = len(self)
        if count == 0 or not (data.startswith(b"[\n{") and data.endswith(b"}\n]\n")):
            return False
        if data.count(b"\n") != count + 2 or self.size != len(data):
            return False
        starts, ends = self.starts, self.ends
        if starts[0] != 2 or ends[-1] != len(data) - 3:
            return False
        after = array("q", map(operator.add, ends[:-1], itertools.repeat(2)))
        if after != starts[1:]:
            return False  # not one span after another, each followed by ",\n"
        at = data.__getitem__
        if bytes(map(at, ends[:-1])) != b"," * (count - 1):
            return False
        if bytes(map(at, starts)) != b"{" * count:
            return False
        if bytes(map(at, map(operator.sub, starts[1:], itertools.repeat(1)))) != b"\n" * (
            count - 1
        ):
            return False
        records = LazyRecords(self, data, "")
        try:
            for name_id in range(len(self.names)):
                records[min(self.order[self.bounds[name_id] : self.bounds[name_id + 1]])]
        except (ManifestError, IndexError):
            return False
        return True

    # -- the lazy index -------------------------------------------------------------------

    def index(self, data: bytes, location: str) -> ManifestIndex:
        """Return an index over ``data`` whose records are built when first used."""
        records = LazyRecords(self, data, location)
        names: dict[str, _NameIndex] = {}
        for name_id, name in enumerate(self.names):
            positions = self.order[self.bounds[name_id] : self.bounds[name_id + 1]]
            names[name] = _NameIndex(
                _Picked(records, positions),
                _Checked(records, self.created, positions),
                _Checked(records, self.fnames, positions),
                _Picked(self.versions, positions),
                bool(self.time_sorted[name_id]),
            )
        return ManifestIndex.from_parts(records, names)


class LazyRecords(Sequence[VersionRecord]):
    """A manifest's records, each parsed and validated from its line when first used."""

    __slots__ = ("_built", "columns", "data", "location")

    def __init__(self, columns: IndexColumns, data: bytes, location: str) -> None:
        self.columns = columns
        self.data = data
        self.location = location
        self._built: list[VersionRecord | None] = [None] * len(columns)

    def __len__(self) -> int:
        return len(self._built)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        record = self._built[index]
        if record is None:
            if index < 0:
                index += len(self)
            record = self._build(index)
        return record

    def _build(self, position: int) -> VersionRecord:
        columns = self.columns
        line = self.data[columns.starts[position] : columns.ends[position]]
        try:
            parsed = json.loads(line)
        except ValueError as exc:
            raise ManifestError(f"{self.location}: record #{position} is not JSON: {exc}") from None
        record = VersionRecord.from_dict(parsed, position)
        if (
            record.name != columns.names[columns.name_ids[position]]
            or record.version != columns.versions[position]
            or micros(record.created_at) != columns.created[position]
            or record.fname != columns.fnames[position]
        ):
            raise ManifestError(
                f"{self.location}: record #{position} does not match its cached index; "
                f"delete {cache_path(self.location)} and open the repository again"
            )
        self._built[position] = record
        return record


class _Checked(Sequence[Any]):
    """A column of one name's versions whose every value is checked against its line.

    Reading a value builds the record it belongs to (which raises :class:`ManifestError`
    when its line disagrees with the columns), so a lookup by time or a file-name listing
    never answers from a forged column: the first of them on a name checks its versions.
    """

    __slots__ = ("column", "positions", "records")

    def __init__(
        self, records: LazyRecords, column: Sequence[Any], positions: Sequence[int]
    ) -> None:
        self.records = records
        self.column = column
        self.positions = positions

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._checked(p) for p in self.positions[index]]
        return self._checked(self.positions[index])

    def _checked(self, position: int) -> Any:
        self.records[position]  # builds and checks the record once
        return self.column[position]

    def __iter__(self) -> Any:
        return map(self._checked, self.positions)


def _is_count(value: object) -> bool:
    return type(value) is int and value >= 0


# -- the cache folder ----------------------------------------------------------------------


#: The cache's subfolder for column files.
FOLDER = "manifests"


def cache_path(location: str) -> Path:
    """Return the cache file of the manifest at ``location``."""
    from archivist._io.cache import default_cache_dir

    key = hashlib.sha256(location.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return default_cache_dir() / FOLDER / f"{key}.index"


def load_columns(location: str, digest: str, size: int) -> IndexColumns | None:
    """Return the cached columns of the manifest at ``location`` if they index ``digest``."""
    path = cache_path(location)
    try:
        blob = read_regular(path)  # a FIFO or device there is no cache, never a hang
    except OSError:
        return None
    try:
        columns = IndexColumns.from_bytes(blob, digest, size)
    except (ValueError, KeyError, TypeError, IndexError, OverflowError) as exc:
        _log.debug("ignoring the unreadable index cache %s: %s", path, exc)
        return None
    if columns is not None:
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: evicted last
    return columns


def save_columns(location: str, digest: str, columns: IndexColumns) -> None:
    """Save the columns of the manifest at ``location`` (SHA-256 ``digest``), best effort."""
    path = cache_path(location)
    if not cache_folder.claim_quietly(path.parent.parent):
        return  # no cache folder, or one that is not archivist's: write nothing there
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        try:
            tmp.write_bytes(columns.to_bytes(digest))
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        _evict(path.parent)
    except OSError as exc:
        _log.debug("could not write the index cache %s: %s", path, exc)


def _evict(folder: Path) -> None:
    """Keep the :data:`MAX_FILES` most recently used column files of ``folder``."""
    root = folder.parent
    entries = [
        (found.st_mtime_ns, relative)
        for relative, found in cache_folder.owned_files(root, "index")
        if relative.endswith(".index")
    ]
    if len(entries) <= MAX_FILES:
        return
    entries.sort(reverse=True)
    for _, relative in entries[MAX_FILES:]:
        cache_folder.delete(root, relative)


def parse_columns(
    data: bytes, location: str
) -> tuple[IndexColumns | None, list[VersionRecord] | None]:
    """Parse and check all of manifest text ``data`` once, building no record if it can.

    The columns of :func:`~archivist._formats.manifest_lines.parse_lines` are indexed as
    they are (records are built from their lines when a lookup first reads them); any
    other manifest is parsed into records (and indexed from them when its layout allows).

    Parameters
    ----------
    data : bytes
        The manifest's text.
    location : str
        Where it was read from, for messages.

    Returns
    -------
    tuple
        ``(columns, None)`` when no record was built; else ``(columns or None, records)``.

    Raises
    ------
    archivist.errors.ManifestError
        As :func:`~archivist.manifest.parse_manifest`.
    """
    parsed = parse_lines(data, location)
    if isinstance(parsed, list):  # not the common records: parsed into records
        return IndexColumns.build(parsed, data), parsed
    columns = IndexColumns._assembled(*parsed, len(data))
    if columns is None:  # pragma: no cover - bulk_columns refuses a newline in a file name
        return None, parse_manifest(data, location)
    return columns, None


def columns_from(
    records: Sequence[VersionRecord], data: bytes, base: IndexColumns | None = None
) -> IndexColumns | None:
    """Return the columns of manifest text ``data`` holding ``records``.

    When ``base`` indexes a prefix of ``records`` (the text before an append), only the
    new records are indexed.
    """
    if base is not None and isinstance(records, Chain) and len(records.head) == len(base):
        extended = base.extended(records.tail, data)
        if extended is not None:
            return extended
    return IndexColumns.build(records, data)
