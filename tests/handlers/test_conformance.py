"""The built-in json and pickle handlers keep the handler contract (archivist.testing)."""

from __future__ import annotations

import datetime
import pickle
import threading
from typing import Any, ClassVar

from archivist.handlers import JSONHandler, PickleHandler
from archivist.testing import HandlerConformanceTests, LegacyVersion


class TestJSONHandler(HandlerConformanceTests):
    handler_class = JSONHandler
    sample_values = ([0, 1, 2], {"features": ["a", "b"], "score": 0.5, "none": None}, "text é")
    writer_kwargs: ClassVar[dict[str, Any]] = {"indent": 4}
    reader_kwargs: ClassVar[dict[str, Any]] = {"parse_float": float}
    unsupported_values = (object(), {1, 2})

    def legacy_versions(self) -> list[LegacyVersion]:
        # lazyscribe 2.x writes json.dump output and records no handler metadata.
        return [LegacyVersion(content=b"[0, 1, 2]", expected=[0, 1, 2])]


class _Point:
    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Point) and (self.x, self.y) == (other.x, other.y)

    def __hash__(self) -> int:
        return hash((self.x, self.y))


class TestPickleHandler(HandlerConformanceTests):
    handler_class = PickleHandler
    sample_values = (
        {"a": (1, 2), "b": {3, 4}},
        _Point(1, 2),
        datetime.datetime(2026, 1, 31, 12, 0),
        b"\x00\xff",
    )
    writer_kwargs: ClassVar[dict[str, Any]] = {"protocol": 2}
    reader_kwargs: ClassVar[dict[str, Any]] = {"encoding": "ASCII"}
    unsupported_values = (lambda: None, threading.Lock())

    def legacy_versions(self) -> list[LegacyVersion]:
        value: Any = {"model": [1.0, 2.0]}
        content = pickle.dumps(value, protocol=4)
        return [
            # What lazyscribe 2.x wrote under this Python: loads silently.
            LegacyVersion(content, value, {"python_version": self._python()}),
            # A pickle written under another Python minor version is flagged.
            LegacyVersion(content, value, {"python_version": "2.7"}, mismatch=True),
        ]

    @staticmethod
    def _python() -> str:
        return PickleHandler().environment()["python_version"]
