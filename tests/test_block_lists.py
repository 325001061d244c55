"""Block lists: past 8 MiB a save records the BLAKE3 of each 4 MiB block in a side object.

The side object lies in the manifest's private folder (``blocks/<name>/<fname>``), its own
BLAKE3 and size in the record (``blocks``). Each test attacks it (a swapped block list, one
that does not describe the file, one missing, a malformed field) or checks that it lives and
dies with its version's file (gc, prune, a failed save).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import blake3
import pytest

from archivist import IntegrityError, Repository
from archivist.errors import ConflictError, ManifestError, StaleTokenError
from archivist.testing import crash_at_commit

MIB = 1 << 20
#: Pickled, a little over 9 MiB: three 4 MiB blocks, the last one short.
LARGE = bytes(range(256)) * (9 * 4096)
OTHER = bytes(reversed(range(256))) * (9 * 4096)


def records(manifest: Path) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads(manifest.read_text())
    return loaded


def record_of(manifest: Path, name: str, version: int = 0) -> dict[str, Any]:
    return next(r for r in records(manifest) if (r["name"], r["version"]) == (name, version))


def side_of(manifest: Path, record: dict[str, Any]) -> Path:
    private = manifest.parent / f".{manifest.name}.archivist"
    return private / "blocks" / record["name"] / record["fname"]


def set_record(manifest: Path, name: str, version: int, **changes: Any) -> None:
    changed = [
        {**r, **changes} if (r["name"], r["version"]) == (name, version) else r
        for r in records(manifest)
    ]
    manifest.write_text(json.dumps(changed))


@pytest.fixture
def saved(repo_path: Path) -> Path:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("large", LARGE, handler="pickle")
    repository.log_artifact("small", [1, 2], handler="json")
    repository.save()
    repository = Repository(repo_path, mode="a")
    repository.log_artifact("large", OTHER, handler="pickle")
    repository.save()
    return repo_path


def test_a_large_save_records_each_blocks_blake3_in_a_side_object(saved: Path) -> None:
    record = record_of(saved, "large")
    data = (saved.parent / "large" / record["fname"]).read_bytes()
    assert len(data) > 8 * MIB
    side = side_of(saved, record).read_bytes()
    assert record["blocks"] == {
        "blake3": blake3.blake3(side).hexdigest(),
        "size": len(side),
        "block_size": 4 * MIB,
    }
    listed = json.loads(side)
    assert (listed["blake3"], listed["size"]) == (record["blake3"], len(data))
    assert listed["blocks"] == [
        blake3.blake3(data[start : start + 4 * MIB]).hexdigest()
        for start in range(0, len(data), 4 * MIB)
    ]
    assert len(listed["blocks"]) == 3
    assert "blocks" not in record_of(saved, "small")  # small files have none
    assert not (saved.parent / f".{saved.name}.archivist" / "blocks" / "small").exists()
    report = Repository(saved, mode="r").verify()
    assert report.checked == 3


def test_a_swapped_block_list_is_refused(saved: Path) -> None:
    first, second = record_of(saved, "large", 0), record_of(saved, "large", 1)
    side_of(saved, first).write_bytes(side_of(saved, second).read_bytes())
    with pytest.raises(IntegrityError, match=r"version 0 of 'large'.*blocks/large"):
        Repository(saved, mode="r").verify()


def test_a_block_list_of_other_bytes_is_refused_even_when_the_record_vouches_for_it(
    saved: Path,
) -> None:
    # the record's blocks reference is forged to match the other version's list
    first, second = record_of(saved, "large", 0), record_of(saved, "large", 1)
    side_of(saved, first).write_bytes(side_of(saved, second).read_bytes())
    set_record(saved, "large", 0, blocks=second["blocks"])
    with pytest.raises(IntegrityError, match="block list of other bytes"):
        Repository(saved, mode="r").verify()


def test_a_block_list_that_does_not_match_the_whole_file_digest_is_refused(saved: Path) -> None:
    record = record_of(saved, "large")
    side = side_of(saved, record)
    listed = json.loads(side.read_bytes())
    listed["blocks"][1] = blake3.blake3(b"forged").hexdigest()
    forged = json.dumps(listed, separators=(",", ":")).encode()
    side.write_bytes(forged)  # and the record vouches for the forged list
    set_record(
        saved,
        "large",
        0,
        blocks={**record["blocks"], "blake3": blake3.blake3(forged).hexdigest()},
    )
    with pytest.raises(IntegrityError, match=r"block 1 \(bytes 4194304 to 8388608\)"):
        Repository(saved, mode="r").verify()
    assert Repository(saved, mode="r").load_artifact("large", version=0) == LARGE  # file intact


def test_a_missing_block_list_is_refused(saved: Path) -> None:
    side_of(saved, record_of(saved, "large")).unlink()
    with pytest.raises(IntegrityError, match="block list of version 0 of 'large' is missing"):
        Repository(saved, mode="r").verify()


@pytest.mark.parametrize(
    "blocks",
    [
        {"blake3": "0" * 64, "size": 10},
        {"blake3": "0" * 63, "size": 10, "block_size": 4},
        {"blake3": "0" * 64, "size": -1, "block_size": 4},
        {"blake3": "0" * 64, "size": 10, "block_size": 0},
        "0" * 64,
    ],
    ids=["missing-key", "short-digest", "negative", "zero-block", "not-object"],
)
def test_a_malformed_blocks_field_is_refused(saved: Path, blocks: object) -> None:
    set_record(saved, "large", 0, blocks=blocks)
    with pytest.raises(ManifestError, match="blocks"):
        Repository(saved, mode="r")


def test_blocks_without_a_blake3_are_refused(saved: Path) -> None:
    set_record(saved, "large", 0, blake3=None)
    with pytest.raises(ManifestError, match="blocks needs the record's blake3"):
        Repository(saved, mode="r")


def test_gc_deletes_a_block_list_only_with_its_versions_file(saved: Path) -> None:
    repository = Repository(saved, mode="a")
    repository.log_artifact("large", LARGE + b"!", handler="pickle", fname="orphan.pkl")
    with crash_at_commit(repository, landed=False):
        repository.save()
    orphan = saved.parent / "large" / "orphan.pkl"
    side = side_of(saved, {"name": "large", "fname": "orphan.pkl"})
    assert orphan.exists() and side.exists()  # a killed save: both stay for gc
    private = saved.parent / f".{saved.name}.archivist"
    old = time.time() - 7200
    for path in [orphan, *private.glob("*.journal")]:
        os.utime(path, (old, old))
    kept = [side_of(saved, record_of(saved, "large", v)) for v in (0, 1)]
    Repository(saved, mode="a").gc()
    assert not orphan.exists() and not side.exists()
    assert all(path.exists() for path in kept)  # referenced versions keep theirs
    assert Repository(saved, mode="r").verify().checked == 3


def test_a_failed_save_removes_the_block_list_it_wrote(
    saved: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("archivist._commit.protocol.MAX_COMMIT_ATTEMPTS", 3)
    repository = Repository(saved, mode="a")
    repository.log_artifact("large", LARGE + b"?", handler="pickle", fname="failed.pkl")
    side = side_of(saved, {"name": "large", "fname": "failed.pkl"})
    before_commit: list[bool] = []
    durable = repository.store.make_durable

    def make_durable(files: Any) -> None:  # the last step before the commit
        before_commit.append(side.exists())
        durable(files)

    monkeypatch.setattr(repository.store, "make_durable", make_durable)
    with crash_at_commit(repository, error=StaleTokenError, dies=False, raises=ConflictError):
        repository.save()  # every commit refused: provably not landed
    assert before_commit == [True]  # the save wrote it
    assert not (saved.parent / "large" / "failed.pkl").exists()
    assert not side.exists()


def test_prune_deletes_the_block_list_with_its_version(saved: Path) -> None:
    side = side_of(saved, record_of(saved, "large", 0))
    Repository(saved, mode="w+").prune(keep_last=1)
    assert not side.exists()
    assert side_of(saved, record_of(saved, "large", 1)).exists()
