"""Aliases with history: the repository's alias calls (the file's format: ``_formats.aliases``).

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

from datetime import datetime
from typing import TYPE_CHECKING

from archivist._formats.aliases import (
    ALIAS_FORMAT,
    AliasMove,
    check_alias,
    current_targets,
    parse_alias_file,
    resolve,
    serialize_alias_file,
)
from archivist._formats.versions import parse_time
from archivist.errors import (
    ArtifactNotFoundError,
    PinnedVersionError,
    UnsavedChangesError,
    UnsupportedOperationError,
    VersionNotFoundError,
)
from archivist.manifest import format_time, utcnow

if TYPE_CHECKING:
    from archivist._commit.session import Session
    from archivist.stores import AbstractRepositoryStore
    from archivist.stores._aliases import AliasStore

__all__ = [
    "ALIAS_FORMAT",
    "AliasMove",
    "check_alias",
    "parse_alias_file",
    "serialize_alias_file",
]

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


def set_alias(
    store: AbstractRepositoryStore, session: Session, name: str, alias: str, version: object
) -> AliasMove:
    """Point an alias at a saved, unexpired version and commit the move at once.

    See :meth:`archivist.Repository.set_alias`.
    """
    session.require_writable()
    check_alias(alias)
    if session.fresh:
        raise UnsavedChangesError(
            f"{store.location} is open in mode 'w' and not saved yet: its first save "
            "replaces the manifest. save() before setting an alias"
        )
    session.refresh(store)  # judge against what is committed now, not when the repository opened
    record = session.find(name, version, "exact")
    if session.is_pending(record):
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
    document = alias_store_for(store)
    move = document.move(name, alias, record.version)
    assert move is not None
    # A prune may have removed the version between the check above and the move. Prune
    # re-reads the aliases after its commit and puts back what they name; reading the
    # manifest after the move closes the other side: one of the two sees the other.
    present = {(r.name, r.fname) for r in store.read().records}
    if (name, record.fname) not in present:
        document.move(name, alias, move.from_version, undo=move)
        raise VersionNotFoundError(
            f"version {record.version} of {name!r} was removed (by a prune) while alias "
            f"{alias!r} was being set; the alias was not moved"
        )
    return move


def remove_alias(
    store: AbstractRepositoryStore, session: Session, name: str, alias: str
) -> AliasMove:
    """Remove an alias (its history is kept); see :meth:`archivist.Repository.remove_alias`."""
    session.require_writable()
    check_alias(alias)
    document = alias_store_for(store)
    resolve(document.moves(), name, alias, None)  # raises when there is no such alias
    move = document.move(name, alias, None)
    assert move is not None
    return move


def aliases(store: AbstractRepositoryStore, session: Session, name: str) -> dict[str, int]:
    """Return ``{alias: version}`` of an artifact; see :meth:`archivist.Repository.aliases`."""
    moves = alias_store_for(store).moves()
    if name not in session.index() and not any(m.name == name for m in moves):
        session.find(name, None, "exact")  # raises the descriptive error
    return {
        alias: version
        for (owner, alias), version in sorted(current_targets(moves).items())
        if owner == name
    }


def alias_history(store: AbstractRepositoryStore, name: str, alias: str) -> list[AliasMove]:
    """Return an alias's moves, oldest first; see :meth:`archivist.Repository.alias_history`."""
    history = [m for m in alias_store_for(store).moves() if m.name == name and m.alias == alias]
    if not history:
        raise VersionNotFoundError(
            f"{name!r} has no alias {alias!r} in {store.location}, now or before"
        )
    return history


def aliased_version(
    store: AbstractRepositoryStore, name: str, alias: str, as_of: datetime | str | None
) -> int:
    """Return the version number an alias names now, or at time ``as_of``.

    ``as_of`` is taken to its precision, as version times are: ``"2026-03-01"`` means by
    the end of that day.
    """
    check_alias(alias)
    at = None
    if as_of is not None:
        at = parse_time(as_of, "as_of").last
    return resolve(alias_store_for(store).moves(), name, alias, at)


def pinned_by_aliases(store: AbstractRepositoryStore) -> set[tuple[str, int]]:
    """Return the ``(name, version)`` pairs that an alias names now.

    A store that keeps no alias document (``aliases()`` is ``None``) cannot hold an alias,
    so nothing is pinned by one.
    """
    aliases = store.aliases()
    if aliases is None:
        return set()
    return {(name, version) for (name, _), version in current_targets(aliases.moves()).items()}


def refuse_if_aliased(store: AbstractRepositoryStore, name: str, version: int) -> None:
    """Refuse to expire a version an alias names (``set_artifact_expiry`` calls this)."""
    aliases = store.aliases()
    if aliases is None:
        return  # a store without an alias document holds no alias
    moves = aliases.moves()
    named = sorted(a for (n, a), v in current_targets(moves).items() if (n, v) == (name, version))
    if named:
        raise PinnedVersionError(
            f"version {version} of {name!r} is named by alias(es) {', '.join(named)}; move "
            "or remove the alias(es) before expiring it"
        )
