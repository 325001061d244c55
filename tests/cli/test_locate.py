"""REPO left out is found as git finds its repository; a JSON file that is no manifest is named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tests.cli.conftest import Run

from archivist import Project, Repository


@pytest.mark.parametrize(
    "args",
    [
        ["show", "features"],
        ["show", "features@0", "--json"],
        ["log", "features"],
        ["cat", "features"],
        ["diff", "features", "0", "-1"],
        ["diff", "features", "0"],
        ["alias", "list", "features"],
        ["release", "list"],
        ["ls"],
        ["verify"],
    ],
)
def test_repo_left_out_is_found_from_a_folder_below(repo: Path, run: Run, args: list[str]) -> None:
    below = repo / "features"  # an artifact's own folder, below the manifest
    assert below.is_dir()
    assert run(*args, cwd=below).stdout


def test_release_create_and_show_without_repo(repo: Path, run: Run) -> None:
    run("release", "create", "v1", cwd=repo)
    assert "features" in run("release", "show", "v1", cwd=repo).stdout
    assert "features" in run("release", "show", cwd=repo).stdout
    assert "features" in run("release", "show", str(repo), "v1", cwd=repo.parent).stdout


def test_alias_set_and_remove_without_repo(repo: Path, run: Run) -> None:
    run("alias", "set", "features", "production", "0", cwd=repo)
    assert Repository(repo / "repository.json").aliases("features") == {"production": 0}
    run("alias", "remove", "features", "production", cwd=repo)
    assert Repository(repo / "repository.json").aliases("features") == {}


def test_a_repo_given_still_wins(repo: Path, run: Run, tmp_path: Path) -> None:
    other = tmp_path / "other"
    Repository(other / "repository.json", mode="w").save()  # empty
    assert "holds no artifacts" in run("ls", str(other), cwd=repo).stdout
    assert "features" in run("diff", str(repo), "features", "0", cwd=other).stdout


def test_no_repository_anywhere_says_how_to_name_one(run: Run, tmp_path: Path) -> None:
    err = run("show", "features", cwd=tmp_path, code=1).stderr
    assert err.startswith("archivist: error: no repository.json in ")
    assert "give REPO" in err and err.count("\n") == 1


def test_several_manifests_in_one_folder_say_which_was_used(repo: Path, run: Run) -> None:
    shutil.copy(repo / "repository.json", repo / "staging.json")
    done = run("ls", cwd=repo)
    assert "features" in done.stdout
    assert "using repository.json" in done.stderr and "staging.json" in done.stderr
    done = run("ls", str(repo), cwd=repo.parent)  # the folder given as REPO
    assert "features" in done.stdout and "staging.json" in done.stderr
    assert run("ls", str(repo / "repository.json"), cwd=repo.parent).stderr == ""  # no doubt


def test_a_folder_with_only_other_manifests_lists_them(repo: Path, run: Run) -> None:
    (repo / "repository.json").rename(repo / "staging.json")
    err = run("ls", cwd=repo, code=1).stderr
    assert "staging.json" in err and "give one as REPO" in err
    err = run("ls", str(repo), cwd=repo.parent, code=1).stderr
    assert "staging.json" in err and "give one as REPO" in err
    assert "features" in run("ls", "staging.json", cwd=repo).stdout


def test_an_exported_file_is_named_for_what_it_is(repo: Path, run: Run) -> None:
    run("get", str(repo), "features@0", "-o", "features-v0.json")
    err = run("ls", "features-v0.json", code=1).stderr
    assert "features-v0.json is not a repository manifest" in err
    assert "archivist cat" in err and "record #0" not in err


def test_a_releases_file_names_release_list(repo: Path, run: Run) -> None:
    run("release", "create", str(repo), "v1")
    err = run("ls", str(repo / "releases.json"), code=1).stderr
    assert "releases" in err and "archivist release list" in err and "record #0" not in err


def test_an_alias_file_names_alias_list(repo: Path, run: Run) -> None:
    run("alias", "set", str(repo), "features", "prod", "0")
    err = run("ls", str(repo / "repository.aliases.json"), code=1).stderr
    assert "alias" in err and "archivist alias list" in err


def test_a_project_file_names_project_ls(run: Run, tmp_path: Path) -> None:
    project = Project(tmp_path / "project.json", mode="w")
    with project.log("baseline") as experiment:
        experiment.log_metric("auc", 0.9)
    project.save()
    err = run("ls", "project.json", code=1).stderr
    assert "project file" in err and "archivist project ls" in err and "record #0" not in err


def test_a_damaged_manifest_keeps_the_parser_message(repo: Path, run: Run) -> None:
    (repo / "repository.json").write_text(json.dumps([{"name": "x"}]))
    assert "lacks the field" in run("ls", str(repo), code=1).stderr
