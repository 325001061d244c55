"""What the ``archivist`` command prints: JSON, tables, and safe text.

``--json`` output is one JSON document on standard output and nothing else. Human output is
a rich table when standard output is a terminal (colours unless ``NO_COLOR`` is set) and
plain aligned columns otherwise, so pipes get text without markup or truncation. Control
characters in names and messages are escaped in human output, so a hostile name cannot
rewrite the terminal.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Collection, Sequence
from typing import Any

import click

__all__ = ["echo", "escape", "human_size", "print_json", "print_table"]

# C0 and C1 controls, DEL, and the bidirectional overrides and isolates
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape(text: object) -> str:
    r"""Return ``str(text)`` with control characters written as escapes (``\x1b``, ``\u202e``).

    Parameters
    ----------
    text : object
        What to print.

    Returns
    -------
    str
        Text that prints as itself.
    """

    def one(found: re.Match[str]) -> str:
        code = ord(found.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNSAFE.sub(one, str(text))


def echo(text: object = "", *, err: bool = False) -> None:
    """Print one line of human output, escaped."""
    click.echo(escape(text), err=err)


def print_json(document: Any) -> None:
    """Print one JSON document on standard output."""
    click.echo(json.dumps(document, indent=2, sort_keys=False, default=str))


def human_size(size: int | None) -> str:
    """Return ``size`` bytes as ``512 B``, ``1.5 KiB``, ``3.2 MiB``; ``-`` when unknown."""
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _is_terminal() -> bool:
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty is not None and isatty())


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], whole: Collection[str] = ()
) -> None:
    """Print rows under headers: a rich table on a terminal, aligned plain text otherwise.

    Parameters
    ----------
    headers : Sequence[str]
        Column titles.
    rows : Sequence[Sequence[object]]
        Cell values, escaped before printing.
    whole : Collection[str], optional
        The titles of columns a narrow terminal must never shorten (times a user copies,
        such as CREATED); the other columns are shortened instead.
    """
    cells = [[escape("-" if value is None else value) for value in row] for row in rows]
    if _is_terminal():
        from rich import box
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        # no vertical rules: on 80 columns the cells keep the room
        table = Table(
            header_style="bold",
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            padding=(0, 1, 0, 0),
        )
        for i, header in enumerate(headers):
            if header in whole:
                width = max(len(header), *(len(row[i]) for row in cells))
                table.add_column(header, no_wrap=True, min_width=width)
            else:
                table.add_column(header, overflow="ellipsis", min_width=len(header))
        for row in cells:
            table.add_row(*(Text(value) for value in row))  # Text: names are never markup
        Console(file=sys.stdout).print(table)
        return
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]
    for row in [list(headers), *cells]:
        line = "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True))
        click.echo(line.rstrip())
