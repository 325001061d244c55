"""The built-in ``pickle`` handler."""

from __future__ import annotations

import pickle
from typing import IO, Any, ClassVar

from archivist.handlers.base import Handler, python_minor_version

__all__ = ["PickleHandler"]


class PickleHandler(Handler):
    """Store any picklable Python object.

    Records ``python_version`` (as lazyscribe does) and, when loading with
    ``validate=True``, refuses a version written by another Python minor version.
    Only load pickles from repositories you trust: unpickling runs code.
    """

    alias: ClassVar[str] = "pickle"
    suffix: ClassVar[str] = "pkl"
    binary: ClassVar[bool] = True
    executes_code: ClassVar[bool] = True

    def write(self, value: Any, stream: IO[Any], **kwargs: Any) -> None:
        """Write ``value`` with :func:`pickle.dump`."""
        pickle.dump(value, stream, **kwargs)

    def read(self, stream: IO[Any], **kwargs: Any) -> Any:
        """Read a value with :func:`pickle.load`."""
        return pickle.load(stream, **kwargs)

    def environment(self) -> dict[str, Any]:
        """Record the Python minor version the pickle was written with."""
        return {"python_version": python_minor_version()}
