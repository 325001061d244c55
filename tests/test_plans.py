"""Plans: prune and gc list what they would remove, and applying the plan removes exactly that."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
from tests.conftest import make_orphan

from archivist import ArchivistWarning, GcPlan, PlannedVersion, PrunePlan, Repository
from archivist.errors import InvalidArgumentError


def saved(path: Path, count: int, name: str = "model") -> Repository:
    repository = Repository(path, mode="w+")
    for value in range(count):
        repository.log_artifact(name=name, value=[value], handler="json")
        repository.save()
    return Repository(path, mode="w+")


# -- prune ------------------------------------------------------------------------------------


def test_a_prune_plan_lists_the_versions_it_would_remove(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    repository = saved(path, 3)
    plan = Repository(path, mode="r").prune(keep_last=1, dry_run=True)
    assert isinstance(plan, PrunePlan)
    assert plan.pairs == [("model", 0), ("model", 1)]
    assert plan.versions == tuple(PlannedVersion.of(r) for r in repository.records[:2])
    assert all(v.sha256 and v.size for v in plan.versions)
    assert (plan.location, plan.keep_last, plan.keep_within) == (str(path), 1, None)
    assert plan.token is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.keep_last = 0  # type: ignore[misc]
    assert Repository(path, mode="r").versions("model") == [0, 1, 2]  # a plan removes nothing


def test_a_version_saved_after_the_plan_makes_no_other_version_go(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    repository = saved(path, 3)
    plan = repository.prune(keep_last=1, dry_run=True)
    other = Repository(path, mode="a")  # another writer saves before the plan is applied
    other.log_artifact(name="model", value=[3], handler="json")
    other.save()
    assert repository.prune(plan=plan) == [("model", 0), ("model", 1)]
    reader = Repository(path, mode="r")
    assert reader.versions("model") == [2, 3]  # v2 is old now under keep_last=1, yet stays
    assert reader.load_artifact("model", version=2) == [2]
    assert reader.verify().checked == 2


def test_planned_versions_that_no_longer_hold_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    repository = saved(path, 4)
    plan = repository.prune(keep_last=1, dry_run=True)
    assert plan.pairs == [("model", 0), ("model", 1), ("model", 2)]
    repository.set_alias("model", "production", 1)  # pinned after the plan
    with pytest.warns(ArchivistWarning, match=r"skipped model v1.*alias or release names it"):
        removed = repository.prune(plan=plan)
    assert removed == [("model", 0), ("model", 2)]
    assert Repository(path, mode="r").versions("model") == [1, 3]
    # applied again: what is gone is skipped, nothing else goes
    with pytest.warns(ArchivistWarning) as caught:
        assert repository.prune(plan=plan) == []
    assert sorted(str(w.message).split(",")[0] for w in caught) == [
        "skipped model v0",
        "skipped model v1",
        "skipped model v2",
    ]
    assert "no longer in the manifest" in str(caught[0].message)
    assert Repository(path, mode="r").versions("model") == [1, 3]


def test_a_planned_version_whose_record_changed_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    repository = saved(path, 3)
    plan = repository.prune(keep_last=1, dry_run=True)
    # the manifest was replaced (mode "w"): version 0 now has another file
    rewritten = Repository(path, mode="w")
    for value in range(3):
        rewritten.log_artifact(name="model", value=[value], handler="json", fname=f"{value}.json")
    with pytest.warns(ArchivistWarning, match="replaces the manifest"):
        rewritten.save()
    rewritten = Repository(path, mode="w+")
    assert rewritten.records[0].fname != plan.versions[0].fname
    with pytest.warns(ArchivistWarning) as caught:
        assert rewritten.prune(plan=plan) == []
    assert [str(w.message).split(":")[0] for w in caught] == [
        "skipped model v0, listed by the plan",
        "skipped model v1, listed by the plan",
    ]
    assert all("record changed" in str(w.message) for w in caught)
    assert Repository(path, mode="r").versions("model") == [0, 1, 2]
    assert (tmp_path / "model" / "0.json").exists()


def test_a_plan_applies_only_where_and_as_it_was_made(tmp_path: Path) -> None:
    plan = saved(tmp_path / "repository.json", 3).prune(keep_last=1, dry_run=True)
    other = saved(tmp_path / "other.json", 3)
    with pytest.raises(InvalidArgumentError, match="computed for"):
        other.prune(plan=plan)
    with pytest.raises(InvalidArgumentError, match="no keep_last"):
        other.prune(keep_last=1, plan=plan)
    with pytest.raises(InvalidArgumentError, match="PrunePlan"):
        other.prune(plan=other.gc(dry_run=True))  # type: ignore[arg-type]
    assert Repository(tmp_path / "other.json", mode="r").versions("model") == [0, 1, 2]


# -- gc ---------------------------------------------------------------------------------------


def test_a_gc_plan_deletes_only_the_files_it_listed(repo_path: Path) -> None:
    saved(repo_path, 1, name="features")
    first = make_orphan(repo_path, fname="first.json")
    plan = Repository(repo_path, mode="r").gc(dry_run=True)
    assert isinstance(plan, GcPlan)
    assert plan.locations == [str(first)] and first.exists()
    second = make_orphan(repo_path, fname="second.json")  # a save crashed after the listing
    assert Repository(repo_path, mode="a").gc(plan=plan) == [str(first)]
    assert not first.exists() and second.exists()
    assert Repository(repo_path, mode="a").gc() == [str(second)]


def test_a_planned_file_that_changed_is_kept(repo_path: Path) -> None:
    saved(repo_path, 1, name="features")
    orphan = make_orphan(repo_path, fname="given.json")  # a given name: proven by its digest
    plan = Repository(repo_path, mode="r").gc(dry_run=True)
    orphan.write_text('["the user wrote this meanwhile"]')
    with pytest.warns(ArchivistWarning, match="skipped .*given.json"):
        assert Repository(repo_path, mode="a").gc(plan=plan) == []
    assert orphan.read_text() == '["the user wrote this meanwhile"]'


def test_a_gc_plan_applies_only_to_its_repository(tmp_path: Path) -> None:
    saved(tmp_path / "repository.json", 1)
    saved(tmp_path / "other.json", 1)
    plan = Repository(tmp_path / "repository.json", mode="r").gc(dry_run=True)
    with pytest.raises(InvalidArgumentError, match="computed for"):
        Repository(tmp_path / "other.json", mode="a").gc(plan=plan)
    with pytest.raises(InvalidArgumentError, match="dry_run"):
        Repository(tmp_path / "repository.json", mode="a").gc(plan=plan, dry_run=True)  # type: ignore[call-overload]


# -- durations past the calendar --------------------------------------------------------------


@pytest.mark.parametrize("days", [800_000, 999_999_999])
def test_durations_past_the_calendar_are_refused(tmp_path: Path, days: int) -> None:
    path = tmp_path / "repository.json"
    repository = saved(path, 2)
    with pytest.raises(InvalidArgumentError, match=r"keep_within.*before the year 1"):
        repository.prune(keep_within=timedelta(days=days), dry_run=True)
    with pytest.raises(InvalidArgumentError, match=r"keep_within.*before the year 1"):
        repository.prune(keep_within=timedelta(days=days))
    with pytest.raises(InvalidArgumentError, match=r"older_than.*before the year 1"):
        repository.gc(older_than=timedelta(days=days), dry_run=True)
    with pytest.raises(InvalidArgumentError, match=r"older_than.*before the year 1"):
        repository.gc(older_than=timedelta(days=days))
    assert Repository(path, mode="r").versions("model") == [0, 1]
    # the longest duration that is accepted keeps every version
    assert repository.prune(keep_within=timedelta(days=700_000), dry_run=True).pairs == []


def test_a_forged_plan_with_rules_past_the_calendar_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "repository.json"
    repository = saved(path, 3)
    plan = repository.prune(keep_last=1, dry_run=True)
    forged = dataclasses.replace(plan, keep_last=None, keep_within=timedelta(days=10**8))
    with pytest.raises(InvalidArgumentError, match="keep_within"):
        repository.prune(plan=forged)
    gc_plan = dataclasses.replace(repository.gc(dry_run=True), older_than=timedelta(days=10**8))
    with pytest.raises(InvalidArgumentError, match="older_than"):
        repository.gc(plan=gc_plan)
    assert Repository(path, mode="r").versions("model") == [0, 1, 2]
