"""The built-in ``json`` handler."""

from __future__ import annotations

import json
from typing import IO, Any, ClassVar

from archivist.handlers.base import Handler

__all__ = ["JSONHandler"]


class JSONHandler(Handler):
    """Store JSON-serializable values as UTF-8 JSON text.

    Writer options go to :func:`json.dump` (``indent=4``), reader options to
    :func:`json.load`.
    """

    alias: ClassVar[str] = "json"
    suffix: ClassVar[str] = "json"
    binary: ClassVar[bool] = False

    def write(self, value: Any, stream: IO[Any], **kwargs: Any) -> None:
        """Write ``value`` as :func:`json.dump` does, in one piece.

        :func:`json.dumps` gives the same text, with the C encoder (``json.dump`` encodes
        in Python, piece by piece) and one write instead of one per token.
        """
        stream.write(json.dumps(value, **kwargs))

    def read(self, stream: IO[Any], **kwargs: Any) -> Any:
        """Read a value with :func:`json.load`."""
        return json.load(stream, **kwargs)
