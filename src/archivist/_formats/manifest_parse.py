"""Checking a parsed manifest's records in bulk: column by column instead of one by one.

:func:`records_from_dicts` builds exactly the records :meth:`VersionRecord.from_dict` would
build from each parsed record, or raises its error. A manifest of common records (plain
names and file names, naive ISO 8601 times, flat extra fields: what archivist and
lazyscribe write) is checked one field at a time across all records, each check one pass in
C or one per distinct name; any other manifest is checked record by record.
:func:`bulk_columns` gives the checked columns of a common manifest without building its
records, for an index whose records are built from their lines when first used.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NamedTuple

from archivist._formats.names import check_stored_name
from archivist._formats.records import CORE_FIELDS, VersionRecord
from archivist._formats.strict_json import load_object_list
from archivist.errors import InvalidNameError, ManifestError

__all__ = ["BulkColumns", "bulk_columns", "decode_manifest", "no_gc", "records_from_dicts"]


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector (it would scan the growing heap again and again)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def decode_manifest(data: bytes | str, location: str) -> list[Any]:
    """Decode a manifest's JSON text into its list of parsed records (not checked yet).

    Parameters
    ----------
    data : bytes or str
        The manifest's text.
    location : str
        Where it was read from, for messages.

    Returns
    -------
    list
        The parsed array.

    Raises
    ------
    archivist.errors.ManifestError
        The text is not JSON (or is hostile JSON, see
        :func:`archivist._formats.strict_json.load_object_list`), or not an array.
    """
    parsed = load_object_list(data, location)
    if not isinstance(parsed, list):
        raise ManifestError(f"{location} must hold a JSON array of version records")
    return parsed


def records_from_dicts(parsed: list[Any], location: str) -> list[VersionRecord]:
    """Validate and convert parsed records: :meth:`VersionRecord.from_dict` of each, faster.

    A manifest of common records (plain names and file names, naive times, flat extra
    fields, no (name, version) pair twice) is checked column by column; any other goes
    record by record through :meth:`VersionRecord.from_dict`, which accepts each or raises
    its error, then is checked for repeated (name, version) pairs.

    Parameters
    ----------
    parsed : list
        The parsed manifest.
    location : str
        Where it was read from, for messages.

    Returns
    -------
    list[VersionRecord]
        The records, in manifest order.

    Raises
    ------
    archivist.errors.ManifestError
        A record is malformed, or a (name, version) pair repeats.
    """
    bulk = _bulk_records(parsed)
    if bulk is not None:
        return bulk
    records = [VersionRecord.from_dict(data, position) for position, data in enumerate(parsed)]
    seen: set[tuple[str, int]] = set()
    for record in records:
        key = (record.name, record.version)
        if key in seen:
            raise ManifestError(
                f"{location} holds version {record.version} of {record.name!r} twice"
            )
        seen.add(key)
    return records


_FNAME_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./\n"


def _only(values: list[str], allowed: bytes) -> bytes | None:
    """Join ``values`` one per line; None unless every character is an ASCII one allowed."""
    try:
        joined = ("\n".join(values) + "\n").encode("ascii")
    except UnicodeEncodeError:
        return None
    return joined if not joined.translate(None, allowed) else None


def _plain_fnames(fnames: list[str]) -> bool:
    """Tell whether every file name is plain: parts of ``[A-Za-z0-9_.-]``, none dot-led."""
    joined = _only(fnames, _FNAME_CHARS)
    return (
        joined is not None
        and joined.count(b"\n") == len(fnames)  # no name holds a newline
        and not joined.startswith((b".", b"/", b"\n"))
        and all(bad not in joined for bad in (b"\n.", b"\n/", b"\n\n", b"/.", b"//", b"/\n"))
    )


def _plain_digests(digests: list[str]) -> bool:
    """Tell whether every digest is 64 lowercase hex digits."""
    return set(map(len, digests)) <= {64} and _only(digests, b"0123456789abcdef\n") is not None


def _times(values: list[Any]) -> list[datetime] | None:
    """Parse naive ISO 8601 strings in bulk; None when one is anything else."""
    if not set(map(type, values)) <= {str}:
        return None
    try:
        times = list(map(_fromisoformat, values))
    except ValueError:  # not ISO 8601: from_dict names it
        return None
    return times if {time.tzinfo for time in times} <= {None} else None


class BulkColumns(NamedTuple):
    """A common manifest's records checked column by column, as lists in manifest order.

    Every record is valid (:meth:`VersionRecord.from_dict` accepts it), no (name, version)
    pair repeats, and no extra field holds a nested object or array.
    """

    names: list[str]
    versions: list[int]
    fnames: list[str]
    created: list[datetime]
    expiry: list[Any]
    expiry_times: list[datetime]
    sha256: list[Any]
    sizes: list[Any]
    extra_keys: list[str]


def bulk_columns(parsed: list[Any]) -> BulkColumns | None:
    """Check a parsed manifest of common records column by column, building no record.

    Parameters
    ----------
    parsed : list
        The parsed manifest (:func:`decode_manifest`).

    Returns
    -------
    BulkColumns or None
        Its checked columns, or ``None`` when a record is not of the common form (plain
        names and file names, naive times, flat extra fields, no (name, version) pair
        twice): :func:`records_from_dicts` then checks each record on its own.
    """
    if not parsed or any(type(data) is not dict for data in parsed):
        return None
    try:
        names = [data.get("name") for data in parsed]
        versions = [data.get("version") for data in parsed]
        handlers = {data.get("handler") for data in parsed}
        fnames = [data.get("fname") for data in parsed]
        distinct = set(names)
    except TypeError:  # an unhashable name or handler
        return None
    checked: set[str] = set()
    if not (
        all(type(name) is str and _plain_name(name, checked) for name in distinct)
        and all(type(handler) is str and handler for handler in handlers)
        and set(map(type, versions)) == {int}
        and min(versions) >= 0
        and (
            len(set(versions)) == len(versions)
            if len(distinct) == 1
            else len(set(zip(names, versions, strict=True))) == len(versions)
        )
        and set(map(type, fnames)) == {str}
        and _plain_fnames(fnames)
    ):
        return None
    created = _times([data.get("created_at") for data in parsed])
    expiry = [data.get("expiry") for data in parsed]
    given = [value for value in expiry if value is not None]
    expiry_times = _times(given) if given else []
    sha256 = [data.get("sha256") for data in parsed]
    digests = [value for value in sha256 if value is not None]
    digests += [data["blake3"] for data in parsed if data.get("blake3") is not None]
    sizes = [data.get("size") for data in parsed]
    counts = [value for value in sizes if value is not None]
    if (
        created is None
        or expiry_times is None
        or not set(map(type, digests)) <= {str}
        or not _plain_digests(digests)
        or not set(map(type, counts)) <= {int}
        or (counts and min(counts) < 0)
    ):
        return None
    extra_keys = sorted(set().union(*parsed) - _CORE_SET)  # the order archivist writes
    for key in extra_keys:  # from_dict checks how deep nested values go
        if not {type(data.get(key)) for data in parsed}.isdisjoint((dict, list)):
            return None
    return BulkColumns(
        names, versions, fnames, created, expiry, expiry_times, sha256, sizes, extra_keys
    )


def _bulk_records(parsed: list[Any]) -> list[VersionRecord] | None:
    """Check the common manifest column by column (each check one pass in C, or per name).

    Returns the records :meth:`VersionRecord.from_dict` would build, or None when some
    record is not of the common form (then each is checked on its own).
    """
    bulk = bulk_columns(parsed)
    if bulk is None:
        return None
    names, versions, fnames, created, expiry, expiry_times, sha256, sizes, extra_keys = bulk
    expires = iter(expiry_times)
    out: list[VersionRecord] = []
    append = out.append
    for data, name, version, fname, created_at, expiry_text, digest, size in zip(
        parsed, names, versions, fnames, created, expiry, sha256, sizes, strict=True
    ):
        extra: dict[str, Any] = {}
        for key in extra_keys:
            if key in data:
                extra[key] = data[key]
        append(
            VersionRecord(
                name,
                version,
                data["handler"],
                fname,
                created_at,
                None if expiry_text is None else next(expires),
                digest,
                size,
                extra,
            )
        )
    return out


_fromisoformat = datetime.fromisoformat
_CORE_SET = frozenset(CORE_FIELDS)


def _plain_name(name: object, names: set[str]) -> bool:
    try:
        check_stored_name(name, "artifact name")
    except InvalidNameError:
        return False
    names.add(name)  # type: ignore[arg-type]  # checked: a str
    return True
