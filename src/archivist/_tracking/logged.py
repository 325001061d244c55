"""The record of one artifact of an experiment or test, as ``project.json`` stores it.

lazyscribe keeps these as instances of its artifact handler classes; archivist keeps a frozen
:class:`LoggedArtifact` naming its handler by alias, with the attributes lazyscribe's objects
have (``name``, ``fname``, ``value``, ``dirty``, ``alias``, ``suffix``...), plus the digest and
size of the stored file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from archivist.errors import ArchivistError, ManifestError
from archivist.manifest import check_stored_file_name, parse_stored_time
from archivist.plugin.manager import get_handler

__all__ = ["ARTIFACT_FIELDS", "LoggedArtifact", "format_seconds"]

#: Fields of an artifact record that are not handler metadata.
ARTIFACT_FIELDS = ("name", "fname", "created_at", "expiry", "version", "handler", "sha256", "size")


def format_seconds(value: datetime) -> str:
    """Format a naive UTC time as lazyscribe writes it in ``project.json`` (to the second)."""
    return value.isoformat(timespec="seconds")


@dataclass(frozen=True)
class LoggedArtifact:
    """One artifact of an experiment or test, as ``project.json`` records it.

    Attributes
    ----------
    name : str
        The artifact name, unique within its experiment or test.
    handler : str
        The alias of the handler that writes and reads it.
    fname : str
        The file name inside the experiment's (or test's) folder.
    created_at : datetime.datetime
        When it was logged, naive UTC.
    expiry : datetime.datetime or None
        Kept for lazyscribe's format; experiments do not expire artifacts.
    version : int
        Kept for lazyscribe's format (always 0 in a project).
    sha256, size : str or None, int or None
        Digest and size of the stored file (``None`` for files lazyscribe wrote).
    metadata : Mapping[str, Any]
        The handler's metadata (``python_version``) and other recorded fields.
    value : Any
        The logged object while it is not saved; ``None`` for artifacts read from a file.
    writer_kwargs : Mapping[str, Any]
        The writer options given when it was logged.
    dirty : bool
        ``True`` until the file is saved.
    auto_fname : bool
        ``True`` when archivist generated :attr:`fname` (another is generated if it is
        taken when the file is written); ``False`` for a name the user chose.
    """

    name: str
    handler: str
    fname: str
    created_at: datetime
    expiry: datetime | None = None
    version: int = 0
    sha256: str | None = None
    size: int | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    value: Any = field(default=None, compare=False, repr=False)
    writer_kwargs: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    dirty: bool = field(default=False, compare=False)
    auto_fname: bool = field(default=False, compare=False, repr=False)

    @property
    def alias(self) -> str:
        """The handler alias (lazyscribe's name for :attr:`handler`)."""
        return self.handler

    @property
    def suffix(self) -> str:
        """The file suffix of its handler (as on lazyscribe's artifact classes)."""
        return get_handler(self.handler).suffix

    @property
    def binary(self) -> bool:
        """Whether its handler writes bytes (as on lazyscribe's artifact classes)."""
        return get_handler(self.handler).binary

    @property
    def output_only(self) -> bool:
        """Whether the stored file cannot be read back as the object (lazyscribe's flag)."""
        return get_handler(self.handler).output_only

    def __getattr__(self, name: str) -> Any:
        """Expose recorded handler metadata (``python_version``...) as attributes."""
        metadata = self.__dict__.get("metadata", {})
        if name in metadata:
            return metadata[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def to_dict(self) -> dict[str, Any]:
        """Return the record as ``project.json`` stores it (lazyscribe-readable)."""
        out: dict[str, Any] = dict(self.metadata)
        out.update(
            name=self.name,
            fname=self.fname,
            created_at=format_seconds(self.created_at),
            expiry=None if self.expiry is None else format_seconds(self.expiry),
            version=self.version,
            handler=self.handler,
        )
        if self.sha256 is not None:
            out.update(sha256=self.sha256, size=self.size)
        return out

    @classmethod
    def from_dict(cls, data: object, what: str) -> LoggedArtifact:
        """Read a record of ``project.json``.

        Raises
        ------
        archivist.errors.ManifestError
            A field is missing or malformed.
        """
        if not isinstance(data, Mapping):
            raise ManifestError(f"{what} must be a JSON object")
        missing = [key for key in ("name", "fname", "created_at", "handler") if key not in data]
        if missing:
            raise ManifestError(f"{what} lacks the field(s) {', '.join(missing)}")
        try:
            check_stored_file_name(data["fname"], "file name")
        except ArchivistError as exc:
            raise ManifestError(f"{what}: {exc}") from None
        if not isinstance(data["name"], str) or not isinstance(data["handler"], str):
            raise ManifestError(f"{what}: name and handler must be strings")
        expiry = data.get("expiry")
        version = data.get("version", 0)
        return cls(
            name=data["name"],
            handler=data["handler"],
            fname=data["fname"],
            created_at=parse_stored_time(data["created_at"], f"{what}: created_at"),
            expiry=None if expiry is None else parse_stored_time(expiry, f"{what}: expiry"),
            version=version if isinstance(version, int) else 0,
            sha256=data.get("sha256"),
            size=data.get("size"),
            metadata={k: v for k, v in data.items() if k not in ARTIFACT_FIELDS},
        )
