"""Warnings that point at the user's line, however deep in archivist they are raised.

A fixed ``stacklevel`` breaks whenever the call path changes (a save through a context
manager, a helper added between ``save()`` and the warning), and then the warning names a
line of archivist's own. :func:`warn` counts the frames instead: the warning is attributed
to the first frame outside the ``archivist`` package, the line that called into it.
"""

from __future__ import annotations

import os
import sys
import warnings

__all__ = ["user_stacklevel", "warn"]

#: Frames whose file lies below this folder are archivist's own (plugins are outside it).
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_stacklevel(skip: int = 0) -> int:
    """Return the ``stacklevel`` that attributes a warning to the first frame outside archivist.

    Parameters
    ----------
    skip : int, optional
        How many frames between this function's caller and the frame that calls
        :func:`warnings.warn` (``warn`` passes 1: it calls this function, then warns).

    Returns
    -------
    int
        The value for the ``stacklevel`` of that :func:`warnings.warn` call.
    """
    frame = sys._getframe(1 + skip)
    level = 1 + skip
    while frame.f_back is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        _PACKAGE
    ):
        frame = frame.f_back
        level += 1
    return level


def warn(message: str, category: type[Warning]) -> None:
    """Issue ``message`` as a ``category`` warning at the user's line that called archivist.

    Parameters
    ----------
    message : str
        The warning's text.
    category : type[Warning]
        Its class, usually :class:`~archivist.errors.ArchivistWarning`.
    """
    warnings.warn(message, category, stacklevel=user_stacklevel(skip=1))
