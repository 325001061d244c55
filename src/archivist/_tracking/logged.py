"""The record of one artifact of an experiment or test, as ``project.json`` stores it.

``exp.artifacts`` and ``test.artifacts`` hold lazyscribe-style handler objects (instances
of :class:`~archivist.artifacts.json.JSONArtifact`, of your own handler classes...), as
lazyscribe's do: you may set their fields or append your own. What archivist knows beyond
them (the digest and size of the file it wrote, fields it cannot put on the object, whether
it chose the file name) is kept in a frozen :class:`LoggedArtifact`, the artifact's record.
:func:`record_of` merges the two into the record ``project.json`` stores: the digest counts
only while the object still names the file it was computed for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import attrs

from archivist.errors import ArchivistError, ManifestError
from archivist.manifest import check_stored_file_name, format_seconds, parse_stored_time
from archivist.plugin.manager import get_handler

__all__ = [
    "ARTIFACT_FIELDS",
    "LoggedArtifact",
    "artifact_object",
    "format_seconds",
    "record_of",
]

#: Fields of an artifact record that are not handler metadata.
ARTIFACT_FIELDS = ("name", "fname", "created_at", "expiry", "version", "handler", "sha256", "size")
#: Fields of a handler object that ``project.json`` does not store (as lazyscribe's
#: ``serialize_artifacts`` leaves them out; ``record`` and ``metadata`` are archivist's).
_UNSTORED = frozenset({"value", "writer_kwargs", "dirty", "record", "metadata"})


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
    version : int or None
        Kept for lazyscribe's format (0 in a project, unless a handler object says otherwise).
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
    version: int | None = 0
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


def _stored_value(value: Any) -> Any:
    return format_seconds(value) if isinstance(value, datetime) else value


def record_of(artifact: Any, stored: LoggedArtifact | None) -> LoggedArtifact:
    """Return the record of a handler object, with what archivist stored for it.

    Parameters
    ----------
    artifact : Any
        A lazyscribe-style handler object (an attrs instance with ``alias``, ``name``,
        ``fname``, ``created_at``...).
    stored : LoggedArtifact or None
        The record archivist read, logged or wrote for this object, if any.

    Returns
    -------
    LoggedArtifact
        Its fields (handler fields as metadata), the fields of ``stored`` the object lacks,
        and ``stored``'s digest and size only while the object is saved and still names the
        file (and handler) they were computed for.
    """
    alias = str(type(artifact).alias)
    fields: dict[str, Any] = {}
    if attrs.has(type(artifact)):
        for attribute in attrs.fields(type(artifact)):
            if attribute.name not in _UNSTORED:
                fields[attribute.name] = getattr(artifact, attribute.name)
    fields.update(getattr(artifact, "metadata", None) or {})  # archivist's handler fields
    name, fname, dirty = artifact.name, artifact.fname, bool(artifact.dirty)
    same_file = stored is not None and (stored.fname, stored.handler) == (fname, alias)
    proven = same_file and not dirty and stored is not None and stored.name == name
    metadata = dict(stored.metadata) if stored is not None else {}
    metadata.update((k, _stored_value(v)) for k, v in fields.items() if k not in ARTIFACT_FIELDS)
    return LoggedArtifact(
        name=name,
        handler=alias,
        fname=fname,
        created_at=fields.get("created_at") or artifact.created_at,
        expiry=fields.get("expiry"),
        version=fields.get("version", 0),
        sha256=stored.sha256 if proven and stored is not None else None,
        size=stored.size if proven and stored is not None else None,
        metadata=metadata,
        value=artifact.value,
        writer_kwargs=dict(artifact.writer_kwargs or {}),
        dirty=dirty,
        auto_fname=same_file and stored is not None and stored.auto_fname,
    )


def artifact_object(record: LoggedArtifact, environment: Mapping[str, Any] | None = None) -> Any:
    """Return the lazyscribe-style handler object describing a record.

    Parameters
    ----------
    record : LoggedArtifact
        The record (read from ``project.json``, or of a value just logged).
    environment : Mapping[str, Any], optional
        The running environment's facts, for a value just logged.

    Returns
    -------
    Any
        An instance of :func:`archivist.artifacts.artifact_class` for the record's handler,
        with its value, writer options and ``dirty`` flag.
    """
    from archivist.artifacts import artifact_from_record
    from archivist.manifest import VersionRecord

    version = record.version if isinstance(record.version, int) else 0
    return artifact_from_record(
        VersionRecord(
            name=record.name,
            version=version,
            handler=record.handler,
            fname=record.fname,
            created_at=record.created_at,
            expiry=record.expiry,
            sha256=record.sha256,
            size=record.size,
            extra=dict(record.metadata),
        ),
        record.value,
        dict(record.writer_kwargs),
        dirty=record.dirty,
        environment=environment,
    )
