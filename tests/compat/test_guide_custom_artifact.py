"""lazyscribe's "Write a custom artifact handler" guide, run with only the import changed.

The guide's ``TextArtifact`` subclasses ``archivist.artifacts.base.Artifact`` (the guide's
``lazyscribe.artifacts.base.Artifact``) and is found by subclass scanning: importing the
class is enough. (The guide's ``construct`` lacks a comma before ``**kwargs``; it is added.)
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar

import lazyscribe.artifacts.base
import pytest
from attrs import define
from slugify import slugify

from archivist.artifacts.base import Artifact


@define(auto_attribs=True)
class TextArtifact(Artifact):
    """Handler for Text artifacts."""

    alias: ClassVar[str] = "text"
    suffix: ClassVar[str] = "txt"
    binary: ClassVar[bool] = False
    output_only: ClassVar[bool] = False

    @classmethod
    def construct(
        cls,
        name: str,
        value: Any = None,
        fname: str | None = None,
        created_at: datetime | None = None,
        writer_kwargs: dict | None = None,  # type: ignore[type-arg]
        version: int | None = None,
        **kwargs: Any,
    ) -> TextArtifact:
        """Construct the handler class."""
        created_at = created_at or datetime.now(timezone.utc)  # noqa: UP017 - the guide's code
        return cls(
            name=name,
            value=value,
            writer_kwargs=writer_kwargs or {},
            version=version,
            fname=fname
            or f"{slugify(name)}-{slugify(created_at.strftime('%Y%m%d%H%M%S'))}.{cls.suffix}",
            created_at=created_at,
            expiry=kwargs.get("expiry"),
            dirty=kwargs.get("dirty", True),
        )

    @classmethod
    def read(cls, buf: Any, **kwargs: Any) -> Any:
        """Read in the artifact."""
        return buf.read()

    @classmethod
    def write(cls, obj: Any, buf: Any, **kwargs: Any) -> None:
        """Write the content to a Text file."""
        buf.write(obj)


@define(auto_attribs=True)
class ReportArtifact(lazyscribe.artifacts.base.Artifact):  # type: ignore[misc]
    """A handler written against lazyscribe itself, output only (an HTML rendering)."""

    alias: ClassVar[str] = "html-report"
    suffix: ClassVar[str] = "html"
    binary: ClassVar[bool] = False
    output_only: ClassVar[bool] = True

    @classmethod
    def construct(cls, name: str, value: Any = None, **kwargs: Any) -> ReportArtifact:
        created_at = kwargs.get("created_at") or datetime.now(timezone.utc)  # noqa: UP017
        return cls(
            name=name,
            value=value,
            fname=kwargs.get("fname") or f"{name}.html",
            writer_kwargs=kwargs.get("writer_kwargs") or {},
            created_at=created_at,
            expiry=kwargs.get("expiry"),
            version=kwargs.get("version", 0),
            dirty=kwargs.get("dirty", True),
        )

    @classmethod
    def read(cls, buf: Any, **kwargs: Any) -> Any:
        return buf.read()

    @classmethod
    def write(cls, obj: Any, buf: Any, **kwargs: Any) -> None:
        buf.write(f"<pre>{obj}</pre>")


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_subclass_scanning_in_an_experiment() -> None:
    from archivist import Project

    project = Project("project.json", mode="w")

    with project.log("notes") as exp:
        exp.log_artifact(name="readme", value="hello, archivist", handler="text")
    project.save()

    assert Project("project.json", mode="r")["notes"].load_artifact("readme") == (
        "hello, archivist"
    )


def test_subclass_scanning_in_a_repository() -> None:
    from archivist import Repository

    repository = Repository("repository.json", mode="w")
    repository.log_artifact(name="readme", value="hello", handler="text", fname="docs/readme.txt")
    repository.save()

    reader = Repository("repository.json", mode="r")
    assert reader.load_artifact("readme") == "hello"
    artifact = reader["readme"]
    assert isinstance(artifact, TextArtifact)
    assert (artifact.name, artifact.fname, artifact.version, artifact.value) == (
        "readme",
        "docs/readme.txt",
        0,
        None,
    )
    assert Path("readme/docs/readme.txt").read_text() == "hello"
    assert json.loads(Path("repository.json").read_text())[0]["handler"] == "text"


def test_output_only_artifacts_warn_as_in_lazyscribe() -> None:
    from archivist import Repository

    repository = Repository("repository.json", mode="w")
    with pytest.warns(UserWarning, match="not meant to be read back"):
        repository.log_artifact(name="report", value="auc=0.8", handler="html-report")
    with pytest.warns(UserWarning, match="not meant to be read back"):
        repository.save()
    (artifact,) = repository.artifacts
    assert artifact.fname.endswith(".html") and not artifact.dirty
    assert Path("report", artifact.fname).read_text() == "<pre>auc=0.8</pre>"
    with pytest.warns(UserWarning, match="not the original Python Object") as caught:
        assert Repository("repository.json", mode="r").load_artifact("report") == (
            "<pre>auc=0.8</pre>"
        )
    assert caught[0].filename == __file__  # attributed to the caller, as lazyscribe does
    assert isinstance(Repository("repository.json", mode="r")["report"], ReportArtifact)
