"""The user guide's examples run: docs/versioning-artifacts.md, and the seed guide it follows.

Each guide's Python blocks run in order, in one namespace, in an empty folder. A ``toml``
block is written to ``pyproject.toml`` and the repositories it lists are created (the guide
shows them as a folder tree). The placeholder ``version="YYYY-MM-DDTHH:MM:SS"`` is replaced
with a real creation time: version 0's exact time, or the newest version's second for
``match="asof"``.
"""

from __future__ import annotations

import os
import re
import time
import tomllib
from pathlib import Path

import pytest

from archivist import Repository

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```(python|toml)\n(.*?)```", re.DOTALL)
PLACEHOLDER = '"YYYY-MM-DDTHH:MM:SS"'
#: The seed guide as the project received it, kept in git so that a fresh clone checks it.
SEED_GUIDE_COPY = ROOT / "tests" / "data" / "seed-guide.md"
#: Where the shared seed guide may sit beside a checkout (checked against the copy).
SHARED_SEED_GUIDES = [
    ROOT.parent / "shared" / "seed-guide.md",
    Path(os.environ.get("ARCHIVIST_SEED_GUIDE", "/work/shared/seed-guide.md")),
]


def blocks(path: Path) -> list[tuple[str, str]]:
    return [(kind, code) for kind, code in BLOCK.findall(path.read_text(encoding="utf-8"))]


def substitute_times(code: str) -> str:
    lines = []
    for line in code.splitlines():
        if PLACEHOLDER in line:
            helper = "_asof_second()" if 'match="asof"' in line else "_exact_first()"
            line = line.replace(PLACEHOLDER, helper)
        lines.append(line)
    return "\n".join(lines) + "\n"


def _exact_first() -> str:
    record = Repository("repository.json", mode="r").get_artifact_metadata("features", version=0)
    return str(record["created_at"])


def _asof_second() -> str:
    record = Repository("repository.json", mode="r").get_artifact_metadata("features")
    return str(record["created_at"])[:19]


def prepare_toml(text: str) -> None:
    Path("pyproject.toml").write_text(text, encoding="utf-8")
    config = tomllib.loads(text)["tool"]
    table = config.get("archivist") or config["lazyscribe"]
    for path in table["repositories"]:
        repository = Repository(path, mode="w")
        repository.log_artifact(name="model", value={"trained": True}, handler="json")
        repository.save()


def run_guide(path: Path) -> dict[str, object]:
    namespace: dict[str, object] = {"_exact_first": _exact_first, "_asof_second": _asof_second}
    found = blocks(path)
    assert any(kind == "python" for kind, _ in found), f"{path} has no Python examples"
    for index, (kind, code) in enumerate(found):
        if kind == "toml":
            prepare_toml(code)
            continue
        if "promote_artifact" in code:
            # A project keeps times to the second (lazyscribe's format), and a promotion
            # needs an artifact newer than the repository's latest version: a reader takes
            # more than a second between the examples, the test waits as long.
            time.sleep(1.05)
        exec(compile(substitute_times(code), f"{path.name} block {index}", "exec"), namespace)
    return namespace


def check_outcome(namespace: dict[str, object]) -> None:
    assert namespace["newest"] == [0, 1, 2, 3]
    assert namespace["oldest"] == [0, 1, 2]
    assert namespace["on_this_date"] == [0, 1, 2]
    assert namespace["as_of"] == [0, 1, 2, 3]
    filtered = namespace["filtered_repo_"]
    assert isinstance(filtered, Repository)
    assert filtered.mode == "r"
    names = [record["name"] for record in filtered]
    assert len(names) == len(set(names))
    for model in ("model-1", "model-2"):
        text = Path("src", model, "releases.json").read_text()
        assert '"tag": "v1.0.0"' in text


def test_docs_guide_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    check_outcome(run_guide(ROOT / "docs" / "versioning-artifacts.md"))


def test_seed_guide_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    check_outcome(run_guide(SEED_GUIDE_COPY))


def test_the_seed_guide_copy_is_the_shared_guide() -> None:
    """Where the shared guide sits beside the checkout, the copy in git has not drifted."""
    shared = [path for path in SHARED_SEED_GUIDES if path.is_file()]
    for path in shared:
        assert path.read_text(encoding="utf-8") == SEED_GUIDE_COPY.read_text(encoding="utf-8")


def test_docs_guide_carries_every_seed_example() -> None:
    """Each Python statement of the seed guide appears in our guide (placeholders included)."""
    ours = (ROOT / "docs" / "versioning-artifacts.md").read_text(encoding="utf-8")
    for kind, code in blocks(SEED_GUIDE_COPY):
        for line in code.splitlines():
            if line.strip():
                assert line.strip() in ours, f"the guide lacks the seed example line {line!r}"
        assert kind != "toml" or code in ours


def test_migration_guide_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run_guide(ROOT / "docs" / "migrating-from-lazyscribe.md")
