"""Digests survive foreign writes: archivist keeps each digest it computed beside the manifest.

A lazyscribe save (mode ``w+``) rewrites ``repository.json`` without ``sha256`` and ``size``.
These tests strip the fields as it does (``tests/compat/test_lazyscribe_rewrite.py`` runs
lazyscribe itself) and attack what is kept.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import threading
import uuid
from pathlib import Path
from typing import Any, ClassVar

import pytest

from archivist import (
    ArchivistWarning,
    IntegrityError,
    ManifestError,
    Repository,
    UntrustedArtifactError,
)
from archivist import release as lzr
from archivist._backends.memory import MemoryBackend
from archivist.stores import ManifestStore


def kept_file(manifest: Path) -> Path:
    return manifest.parent / f".{manifest.name}.archivist" / "digests.json"


def kept(manifest: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(kept_file(manifest).read_text())["digests"]
    return entries


def records(manifest: Path) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads(manifest.read_text())
    return loaded


def strip_digests(manifest: Path) -> None:
    """Rewrite the manifest without its digests and size, as one lazyscribe save does."""
    stripped = [
        {k: v for k, v in record.items() if k not in ("sha256", "blake3", "blocks", "size")}
        for record in records(manifest)
    ]
    manifest.write_text(json.dumps(stripped, indent=4))


def file_of(manifest: Path, name: str, version: int = 0) -> Path:
    record = next(r for r in records(manifest) if r["name"] == name and r["version"] == version)
    return manifest.parent / name / record["fname"]


@pytest.fixture
def saved(repo_path: Path) -> Path:
    """A repository archivist saved: a pickle and a JSON version."""
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("model", {"w": 1}, handler="pickle")
    repository.log_artifact("features", [0, 1], handler="json")
    repository.save()
    return repo_path


def test_a_save_keeps_the_digest_of_every_file_it_wrote(saved: Path) -> None:
    assert sorted((e["name"], e["fname"], e["sha256"], e["size"]) for e in kept(saved)) == sorted(
        (r["name"], r["fname"], r["sha256"], r["size"]) for r in records(saved)
    )
    for entry in kept(saved):
        data = (saved.parent / entry["name"] / entry["fname"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    repository = Repository(saved, mode="a")
    repository.log_artifact("model", {"w": 2}, handler="pickle")
    repository.save()  # appended, not replaced
    assert len(kept(saved)) == 3


def test_a_save_without_a_journal_keeps_none(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w", journal=False)
    repository.log_artifact("model", {"w": 1}, handler="pickle")
    repository.save()
    assert not kept_file(repo_path).parent.exists()


def test_a_stripped_record_is_still_verified_on_load_and_by_verify(saved: Path) -> None:
    strip_digests(saved)
    strict = Repository(saved, mode="r", trust="verified")
    assert strict.get_artifact_metadata("model")["sha256"] is None  # the manifest lost it
    assert strict.load_artifact("model") == {"w": 1}  # verified against the kept digest
    assert strict.load_artifact("features") == [0, 1]
    report = strict.verify()
    assert report.checked == 2
    assert sorted(report.recovered) == [("features", 0), ("model", 0)]
    assert report.unverifiable == []


def test_a_stripped_record_whose_file_was_swapped_is_refused(saved: Path) -> None:
    strip_digests(saved)
    file_of(saved, "model").write_bytes(pickle.dumps({"evil": True}))
    for trust in ("any", "verified"):
        repository = Repository(saved, mode="r", trust=trust)
        with pytest.raises(IntegrityError, match="does not match") as caught:
            repository.load_artifact("model")
        assert not isinstance(caught.value, UntrustedArtifactError)
    with pytest.raises(IntegrityError, match=r"model.*checked against the digest archivist kept"):
        Repository(saved, mode="r").verify()


def test_a_forged_entry_never_overrides_a_records_own_digest(saved: Path) -> None:
    evil = pickle.dumps({"evil": True})
    file_of(saved, "model").write_bytes(evil)
    forged = [
        {**e, "sha256": hashlib.sha256(evil).hexdigest(), "size": len(evil)}
        if e["name"] == "model"
        else e
        for e in kept(saved)
    ]
    kept_file(saved).write_text(json.dumps({"format": 1, "digests": forged}))
    with pytest.raises(IntegrityError):
        Repository(saved, mode="r").load_artifact("model")  # its own digest, not the forged


def test_an_entry_of_another_size_is_not_the_records_file(saved: Path) -> None:
    stripped = [
        {**r, "sha256": None, "blake3": None, "size": r["size"] + 1} for r in records(saved)
    ]
    saved.write_text(json.dumps(stripped))
    strict = Repository(saved, mode="r", trust="verified")
    with pytest.raises(UntrustedArtifactError):
        strict.load_artifact("model")
    assert sorted(strict.verify().recovered) == []


def test_a_malformed_kept_file_is_refused_and_a_save_changes_nothing(saved: Path) -> None:
    kept_file(saved).write_text('{"format": 1, "format": 1, "digests": []}')
    repository = Repository(saved, mode="a")
    assert repository.load_artifact("model") == {"w": 1}  # its own digest: not read
    before = saved.read_bytes()
    files = sorted(p.name for p in saved.parent.rglob("*") if p.is_file())
    repository.log_artifact("model", {"w": 2}, handler="pickle")
    with pytest.raises(ManifestError, match=r"digests\.json.*twice"):
        repository.save()
    assert saved.read_bytes() == before
    assert sorted(p.name for p in saved.parent.rglob("*") if p.is_file()) == files
    strip_digests(saved)
    with pytest.raises(ManifestError, match=r"digests\.json"):
        Repository(saved, mode="r").load_artifact("model")


def test_adopt_restores_kept_digests_and_never_vouches_for_a_swapped_file(saved: Path) -> None:
    digests = {r["name"]: r["sha256"] for r in records(saved)}
    strip_digests(saved)
    file_of(saved, "features").write_text("[6, 6, 6]")
    with pytest.warns(ArchivistWarning, match=r"features.*not what archivist wrote"):
        assert Repository(saved, mode="a", trust="any").adopt() == [("model", 0)]
    assert {r["name"]: r.get("sha256") for r in records(saved)} == {
        "model": digests["model"],  # the digest archivist computed when it saved it
        "features": None,
    }
    # under trust="verified", adopting a pickle whose digest was kept vouches for nothing new
    strip_digests(saved)
    saved.write_text(json.dumps([r for r in records(saved) if r["name"] == "model"]))
    assert Repository(saved, mode="a", trust="verified").adopt() == [("model", 0)]
    assert records(saved)[0]["sha256"] == digests["model"]


def test_a_release_copy_of_a_stripped_repository_is_verified(saved: Path, tmp_path: Path) -> None:
    digests = {r["name"]: r["sha256"] for r in records(saved)}
    strip_digests(saved)
    source = Repository(saved, mode="r", trust="verified")
    lzr.minimal_repository_from_release(
        tmp_path / "copy", source, lzr.Release("v1", [("model", 0), ("features", 0)])
    )
    copy = tmp_path / "copy" / "repository.json"
    assert {r["name"]: r["sha256"] for r in records(copy)} == digests
    assert sorted(e["sha256"] for e in kept(copy)) == sorted(digests.values())
    assert Repository(copy, mode="r", trust="verified").load_artifact("model") == {"w": 1}


def test_concurrent_saves_keep_every_digest(repo_path: Path) -> None:
    Repository(repo_path, mode="w").save()
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for i in range(5):
                repository = Repository(repo_path, mode="a")
                repository.log_artifact("shared", [worker, i], handler="json")
                repository.save()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted((e["fname"], e["sha256"]) for e in kept(repo_path)) == sorted(
        (r["fname"], r["sha256"]) for r in records(repo_path)
    )
    assert len(kept(repo_path)) == 20


class _CountingBackend(MemoryBackend):
    """Counts reads of the kept digests."""

    protocols = ("counting-kept",)
    reads: ClassVar[list[str]] = []

    def read_with_token(self, path: str) -> tuple[bytes, str]:
        if path.endswith("digests.json"):
            self.reads.append(path)
        return super().read_with_token(path)


def test_a_repository_saving_again_does_not_read_its_kept_digests_again() -> None:
    url = f"memory://kept-{uuid.uuid4().hex}/repository.json"
    repository = Repository(url, mode="w", store=ManifestStore(url, backend=_CountingBackend()))
    _CountingBackend.reads.clear()
    for value in range(3):
        repository.log_artifact("model", value, handler="json")
        repository.save()
    assert len(_CountingBackend.reads) == 1  # the first save's; later ones append to it
    other = Repository(url, mode="a")  # another writer appends meanwhile
    other.log_artifact("model", 9, handler="json")
    other.save()
    repository.log_artifact("model", 3, handler="json")
    repository.save()  # refused against its stale copy, then reads again
    assert len(_CountingBackend.reads) == 2
    assert len(json.loads(kept_file_text(url))["digests"]) == 5


def kept_file_text(url: str) -> str:
    store = ManifestStore(url)
    return store.backend.read_bytes(store.kept_digests().path).decode()
