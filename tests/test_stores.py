"""The default store: an append splices the new records' lines into the text it read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lazyscribe
import pytest

from archivist import Repository
from archivist.manifest import parse_manifest, serialize_manifest

#: A record in archivist's layout, but with its keys in an order archivist does not write:
#: a full rewrite changes this line, a splice keeps it.
HAND_LINE = (
    '{"name": "a", "version": 0, "handler": "json", "fname": "a-0.json", '
    '"created_at": "2026-01-01T00:00:00.000000", "expiry": null, "sha256": null, "size": null}'
)


def _hand_repository(tmp_path: Path) -> Path:
    path = tmp_path / "repository.json"
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "a-0.json").write_text("[0]")
    path.write_bytes(f"[\n{HAND_LINE}\n]\n".encode())
    return path


def test_an_append_splices_new_lines_before_the_closing_bracket(tmp_path: Path) -> None:
    path = _hand_repository(tmp_path)
    repository = Repository(path, mode="a")
    repository.log_artifact("a", [1], handler="json")
    repository.save()
    repository.log_artifact("b", [2], handler="json")
    repository.save()  # a second append splices into what the first one wrote
    text = path.read_bytes()
    assert text.startswith(f"[\n{HAND_LINE},\n".encode())
    records = parse_manifest(text)
    assert [(r.name, r.version) for r in records] == [("a", 0), ("a", 1), ("b", 0)]
    assert text.split(b"\n")[2:] == serialize_manifest(records).split(b"\n")[2:]
    theirs = lazyscribe.Repository(str(path), mode="r")
    assert theirs.load_artifact("a", version=1) == [1]
    assert theirs.load_artifact("b") == [2]


def test_a_changed_record_rewrites_every_line(tmp_path: Path) -> None:
    path = _hand_repository(tmp_path)
    repository = Repository(path, mode="w+")
    repository.set_artifact_expiry("a", 0, expiry="2030-01-01")
    repository.log_artifact("a", [1], handler="json")
    repository.save()
    text = path.read_bytes()
    assert HAND_LINE.encode() not in text
    assert text == serialize_manifest(parse_manifest(text))


def test_another_writers_commit_is_never_spliced_over(tmp_path: Path) -> None:
    path = _hand_repository(tmp_path)
    mine, theirs = Repository(path, mode="a"), Repository(path, mode="a")
    theirs.log_artifact("t", [0], handler="json")
    theirs.save()
    mine.log_artifact("m", [0], handler="json")
    mine.save()
    records = parse_manifest(path.read_bytes())
    assert [(r.name, r.version) for r in records] == [("a", 0), ("t", 0), ("m", 0)]


def test_another_layout_is_rewritten_in_archivist_layout(tmp_path: Path) -> None:
    path = _hand_repository(tmp_path)
    path.write_text(json.dumps([json.loads(HAND_LINE)], indent=4))
    repository = Repository(path, mode="a")
    repository.log_artifact("a", [1], handler="json")
    repository.save()
    text = path.read_bytes()
    assert text == serialize_manifest(parse_manifest(text))


def test_a_save_sends_the_conditional_write_without_reading_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _hand_repository(tmp_path)
    repository = Repository(path, mode="a")
    backend = type(repository.store.backend)  # type: ignore[attr-defined]
    reads: list[str] = []
    original = backend.read_with_token

    def counting(self: Any, target: str) -> tuple[bytes, str]:
        if target.endswith("repository.json"):  # the manifest (not the kept digests beside)
            reads.append(target)
        return original(self, target)

    monkeypatch.setattr(backend, "read_with_token", counting)
    repository.log_artifact("a", [1], handler="json")
    repository.save()
    assert reads == []  # unchanged since it was read: straight to the conditional write
    other = Repository(path, mode="a")  # another writer's commit comes first...
    other.log_artifact("b", [0], handler="json")
    other.save()
    repository.log_artifact("a", [2], handler="json")
    before = len(reads)
    repository.save()  # ...so this precondition fails, and the save re-reads once
    assert len(reads) == before + 1
    assert Repository(path, mode="r").versions("a") == [0, 1, 2]
    assert Repository(path, mode="r").versions("b") == [0]
