"""Names archivist keeps beside a manifest: no artifact takes one, and a foreign one is harmless.

The list lives once in ``archivist._formats.names`` (``SIDE_FILES``, the manifest's own name, its
alias file, any ``*.aliases.json``, its private folder). A new artifact with such a name is
refused at log time, ignoring case. A record with such a name that lazyscribe wrote (it has
no such rule) stays an ordinary record: it opens and loads, and its folder is never read as
the alias file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import lazyscribe
import pytest

from archivist import Repository
from archivist.errors import InvalidNameError, VersionNotFoundError

Tree = Callable[[Path], dict[str, str]]


@pytest.mark.parametrize(
    ("manifest", "name"),
    [
        ("repository.json", "repository.aliases.json"),
        ("repository.json", "Repository.ALIASES.json"),
        ("repository.json", "other.aliases.json"),
        ("models.json", "models.aliases.json"),
        ("models.json", "MODELS.JSON"),
        ("models.json", "Project.json"),
        ("repository.json", ".repository.json.archivist"),
    ],
)
def test_a_new_artifact_may_not_take_a_name_kept_beside_the_manifest(
    tmp_path: Path, snapshot_tree: Tree, manifest: str, name: str
) -> None:
    path = tmp_path / manifest
    repository = Repository(path, mode="w")
    repository.log_artifact("model", 1, handler="json")
    repository.save()
    before = snapshot_tree(tmp_path)
    repository = Repository(path, mode="a")
    with pytest.raises(InvalidNameError):
        repository.log_artifact(name, 1, handler="json")
    repository.save()
    assert snapshot_tree(tmp_path) == before


def test_the_reserved_names_are_listed_once() -> None:
    from archivist._formats.names import names_beside

    assert names_beside("models.json") >= {
        "models.json",
        "models.aliases.json",
        ".models.json.archivist",
        "repository.json",
        "releases.json",
        "project.json",
    }


def test_a_lazyscribe_record_named_like_the_alias_file_breaks_no_alias_call(
    tmp_path: Path, snapshot_tree: Tree
) -> None:
    """Its folder is never the alias file: loads, alias reads and prune work; set_alias refuses."""
    path = tmp_path / "repository.json"
    theirs = lazyscribe.Repository(str(path), mode="w")
    theirs.log_artifact("repository.aliases.json", [1], handler="json")
    theirs.log_artifact("model", [1], handler="json")
    theirs.save()
    theirs = lazyscribe.Repository(str(path), mode="w+")
    theirs.log_artifact("model", [2], handler="json")
    theirs.save()

    ours = Repository(path, mode="a")
    assert ours.load_artifact("repository.aliases.json") == [1]
    assert ours.aliases("model") == {}
    with pytest.raises(VersionNotFoundError, match="no alias 'production'"):
        ours.alias_history("model", "production")
    before = snapshot_tree(tmp_path)
    plan = ours.prune(keep_last=1, dry_run=True)
    assert [(v.name, v.version) for v in plan.versions] == [("model", 0)]
    assert snapshot_tree(tmp_path) == before
    with pytest.raises(InvalidNameError, match=r"repository\.aliases\.json"):
        ours.set_alias("model", "production", 1)
    after = {k: v for k, v in snapshot_tree(tmp_path).items() if not k.endswith(".lock")}
    assert after == before  # only the (empty) lock file of the refused write is new
    assert ours.load_artifact("repository.aliases.json") == [1]
