"""The documentation site as a reader sees it: built strictly, with nothing left unrendered.

``mkdocs build --strict`` passes on pages that still show markup the renderers did not
understand, so these tests build the site into a temporary folder and read its HTML. They
need the ``docs`` dependency group (``python3 dev.py -s docs`` runs them).
"""

from __future__ import annotations

import html
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from archivist import Project, Repository

pytest.importorskip("mkdocs", reason="needs the docs dependency group: python3 dev.py -s docs")

ROOT = Path(__file__).resolve().parents[1]
TAG = re.compile(r"<[^>]+>")
#: A Sphinx role as it shows when nothing renders it (``:class:`` followed by the name).
RAW_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|data|mod|exc|obj|const|ref):")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def visible_text(page: Path) -> str:
    """What a browser shows of ``page``: its text without tags, entities decoded."""
    return html.unescape(TAG.sub("", page.read_text(encoding="utf-8")))


def pages(site: Path) -> list[Path]:
    found = sorted(site.rglob("*.html"))
    assert any(p.parent.name == "api" for p in found) and any(
        p.parent.name == "cli-reference" for p in found
    )
    return found


def test_no_page_shows_an_unset_sentinel(site: Path) -> None:
    for page in pages(site):
        text = visible_text(page)
        assert "Sentinel" not in text and "UNSET" not in text, page


def test_no_page_shows_a_raw_sphinx_role(site: Path) -> None:
    for page in pages(site):
        shown = RAW_ROLE.findall(visible_text(page))
        assert not shown, f"{page.relative_to(site)} shows {len(shown)} raw roles"


def test_roles_become_links_to_the_reference(site: Path) -> None:
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    # Repository's docstring says :meth:`adopt` and :class:`~archivist.ArchivistWarning`
    assert re.search(
        r'<a [^>]*href="#archivist\.Repository\.adopt"><code>adopt\(\)</code></a>', api
    )
    assert re.search(
        r'<a [^>]*href="#[\w.]*ArchivistWarning"><code>ArchivistWarning</code></a>', api
    )


def rendered_default(api: str, owner: str, parameter: str) -> str:
    """The default the reference shows for ``parameter`` of the class ``owner``."""
    start = api.index(f'id="{owner}"')
    entry = re.compile(
        rf"<b><code>{parameter}</code></b>.*?default:\s*<code>(?P<default>.*?)</code>", re.DOTALL
    ).search(api, start)
    assert entry is not None, f"{owner}({parameter}) shows no default"
    return html.unescape(entry["default"]).strip("\"'")


@pytest.mark.parametrize(
    ("cls", "owner"), [(Repository, "archivist.Repository"), (Project, "archivist.Project")]
)
def test_the_mode_shown_is_the_real_default(site: Path, cls: type, owner: str) -> None:
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    real = inspect.signature(cls).parameters["mode"].default
    assert rendered_default(api, owner, "mode") == real
