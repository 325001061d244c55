"""lazyscribe's ``PickleArtifact``: the ``pickle`` handler as a lazyscribe-style artifact class.

Only load pickles from repositories you trust: unpickling runs code.
"""

from __future__ import annotations

import pickle
from datetime import datetime
from typing import Any, ClassVar

from attrs import define, field

from archivist.artifacts.base import Artifact, base_fields
from archivist.handlers.base import python_minor_version

__all__ = ["PickleArtifact"]


@define(auto_attribs=True, getstate_setstate=False)
class PickleArtifact(Artifact):
    """Versions stored with :func:`pickle.dump` (the handler alias ``pickle``).

    Attributes
    ----------
    python_version : str
        The Python minor version the pickle was written with (e.g. ``"3.11"``).
    """

    alias: ClassVar[str] = "pickle"
    suffix: ClassVar[str] = "pkl"
    binary: ClassVar[bool] = True
    output_only: ClassVar[bool] = False
    python_version: str = field()

    @classmethod
    def construct(
        cls,
        name: str,
        value: Any = None,
        fname: str | None = None,
        created_at: datetime | None = None,
        expiry: datetime | None = None,
        writer_kwargs: dict[str, Any] | None = None,
        version: int = 0,
        dirty: bool = True,
        **kwargs: Any,
    ) -> PickleArtifact:
        """Build an instance; ``python_version`` defaults to the running one."""
        return cls(
            **base_fields(
                cls, name, value, fname, created_at, expiry, writer_kwargs, version, dirty
            ),
            python_version=kwargs.get("python_version") or python_minor_version(),
        )

    @classmethod
    def read(cls, buf: Any, **kwargs: Any) -> Any:
        """Read a value with :func:`pickle.load`."""
        return pickle.load(buf, **kwargs)

    @classmethod
    def write(cls, obj: Any, buf: Any, **kwargs: Any) -> None:
        """Write a value with :func:`pickle.dump`."""
        pickle.dump(obj, buf, **kwargs)
