"""What experiments and their tests share: logged artifacts, metrics, parameters, file I/O.

An experiment's artifact files live at ``<project folder>/<experiment slug>/<fname>`` and a
test's at ``<project folder>/<experiment slug>/<test slug>/<fname>``, as lazyscribe lays
them out. Files are written through a :class:`~archivist.Backend` with write-if-absent and
hashed on the way; the digest and size are recorded with the artifact and checked on load.
"""

from __future__ import annotations

import getpass
import os
import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from fsspec.core import split_protocol

from archivist._backends.base import Backend
from archivist._io.handlers import (
    describe,
    environment_of,
    new_fname,
    read_value,
    warn_output_only,
    write_new_file,
    write_value,
)
from archivist._io.handlers import slug as slugify
from archivist._io.paths import path_under
from archivist._io.streams import HashingWriter, digest_stream
from archivist._io.trust import Trust, check_trusted, resolve_trust
from archivist._io.verified import open_stored
from archivist._tracking.frozen import FrozenDict, FrozenList
from archivist._tracking.logged import (
    ARTIFACT_FIELDS,
    LoggedArtifact,
    artifact_object,
    format_seconds,
    record_of,
)
from archivist.errors import (
    AlreadyExistsError,
    ArchivistWarning,
    ArtifactFileNotFoundError,
    ArtifactNotFoundError,
    DuplicateArtifactError,
    EnvironmentMismatchError,
    ReadOnlyExperimentError,
)
from archivist.manifest import check_file_name, check_name, utcnow
from archivist.plugin.manager import get_handler
from archivist.stores import open_backend, storage_errors

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = [
    "ARTIFACT_FIELDS",
    "LoggedArtifact",
    "Tracked",
    "default_author",
    "format_seconds",
    "slugify",
]

_LOCK_TYPE = type(threading.Lock())


def test_folder_name(name: str) -> str:
    """Return the folder name of a test's files inside its experiment's folder."""
    return slugify(name) or "test"


def lazyscribe_path(fpath: str | os.PathLike[str]) -> Path:
    """Return a project file's path as lazyscribe shows it: a URL without its protocol."""
    text = os.fspath(fpath)
    protocol, rest = split_protocol(text)
    return Path(rest if protocol is not None else text)


def local_backend() -> Backend:
    """Return a backend for the local file system (where lazyscribe's defaults point)."""
    return open_backend(".")[0]


def default_author() -> str:
    """Return the login name of the current user (``"unknown"`` when there is none)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


class Tracked:
    """Metrics, parameters and artifacts, with a folder for the artifact files.

    The base of :class:`~archivist.Experiment` and :class:`~archivist.test.Test`. Read-only
    instances refuse every change and hand out read-only views.
    """

    _label = "item"

    def __init__(
        self,
        *,
        backend: Backend | None,
        folder: str,
        read_only: bool,
        metrics: Mapping[str, Any] | None = None,
        parameters: Mapping[str, Any] | None = None,
        artifacts: Sequence[Any] = (),
        trust: Trust | None = None,
    ) -> None:
        #: ``False`` until a project (or an experiment, for a test) placed this here: the
        #: folder is then a placeholder, set when the project saves it.
        self._attached = backend is not None
        self._backend = backend if backend is not None else local_backend()
        self._trust: Trust = resolve_trust(trust)
        self._folder = folder
        self._read_only = read_only
        self._metrics: dict[str, Any] = dict(metrics or {})
        self._parameters: dict[str, Any] = dict(parameters or {})
        #: The handler objects, as lazyscribe keeps them (the public ``artifacts`` list).
        self._artifacts: list[Any] = list(artifacts)
        #: What archivist read, logged or wrote for each object, by the object's id.
        self._stored: dict[int, tuple[Any, LoggedArtifact]] = {}
        self.dirty = False

    @property
    def fs(self) -> AbstractFileSystem:
        """The fsspec filesystem the artifact files are read and written through."""
        return self._backend.fs

    # -- equality and pickling (value semantics, as lazyscribe's attrs classes) -----------

    def _eq_key(self) -> tuple[Any, ...]:
        return (self._metrics, self._parameters, self._artifacts)

    def __eq__(self, other: object) -> bool:
        """Compare by value: same class and same recorded content (not location)."""
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._eq_key() == other._eq_key()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __getstate__(self) -> dict[str, Any]:
        """Return the state to pickle (locks are left out and re-created)."""
        return {k: v for k, v in self.__dict__.items() if not isinstance(v, _LOCK_TYPE)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a pickled state with fresh locks."""
        self.__dict__.update(state)
        # the unpickled objects have new ids (pickling kept each pair's object the same)
        self._stored = {id(obj): (obj, stored) for obj, stored in self._stored.values()}
        self._init_locks()

    def _init_locks(self) -> None:
        """Create the locks an instance holds (none here)."""

    # -- reading ----------------------------------------------------------------------------

    @property
    def read_only(self) -> bool:
        """``True`` when this was loaded from a project opened in mode ``r`` or ``a``."""
        return self._read_only

    @property
    def metrics(self) -> Mapping[str, Any]:
        """The metrics (a dict that refuses changes when :attr:`read_only`)."""
        return FrozenDict(self._metrics, self._label) if self._read_only else self._metrics

    @metrics.setter
    def metrics(self, value: Mapping[str, Any]) -> None:
        self._require_editable()
        self._metrics = dict(value)

    @property
    def parameters(self) -> Mapping[str, Any]:
        """The parameters (a dict that refuses changes when :attr:`read_only`)."""
        return FrozenDict(self._parameters, self._label) if self._read_only else self._parameters

    @parameters.setter
    def parameters(self, value: Mapping[str, Any]) -> None:
        self._require_editable()
        self._parameters = dict(value)

    @property
    def artifacts(self) -> Sequence[Any]:
        """The artifacts, in the order logged: lazyscribe-style handler objects.

        Each is an instance of its handler's artifact class
        (:class:`~archivist.artifacts.json.JSONArtifact`, your own ``Artifact`` subclass...)
        with ``name``, ``fname``, ``value``, ``dirty`` and the handler's fields, which you may
        set; ``read`` and ``write`` are the handler's. You may also append objects you built
        with a class's ``construct``, as in lazyscribe. A list refusing changes when
        read-only.
        """
        return FrozenList(self._artifacts, self._label) if self._read_only else self._artifacts

    @artifacts.setter
    def artifacts(self, value: Sequence[Any]) -> None:
        self._require_editable()
        self._artifacts = list(value)

    def _stored_record(self, artifact: Any) -> LoggedArtifact | None:
        entry = self._stored.get(id(artifact))
        return entry[1] if entry is not None and entry[0] is artifact else None

    def _record(self, artifact: Any) -> LoggedArtifact:
        """Return the record of one of this item's handler objects (see :func:`record_of`)."""
        return record_of(artifact, self._stored_record(artifact))

    def _load_artifacts(self, items: Sequence[Any], what: str) -> None:
        """Set the artifacts from their ``project.json`` records.

        Raises
        ------
        archivist.errors.ManifestError
            A record is malformed.
        """
        self._artifacts, self._stored = [], {}
        for i, item in enumerate(items):
            record = LoggedArtifact.from_dict(item, f"{what}, artifact {i}")
            artifact = artifact_object(record)
            self._artifacts.append(artifact)
            self._stored[id(artifact)] = (artifact, record)

    def _snapshot(self) -> tuple[list[Any], dict[int, tuple[Any, LoggedArtifact]], list[Any]]:
        """Return the artifact state a failed save restores with :meth:`_restore`."""
        fields = [(a, a.fname, a.dirty) for a in self._artifacts]
        return list(self._artifacts), dict(self._stored), fields

    def _restore(
        self, snapshot: tuple[list[Any], dict[int, tuple[Any, LoggedArtifact]], list[Any]]
    ) -> None:
        self._artifacts, self._stored, fields = list(snapshot[0]), dict(snapshot[1]), snapshot[2]
        for artifact, fname, dirty in fields:
            artifact.fname, artifact.dirty = fname, dirty

    def _find_object(self, name: str) -> Any:
        for artifact in self._artifacts:
            if artifact.name == name:
                return artifact
        names = ", ".join(repr(a.name) for a in self._artifacts) or "none"
        raise ArtifactNotFoundError(
            f"no artifact named {name!r} in this {self._label}; its artifacts: {names}"
        )

    def _find_artifact(self, name: str) -> LoggedArtifact:
        return self._record(self._find_object(name))

    def load_artifact(self, name: str, validate: bool = True, **reader_kwargs: Any) -> Any:
        """Read a saved artifact back.

        Parameters
        ----------
        name : str
            The artifact name.
        validate : bool, optional
            Refuse (``True``, default) or only warn (``False``) when the artifact was written
            under a different environment (e.g. another Python version for pickles).
        **reader_kwargs
            Passed to the handler's ``read``.

        Returns
        -------
        Any
            The stored value.

        Raises
        ------
        archivist.errors.ArtifactNotFoundError
            No artifact has that name.
        archivist.errors.ArtifactFileNotFoundError
            It was logged here and is not saved yet, or its file is missing (a
            ``FileNotFoundError``, as lazyscribe raised). An artifact object appended by hand
            is read from its file at once, as in lazyscribe.
        archivist.errors.IntegrityError
            The file does not match its recorded digest.
        archivist.errors.EnvironmentMismatchError
            ``validate`` is true and the environment differs.
        archivist.errors.UntrustedArtifactError
            The artifact has no digest, its handler runs code, and the project was opened
            with ``trust="verified"``.
        """
        artifact = self._find_artifact(name)
        logged = self._stored_record(self._find_object(name))
        if logged is not None and logged.dirty:  # logged here: its file is not written yet
            raise ArtifactFileNotFoundError(
                f"artifact {name!r} is not saved yet; call the project's save() first"
            )
        handler = get_handler(artifact.handler)()
        problems = handler.mismatches(artifact.to_dict())
        if problems:
            message = f"artifact {name!r} was written under a different environment: " + "; ".join(
                problems
            )
            if validate:
                raise EnvironmentMismatchError(message + ". Pass validate=False to load anyway.")
            warnings.warn(message, ArchivistWarning, stacklevel=2)
        check_trusted(
            self._trust,
            handler,
            artifact.sha256,
            f"artifact {name!r} of this {self._label} ({self.artifact_location(artifact)})",
            "archivist records a digest for every artifact it saves; re-log the value with "
            "archivist to get one.",
            stacklevel=2,
        )
        with self.open_artifact_file(artifact) as raw:
            return read_value(
                handler, raw, reader_kwargs, artifact.handler, f"artifact {name!r}", name
            )

    def artifact_location(self, artifact: LoggedArtifact) -> str:
        """Return the path of an artifact's file in its backend's form.

        Raises
        ------
        archivist.errors.InvalidNameError
            The file name would leave this item's folder (``..``, an absolute path...).
        """
        return path_under(
            self._folder, artifact.fname, what=f"the file name of artifact {artifact.name!r}"
        )

    def open_artifact_file(self, artifact: LoggedArtifact) -> IO[bytes]:
        """Open a saved artifact's file: read once, bounded, verified when a digest is recorded.

        Raises
        ------
        archivist.errors.ArtifactFileNotFoundError
            The file is missing.
        archivist.errors.IntegrityError
            The file does not match its digest or size, or is not a regular file.
        """
        path = self.artifact_location(artifact)
        try:
            with storage_errors(f"reading {path}"):
                return open_stored(
                    self._backend,
                    path,
                    path,
                    artifact.sha256,
                    artifact.size,
                    "its record in the project",
                )
        except FileNotFoundError:
            raise ArtifactFileNotFoundError(
                f"the file of artifact {artifact.name!r} is missing: {path}"
            ) from None

    # -- writing ----------------------------------------------------------------------------

    def _require_editable(self) -> None:
        if self._read_only:
            raise ReadOnlyExperimentError(
                f"this {self._label} is read-only (its project was opened with mode 'r' or "
                "'a'); open the project with mode 'w+' to change saved experiments"
            )

    def _touch(self) -> None:
        self.dirty = True

    def log_metric(self, name: str, value: float | int) -> None:
        """Record a metric, replacing any value of the same name.

        Parameters
        ----------
        name : str
            The metric name.
        value : float or int
            Its value.

        Raises
        ------
        archivist.errors.ReadOnlyExperimentError
            This is read-only (attrs' ``FrozenInstanceError``, as lazyscribe raised).
        """
        self._require_editable()
        self._metrics[name] = value
        self._touch()

    def log_parameter(self, name: str, value: Any) -> None:
        """Record a parameter, replacing any value of the same name.

        Parameters
        ----------
        name : str
            The parameter name.
        value : Any
            Its value (JSON-serializable).

        Raises
        ------
        archivist.errors.ReadOnlyExperimentError
            This is read-only (attrs' ``FrozenInstanceError``, as lazyscribe raised).
        """
        self._require_editable()
        self._parameters[name] = value
        self._touch()

    def log_artifact(
        self,
        name: str,
        value: Any,
        handler: str,
        fname: str | None = None,
        overwrite: bool = False,
        **writer_kwargs: Any,
    ) -> None:
        """Associate an artifact; its file is written when the project is saved.

        Parameters
        ----------
        name : str
            The artifact name, unique here.
        value : Any
            The object to store.
        handler : str
            The handler alias, for example ``"json"``.
        fname : str, optional
            The file name; by default ``<slug of name>-<YYYYMMDDHHMMSS>.<suffix>`` as
            lazyscribe names it (with a random part added when a stored file has that name:
            a stored file is never overwritten).
        overwrite : bool, optional
            Replace an artifact of the same name instead of refusing.
        **writer_kwargs
            Passed to the handler's ``write`` (``indent=4`` for ``json``).

        Raises
        ------
        archivist.errors.ReadOnlyExperimentError
            This is read-only (attrs' ``FrozenInstanceError``, as lazyscribe raised).
        archivist.errors.DuplicateArtifactError
            An artifact of that name exists and ``overwrite`` is false (an
            ``AlreadyExistsError``, and lazyscribe's ``ArtifactLogError``).
        archivist.errors.AlreadyExistsError
            Another artifact here uses ``fname``, or this artifact's saved file does.
        archivist.errors.UnknownHandlerError
            No installed handler has that alias.
        archivist.errors.InvalidNameError
            ``fname`` is not a plain file name.
        """
        self._require_editable()
        check_name(name) if fname is None else check_file_name(fname)
        handler_cls = get_handler(handler)
        created_at = utcnow()
        existing = next((i for i, a in enumerate(self._artifacts) if a.name == name), None)
        if existing is not None and not overwrite:
            raise DuplicateArtifactError(
                f"this {self._label} already has an artifact named {name!r}; use another name "
                "or pass overwrite=True to replace it"
            )
        auto_fname = fname is None
        if fname is None:  # when it is taken, saving takes a unique one (write_new_file)
            fname = new_fname(name, created_at, handler_cls.suffix, unique=False)
        else:  # a name the user chose, taken by another artifact or by this one's saved file
            taken = next(
                (
                    a
                    for a in self._artifacts
                    if a.fname == fname and (a.name != name or not a.dirty)
                ),
                None,
            )
            if taken is not None:
                saved = " (saved: stored files are never overwritten)" if taken.name == name else ""
                raise AlreadyExistsError(
                    f"the file name {fname!r} is already used by artifact {taken.name!r}{saved}. "
                    "Omit fname for a unique one."
                )
        logged = LoggedArtifact(
            name=name,
            handler=handler_cls.alias,
            fname=fname,
            created_at=created_at,
            value=value,
            writer_kwargs=dict(writer_kwargs),
            dirty=True,
            auto_fname=auto_fname,
        )
        artifact = artifact_object(logged, environment=environment_of(handler_cls()))
        if existing is None:
            self._artifacts.append(artifact)
        else:
            self._artifacts[existing] = artifact
        self._stored[id(artifact)] = (artifact, logged)
        warn_output_only(handler_cls, name, "log", stacklevel=2)
        self._touch()

    def _write_dirty_artifacts(self, written: list[str]) -> None:
        """Write every unsaved artifact's file; record written paths in ``written``."""
        current = {id(artifact) for artifact in self._artifacts}  # forget removed objects
        self._stored = {key: entry for key, entry in self._stored.items() if key in current}
        for artifact in self._artifacts:
            if artifact.dirty:
                self._write_artifact(artifact, written)

    def _write_artifact(self, artifact: Any, written: list[str]) -> None:
        """Write one handler object's value under a fresh file, and record its digest."""
        record = self._record(artifact)
        handler = get_handler(record.handler)()
        metadata = describe(handler, record.value, record.handler, record.name)

        def attempt(fname: str) -> tuple[str, int]:
            path = self.artifact_location(replace(record, fname=fname))
            with storage_errors(f"writing {path}"), self._backend.open_new(path) as raw:
                hashing = HashingWriter(raw)
                write_value(
                    handler,
                    record.value,
                    cast("IO[bytes]", hashing),
                    record.writer_kwargs,
                    record.handler,
                    record.name,
                )
                hashing.flush()
            written.append(path)
            return hashing.sha256, hashing.size

        def fresh() -> str:
            return new_fname(record.name, record.created_at, handler.suffix)

        # Never overwrite a stored file (a name the user chose that is taken raises).
        fname, (sha256, size) = write_new_file(
            attempt, record.fname, fresh if record.auto_fname else None, record.name
        )
        artifact.fname, artifact.dirty = fname, False  # in place, as lazyscribe's save does
        self._stored[id(artifact)] = (
            artifact,
            replace(
                record,
                fname=fname,
                sha256=sha256,
                size=size,
                metadata={**record.metadata, **metadata},
                value=None,
                writer_kwargs={},
                dirty=False,
            ),
        )
        warn_output_only(handler, record.name, "log", stacklevel=5)  # at project.save()

    def _artifact_dicts(self) -> list[dict[str, Any]]:
        return [self._record(artifact).to_dict() for artifact in self._artifacts]


def copy_stream(source: IO[bytes], target: IO[bytes], limit: int | None = None) -> tuple[str, int]:
    """Copy ``source`` to ``target`` in chunks, at most ``limit`` bytes; return digest and size."""
    return digest_stream(source, limit, target)
