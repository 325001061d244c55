"""Read-only dicts and lists: what read-only experiments and tests hand out.

They are real ``dict`` and ``list`` instances, so code written for lazyscribe keeps working
(``json.dumps(exp.metrics)``, ``exp.tags == ["a"]``, ``isinstance(exp.tests, list)``), but
every change raises :class:`~archivist.errors.ReadOnlyError` instead of changing a loaded
experiment in memory only. Copies and pickles are ordinary dicts and lists.
"""

from __future__ import annotations

from typing import Any, NoReturn, TypeVar

from archivist.errors import ReadOnlyError

__all__ = ["FrozenDict", "FrozenList"]

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")

_MESSAGE = (
    "this {what} is read-only (its project was opened with mode 'r' or 'a'); open the "
    "project with mode 'w+' to change saved experiments"
)


class FrozenDict(dict[K, V]):
    """A dict that refuses changes.

    Parameters
    ----------
    data : dict
        The contents.
    what : str, optional
        What it belongs to, for the error message.
    """

    def __init__(self, data: dict[K, V], what: str = "experiment") -> None:
        super().__init__(data)
        self._what = what

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ReadOnlyError(_MESSAGE.format(what=self._what))

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        """Copy and pickle as a plain dict."""
        return (dict, (dict(self),))


class FrozenList(list[T]):
    """A list that refuses changes.

    Parameters
    ----------
    data : list
        The contents.
    what : str, optional
        What it belongs to, for the error message.
    """

    def __init__(self, data: list[T], what: str = "experiment") -> None:
        super().__init__(data)
        self._what = what

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ReadOnlyError(_MESSAGE.format(what=self._what))

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = clear = extend = insert = pop = remove = reverse = sort = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        """Copy and pickle as a plain list."""
        return (list, (list(self),))
