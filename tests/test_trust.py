"""The trust policy: files lazyscribe wrote (no digest) that would run code on load."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import lazyscribe
import pytest

from archivist import (
    ArchivistWarning,
    ConfigError,
    Handler,
    IntegrityError,
    Project,
    Repository,
    UntrustedArtifactError,
    get_handler,
)
from archivist import release as lzr
from archivist._io.trust import TRUST_ENV
from archivist.handlers.lazyscribe import adapt


def records_of(manifest: Path) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads(manifest.read_text())
    return loaded


@pytest.fixture
def lazyscribe_proj(tmp_path: Path) -> Path:
    """A project lazyscribe 2.2.2 wrote, with pickles on the experiment and on a test."""
    path = tmp_path / "project.json"
    project = lazyscribe.Project(str(path), mode="w", author="lazy")
    with project.log("baseline") as experiment:
        experiment.log_artifact("model", {"m": 1}, handler="pickle")
        experiment.log_artifact("features", [1, 2], handler="json")
        with experiment.log_test("segment") as test:
            test.log_artifact("rows", [3], handler="pickle")
    project.save()
    return path


def test_a_lazyscribe_pickle_loads_with_a_warning_naming_adopt(lazyscribe_repo: Path) -> None:
    repository = Repository(lazyscribe_repo, mode="r")
    assert repository.trust == "any"
    with pytest.warns(ArchivistWarning, match=r"no recorded digest.*adopt") as caught:
        assert repository.load_artifact("model") == {"w": 1}
    assert caught[0].filename == __file__  # points at the caller's line
    assert repository.load_artifact("features") == [0, 1]  # JSON runs no code: no warning


@pytest.mark.parametrize("how", ["keyword", "environment"])
def test_strict_trust_refuses_an_unverified_pickle(
    lazyscribe_repo: Path, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if how == "environment":
        monkeypatch.setenv(TRUST_ENV, "verified")
        repository = Repository(lazyscribe_repo, mode="r")
    else:
        repository = Repository(lazyscribe_repo, mode="r", trust="verified")
    with pytest.raises(UntrustedArtifactError, match=r"'pickle'.*adopt") as caught:
        repository.load_artifact("model")
    assert isinstance(caught.value, IntegrityError)
    assert repository.load_artifact("features") == [0, 1]
    assert repository.filter([("model", 0)]).trust == "verified"


def test_the_keyword_wins_over_the_environment(
    lazyscribe_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TRUST_ENV, "verified")
    with pytest.warns(ArchivistWarning):
        assert Repository(lazyscribe_repo, mode="r", trust="any").load_artifact("model") == {"w": 1}


def test_archivist_written_pickles_load_under_strict_trust(tmp_path: Path) -> None:
    repository = Repository(tmp_path / "repository.json", mode="w", trust="verified")
    repository.log_artifact("model", {"w": 2}, handler="pickle")
    repository.save()
    assert repository.load_artifact("model") == {"w": 2}


@pytest.mark.parametrize("where", ["keyword", "environment"])
def test_an_invalid_trust_value_names_the_choices(
    tmp_path: Path, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    kwargs: dict[str, Any] = {}
    if where == "environment":
        monkeypatch.setenv(TRUST_ENV, "sometimes")
    else:
        kwargs["trust"] = "sometimes"
    for opener in (Repository, Project):
        with pytest.raises(ConfigError, match=r"'any', 'verified'.*'sometimes'") as caught:
            opener(tmp_path / "x.json", mode="w", **kwargs)
        assert isinstance(caught.value, ValueError)


def test_project_experiments_and_tests_follow_the_projects_policy(
    lazyscribe_proj: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    experiment = Project(lazyscribe_proj, mode="r")["baseline"]
    with pytest.warns(ArchivistWarning, match="no recorded digest"):
        assert experiment.load_artifact("model") == {"m": 1}
    with pytest.warns(ArchivistWarning, match="no recorded digest"):
        assert experiment.tests[0].load_artifact("rows") == [3]

    for project in (
        Project(lazyscribe_proj, mode="w+", trust="verified"),
        Project(lazyscribe_proj, mode="r", trust="verified"),
    ):
        experiment = project["baseline"]
        with pytest.raises(UntrustedArtifactError):
            experiment.load_artifact("model")
        with pytest.raises(UntrustedArtifactError):
            experiment.tests[0].load_artifact("rows")
        assert experiment.load_artifact("features") == [1, 2]
    monkeypatch.setenv(TRUST_ENV, "verified")
    with pytest.raises(UntrustedArtifactError):
        Project(lazyscribe_proj, mode="r")["baseline"].load_artifact("model")


def test_new_experiments_and_tests_of_a_strict_project_are_strict(tmp_path: Path) -> None:
    project = Project(tmp_path / "project.json", mode="w", trust="verified")
    with project.log("run") as experiment, experiment.log_test("slice") as test:
        pass
    assert experiment._trust == test._trust == "verified"


def test_a_strict_project_does_not_promote_an_unverified_pickle(
    lazyscribe_proj: Path, tmp_path: Path
) -> None:
    experiment = Project(lazyscribe_proj, mode="r", trust="verified")["baseline"]
    repository = Repository(tmp_path / "repository.json", mode="w")
    with pytest.raises(UntrustedArtifactError, match="Promoting"):
        experiment.promote_artifact(repository, "model")
    assert not (tmp_path / "repository.json").exists()
    experiment.promote_artifact(repository, "features")  # JSON: nothing to fear
    assert repository.load_artifact("features") == [1, 2]


def test_handlers_declare_whether_reading_runs_code() -> None:
    assert Handler.executes_code is False
    assert get_handler("json").executes_code is False
    assert get_handler("pickle").executes_code is True


def test_lazyscribe_handlers_execute_code_unless_known_to_read_plain_data() -> None:
    from lazyscribe.artifacts.json import JSONArtifact
    from lazyscribe.artifacts.pickle import PickleArtifact
    from lazyscribe_yaml import YAML12Artifact, YAMLArtifact

    assert adapt(PickleArtifact).executes_code is True
    assert adapt(JSONArtifact).executes_code is False
    assert adapt(YAMLArtifact).executes_code is False
    assert adapt(YAML12Artifact).executes_code is False
    assert get_handler("yaml").executes_code is False

    class Unknown(JSONArtifact):  # a subclass may read differently: not vouched for
        alias = "unknown-format"

    class Declared(PickleArtifact):
        alias = "declared-safe"
        executes_code = False

    assert adapt(Unknown).executes_code is True
    assert adapt(Declared).executes_code is False


# -- trust travels: copies apply their source's policy -----------------------------------------


def swap_pickle(manifest: Path, name: str, value: object) -> None:
    """Replace the file of the only version of ``name`` with another pickle, as an attacker."""
    (file,) = (manifest.parent / name).iterdir()
    file.write_bytes(pickle.dumps(value))


def copy_release(source: Repository, location: Path) -> Path:
    release = lzr.Release("v1", [("model", 0), ("features", 0)])
    lzr.minimal_repository_from_release(location, source, release)
    return location / "repository.json"


def test_a_release_copy_of_a_strict_repository_refuses_a_swapped_unverified_pickle(
    lazyscribe_repo: Path, tmp_path: Path
) -> None:
    swap_pickle(lazyscribe_repo, "model", {"evil": True})
    source = Repository(lazyscribe_repo, mode="r", trust="verified")
    with pytest.raises(UntrustedArtifactError):
        source.load_artifact("model")
    with pytest.raises(UntrustedArtifactError, match=r"'pickle'.*refuses to copy"):
        copy_release(source, tmp_path / "copy")
    assert not (tmp_path / "copy" / "repository.json").exists()


def test_a_release_copy_records_a_digest_only_for_verified_bytes(
    lazyscribe_repo: Path, tmp_path: Path
) -> None:
    swap_pickle(lazyscribe_repo, "model", {"evil": True})
    source = Repository(lazyscribe_repo, mode="r")  # trust="any": copies, vouching for nothing
    copied = copy_release(source, tmp_path / "copy")
    assert [(r["name"], r.get("sha256"), r.get("size")) for r in records_of(copied)] == [
        ("model", None, None),
        ("features", None, None),
    ]
    strict = Repository(copied, mode="r", trust="verified")
    with pytest.raises(UntrustedArtifactError):
        strict.load_artifact("model")  # a strict reader of the copy never unpickles it
    assert strict.load_artifact("features") == [0, 1]


def test_a_release_copy_keeps_the_digests_it_verified(tmp_path: Path) -> None:
    source = Repository(tmp_path / "source" / "repository.json", mode="w", trust="verified")
    source.log_artifact("model", {"w": 2}, handler="pickle")
    source.log_artifact("features", [0], handler="json")
    source.save()
    copied = copy_release(source, tmp_path / "copy")
    assert [r["sha256"] for r in records_of(copied)] == [r.sha256 for r in source.records]
    assert Repository(copied, mode="r", trust="verified").load_artifact("model") == {"w": 2}


def test_a_promotion_records_a_digest_only_for_verified_bytes(
    lazyscribe_proj: Path, tmp_path: Path
) -> None:
    experiment = Project(lazyscribe_proj, mode="r", trust="any")["baseline"]
    (experiment.dir / experiment.artifacts[0].fname).write_bytes(pickle.dumps({"evil": True}))
    repository = Repository(tmp_path / "repository.json", mode="w", trust="verified")
    experiment.promote_artifact(repository, "model")  # "any": copied, digest-less
    record = repository.get_artifact_metadata("model")
    assert (record["sha256"], record["size"]) == (None, None)
    assert record["source"]["experiment"] == experiment.slug
    with pytest.raises(UntrustedArtifactError):
        repository.load_artifact("model")


def test_a_strict_repository_adopts_no_unverified_code(lazyscribe_repo: Path) -> None:
    before = lazyscribe_repo.read_bytes()
    strict = Repository(lazyscribe_repo, mode="a", trust="verified")
    for dry_run in (True, False):
        with pytest.raises(UntrustedArtifactError, match=r"model.*trust='any'"):
            strict.adopt(dry_run=dry_run)
    assert lazyscribe_repo.read_bytes() == before
    assert sorted(Repository(lazyscribe_repo, mode="a", trust="any").adopt()) == [
        ("features", 0),
        ("model", 0),
    ]
