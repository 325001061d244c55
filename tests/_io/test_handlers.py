"""archivist._io.handlers: one handler I/O path for repositories and experiments alike.

Each rule is tried through both paths (a repository's save/load, an experiment's), since
they used to disagree.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any, ClassVar

import pytest

import archivist
from archivist import Handler, Project, Repository
from archivist._io.handlers import MAX_SLUG_LENGTH, new_fname, read_value, slug, write_value
from archivist.artifacts import JSONArtifact
from archivist.errors import AlreadyExistsError, SerializationError

WHEN = datetime(2026, 1, 31, 12, 0, 0)


class ClashingMetadata(Handler):
    """A handler whose metadata names a record field."""

    alias, suffix, binary = "test-clashing-metadata", "json", False

    def write(self, value: Any, stream: IO[Any], **kwargs: Any) -> None:
        json.dump(value, stream)

    def read(self, stream: IO[Any], **kwargs: Any) -> Any:
        return json.load(stream)

    def metadata(self, value: Any) -> dict[str, Any]:
        return {"fname": "../../elsewhere.json", "rows": len(value)}


class Rendered(Handler):
    """An ``output_only`` handler: what is read back is not the value written."""

    alias, suffix, binary = "test-rendered", "txt", False
    output_only: ClassVar[bool] = True

    def write(self, value: Any, stream: IO[Any], **kwargs: Any) -> None:
        stream.write(repr(value))

    def read(self, stream: IO[Any], **kwargs: Any) -> Any:
        return stream.read()


@pytest.fixture
def handlers() -> Iterator[None]:
    for cls in (ClashingMetadata, Rendered):
        archivist.register(cls)
    try:
        yield
    finally:
        for cls in (ClashingMetadata, Rendered):
            archivist.unregister(cls)


def test_metadata_naming_a_record_field_is_refused_by_experiments_too(
    tmp_path: Path, handlers: None
) -> None:
    project = Project(tmp_path / "project.json", mode="w")
    with project.log("run") as exp:
        exp.log_artifact("rows", [1, 2], handler=ClashingMetadata.alias)
    with pytest.raises(SerializationError, match="fname"):
        project.save()
    assert not (tmp_path / "project.json").exists()


def test_metadata_naming_a_record_field_is_refused_by_repositories(
    tmp_path: Path, handlers: None
) -> None:
    repository = Repository(tmp_path / "repository.json", mode="w")
    repository.log_artifact("rows", [1, 2], handler=ClashingMetadata.alias)
    with pytest.raises(SerializationError, match="fname"):
        repository.save()
    assert not (tmp_path / "repository.json").exists()


def test_one_slug_names_files_of_repositories_and_experiments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "Café au lait's features"
    repository = Repository(tmp_path / "repository.json", mode="w")
    repository.log_artifact(name, [1], handler="json")
    project = Project(tmp_path / "project.json", mode="w")
    with project.log("run") as exp:
        exp.log_artifact(name, [1], handler="json")
    expected = "cafe-au-lait-s-features-"  # python-slugify's
    assert repository.records[0].fname.startswith(expected)
    assert exp.artifacts[0].fname.startswith(expected)
    assert JSONArtifact.construct(name, [1]).fname.startswith(expected)


def test_generated_names_cut_the_slug_everywhere(tmp_path: Path) -> None:
    name = "a" * 250
    assert len(new_fname(name, WHEN, "json")) < 150
    assert len(JSONArtifact.construct(name, [1], created_at=WHEN).fname) < 150
    project = Project(tmp_path / "project.json", mode="w")
    with project.log("run") as exp:
        exp.log_artifact(name, [1], handler="json")
    project.save()
    saved = Project(tmp_path / "project.json", mode="r")["run"]
    assert saved.load_artifact(name) == [1]
    assert saved.artifacts[0].fname.startswith("a" * MAX_SLUG_LENGTH + "-")


def test_experiment_names_whose_slugs_meet_in_one_second_both_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("archivist._tracking.tracked.utcnow", lambda: WHEN)
    project = Project(tmp_path / "project.json", mode="w")
    with project.log("run") as exp:
        exp.log_artifact("a b", [1], handler="json")
        exp.log_artifact("a-b", [2], handler="json")
    project.save()
    saved = Project(tmp_path / "project.json", mode="r")["run"]
    assert (saved.load_artifact("a b"), saved.load_artifact("a-b")) == ([1], [2])
    first, second = (a.fname for a in saved.artifacts)
    assert first == "a-b-20260131120000.json"  # lazyscribe's name, while it is free
    assert second != first and second.startswith("a-b-20260131120000-")


def test_experiment_never_overwrites_a_file_the_user_named(tmp_path: Path) -> None:
    project = Project(tmp_path / "project.json", mode="w")
    with project.log("run") as exp:
        exp.log_artifact("model", [1], handler="json", fname="model.json")
    project.save()
    editor = Project(tmp_path / "project.json", mode="w+")
    with pytest.raises(AlreadyExistsError, match="Omit fname"):
        editor["run"].log_artifact("model", [2], handler="json", fname="model.json", overwrite=True)
    editor["run"].log_artifact("model", [2], handler="json", overwrite=True)
    editor.save()
    assert Project(tmp_path / "project.json", mode="r")["run"].load_artifact("model") == [2]
    assert json.loads((tmp_path / exp.slug / "model.json").read_text()) == [1]


def test_experiment_write_refuses_a_stray_file_at_a_name_the_user_chose(tmp_path: Path) -> None:
    project = Project(tmp_path / "project.json", mode="w")
    with project.log("run") as exp:
        exp.log_artifact("model", [1], handler="json", fname="model.json")
    (tmp_path / exp.slug).mkdir()
    (tmp_path / exp.slug / "model.json").write_text("the user's own file")
    with pytest.raises(AlreadyExistsError, match=r"model\.json"):
        project.save()
    assert (tmp_path / exp.slug / "model.json").read_text() == "the user's own file"


def test_output_only_loads_warn_from_experiments_as_from_repositories(
    tmp_path: Path, handlers: None
) -> None:
    project = Project(tmp_path / "project.json", mode="w")
    with project.log("run") as exp, pytest.warns(UserWarning, match="not meant to be read"):
        exp.log_artifact("report", {"a": 1}, handler=Rendered.alias)
    project.save()
    saved = Project(tmp_path / "project.json", mode="r")["run"]
    with pytest.warns(UserWarning, match="not the original Python Object") as caught:
        assert saved.load_artifact("report") == "{'a': 1}"
    assert caught[0].filename == __file__


LATIN_NAMES = [
    "Café au lait's",
    'say "hi"',
    "1,000 rows",
    "straße",
    "Ørsted & Łódź",
    "x&amp;y",
    "x&#65;y",
    "½ cup",
    "it\u2019s",
    "a\u2013b",
    "naïve  ÜBER",
    "ﬁle_v2.final",
]


@pytest.mark.parametrize("name", LATIN_NAMES)
def test_slug_is_lazyscribe_s(name: str) -> None:
    from slugify import slugify

    assert slug(name) == slugify(name)


def test_experiments_are_slugged_as_lazyscribe_slugs_them(tmp_path: Path) -> None:
    import lazyscribe

    for name in LATIN_NAMES:
        ours = Project(tmp_path / "ours.json", mode="w").log(name)
        theirs = lazyscribe.Project(tmp_path / "theirs.json", mode="w").log(name)
        with ours as exp, theirs as other:
            assert exp.short_slug == other.short_slug


class NameReporter(Handler):
    """Reads and writes what the handler sees as its stream's ``name``."""

    alias, suffix, binary = "test-name-reporter", "bin", True

    def write(self, value: Any, stream: IO[Any], **kwargs: Any) -> None:
        stream.write(repr(getattr(stream, "name", "<none>")).encode())

    def read(self, stream: IO[Any], **kwargs: Any) -> Any:
        return getattr(stream, "name", "<none>"), stream.read()


def test_a_handler_never_sees_a_descriptor_number_as_a_name(tmp_path: Path) -> None:
    # an anonymous temporary file (a large verified read is spooled to one) is named by
    # its descriptor: onnx.load takes any name for a path, so the handler gets none
    with tempfile.TemporaryFile() as spool:
        assert isinstance(spool.name, int)
        spool.write(b"stored")
        spool.seek(0)
        assert read_value(NameReporter(), spool, {}, "test", "a value", "v") == (
            "<none>",
            b"stored",
        )
        spool.seek(0)
        write_value(NameReporter(), None, spool, {}, "test", "v")
        spool.seek(0)
        assert spool.read() == b"'<none>'"
    # a path name is kept, as lazyscribe's local files carry theirs
    path = tmp_path / "stored.bin"
    path.write_bytes(b"stored")
    with open(path, "rb") as named:
        assert read_value(NameReporter(), named, {}, "test", "a value", "v") == (
            str(path),
            b"stored",
        )
