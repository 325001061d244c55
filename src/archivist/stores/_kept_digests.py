"""The kept digests as a document on a Backend, remembering its last state in this process.

The file (``digests.json`` in a manifest's private folder) is changed only through
:func:`archivist.stores._documents.update`. A process that saves again and again appends
to it against the state it last read or wrote (``first=``), so an append neither downloads
nor parses the file while nobody else changed it, and costs O(new entries) beside copying
its bytes; when another writer did change it, the replace is refused and the next round
reads it again. What the file holds and who uses it is
:mod:`archivist.stores._digests`.
"""

from __future__ import annotations

from archivist._backends.base import Backend
from archivist._formats.digests import KeptFile
from archivist.stores._documents import FileDocument

__all__ = ["KeptDigestsDocument"]


class KeptDigestsDocument(FileDocument[KeptFile]):
    """The kept digests file, remembering the value and token last read or written.

    Parameters
    ----------
    backend : Backend
        The backend holding the file.
    path : str
        Its path in the backend's form.
    location : str
        Its path or URL, for messages.

    Attributes
    ----------
    last : tuple[KeptFile, str or None] or None
        The value and token this document last read or wrote, or ``None`` before either.
    """

    def __init__(self, backend: Backend, path: str, location: str) -> None:
        super().__init__(
            backend,
            path,
            location,
            parse=lambda data: KeptFile.parse(data, location),
            serialize=lambda value: value.data,
            empty=KeptFile.empty,
        )
        self.last: tuple[KeptFile, str | None] | None = None

    def read(self) -> tuple[KeptFile, str | None]:
        """Read and parse the file, and remember what was read."""
        self.last = super().read()
        return self.last

    def replace(self, value: KeptFile, token: str | None) -> str:
        """Replace the file if its token is still ``token``, and remember what was written."""
        new_token = super().replace(value, token)
        self.last = (value, new_token)
        return new_token
