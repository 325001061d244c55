"""The docs are tested: every hook is documented, and the README's examples run."""

from __future__ import annotations

import inspect
import re
import subprocess
from pathlib import Path

import pytest

from archivist.plugin import spec

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"```python\n(.*?)```", re.DOTALL)


def test_every_hook_has_a_section() -> None:
    text = (ROOT / "docs" / "hooks.md").read_text()
    hooks = [name for name, _ in inspect.getmembers(spec, inspect.isfunction)]
    assert hooks, "no hookspecs found"
    for name in hooks:
        assert f"## `{name}`" in text, f"docs/hooks.md has no section for {name}"


def test_readme_opens_with_what_it_is_and_the_two_commands() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert lines[0] == "# archivist"
    first_screen = lines[:24]
    assert "## Quick start" in first_screen
    demo = first_screen.index(next(line for line in first_screen if "dev.py -s demo" in line))
    assert first_screen[demo - 1] == "```bash"
    assert first_screen[demo].startswith("python3 dev.py -s demo")
    assert first_screen[demo + 1].startswith("python3 dev.py -s tests")
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 dev.py -s tests" in ci


def test_readme_tour_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = FENCE.findall((ROOT / "README.md").read_text())
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


#: A Markdown link or image with a relative target: ``[text](target)``.
RELATIVE_LINK = re.compile(r"\]\((?!https?://|#|mailto:)(?P<target>[^)\s#]+)")


def tracked_files() -> set[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
    ).stdout
    return set(listed.split("\0")) - {""}


def test_the_readme_links_only_to_files_in_git() -> None:
    # a link to a file .gitignore excludes is dead on every clone
    tracked = tracked_files()
    targets = RELATIVE_LINK.findall((ROOT / "README.md").read_text())
    dead = [target for target in targets if target.rstrip("/") not in tracked]
    dead = [t for t in dead if not any(f.startswith(t.rstrip("/") + "/") for f in tracked)]
    assert not dead, f"README.md links to files not in git: {dead}"


def test_benchmark_results_can_be_kept_in_git() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "--quiet", "--no-index", "bench/results/2030-01-01.txt"],
        cwd=ROOT,
        check=False,
    )
    assert ignored.returncode == 1, ".gitignore excludes bench/results/"


def test_the_s3_install_command_pins_the_boto3_that_aiobotocore_accepts() -> None:
    # s3fs -> aiobotocore -> botocore pins; a boto3 past that botocore makes pip give up
    from importlib.metadata import requires

    pytest.importorskip("aiobotocore", reason="the S3 plugin's dependencies are not installed")
    [bound] = re.findall(r'"boto3<([\d.]+)"', (ROOT / "README.md").read_text())
    [botocore] = [r for r in requires("aiobotocore") or [] if re.match(r"botocore\b", r)]
    upper = re.search(r"<([\d.]+)", botocore)
    assert upper is not None and upper.group(1) == bound, (botocore, bound)


def test_the_readme_says_what_the_tests_download_and_how_long_they_take() -> None:
    text = " ".join((ROOT / "README.md").read_text().split())
    version = re.search(r'AZURITE_VERSION = "([\d.]+)"', (ROOT / "noxfile.py").read_text())
    assert version is not None
    assert f"from npm (`azurite@{version.group(1)}`" in text
    assert "from PyPI" in text
    assert re.search(r"took \d+ minutes", text)


def test_no_file_keeps_a_merge_conflict() -> None:
    # A conflict left in a doc renders as a table split by "<<<<<<< HEAD" and passes mkdocs.
    marker = re.compile(r"^(<{7} |>{7} |={7}$)", re.MULTILINE)
    folders = ("docs", "src", "tests", "plugins", "bench", ".ci")
    files = [ROOT / "README.md", ROOT / "pyproject.toml", ROOT / "noxfile.py"]
    files += [p for folder in folders for p in (ROOT / folder).rglob("*") if p.is_file()]
    text_files = [p for p in files if p.suffix in {".md", ".py", ".toml", ".txt", ".yml", ""}]
    assert len(text_files) > 100
    conflicted = [
        str(p.relative_to(ROOT))
        for p in text_files
        if "__pycache__" not in p.parts and marker.search(p.read_text(errors="replace"))
    ]
    assert conflicted == []
