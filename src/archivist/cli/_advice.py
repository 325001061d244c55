"""The command line's own words for the advice the library gives in Python.

A library error names its fix as Python (``Set one with set_alias(name, alias, version).``);
the library keeps each such sentence in one constant, and the command line says the same
fix as a command. :func:`for_the_command_line` swaps them in every error it prints.
"""

from __future__ import annotations

from archivist._formats.aliases import SET_ALIAS_ADVICE

__all__ = ["for_the_command_line"]

#: The library's advice (a constant of the module that raises it) -> the command to run.
_ADVICE = {
    SET_ALIAS_ADVICE: "Set one with: archivist alias set [REPO] NAME ALIAS VERSION.",
}


def for_the_command_line(message: str) -> str:
    """Return ``message`` with the library's Python advice said as ``archivist`` commands.

    Parameters
    ----------
    message : str
        An error's message.

    Returns
    -------
    str
        The message to print.
    """
    for python, command in _ADVICE.items():
        message = message.replace(python, command)
    return message
