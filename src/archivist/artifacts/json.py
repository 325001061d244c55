"""lazyscribe's ``JSONArtifact``: the ``json`` handler as a lazyscribe-style artifact class."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, ClassVar

from attrs import define

from archivist.artifacts.base import Artifact, base_fields

__all__ = ["JSONArtifact"]


@define(auto_attribs=True, getstate_setstate=False)
class JSONArtifact(Artifact):
    """Versions stored with :func:`json.dump` (the handler alias ``json``)."""

    alias: ClassVar[str] = "json"
    suffix: ClassVar[str] = "json"
    binary: ClassVar[bool] = False
    output_only: ClassVar[bool] = False

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
    ) -> JSONArtifact:
        """Build an instance; see :meth:`archivist.artifacts.base.Artifact.construct`."""
        return cls(
            **base_fields(
                cls, name, value, fname, created_at, expiry, writer_kwargs, version, dirty
            )
        )

    @classmethod
    def read(cls, buf: Any, **kwargs: Any) -> Any:
        """Read a value with :func:`json.load`."""
        return json.load(buf, **kwargs)

    @classmethod
    def write(cls, obj: Any, buf: Any, **kwargs: Any) -> None:
        """Write a value with :func:`json.dump`."""
        json.dump(obj, buf, **kwargs)
