"""Aliases with history: the alias file's format, and the repository's alias calls.

An alias (``production``, ``staging``) names one version of one artifact and can be moved.
Each repository keeps its aliases in a file of their own beside the manifest, named after
it (``repository.json`` -> ``repository.aliases.json``), so two repositories in one folder
never share one and lazyscribe, which knows nothing of it, still opens the repository. The
file is an append-only list of moves::

    {"format": 1, "moves": [
        {"id": "...", "name": "model", "alias": "production", "from": null, "to": 0,
         "at": "2026-03-01T09:00:00.000000"},
        ...
    ]}

The alias's current version is its last move; its version at a time is the last move made
at or before that time. The repository store owns the file (``store.aliases()``, an
:class:`~archivist.stores._aliases.AliasStore`), which appends moves with the
compare-and-swap every document uses, so concurrent moves from many processes never lose
one. Each move carries a random ``id``: after a refused retry, a re-read that holds the id
proves the earlier write landed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from archivist._json import load_json
from archivist._names import check_stored_name
from archivist._versions import parse_time
from archivist.errors import (
    ArtifactNotFoundError,
    InvalidNameError,
    ManifestError,
    PinnedVersionError,
    UnsavedChangesError,
    UnsupportedOperationError,
    VersionNotFoundError,
)
from archivist.manifest import format_time, parse_stored_time, utcnow

if TYPE_CHECKING:
    from archivist.repository import Repository
    from archivist.stores import AbstractRepositoryStore
    from archivist.stores._aliases import AliasStore

__all__ = [
    "ALIAS_FORMAT",
    "AliasMove",
    "check_alias",
    "parse_alias_file",
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
        known = sorted({m.alias for m in moves if m.name == name})
        raise VersionNotFoundError(
            f"{name!r} has no alias {alias!r}; its aliases are "
            + (", ".join(repr(a) for a in known) if known else "none")
            + ". Set one with set_alias(name, alias, version)."
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


# -- the repository's alias calls (Repository's methods are thin wrappers of these) -------------


def alias_store_for(store: AbstractRepositoryStore) -> AliasStore:
    """Return the alias document a repository store keeps (``store.aliases()``).

    Parameters
    ----------
    store : AbstractRepositoryStore
        The repository's store.

    Returns
    -------
    AliasStore
        For :class:`~archivist.stores.ManifestStore`, ``<manifest stem>.aliases.json`` on
        the manifest's backend.

    Raises
    ------
    archivist.errors.UnsupportedOperationError
        The store keeps no alias document.
    """
    aliases = store.aliases()
    if aliases is None:
        raise UnsupportedOperationError(
            f"aliases need a store that keeps an alias document; {store!r} keeps none "
            "(its aliases() returns None). Use a ManifestStore, or give the store an "
            "aliases() document."
        )
    return aliases


def set_alias(repository: Repository, name: str, alias: str, version: object) -> AliasMove:
    """Point an alias at a saved, unexpired version and commit the move at once.

    See :meth:`archivist.Repository.set_alias`.
    """
    repository._require_writable()
    check_alias(alias)
    if repository._fresh:
        raise UnsavedChangesError(
            f"{repository.location} is open in mode 'w' and not saved yet: its first save "
            "replaces the manifest. save() before setting an alias"
        )
    repository.refresh()  # judge against what is committed now, not when the repository opened
    record = repository._find(name, version, "exact")
    if repository._is_pending(record):
        raise ArtifactNotFoundError(
            f"version {record.version} of {name!r} is not saved yet; save() before aliasing it"
        )
    now = utcnow()
    if record.is_expired(now):
        raise VersionNotFoundError(
            f"version {record.version} of {name!r} expired at "
            f"{format_time(record.expiry or now)}; an alias must name a version that has not "
            "expired"
        )
    store = alias_store_for(repository.store)
    move = store.move(name, alias, record.version)
    assert move is not None
    # A prune may have removed the version between the check above and the move. Prune
    # re-reads the aliases after its commit and puts back what they name; reading the
    # manifest after the move closes the other side: one of the two sees the other.
    present = {(r.name, r.fname) for r in repository.store.read().records}
    if (name, record.fname) not in present:
        store.move(name, alias, move.from_version, undo=move)
        raise VersionNotFoundError(
            f"version {record.version} of {name!r} was removed (by a prune) while alias "
            f"{alias!r} was being set; the alias was not moved"
        )
    return move


def remove_alias(repository: Repository, name: str, alias: str) -> AliasMove:
    """Remove an alias (its history is kept); see :meth:`archivist.Repository.remove_alias`."""
    repository._require_writable()
    check_alias(alias)
    store = alias_store_for(repository.store)
    resolve(store.moves(), name, alias, None)  # raises when there is no such alias
    move = store.move(name, alias, None)
    assert move is not None
    return move


def aliases(repository: Repository, name: str) -> dict[str, int]:
    """Return ``{alias: version}`` of an artifact; see :meth:`archivist.Repository.aliases`."""
    moves = alias_store_for(repository.store).moves()
    if name not in repository._index() and not any(m.name == name for m in moves):
        repository._find(name, None, "exact")  # raises the descriptive error
    return {
        alias: version
        for (owner, alias), version in sorted(current_targets(moves).items())
        if owner == name
    }


def alias_history(repository: Repository, name: str, alias: str) -> list[AliasMove]:
    """Return an alias's moves, oldest first; see :meth:`archivist.Repository.alias_history`."""
    history = [
        m for m in alias_store_for(repository.store).moves() if m.name == name and m.alias == alias
    ]
    if not history:
        raise VersionNotFoundError(
            f"{name!r} has no alias {alias!r} in {repository.location}, now or before"
        )
    return history


def aliased_version(
    repository: Repository, name: str, alias: str, as_of: datetime | str | None
) -> int:
    """Return the version number an alias names now, or at time ``as_of``.

    ``as_of`` is taken to its precision, as version times are: ``"2026-03-01"`` means by
    the end of that day.
    """
    check_alias(alias)
    at = None
    if as_of is not None:
        at = parse_time(as_of, "as_of").last
    return resolve(alias_store_for(repository.store).moves(), name, alias, at)


def pinned_by_aliases(store: AbstractRepositoryStore) -> set[tuple[str, int]]:
    """Return the ``(name, version)`` pairs that an alias names now.

    A store that keeps no alias document (``aliases()`` is ``None``) cannot hold an alias,
    so nothing is pinned by one.
    """
    aliases = store.aliases()
    if aliases is None:
        return set()
    return {(name, version) for (name, _), version in current_targets(aliases.moves()).items()}


def refuse_if_aliased(repository: Repository, name: str, version: int) -> None:
    """Refuse to expire a version an alias names (``set_artifact_expiry`` calls this)."""
    aliases = repository.store.aliases()
    if aliases is None:
        return  # a store without an alias document holds no alias
    moves = aliases.moves()
    named = sorted(a for (n, a), v in current_targets(moves).items() if (n, v) == (name, version))
    if named:
        raise PinnedVersionError(
            f"version {version} of {name!r} is named by alias(es) {', '.join(named)}; move "
            "or remove the alias(es) before expiring it"
        )
