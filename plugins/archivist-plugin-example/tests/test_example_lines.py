"""The example handler keeps the handler contract, and its options do what they say."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from archivist_plugin_example import LinesHandler

import archivist
from archivist import Repository, SerializationError
from archivist.testing import HandlerConformanceTests


class TestLinesConformance(HandlerConformanceTests):
    handler_class = LinesHandler
    sample_values = (["a", "an", "the"], [], ["", "  padded  ", "unicode é ✓", "tab\there"])
    writer_kwargs: ClassVar[dict[str, Any]] = {"end": "\r\n"}
    unsupported_values = ("not a list", ["two\nlines"], [1, 2])


def test_strip_option(tmp_path: Any) -> None:
    repository = Repository(tmp_path / "repository.json", mode="w")
    repository.log_artifact("words", [" a ", "b  "], handler="example-lines")
    repository.save()
    assert repository.load_artifact("words") == [" a ", "b  "]
    assert repository.load_artifact("words", strip=True) == ["a", "b"]


def test_text_files_diff_line_by_line(tmp_path: Any) -> None:
    repository = Repository(tmp_path / "repository.json", mode="w")
    repository.log_artifact("words", ["a", "b"], handler="example-lines")
    repository.save()
    repository.log_artifact("words", ["a", "c"], handler="example-lines")
    repository.save()
    diff = repository.get_version_diff("words", (0, 1))
    assert "-b" in diff
    assert "+c" in diff


def test_bad_line_ending_is_a_serialization_error(tmp_path: Any) -> None:
    repository = Repository(tmp_path / "repository.json", mode="w")
    repository.log_artifact("words", ["a"], handler="example-lines", end=";")
    with pytest.raises(SerializationError, match="end must be"):
        repository.save()


def test_registered_through_the_entry_point_alone() -> None:
    assert archivist.get_handler("example-lines") is LinesHandler
