"""The kept digests file: parsed strictly, serialized one entry per line, merged, applied."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from archivist._formats.digests import (
    KeptDigest,
    KeptFile,
    merged,
    parse_kept,
    recovered,
    serialize_kept,
)
from archivist.errors import ManifestError
from archivist.manifest import VersionRecord

SHA = "a" * 64
OTHER = "b" * 64


def record(fname: str = "m.pkl", sha256: str | None = None, size: int | None = None) -> Any:
    return VersionRecord(
        name="model",
        version=0,
        handler="pickle",
        fname=fname,
        created_at=datetime(2026, 1, 1),
        sha256=sha256,
        size=size,
    )


def document(*entries: Any, **top: Any) -> bytes:
    return json.dumps({"format": 1, "digests": list(entries), **top}).encode()


def entry(**changes: Any) -> dict[str, Any]:
    return {"name": "model", "fname": "m.pkl", "sha256": SHA, "size": 3, **changes}


def test_round_trip_one_entry_per_line() -> None:
    kept = {
        ("model", "m.pkl"): KeptDigest("model", "m.pkl", SHA, 3),
        ("features", "d/f.json"): KeptDigest("features", "d/f.json", OTHER, 0),
    }
    data = serialize_kept(kept)
    assert parse_kept(data, "x") == kept
    assert list(parse_kept(data, "x")) == list(kept)  # order kept
    assert len(data.splitlines()) == 4  # header, two entries, footer
    assert parse_kept(serialize_kept({}), "x") == {}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"format": 1, "format": 1, "digests": []}', "twice"),
        (b"[]", "not archivist's kept digests"),
        (b'{"format": 1, "digests": [], "extra": 1}', "not archivist's kept digests"),
        (document(format=2), "format 2"),
        (b'{"format": 1, "digests": {}}', "must be a JSON array"),
        (document([]), "not a JSON object"),
        (document(entry(extra=1)), "exactly the keys"),
        (document({"name": "model", "fname": "m.pkl", "sha256": SHA}), "exactly the keys"),
        (document(entry(name="..")), "artifact name"),
        (document(entry(name="a/b")), "artifact name"),
        (document(entry(name="")), "artifact name"),
        (document(entry(fname="../../x")), "file name"),
        (document(entry(fname="/etc/passwd")), "absolute"),
        (document(entry(fname="a//b")), "empty part"),
        (document(entry(fname=7)), "file name"),
        (document(entry(sha256=SHA.upper())), "64 lowercase hex"),
        (document(entry(sha256="a" * 63)), "64 lowercase hex"),
        (document(entry(size=-1)), "size"),
        (document(entry(size=True)), "size"),
        (document(entry(size=1.5)), "size"),
        (document(entry(), entry(sha256=OTHER)), "repeats"),
        (b'{"format": 1, "digests": [' + b"[" * 50 + b"]" * 50 + b"]}", "nest"),
        (b'{"format": 1, "digests": [', "not valid JSON"),
    ],
)
def test_anything_but_the_exact_format_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(ManifestError, match=message) as caught:
        parse_kept(data, "kept.json")
    assert "kept.json" in str(caught.value)


def test_merged_adds_only_what_is_missing_and_keeps_only_digests() -> None:
    kept = KeptFile.parse(document(entry()), "x")
    assert merged(kept, [record(sha256=SHA, size=3)]) is None  # kept already
    assert merged(kept, [record("n.pkl")]) is None  # no digest: nothing to keep
    new = merged(kept, [record("n.pkl", OTHER, 5)])
    assert new is not None
    assert list(new.entries.values()) == [
        KeptDigest("model", "m.pkl", SHA, 3),
        KeptDigest("model", "n.pkl", OTHER, 5),
    ]
    assert parse_kept(new.data, "x") == new.entries
    assert kept.entries == parse_kept(document(entry()), "x")  # the value read is not changed


def test_appending_splices_new_lines_into_the_text() -> None:
    first = merged(KeptFile.empty(), [record("a.pkl", SHA, 1)])
    assert first is not None and first.data == serialize_kept(first.entries)
    second = merged(first, [record("b.pkl", OTHER, 2), record("c.pkl", SHA, 3)])
    assert second is not None
    assert second.data.startswith(first.data[:-4])  # the old text, unchanged
    assert second.data == serialize_kept(second.entries)  # byte for byte the full form
    assert parse_kept(second.data, "x") == second.entries
    # a text in another layout (written by hand) is written again in full
    other = KeptFile.parse(json.dumps({"digests": [entry()], "format": 1}).encode(), "x")
    third = merged(other, [record("b.pkl", OTHER, 2)])
    assert third is not None and parse_kept(third.data, "x") == third.entries


def test_a_file_written_again_under_its_name_replaces_its_entry() -> None:
    """A save whose commit failed removed its file; a later save wrote that name again."""
    kept = KeptFile.parse(document(entry(), entry(fname="z.pkl")), "x")
    new = merged(kept, [record(sha256=OTHER, size=4)])
    assert new is not None
    assert list(new.entries.values()) == [
        KeptDigest("model", "z.pkl", SHA, 3),
        KeptDigest("model", "m.pkl", OTHER, 4),  # the latest write, last
    ]
    assert parse_kept(new.data, "x") == new.entries


def test_recovered_fills_in_only_a_record_without_a_digest() -> None:
    kept = parse_kept(document(entry()), "x")
    own = record(sha256=OTHER, size=3)
    assert recovered(own, kept) is own  # a record's own digest always wins
    assert recovered(record(), kept) == record(sha256=SHA, size=3)
    assert recovered(record(size=3), kept).sha256 == SHA  # the sizes agree
    assert recovered(record(size=4), kept).sha256 is None  # they do not: not this file
    assert recovered(record("other.pkl"), kept).sha256 is None  # no entry
