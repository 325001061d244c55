"""One lazyscribe 2.2.2 save (mode ``w+``) into a repository archivist keeps: exactly what it
drops, and how archivist recovers (docs/migrating-from-lazyscribe.md, "Scripts still on
lazyscribe")."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import lazyscribe
import pytest

import archivist
from archivist import (
    ArchivistWarning,
    Project,
    Repository,
    UntrustedArtifactError,
    VersionNotFoundError,
)


def records(manifest: Path) -> dict[str, dict[str, Any]]:
    return {f"{r['name']}@{r['version']}": r for r in json.loads(manifest.read_text())}


@pytest.fixture
def rewritten(tmp_path: Path) -> tuple[Path, dict[str, dict[str, Any]]]:
    """archivist saves, adopts and promotes; then a lazyscribe script saves once in w+."""
    manifest = tmp_path / "repository.json"
    legacy = lazyscribe.Repository(str(manifest), mode="w")
    legacy.log_artifact("legacy", {"old": 1}, handler="pickle")
    legacy.save()

    ours = Repository(manifest, mode="a")
    assert ours.adopt() == [("legacy", 0)]
    ours.log_artifact("model", {"w": 1}, handler="pickle")
    ours.save()
    keeper = Repository(manifest, mode="w+")
    keeper.set_artifact_expiry("legacy", version=0, expiry=datetime(2030, 1, 1, 0, 0, 0, 123456))
    keeper.save()
    project = Project(tmp_path / "project.json", mode="w")
    with project.log("run") as experiment:
        experiment.log_artifact(name="features", value=[1, 2], handler="json")
    project.save()
    project["run"].promote_artifact(keeper, "features")
    before = records(manifest)

    theirs = lazyscribe.Repository(str(manifest), mode="w+")
    theirs.log_artifact("notes", ["draft"], handler="json")
    theirs.save()
    return manifest, before


def test_a_lazyscribe_save_drops_digests_sizes_lineage_and_microseconds(
    rewritten: tuple[Path, dict[str, dict[str, Any]]],
) -> None:
    manifest, before = rewritten
    after = records(manifest)
    assert set(after) == {*before, "notes@0"}
    for key, mine in before.items():
        assert mine["sha256"] and mine["size"] is not None
        dropped = ("sha256", "blake3", "blocks", "size", "source")  # every additive field
        expected = {k: v for k, v in mine.items() if k not in dropped}
        expected["created_at"] = mine["created_at"][:19]  # to the second
        assert after[key] == expected, key
    assert "source" in before["features@0"]
    assert after["legacy@0"]["expiry"] == "2030-01-01T00:00:00.123456"  # expiry keeps them

    repository = Repository(manifest, mode="r")
    created = before["model@0"]["created_at"]
    with pytest.raises(VersionNotFoundError):
        repository.load_artifact("model", version=created)  # to the microsecond: lost
    assert repository.load_artifact("model", version=created[:19]) == {"w": 1}


def test_archivist_verifies_the_stripped_records_against_the_digests_it_kept(
    rewritten: tuple[Path, dict[str, dict[str, Any]]],
) -> None:
    manifest, _ = rewritten
    report = Repository(manifest, mode="r").verify()
    assert sorted(report.recovered) == [("features", 0), ("legacy", 0), ("model", 0)]
    assert report.checked == 3
    assert report.unverifiable == [("notes", 0)]  # lazyscribe's own version: adopt it

    strict = Repository(manifest, mode="r", trust="verified")
    assert strict.load_artifact("model") == {"w": 1}  # archivist's own pickle, verified
    assert strict.load_artifact("legacy") == {"old": 1}  # adopted before the rewrite
    assert strict.load_artifact("notes") == ["draft"]  # JSON runs no code

    # adopting restores the digests in the manifest, for lazyscribe's version too
    assert sorted(Repository(manifest, mode="a").adopt()) == [
        ("features", 0),
        ("legacy", 0),
        ("model", 0),
        ("notes", 0),
    ]
    assert Repository(manifest, mode="r").verify().recovered == []
    assert lazyscribe.Repository(str(manifest), mode="r").load_artifact("model") == {"w": 1}


def test_a_pickle_swapped_after_the_rewrite_is_refused(
    rewritten: tuple[Path, dict[str, dict[str, Any]]],
) -> None:
    manifest, _ = rewritten
    fname = records(manifest)["model@0"]["fname"]
    (manifest.parent / "model" / fname).write_bytes(
        (manifest.parent / "legacy" / records(manifest)["legacy@0"]["fname"]).read_bytes()
    )
    with pytest.raises(archivist.IntegrityError, match="does not match"):
        Repository(manifest, mode="r").load_artifact("model")


def test_a_pickle_lazyscribe_adds_is_untrusted_until_adopted(tmp_path: Path) -> None:
    manifest = tmp_path / "repository.json"
    ours = Repository(manifest, mode="w")
    ours.log_artifact("model", {"w": 1}, handler="pickle")
    ours.save()
    theirs = lazyscribe.Repository(str(manifest), mode="w+")
    theirs.log_artifact("model", {"w": 2}, handler="pickle")
    theirs.save()
    strict = Repository(manifest, mode="r", trust="verified")
    assert strict.load_artifact("model", version=0) == {"w": 1}
    with pytest.raises(UntrustedArtifactError):
        strict.load_artifact("model", version=1)
    with pytest.warns(ArchivistWarning, match="no recorded digest"):
        assert Repository(manifest, mode="r").load_artifact("model") == {"w": 2}


def test_a_lazyscribe_save_drops_versions_archivist_committed_after_it_read(
    tmp_path: Path,
) -> None:
    manifest = tmp_path / "repository.json"
    Repository(manifest, mode="w").save()
    theirs = lazyscribe.Repository(str(manifest), mode="w+")  # reads the manifest now
    ours = Repository(manifest, mode="a")
    ours.log_artifact("model", {"w": 1}, handler="pickle")
    ours.save()
    theirs.log_artifact("notes", ["draft"], handler="json")
    theirs.save()  # rewrites the whole file as it read it: the last writer wins
    assert set(records(manifest)) == {"notes@0"}
    assert len(list((tmp_path / "model").iterdir())) == 1  # the file stays
