"""Experiments: exploratory runs of a project, and promotion of their artifacts.

An :class:`Experiment` holds metrics, parameters, tags, tests and artifacts; a
:class:`~archivist.Project` keeps a list of them in ``project.json`` (lazyscribe's format) and
their files in ``<project folder>/<experiment slug>/``. What gets deployed is promoted into a
:class:`~archivist.Repository` with :meth:`Experiment.promote_artifact`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

from archivist._tracking import (
    ARTIFACT_FIELDS,
    LoggedArtifact,
    Tracked,
    copy_stream,
    default_author,
    format_seconds,
    slugify,
)
from archivist.errors import IntegrityError, ManifestError
from archivist.manifest import CORE_FIELDS, parse_stored_time, utcnow
from archivist.storage.base import Backend
from archivist.test import Test

if TYPE_CHECKING:
    from archivist.repository import Repository

__all__ = ["Experiment"]

_EXPERIMENT_FIELDS = (
    "name",
    "author",
    "last_updated_by",
    "metrics",
    "parameters",
    "created_at",
    "last_updated",
    "dependencies",
    "short_slug",
    "slug",
    "tests",
    "artifacts",
    "tags",
)


class Experiment(Tracked):
    """One run of a project: metrics, parameters, tags, tests and artifacts.

    Create experiments with :meth:`archivist.Project.log`; experiments loaded from a
    project opened in mode ``r`` or ``a`` are read-only.

    Parameters
    ----------
    name : str
        The experiment's name.
    backend : Backend
        Where the project and its files are stored.
    folder : str
        The project's folder, in the backend's path form.
    project : str, optional
        The project file's location, recorded as lineage when promoting.
    author : str, optional
        Who ran it (default: the current user).
    created_at : datetime.datetime, optional
        Naive UTC creation time (default: now).
    read_only : bool, optional
        Refuse every change.
    **fields
        Saved fields (``slug``, ``metrics``, ``tests``...), as :meth:`from_dict` passes them.

    Attributes
    ----------
    dirty : bool
        ``True`` while the experiment holds changes the project has not saved.
    """

    _label = "experiment"

    def __init__(
        self,
        name: str,
        *,
        backend: Backend,
        folder: str,
        project: str = "project.json",
        author: str | None = None,
        created_at: datetime | None = None,
        read_only: bool = False,
        last_updated: datetime | None = None,
        last_updated_by: str | None = None,
        slug: str | None = None,
        short_slug: str | None = None,
        metrics: Mapping[str, Any] | None = None,
        parameters: Mapping[str, Any] | None = None,
        tags: Sequence[str] = (),
        dependencies: Sequence[str] = (),
        tests: Sequence[Test] = (),
        artifacts: Sequence[LoggedArtifact] = (),
    ) -> None:
        self._name = name
        self._created_at = created_at or utcnow()
        self._slug = slug or slugify(f"{name}-{self._created_at:%Y%m%d%H%M%S}")
        super().__init__(
            backend=backend,
            folder=backend.join(folder, self._slug),
            read_only=read_only,
            metrics=metrics,
            parameters=parameters,
            artifacts=artifacts,
        )
        self._project_folder = folder
        self._project = project
        self._author = author or default_author()
        self._last_updated = last_updated or self._created_at
        self._last_updated_by = last_updated_by or self._author
        self._short_slug = short_slug or slugify(name)
        self._tags = list(tags)
        self._dependencies = list(dependencies)
        self._tests = list(tests)
        #: The form this experiment was read or last saved in (``None`` while never saved).
        self._saved: dict[str, Any] | None = None
        #: :meth:`to_dict` as it was read or last saved: any difference is an unsaved edit.
        self._baseline: dict[str, Any] | None = None
        self.dirty = not read_only

    # -- identity ---------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self._name

    @property
    def slug(self) -> str:
        """Its unique identifier: the slug of the name and creation second."""
        return self._slug

    @property
    def short_slug(self) -> str:
        """The slug of the name alone."""
        return self._short_slug

    @property
    def author(self) -> str:
        """Who created it."""
        return self._author

    @property
    def last_updated_by(self) -> str:
        """Who changed it last."""
        return self._last_updated_by

    @property
    def created_at(self) -> datetime:
        """Creation time, naive UTC."""
        return self._created_at

    @property
    def last_updated(self) -> datetime:
        """Time of the last change, naive UTC."""
        return self._last_updated

    @property
    def tags(self) -> Sequence[str]:
        """The tags (a tuple when read-only)."""
        return tuple(self._tags) if self._read_only else self._tags

    @property
    def dependencies(self) -> Sequence[str]:
        """Upstream experiments, as lazyscribe records them: ``"<project>|<slug>"``."""
        return tuple(self._dependencies)

    @property
    def tests(self) -> Sequence[Test]:
        """The tests (a tuple when read-only)."""
        return tuple(self._tests) if self._read_only else list(self._tests)

    @property
    def project(self) -> str:
        """The location of the project file this experiment belongs to."""
        return self._project

    @property
    def dir(self) -> str:
        """The project's folder (lazyscribe's ``dir``)."""
        return self._project_folder

    @property
    def path(self) -> str:
        """The experiment's folder, ``<project folder>/<slug>``, holding its artifact files."""
        return self._folder

    # -- changes ----------------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        """``True`` while the experiment holds changes the project has not saved.

        Any edit counts: through this experiment's methods, through one of its tests
        (``exp.tests[0].log_metric(...)``), or directly (``exp.metrics["x"] = 1``).
        """
        if self._dirty or any(test.dirty for test in self._tests):
            return True
        return self._baseline is not None and self.to_dict() != self._baseline

    @dirty.setter
    def dirty(self, value: bool) -> None:
        self._dirty = value

    def _mark_saved(self) -> None:
        """Record the current state as the saved one."""
        self._dirty = False
        for test in self._tests:
            test.dirty = False
        self._baseline = self.to_dict()
        self._saved = copy.deepcopy(self._baseline)

    def _touch(self) -> None:
        self._last_updated = utcnow()
        self.dirty = True

    def tag(self, *tags: str, overwrite: bool = False) -> None:
        """Add tags, or replace them all.

        Parameters
        ----------
        *tags : str
            The tags.
        overwrite : bool, optional
            Replace the existing tags (with none, if no tags are given).

        Raises
        ------
        archivist.errors.ReadOnlyError
            The experiment is read-only.
        """
        self._require_editable()
        self._tags = list(tags) if overwrite else [*self._tags, *tags]
        self._touch()

    @contextmanager
    def log_test(self, name: str, description: str | None = None) -> Iterator[Test]:
        """Record a test (a sub-population) of this experiment.

        The test is added when the ``with`` block ends without an exception.

        Parameters
        ----------
        name : str
            The test's name.
        description : str, optional
            What it covers.

        Yields
        ------
        archivist.test.Test
            The test to log metrics, parameters and artifacts to.

        Raises
        ------
        archivist.errors.ReadOnlyError
            The experiment is read-only.
        """
        self._require_editable()
        test = Test(
            name,
            description,
            backend=self._backend,
            folder=self._backend.join(self._folder, slugify(name) or "test"),
        )
        yield test
        self._tests.append(test)
        self._touch()

    # -- persistence ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Return the experiment as ``project.json`` stores it (lazyscribe 2.x's shape).

        Returns
        -------
        dict[str, Any]
            The experiment's fields.
        """
        return {
            "name": self._name,
            "author": self._author,
            "last_updated_by": self._last_updated_by,
            "metrics": copy.deepcopy(self._metrics),
            "parameters": copy.deepcopy(self._parameters),
            "created_at": format_seconds(self._created_at),
            "last_updated": format_seconds(self._last_updated),
            "dependencies": list(self._dependencies),
            "short_slug": self._short_slug,
            "slug": self._slug,
            "tests": [test.to_dict() for test in self._tests],
            "artifacts": self._artifact_dicts(),
            "tags": list(self._tags),
        }

    @classmethod
    def from_dict(
        cls,
        data: object,
        *,
        backend: Backend,
        folder: str,
        project: str,
        read_only: bool,
        what: str = "an experiment",
    ) -> Experiment:
        """Build an experiment from its ``project.json`` form (archivist's or lazyscribe's).

        Raises
        ------
        archivist.errors.ManifestError
            A field is missing or malformed.
        """
        if not isinstance(data, Mapping):
            raise ManifestError(f"{what} must be a JSON object")
        missing = [k for k in ("name", "created_at", "slug") if k not in data]
        if missing:
            raise ManifestError(f"{what} lacks the field(s) {', '.join(missing)}")
        slug = data["slug"]
        if not isinstance(slug, str) or not slug or "/" in slug or slug in {".", ".."}:
            raise ManifestError(f"{what}: slug must be a plain folder name, got {slug!r}")
        what = f"experiment {slug!r}"
        experiment_folder = backend.join(folder, slug)
        tests = [
            Test.from_dict(
                item,
                backend=backend,
                folder=backend.join(experiment_folder, slugify(str(item.get("name", "")))),
                read_only=read_only,
                what=f"{what}, test {i}",
            )
            if isinstance(item, Mapping)
            else _bad(f"{what}, test {i} must be an object")
            for i, item in enumerate(_list(data, "tests", what))
        ]
        last_updated = data.get("last_updated")
        experiment = cls(
            str(data["name"]),
            backend=backend,
            folder=folder,
            project=project,
            author=data.get("author"),
            created_at=parse_stored_time(data["created_at"], f"{what}: created_at"),
            read_only=read_only,
            last_updated=None
            if last_updated is None
            else parse_stored_time(last_updated, f"{what}: last_updated"),
            last_updated_by=data.get("last_updated_by"),
            slug=slug,
            short_slug=data.get("short_slug"),
            metrics=_mapping(data, "metrics", what),
            parameters=_mapping(data, "parameters", what),
            tags=[str(t) for t in _list(data, "tags", what)],
            dependencies=[str(d) for d in _list(data, "dependencies", what)],
            tests=tests,
            artifacts=[
                LoggedArtifact.from_dict(item, f"{what}, artifact {i}")
                for i, item in enumerate(_list(data, "artifacts", what))
            ],
        )
        experiment.dirty = False
        experiment._saved = copy.deepcopy(dict(data))
        experiment._baseline = experiment.to_dict()
        return experiment

    def _save_files(self, written: list[str]) -> None:
        """Write the unsaved artifact files of the experiment and its tests."""
        self._write_dirty_artifacts(written)
        for test in self._tests:
            test._write_dirty_artifacts(written)

    # -- promotion --------------------------------------------------------------------------

    def promote_artifact(self, repository: Repository, name: str) -> None:
        """Move an artifact of this experiment into a versioned repository.

        If the project was saved (the artifact's file exists), the file is copied into the
        repository's storage, streamed even between different backends, verified against
        its digest on arrival, and committed at once through the repository's commit
        protocol: no ``save()`` is needed. If the project was not saved yet, this is
        exactly ``repository.log_artifact(...)`` and the caller saves the repository.
        Either way the new version records its lineage in a ``source`` field (the project
        file and the experiment slug).

        Parameters
        ----------
        repository : archivist.Repository
            The repository to promote into, open for writing.
        name : str
            The artifact's name; it becomes the repository artifact's name.

        Raises
        ------
        archivist.errors.ArtifactNotFoundError
            The experiment has no such artifact, or its file is missing.
        archivist.errors.ReadOnlyError
            The repository is open in mode ``r``; nothing was copied.
        archivist.errors.UnsavedChangesError
            The file must be committed at once, but the repository holds unsaved changes.
        archivist.errors.IntegrityError
            The stored file does not match its digest; nothing was committed.
        """
        artifact = self._find_artifact(name)
        source = {"project": self._project, "experiment": self._slug}
        if artifact.dirty:
            repository._log_promoted(
                name, artifact.value, artifact.handler, artifact.writer_kwargs, source
            )
            return
        repository._require_writable()
        path = self.artifact_location(artifact)

        def write(target: IO[bytes]) -> None:
            with self._open_unverified(artifact) as stream:
                sha256, size = copy_stream(stream, target)
            if artifact.sha256 is not None and (sha256, size) != (artifact.sha256, artifact.size):
                raise IntegrityError(
                    f"{path} does not match its record in the project (expected sha256 "
                    f"{artifact.sha256} and {artifact.size} bytes, read {sha256} and {size} "
                    "bytes); it was not promoted"
                )

        metadata = {
            k: v
            for k, v in artifact.metadata.items()
            if k not in CORE_FIELDS and k not in ARTIFACT_FIELDS and k != "source"
        }
        expected = None
        if artifact.sha256 is not None and artifact.size is not None:
            expected = (artifact.sha256, artifact.size)
        repository._promote(name, artifact.handler, write, metadata, source, expected)

    def _open_unverified(self, artifact: LoggedArtifact) -> IO[bytes]:
        # The copy is hashed while it streams and checked against the record afterwards,
        # so the source is read once.
        return self.open_artifact_file(
            LoggedArtifact(artifact.name, artifact.handler, artifact.fname, artifact.created_at)
        )

    # -- ordering and display ---------------------------------------------------------------

    def _sort_key(self) -> tuple[datetime, datetime]:
        return (self._created_at, self._last_updated)

    def __lt__(self, other: Experiment) -> bool:
        if self._slug == other._slug:
            return self._last_updated < other._last_updated
        return self._created_at < other._created_at

    def __repr__(self) -> str:
        state = ", read-only" if self._read_only else ""
        return f"Experiment({self._name!r}, slug={self._slug!r}{state})"


def _bad(message: str) -> Test:
    raise ManifestError(message)


def _list(data: Mapping[str, Any], key: str, what: str) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise ManifestError(f"{what}: {key} must be a list")
    return value


def _mapping(data: Mapping[str, Any], key: str, what: str) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, Mapping):
        raise ManifestError(f"{what}: {key} must be an object")
    return copy.deepcopy(dict(value))
