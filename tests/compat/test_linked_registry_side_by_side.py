"""lazyscribe.linked and lazyscribe.registry beside archivist's: same results for the same calls."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import lazyscribe.linked
import lazyscribe.registry
import pytest

import archivist.linked
import archivist.registry


class Keyed:
    """Compares by ``key`` only, so the order of equal keys shows which list a node came from."""

    def __init__(self, key: int, origin: str) -> None:
        self.key, self.origin = key, origin

    def __lt__(self, other: Keyed) -> bool:
        return self.key < other.key

    def __repr__(self) -> str:
        return f"{self.key}{self.origin}"


def merged(module: ModuleType, left: list[int], right: list[int]) -> list[str]:
    one = module.LinkedList.from_list([Keyed(k, "L") for k in left]).head
    two = module.LinkedList.from_list([Keyed(k, "R") for k in right]).head
    head = module.merge(one, two)
    return [] if head is None else [repr(item) for item in head.to_list()]


@pytest.mark.parametrize(
    ("left", "right"),
    [([1, 3, 5], [2, 3, 4]), ([2, 2], [2]), ([], [1, 2]), ([3, 1], []), ([5], [1, 5, 9])],
)
def test_merge_matches_lazyscribe_including_ties(left: list[int], right: list[int]) -> None:
    expected = merged(lazyscribe.linked, left, right)
    assert merged(archivist.linked, left, right) == expected


def test_a_tie_puts_the_second_list_s_node_first() -> None:
    assert merged(archivist.linked, [2, 2], [2]) == ["2R", "2L", "2L"]
    assert merged(archivist.linked, [5], [1, 5, 9]) == ["1R", "5R", "5L", "9R"]


def test_from_list_sorts_and_append_extends() -> None:
    for module in (lazyscribe.linked, archivist.linked):
        linked = module.LinkedList.from_list([3, 1, 2])
        linked.append(0)
        assert linked.head.to_list() == [1, 2, 3, 0]
        assert module.LinkedList().head is None


class FakeProject:
    def __init__(self, fpath: Path) -> None:
        self.fpath = fpath


def registry_answers(module: ModuleType) -> list[Any]:
    registry = module.Registry()
    first, second = FakeProject(Path("a.json")), FakeProject(Path("b.json"))
    registry.add_project("first", first)
    registry.add_project("second", second)
    registry.add_project("again", FakeProject(Path("a.json")))
    answers: list[Any] = [
        registry.search(Path("a.json")),  # the first name added wins
        registry.search(Path("missing.json")),
        registry["second"] is second,
        "first" in registry,
        "nobody" in registry,
    ]
    with pytest.raises(KeyError) as info:
        registry["nobody"]
    answers.append(str(info.value))
    return answers


def test_registry_matches_lazyscribe() -> None:
    assert registry_answers(archivist.registry) == registry_answers(lazyscribe.registry)
    assert registry_answers(archivist.registry)[:2] == ["first", None]
