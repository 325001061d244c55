"""The alias file's format: moves of aliases, parsed strictly and written one per line.

The file is an append-only list of moves::

    {"format": 1, "moves": [
        {"id": "...", "name": "model", "alias": "production", "from": null, "to": 0,
         "at": "2026-03-01T09:00:00.000000"},
        ...
    ]}

An alias's current version is its last move; its version at a time is the last move made
at or before that time (:func:`resolve`). The repository's alias calls live in
:mod:`archivist._lifecycle.aliases`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from archivist._formats.names import check_stored_name
from archivist._formats.records import format_time, parse_stored_time
from archivist._formats.strict_json import load_json
from archivist.errors import (
    InvalidNameError,
    ManifestError,
    VersionNotFoundError,
)

__all__ = [
    "ALIAS_FORMAT",
    "SET_ALIAS_ADVICE",
    "AliasMove",
    "check_alias",
    "current_targets",
    "parse_alias_file",
    "resolve",
    "serialize_alias_file",
]

#: The alias file's format number; another format is refused rather than misread.
ALIAS_FORMAT = 1
_ALIAS = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,99}")
_RESERVED = frozenset({"latest"})
_ONE_MICROSECOND = timedelta(microseconds=1)


def check_alias(alias: object) -> str:
    """Validate an alias name.

    An alias starts with a letter and holds only letters, digits, ``_``, ``.`` and ``-``
    (at most 100 characters), so ``NAME@ALIAS`` never reads as a version number, a time,
    or a path. ``latest`` is reserved.

    Parameters
    ----------
    alias : object
        The alias to check.

    Returns
    -------
    str
        The alias, unchanged.

    Raises
    ------
    archivist.errors.InvalidNameError
        The alias breaks these rules.
    """
    if not isinstance(alias, str) or not _ALIAS.fullmatch(alias):
        raise InvalidNameError(
            f"alias {alias!r} is not valid: an alias starts with a letter and holds only "
            "letters, digits, '_', '.' and '-' (no '@', no whitespace, at most 100 "
            "characters), for example 'production'"
        )
    if alias in _RESERVED:
        raise InvalidNameError(f"alias {alias!r} is reserved; choose another name")
    return alias


@dataclass(frozen=True)
class AliasMove:
    """One move of an alias: from which version to which, and when.

    Attributes
    ----------
    name : str
        The artifact name.
    alias : str
        The alias.
    when : datetime.datetime
        When the move was committed, naive UTC.
    from_version : int or None
        The version the alias named before (``None`` for its first move).
    to_version : int or None
        The version it names from then on (``None``: the alias was removed).
    id : str
        A random id, unique per move (lets a retried append recognise its own move).
    """

    name: str
    alias: str
    when: datetime
    from_version: int | None
    to_version: int | None
    id: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "id": self.id,
            "name": self.name,
            "alias": self.alias,
            "from": self.from_version,
            "to": self.to_version,
            "at": format_time(self.when),
        }

    @classmethod
    def from_dict(cls, data: object, label: str) -> AliasMove:
        """Parse the JSON form of one move, refusing anything malformed."""
        if not isinstance(data, dict):
            raise ManifestError(f"{label} is not an object")
        name, alias = data.get("name"), data.get("alias")
        to, previous = data.get("to"), data.get("from")
        if not isinstance(name, str) or not isinstance(alias, str):
            raise ManifestError(f"{label} lacks a name or an alias")
        try:  # the rules manifest records follow, and the rule for new aliases
            check_stored_name(name, "artifact name")
            check_alias(alias)
        except InvalidNameError as exc:
            raise ManifestError(f"{label}: {exc}") from None
        if not all(value is None or _is_version(value) for value in (to, previous)):
            raise ManifestError(f"{label}: 'to' and 'from' must be version numbers")
        move_id = data.get("id", "")
        if not isinstance(move_id, str):
            raise ManifestError(f"{label}: id must be a string")
        when = parse_stored_time(data.get("at"), f"{label}: at")
        return cls(name, alias, when, previous, to, move_id)


def _is_version(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def parse_alias_file(data: bytes | str, location: str = "the alias file") -> list[AliasMove]:
    """Parse and validate an alias file.

    Parameters
    ----------
    data : bytes or str
        Its JSON text.
    location : str, optional
        Where it was read from, for error messages.

    Returns
    -------
    list[AliasMove]
        The moves, oldest first.

    Raises
    ------
    archivist.errors.ManifestError
        The text is not an alias file of a known format: not valid JSON (or an object with
        a key twice, as manifests refuse), or a move whose artifact name breaks the rules of
        manifest records or whose alias is not a valid alias.
    """
    document = load_json(data, location)
    if not isinstance(document, dict) or document.get("format") != ALIAS_FORMAT:
        raise ManifestError(
            f"{location} is not an alias file of format {ALIAS_FORMAT}; a newer archivist "
            "may have written it"
        )
    moves = document.get("moves")
    if not isinstance(moves, list):
        raise ManifestError(f"{location} holds no list of moves")
    return [AliasMove.from_dict(item, f"{location}: move #{i}") for i, item in enumerate(moves)]


def serialize_alias_file(moves: Sequence[AliasMove]) -> bytes:
    """Serialize moves to an alias file: one move per line, oldest first.

    Parameters
    ----------
    moves : Sequence[AliasMove]
        The moves.

    Returns
    -------
    bytes
        UTF-8 JSON.
    """
    lines = [json.dumps(move.to_dict(), sort_keys=True) for move in moves]
    body = ",\n".join(lines)
    return (
        f'{{"format": {ALIAS_FORMAT}, "moves": [' + (f"\n{body}\n" if lines else "") + "]}\n"
    ).encode("utf-8")


#: How to set an alias, in Python: the command line says it in its own words.
SET_ALIAS_ADVICE = "Set one with set_alias(name, alias, version)."


def current_targets(moves: Sequence[AliasMove]) -> dict[tuple[str, str], int]:
    """Return ``{(name, alias): version}`` after every move (removed aliases left out)."""
    targets: dict[tuple[str, str], int | None] = {}
    for move in moves:
        targets[(move.name, move.alias)] = move.to_version
    return {key: version for key, version in targets.items() if version is not None}


def resolve(moves: Sequence[AliasMove], name: str, alias: str, at: datetime | None) -> int:
    """Return the version ``alias`` of ``name`` names now (``at=None``) or at time ``at``.

    Parameters
    ----------
    moves : Sequence[AliasMove]
        The alias file's moves, oldest first.
    name, alias : str
        The artifact name and alias.
    at : datetime.datetime or None
        Naive UTC time, or ``None`` for now.

    Returns
    -------
    int
        The version number.

    Raises
    ------
    archivist.errors.VersionNotFoundError
        The alias does not exist (or did not yet exist at ``at``).
    """
    history = [m for m in moves if m.name == name and m.alias == alias]
    if not history:
        current = sorted(a for (n, a) in current_targets(moves) if n == name)
        removed = sorted({m.alias for m in moves if m.name == name} - set(current))
        raise VersionNotFoundError(
            f"{name!r} has no alias {alias!r}; its aliases are "
            + (", ".join(repr(a) for a in current) if current else "none")
            + (f" (removed: {', '.join(repr(a) for a in removed)})" if removed else "")
            + ". "
            + SET_ALIAS_ADVICE
        )
    before = history if at is None else [m for m in history if m.when <= at]
    if not before and at is not None:
        raise VersionNotFoundError(
            f"alias {alias!r} of {name!r} did not exist at {format_time(at)}; it was first "
            f"set at {format_time(history[0].when)}"
        )
    version = before[-1].to_version
    if version is None:
        when = "now" if at is None else f"at {format_time(at)}"
        raise VersionNotFoundError(
            f"alias {alias!r} of {name!r} names no version {when}: it was removed at "
            f"{format_time(before[-1].when)}"
        )
    return version
