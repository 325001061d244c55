"""The alias file as a document: read its moves, and append one with compare-and-swap.

A repository's aliases live in ``<manifest stem>.aliases.json`` beside the manifest (its
format, :class:`~archivist._aliases.AliasMove` and the rules of an alias, are in
:mod:`archivist._aliases`). :class:`AliasStore` appends a move through
:func:`archivist.stores._documents.update`: concurrent moves from many processes never lose
one, and each move carries a random ``id`` by which a re-read after a refusal recognises a
move that landed though its answer was lost.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from archivist._aliases import AliasMove, parse_alias_file, serialize_alias_file
from archivist.manifest import utcnow
from archivist.stores._documents import FileDocument, update

if TYPE_CHECKING:
    from archivist.storage.base import Backend

__all__ = ["MAX_ALIAS_ATTEMPTS", "AliasStore"]

#: How many times moving an alias re-reads the alias file after losing a race.
MAX_ALIAS_ATTEMPTS = 64
_ONE_MICROSECOND = timedelta(microseconds=1)


class AliasStore:
    """A repository's alias file on a Backend: read it, and append moves atomically.

    Parameters
    ----------
    backend : Backend
        The backend holding the manifest.
    path : str
        The alias file's path in the backend's form (see
        :func:`archivist._aliases.alias_file_path`).
    location : str
        The path or URL, for messages.
    """

    def __init__(self, backend: Backend, path: str, location: str) -> None:
        self.backend = backend
        self.path = path
        self.location = location
        self.document: FileDocument[list[AliasMove]] = FileDocument(
            backend,
            path,
            location,
            parse=lambda data: parse_alias_file(data, location),
            serialize=serialize_alias_file,
            empty=list,
        )

    def __repr__(self) -> str:
        return f"AliasStore({self.location!r})"

    def read(self) -> tuple[list[AliasMove], str | None]:
        """Return the moves, oldest first, and the file's token (``None`` when absent)."""
        return self.document.read()

    def moves(self) -> list[AliasMove]:
        """Return every move, oldest first."""
        return self.read()[0]

    def move(
        self, name: str, alias: str, version: int | None, undo: AliasMove | None = None
    ) -> AliasMove | None:
        """Point ``alias`` of ``name`` at ``version``, appending the move atomically.

        Parameters
        ----------
        name : str
            The artifact name (checked by the caller).
        alias : str
            The alias (checked by the caller).
        version : int or None
            The version it names from now on (checked by the caller); ``None`` removes it.
        undo : AliasMove, optional
            Append only while ``undo`` is still the alias's last move (to take it back);
            when another move followed it, nothing is written.

        Returns
        -------
        AliasMove or None
            The move as stored; ``None`` when ``undo`` was given and is no longer last.

        Raises
        ------
        archivist.errors.ConflictError
            Other writers kept moving aliases; nothing was written.
        """
        move_id = secrets.token_hex(8)

        def append(moves: list[AliasMove]) -> list[AliasMove] | None:
            previous = [m for m in moves if m.name == name and m.alias == alias]
            if undo is not None and (not previous or previous[-1].id != undo.id):
                return None
            when = utcnow()
            if previous and when <= previous[-1].when:
                when = previous[-1].when + _ONE_MICROSECOND  # history stays in time order
            last = previous[-1].to_version if previous else None
            return [*moves, AliasMove(name, alias, when, last, version, move_id)]

        done = update(
            self.document,
            append,
            landed=lambda moves: any(m.id == move_id for m in moves),
            what=f"moving alias {alias!r} of {name!r}",
            attempts=MAX_ALIAS_ATTEMPTS,
        )
        return next((m for m in reversed(done.value) if m.id == move_id), None)
