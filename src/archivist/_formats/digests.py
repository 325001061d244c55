"""The kept digests file format: the digests archivist computed, by ``(name, fname)``.

The file is ``.<manifest file name>.archivist/digests.json`` in a manifest's private folder;
what it is for, who writes and who reads it is :mod:`archivist.stores._digests`. This
module only parses (strictly: names checked as manifest records' are, duplicate JSON keys
and repeated entries refused), serializes and merges it, and applies an entry to a record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from archivist._formats.names import check_stored_file_name, check_stored_name
from archivist._formats.strict_json import load_json
from archivist.errors import InvalidNameError, ManifestError
from archivist.manifest import VersionRecord, is_sha256

__all__ = [
    "DIGESTS_FILE",
    "DIGESTS_FORMAT",
    "KeptDigest",
    "KeptDigests",
    "KeptFile",
    "Key",
    "merged",
    "parse_kept",
    "recovered",
    "serialize_kept",
]

#: The file name of the kept digests in the manifest's private folder.
DIGESTS_FILE = "digests.json"
#: The format of that file; a file of another format is refused.
DIGESTS_FORMAT = 1

#: An entry's key: the artifact name and the file name.
Key = tuple[str, str]

_FIELDS = frozenset({"name", "fname", "sha256", "size"})


@dataclass(frozen=True)
class KeptDigest:
    """The digest archivist computed for one stored file.

    Attributes
    ----------
    name, fname : str
        The artifact name and the file name, as in the file's manifest record.
    sha256 : str
        The SHA-256 of the bytes archivist wrote (or adopted), 64 lowercase hex digits.
    size : int
        Their size in bytes.
    """

    name: str
    fname: str
    sha256: str
    size: int

    @property
    def key(self) -> Key:
        """The entry's key, ``(name, fname)``."""
        return (self.name, self.fname)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {"name": self.name, "fname": self.fname, "sha256": self.sha256, "size": self.size}

    @classmethod
    def from_dict(cls, data: object, position: int, location: str) -> KeptDigest:
        """Parse one entry, refusing anything that is not exactly the JSON form."""
        label = f"{location}: entry #{position}"
        if not isinstance(data, dict):
            raise ManifestError(f"{label} is not a JSON object")
        if set(data) != _FIELDS:
            raise ManifestError(
                f"{label} must hold exactly the keys fname, name, sha256 and size, "
                f"got {', '.join(sorted(map(str, data)))}"
            )
        name, fname, sha256, size = data["name"], data["fname"], data["sha256"], data["size"]
        try:
            check_stored_name(name, "artifact name")
            check_stored_file_name(fname, "file name")
        except InvalidNameError as exc:
            raise ManifestError(f"{label}: {exc}") from None
        if not is_sha256(sha256):
            raise ManifestError(f"{label}: sha256 must be 64 lowercase hex digits")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ManifestError(f"{label}: size must be an integer >= 0")
        return cls(name, fname, sha256, size)

    @classmethod
    def of(cls, record: VersionRecord) -> KeptDigest | None:
        """Return the entry for a record's digest, or ``None`` when it has none."""
        if record.sha256 is None or record.size is None:
            return None
        return cls(record.name, record.fname, record.sha256, record.size)


#: The kept digests by ``(name, fname)``, in the order they were kept.
KeptDigests = dict[Key, KeptDigest]


def parse_kept(data: bytes, location: str) -> KeptDigests:
    """Parse the kept digests, strictly.

    Parameters
    ----------
    data : bytes
        The file's bytes.
    location : str
        Where it was read from, for messages.

    Returns
    -------
    KeptDigests
        The entries by ``(name, fname)``.

    Raises
    ------
    archivist.errors.ManifestError
        The text is not JSON (or repeats a key), not this format, or an entry is malformed or
        repeats a ``(name, fname)``.
    """
    document = load_json(data, location, max_depth=3)
    if not isinstance(document, dict) or set(document) != {"format", "digests"}:
        raise ManifestError(
            f"{location} is not archivist's kept digests (an object with format and digests)"
        )
    if document["format"] != DIGESTS_FORMAT:
        raise ManifestError(
            f"{location} has format {document['format']!r}; this archivist reads format "
            f"{DIGESTS_FORMAT} (it may have been written by a newer version)"
        )
    entries = document["digests"]
    if not isinstance(entries, list):
        raise ManifestError(f"{location}: digests must be a JSON array")
    kept: dict[Key, KeptDigest] = {}
    for position, item in enumerate(entries):
        entry = KeptDigest.from_dict(item, position, location)
        if entry.key in kept:
            raise ManifestError(
                f"{location}: entry #{position} repeats file {entry.fname!r} of {entry.name!r}"
            )
        kept[entry.key] = entry
    return kept


def _line(entry: KeptDigest) -> str:
    return json.dumps(entry.to_dict(), sort_keys=True)


def serialize_kept(kept: Mapping[Key, KeptDigest]) -> bytes:
    """Return the file's text: one entry per line, in the mapping's order.

    Parameters
    ----------
    kept : Mapping[Key, KeptDigest]
        The entries by ``(name, fname)``.

    Returns
    -------
    bytes
        UTF-8 JSON that :func:`parse_kept` reads back.
    """
    if not kept:
        return f'{{"format": {DIGESTS_FORMAT}, "digests": []}}\n'.encode()
    lines = ",\n".join(_line(entry) for entry in kept.values())
    return f'{{"format": {DIGESTS_FORMAT}, "digests": [\n{lines}{_TAIL.decode()}'.encode()


#: How the text :func:`serialize_kept` writes ends, when it holds entries.
_TAIL = b"\n]}\n"


@dataclass(frozen=True)
class KeptFile:
    """The kept digests as stored: their entries, and the text they were read or written as.

    Attributes
    ----------
    entries : KeptDigests
        The entries by ``(name, fname)``.
    data : bytes
        The file's text.
    """

    entries: KeptDigests
    data: bytes

    @classmethod
    def parse(cls, data: bytes, location: str) -> KeptFile:
        """Parse the file's text (see :func:`parse_kept`)."""
        return cls(parse_kept(data, location), data)

    @classmethod
    def empty(cls) -> KeptFile:
        """Return the value of a file that does not exist yet."""
        return cls({}, serialize_kept({}))


def merged(kept: KeptFile, records: Sequence[VersionRecord]) -> KeptFile | None:
    """Return the kept digests with those of ``records`` added, or ``None`` when all are kept.

    New entries are spliced into the text before its end (O(new entries), no serializing of
    the others) when the text is in the layout :func:`serialize_kept` writes. An entry for a
    file already kept with another digest is replaced (the whole text is written again): file
    names are never reused once committed, but a save whose commit failed removes its files,
    and a later save may write the same name the user gave again; the latest write is the
    file's bytes.

    Parameters
    ----------
    kept : KeptFile
        The kept digests as read (not changed).
    records : Sequence[VersionRecord]
        Records whose digests to keep (records without one are skipped).

    Returns
    -------
    KeptFile or None
        The new file, or ``None`` when there is nothing to write.
    """
    new: dict[Key, KeptDigest] = {}
    for record in records:
        entry = KeptDigest.of(record)
        if entry is not None and kept.entries.get(entry.key) != entry:
            new.pop(entry.key, None)
            new[entry.key] = entry
    if not new:
        return None
    if (
        kept.entries
        and kept.data.endswith(b"}" + _TAIL)
        and not any(k in kept.entries for k in new)
    ):
        lines = ",\n".join(_line(entry) for entry in new.values()).encode()
        return KeptFile({**kept.entries, **new}, kept.data[: -len(_TAIL)] + b",\n" + lines + _TAIL)
    entries = {key: entry for key, entry in kept.entries.items() if key not in new}
    entries.update(new)  # a replaced entry moves to the end, as the latest write
    return KeptFile(entries, serialize_kept(entries))


def recovered(record: VersionRecord, kept: Mapping[Key, KeptDigest]) -> VersionRecord:
    """Return ``record`` with its kept digest when it has none of its own.

    Parameters
    ----------
    record : VersionRecord
        A manifest record.
    kept : Mapping[Key, KeptDigest]
        The kept digests.

    Returns
    -------
    VersionRecord
        ``record`` itself when it has a digest (its own always wins), has no kept entry, or
        records a size other than the entry's; otherwise a copy carrying the entry's digest
        and size.
    """
    if record.sha256 is not None:
        return record
    entry = kept.get((record.name, record.fname))
    if entry is None or (record.size is not None and record.size != entry.size):
        return record
    return record.replace(sha256=entry.sha256, size=entry.size)
