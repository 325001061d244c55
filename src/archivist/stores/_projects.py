"""Project stores: a project's ``project.json`` as a document of experiment entries.

``project.json`` is the JSON array of experiments lazyscribe 2.x reads and writes. A
:class:`ProjectStore` reads it with its state token (refusing anything but an array of
objects) and replaces it through :func:`archivist.stores._documents.update`, the
compare-and-swap every stored document uses; merging experiments is the caller's change
(:class:`archivist.Project`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from archivist._formats.strict_json import MAX_DEPTH, load_json
from archivist.errors import EncodingError, ManifestError
from archivist.stores._documents import MAX_ATTEMPTS, FileDocument, Tally, Updated, update

if TYPE_CHECKING:
    from archivist._backends.base import Backend

__all__ = ["ProjectStore"]

#: The stored experiments: one JSON object each, as stored (fields other tools add kept).
Entries = list[dict[str, Any]]


class ProjectStore:
    """A ``project.json`` on a Backend: read its entries, change them with compare-and-swap.

    Parameters
    ----------
    backend : Backend
        The backend holding the file.
    path : str
        The file's path in the backend's form.
    location : str
        Its path or URL, for messages.
    """

    def __init__(self, backend: Backend, path: str, location: str) -> None:
        self.location = location
        self.document: FileDocument[Entries] = FileDocument(
            backend,
            path,
            location,
            parse=functools.partial(_parse, location=location),
            serialize=functools.partial(_serialize, location=location),
            empty=list,
        )

    def __repr__(self) -> str:
        return f"ProjectStore({self.location!r})"

    def read(self) -> tuple[Entries, str | None]:
        """Return the stored entries and the file's token (``[]`` and ``None`` when absent).

        Returns
        -------
        tuple[list[dict[str, Any]], str or None]
            The entries, in file order, and the token.

        Raises
        ------
        archivist.errors.ManifestError
            The file is not a JSON array of objects.
        """
        return self.document.read()

    def update(
        self,
        change: Callable[[Entries], Entries | None],
        *,
        landed: Callable[[Entries], bool],
        tally: Tally | None = None,
        attempts: int = MAX_ATTEMPTS,
    ) -> Updated[Entries]:
        """Change the entries with compare-and-swap, as :func:`update` changes any document.

        Parameters
        ----------
        change : Callable
            Given the stored entries, the entries to store (``None``: nothing to write).
        landed : Callable
            Given entries re-read after a refusal, whether they hold this save already.
        tally : Tally, optional
            Records whether a replace failed without an answer.
        attempts : int, optional
            The most rounds.

        Returns
        -------
        Updated
            The stored entries and their token.

        Raises
        ------
        archivist.errors.EncodingError
            The entries cannot be written as JSON; nothing was written.
        archivist.errors.ConflictError
            Other writers kept saving the project.
        """
        return update(
            self.document, change, landed=landed, what="saving", attempts=attempts, tally=tally
        )


def _parse(data: bytes, location: str) -> Entries:
    # lazyscribe writes NaN metrics as they are; everything else hostile (nesting too deep
    # for Python, huge integers, duplicate keys) is a ManifestError, as for manifests
    parsed = load_json(data, location, allow_nan=True, max_depth=MAX_DEPTH)
    if not isinstance(parsed, list) or not all(isinstance(e, dict) for e in parsed):
        raise ManifestError(f"{location} must hold a JSON array of experiments")
    return parsed


def _serialize(entries: Entries, location: str) -> bytes:
    try:
        return json.dumps(entries, sort_keys=True, indent=4).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise EncodingError(f"{location} cannot be written as JSON: {exc}") from exc
