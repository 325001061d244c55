"""The recorded BLAKE3 digest: new records carry it, reads verify by it, older records keep SHA-256.

Each test breaks something (a forged or malformed field, a changed file, a digest-less
record) and checks what a user sees: loads, ``verify``, ``adopt``, the trust policy, the
cache and the command line.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import blake3
import pytest
from click.testing import CliRunner

from archivist import IntegrityError, Repository
from archivist.cli import cli
from archivist.errors import ManifestError


def records(manifest: Path) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads(manifest.read_text())
    return loaded


def rewrite(manifest: Path, **changes: Any) -> None:
    """Rewrite every record with ``changes`` (a value of ``...`` drops the field)."""
    changed = [
        {k: v for k, v in {**r, **changes}.items() if v is not ...} for r in records(manifest)
    ]
    manifest.write_text(json.dumps(changed))


def file_of(manifest: Path, name: str = "model") -> Path:
    record = next(r for r in records(manifest) if r["name"] == name)
    return manifest.parent / name / record["fname"]


def tamper(path: Path) -> None:
    """Change one byte of the file, keeping its size."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))


@pytest.fixture
def saved(repo_path: Path) -> Path:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("model", {"w": list(range(100))}, handler="pickle")
    repository.save()
    return repo_path


def test_a_new_record_carries_blake3_and_sha256_of_the_written_bytes(saved: Path) -> None:
    (record,) = records(saved)
    data = file_of(saved).read_bytes()
    assert record["blake3"] == blake3.blake3(data).hexdigest()
    assert record["sha256"] == hashlib.sha256(data).hexdigest()  # still there (docs/design.md)
    assert record["size"] == len(data)
    assert "blocks" not in record  # a small file has no block list
    metadata = Repository(saved, mode="r").get_artifact_metadata("model")
    assert metadata["blake3"] == record["blake3"]


def test_a_load_checks_blake3_first(saved: Path) -> None:
    (record,) = records(saved)
    rewrite(saved, blake3="0" * 64)  # the sha256 still matches the file
    with pytest.raises(IntegrityError, match=r"expected blake3 0{64}"):
        Repository(saved, mode="r").load_artifact("model")
    with pytest.raises(IntegrityError, match="blake3"):
        Repository(saved, mode="r").verify()
    rewrite(saved, blake3=record["blake3"], sha256="0" * 64)  # blake3 wins: sha256 unread
    assert Repository(saved, mode="r").load_artifact("model") == {"w": list(range(100))}


def test_a_record_with_only_sha256_keeps_verifying_with_sha256(saved: Path) -> None:
    rewrite(saved, blake3=...)  # a record an earlier archivist wrote
    repository = Repository(saved, mode="r", trust="verified")
    assert repository.load_artifact("model") == {"w": list(range(100))}
    assert repository.verify().checked == 1
    path = file_of(saved)
    tamper(path)
    with pytest.raises(IntegrityError, match=r"expected sha256 [0-9a-f]{64}"):
        Repository(saved, mode="r").load_artifact("model")


def test_a_record_with_only_blake3_is_verified_trusted_and_not_adopted(saved: Path) -> None:
    rewrite(saved, sha256=None)  # another tool kept only the faster digest
    strict = Repository(saved, mode="r", trust="verified")
    assert strict.load_artifact("model") == {"w": list(range(100))}  # no UntrustedArtifactError
    report = strict.verify()
    assert (report.checked, report.unverifiable) == (1, [])
    assert Repository(saved, mode="a").adopt() == []  # it has a digest: nothing to vouch for
    path = file_of(saved)
    tamper(path)
    with pytest.raises(IntegrityError, match="blake3"):
        strict.load_artifact("model")


@pytest.mark.parametrize(
    "value",
    ["ABC", "0" * 63, "G" * 64, 7, ["0" * 64]],
    ids=["short", "63", "not-hex", "int", "list"],
)
def test_a_malformed_blake3_is_refused(saved: Path, value: object) -> None:
    rewrite(saved, blake3=value)
    with pytest.raises(ManifestError, match="blake3 must be 64 lowercase hex digits"):
        Repository(saved, mode="r")


def test_the_cache_is_keyed_by_the_digest_the_record_carries(saved: Path, tmp_path: Path) -> None:
    (record,) = records(saved)
    cache = tmp_path / "cache"
    Repository(saved, mode="r", cache=True, cache_dir=cache).load_artifact("model")
    digest = record["blake3"]
    assert [p.relative_to(cache).as_posix() for p in cache.glob("*/*/*")] == [
        f"blake3/{digest[:2]}/{digest}"
    ]
    rewrite(saved, blake3=...)  # an older record: its entry is its sha256's
    Repository(saved, mode="r", cache=True, cache_dir=cache).load_artifact("model")
    digest = record["sha256"]
    assert (cache / "sha256" / digest[:2] / digest).read_bytes() == file_of(saved).read_bytes()


def test_the_command_line_shows_and_checks_the_records_digest(saved: Path, tmp_path: Path) -> None:
    (record,) = records(saved)
    shown = CliRunner().invoke(cli, ["show", str(saved.parent), "model"])
    assert shown.exit_code == 0, shown.output
    assert any(
        line.split() == ["blake3", record["blake3"]] for line in shown.output.splitlines()
    ), shown.output
    target = tmp_path / "copy.pkl"
    got = CliRunner().invoke(cli, ["get", str(saved.parent), "model", "-o", str(target)])
    assert got.exit_code == 0, got.output
    assert "(blake3 verified)" in got.output
    rewrite(saved, blake3="0" * 64)
    bad = CliRunner().invoke(cli, ["get", str(saved.parent), "model", "-o", str(tmp_path / "x")])
    assert bad.exit_code != 0
    assert "blake3" in bad.output + (bad.stderr or "")
