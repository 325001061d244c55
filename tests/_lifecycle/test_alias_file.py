"""The alias file's parser, attacked with Hypothesis: it yields valid moves or refuses.

Whatever bytes sit in ``repository.aliases.json`` (written by another process, forged, or
damaged), parsing gives moves whose artifact names obey the rule of manifest records and
whose aliases obey the alias rule, or raises ``ManifestError``; no other exception, and no
name that could lead a path out of the repository folder.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from archivist._formats.names import check_stored_name
from archivist._io.paths import path_under
from archivist._lifecycle.aliases import (
    AliasMove,
    check_alias,
    parse_alias_file,
    serialize_alias_file,
)
from archivist.errors import InvalidNameError, ManifestError

_VALID_NAMES = st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True)
_NAMES = st.one_of(  # mostly valid, so that whole files parse often enough to be checked
    _VALID_NAMES,
    _VALID_NAMES,
    _VALID_NAMES,
    st.sampled_from(["..", ".", "", "/", "a/b", "/abs", "..\\x", "C:x", "x\x00y", " ", "\ud800"]),
    st.text(max_size=12),
)
_VALID_ALIASES = st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,20}", fullmatch=True)
_ALIASES = st.one_of(
    _VALID_ALIASES,
    _VALID_ALIASES,
    _VALID_ALIASES,
    st.sampled_from(["latest", "", "1", "a b", "..", "x" * 101]),
    st.text(max_size=12),
)
_VALID_VERSIONS = st.none() | st.integers(min_value=0, max_value=10**30)
_VERSIONS = st.one_of(
    _VALID_VERSIONS,
    _VALID_VERSIONS,
    _VALID_VERSIONS,
    st.integers(min_value=-3, max_value=-1),
    st.booleans(),
    st.floats(allow_nan=False),
    st.text(max_size=3),
)
_VALID_TIMES = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda value: value.isoformat()
)
_TIMES = st.one_of(
    _VALID_TIMES,
    _VALID_TIMES,
    _VALID_TIMES,
    st.sampled_from(["", "not a time", "9999-12-31T23:59:59.999999", "2026-13-01T00:00:00"]),
    st.integers(),
)


@st.composite
def _move(draw: st.DrawFn) -> dict[str, Any]:
    move: dict[str, Any] = {
        "name": draw(_NAMES),
        "alias": draw(_ALIASES),
        "from": draw(_VERSIONS),
        "to": draw(_VERSIONS),
        "at": draw(_TIMES),
        "id": draw(st.one_of(st.text(max_size=8), st.text(max_size=8), st.integers())),
    }
    for key in draw(st.sets(st.sampled_from(sorted(move)), max_size=1)):
        del move[key]
    return move


@st.composite
def _mutated(draw: st.DrawFn) -> dict[str, Any]:
    """A valid alias file, then at most one field of one move replaced by anything."""
    moves = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "name": _VALID_NAMES,
                    "alias": _VALID_ALIASES.filter(lambda alias: alias != "latest"),
                    "from": _VALID_VERSIONS,
                    "to": _VALID_VERSIONS,
                    "at": _VALID_TIMES,
                    "id": st.text(alphabet="0123456789abcdef", max_size=16),
                }
            ),
            min_size=1,
            max_size=4,
        )
    )
    if draw(st.booleans()):
        move = draw(st.sampled_from(moves))
        field = draw(st.sampled_from(sorted(move)))
        move[field] = draw({"name": _NAMES, "alias": _ALIASES, "at": _TIMES}.get(field, _VERSIONS))
    return {"format": 1, "moves": moves}


_DOCUMENTS = st.one_of(
    _mutated(),
    _mutated(),
    st.fixed_dictionaries(
        {"format": st.sampled_from([1, 1, 1, 2, "1", None]), "moves": st.lists(_move(), max_size=4)}
    ),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=8,
    ),
)


@settings(max_examples=400, deadline=None)
@given(document=_DOCUMENTS)
def test_any_alias_file_parses_into_valid_moves_or_is_refused(document: Any) -> None:
    text = json.dumps(document)
    try:
        moves = parse_alias_file(text, "repository.aliases.json")
    except ManifestError:
        event("refused")
        return
    event("parsed, with moves" if moves else "parsed, empty")
    for move in moves:
        assert check_stored_name(move.name, "artifact name") == move.name
        assert check_alias(move.alias) == move.alias
        # a parsed name always stays inside the repository folder
        assert path_under("bucket/team", move.name).startswith("bucket/team/")
        for version in (move.from_version, move.to_version):
            assert version is None or (type(version) is int and version >= 0)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=64) | st.text(max_size=64))
def test_any_bytes_parse_or_are_refused_with_a_manifest_error(data: bytes | str) -> None:
    with contextlib.suppress(ManifestError):  # any other exception fails the test
        parse_alias_file(data, "repository.aliases.json")


@settings(max_examples=200, deadline=None)
@given(
    moves=st.lists(
        st.builds(
            AliasMove,
            name=st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True),
            alias=st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,20}", fullmatch=True).filter(
                lambda alias: alias != "latest"
            ),
            when=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
            from_version=st.none() | st.integers(min_value=0, max_value=10**6),
            to_version=st.none() | st.integers(min_value=0, max_value=10**6),
            id=st.text(alphabet="0123456789abcdef", max_size=16),
        ),
        max_size=5,
    )
)
def test_written_alias_files_read_back_the_same(moves: list[AliasMove]) -> None:
    assert parse_alias_file(serialize_alias_file(moves)) == moves


def test_a_repeated_key_is_refused() -> None:
    text = '{"format": 1, "format": 1, "moves": []}'
    with pytest.raises(ManifestError):
        parse_alias_file(text)


def test_a_move_naming_a_path_outside_is_refused() -> None:
    for name in ("..", "/abs", "a/b", ""):
        move = {"name": name, "alias": "prod", "from": None, "to": 0, "at": "2026-01-01T00:00:00"}
        with pytest.raises(ManifestError):
            parse_alias_file(json.dumps({"format": 1, "moves": [move]}))
    with pytest.raises(InvalidNameError):
        path_under("bucket/team", "..")
