"""The alias file as a document: read its moves, and append one with compare-and-swap.

A repository's aliases live in ``<manifest stem>.aliases.json`` beside the manifest (its
format, :class:`~archivist._lifecycle.aliases.AliasMove` and the rules of an alias, are in
:mod:`archivist._lifecycle.aliases`). :class:`AliasStore` appends a move through
:func:`archivist.stores._documents.update`: concurrent moves from many processes never lose
one, and each move carries a random ``id`` by which a re-read after a refusal recognises a
move that landed though its answer was lost.
"""

from __future__ import annotations

import functools
import posixpath
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from archivist._formats.aliases import AliasMove, parse_alias_file, serialize_alias_file
from archivist.errors import InvalidNameError, StorageError
from archivist.manifest import utcnow
from archivist.stores._documents import MAX_ATTEMPTS, FileDocument, update

if TYPE_CHECKING:
    from archivist._backends.base import Backend

__all__ = ["MAX_ALIAS_ATTEMPTS", "AliasStore"]

#: How many times moving an alias re-reads the alias file after losing a race.
MAX_ALIAS_ATTEMPTS = MAX_ATTEMPTS
_ONE_MICROSECOND = timedelta(microseconds=1)


class _AliasFile(FileDocument[list[AliasMove]]):
    """The alias file; a folder at its path is never read as one.

    Such a folder is an artifact's whose name lazyscribe allowed and archivist refuses
    (:func:`archivist._formats.names.check_name_beside`). Its record stays an ordinary record that
    opens and loads; no alias can have been stored where the folder is, so reading finds
    none (alias reads and prune work) and writing one is refused, naming the artifact.
    """

    def read(self) -> tuple[list[AliasMove], str | None]:
        try:
            return super().read()
        except StorageError:
            if self._is_folder():
                return [], None
            raise

    def replace(self, value: list[AliasMove], token: str | None) -> str:
        try:
            return super().replace(value, token)
        except StorageError:
            if not self._is_folder():
                raise
        raise InvalidNameError(
            f"{self.location} is a folder, not an alias file: an artifact named "
            f"{posixpath.basename(self.path)!r} (a name archivist refuses, lazyscribe does "
            "not) takes its place, so no alias can be stored beside this manifest. Rename "
            "that artifact to set aliases; nothing was written"
        )

    def _is_folder(self) -> bool:
        """Tell whether files are stored below the alias file's path (it is a folder)."""
        try:
            return next(iter(self.backend.list(self.path)), None) is not None
        except (OSError, StorageError):
            return False


class AliasStore:
    """A repository's alias file on a Backend: read it, and append moves atomically.

    Parameters
    ----------
    backend : Backend
        The backend holding the manifest.
    path : str
        The alias file's path in the backend's form (see
        :func:`archivist._formats.names.alias_file_name`).
    location : str
        The path or URL, for messages.
    """

    def __init__(self, backend: Backend, path: str, location: str) -> None:
        self.backend = backend
        self.path = path
        self.location = location
        self.document: FileDocument[list[AliasMove]] = _AliasFile(
            backend,
            path,
            location,
            parse=functools.partial(parse_alias_file, location=location),
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
