"""The ``example-lines`` handler: a list of strings stored as text, one per line."""

from __future__ import annotations

from typing import IO, Any, ClassVar

from archivist import Handler

__all__ = ["LinesHandler"]


def _reject_unknown(options: dict[str, Any], what: str) -> None:
    if options:
        raise TypeError(f"unknown {what} option(s) for example-lines: {', '.join(options)}")


class LinesHandler(Handler):
    r"""Store a list of strings as UTF-8 text, one string per line.

    Writer option ``end`` is the line ending (default ``"\n"``); reader option ``strip``
    strips surrounding whitespace from each line. A string holding a line break cannot be
    stored, since it would come back as two.
    """

    alias: ClassVar[str] = "example-lines"
    suffix: ClassVar[str] = "txt"
    binary: ClassVar[bool] = False

    def write(self, value: Any, stream: IO[Any], **kwargs: Any) -> None:
        """Write each string of ``value`` followed by the line ending."""
        end = kwargs.pop("end", "\n")
        _reject_unknown(kwargs, "writer")
        if end not in ("\n", "\r\n"):
            raise ValueError(f"end must be '\\n' or '\\r\\n', got {end!r}")
        if isinstance(value, str | bytes) or not all(isinstance(line, str) for line in value):
            raise TypeError("example-lines stores a list of strings")
        for line in value:
            if "\n" in line or "\r" in line:
                raise ValueError(f"a line may not hold a line break: {line!r}")
            stream.write(line + end)

    def read(self, stream: IO[Any], **kwargs: Any) -> Any:
        """Read the lines back as a list of strings."""
        strip = bool(kwargs.pop("strip", False))
        _reject_unknown(kwargs, "reader")
        text = stream.read()  # universal newlines: "\r\n" arrives as "\n"
        lines = text.split("\n")[:-1] if text else []
        return [line.strip() for line in lines] if strip else lines
