"""Experiments: exploratory runs of a project, and promotion of their artifacts.

An :class:`Experiment` holds metrics, parameters, tags, tests and artifacts; a
:class:`~archivist.Project` keeps a list of them in ``project.json`` (lazyscribe's format) and
their files in ``<project folder>/<experiment slug>/``. What gets deployed is promoted into a
:class:`~archivist.Repository` with :meth:`Experiment.promote_artifact`. Experiments loaded
from a project opened in mode ``r`` or ``a`` are :class:`ReadOnlyExperiment`.

The attributes are lazyscribe 2.x's (``name``, ``slug``, ``created_at``, ``metrics``,
``tests``, ``dependencies``, ``path``...): an editable experiment lets you set them, compares
by value, and pickles.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archivist._backends.base import Backend
from archivist._io.trust import Trust
from archivist._tracking.dependencies import Dependencies
from archivist._tracking.frozen import FrozenList
from archivist._tracking.promotion import promote
from archivist._tracking.tracked import (
    Tracked,
    default_author,
    format_seconds,
    lazyscribe_path,
    slugify,
    test_folder_name,
)
from archivist.errors import InvalidNameError, ManifestError, UnsupportedOperationError
from archivist.manifest import check_stored_name, parse_stored_time, utcnow
from archivist.test import Test

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from archivist.repository import Repository

__all__ = ["Experiment", "ReadOnlyExperiment"]


class Experiment(Tracked):
    """One run of a project: metrics, parameters, tags, tests and artifacts.

    Create experiments with :meth:`archivist.Project.log`, or as lazyscribe's guide does
    (``Experiment(name=..., project=project.fpath)``, then append it to
    ``project.experiments``): the project places it in its folder when it saves it.
    The parameters are lazyscribe's, in its order.

    Parameters
    ----------
    name : str
        The experiment's name.
    project : str or os.PathLike, optional
        The project file it belongs to (default ``"project.json"``).
    dir : str or os.PathLike, optional
        The project's folder (default: the folder of ``project``).
    fs : fsspec.AbstractFileSystem, optional
        Accepted for lazyscribe's signature; the project's storage is used once the
        experiment belongs to a project.
    author : str, optional
        Who ran it (default: the current user).
    last_updated_by : str, optional
        Who changed it last (default: ``author``).
    metrics, parameters : Mapping[str, Any], optional
        Initial values.
    created_at, last_updated : datetime.datetime, optional
        Naive UTC times (each defaults to now, as in lazyscribe: giving ``created_at``
        alone leaves ``last_updated`` at now).
    dependencies : Mapping[str, Experiment] or Iterable[str], optional
        Upstream experiments by short slug, or stored ``"<project>|<slug>"`` references.
    short_slug, slug : str, optional
        Default: the slug of the name, and of the name and creation second.
    tests : Sequence[Test], optional
        Its tests.
    artifacts : Sequence[Artifact], optional
        Its artifacts: lazyscribe-style handler objects (see :attr:`artifacts`).
    tags : Sequence[str], optional
        Its tags.
    dirty : bool, optional
        Whether the project should save it (default ``True``: it is new).
    mutex_ : threading.Lock, optional
        The lock guarding its tests list (default: a new one).
    backend : Backend, optional
        Where the project and its files are stored (set by the project).
    folder : str, optional
        The project's folder, in the backend's path form.
    read_only : bool, optional
        Refuse every change.
    location : str, optional
        The project file's location for lineage records (URL or absolute path).
    """

    _label = "experiment"

    def __init__(
        self,
        name: str,
        project: str | os.PathLike[str] | None = None,
        dir: str | os.PathLike[str] | None = None,  # lazyscribe's name
        fs: AbstractFileSystem | None = None,
        author: str | None = None,
        last_updated_by: str | None = None,
        metrics: Mapping[str, Any] | None = None,
        parameters: Mapping[str, Any] | None = None,
        created_at: datetime | None = None,
        last_updated: datetime | None = None,
        dependencies: Mapping[str, Experiment] | Iterable[str] | None = None,
        short_slug: str | None = None,
        slug: str | None = None,
        tests: Sequence[Test] = (),
        artifacts: Sequence[Any] = (),
        tags: Sequence[str] = (),
        dirty: bool = True,
        mutex_: threading.Lock | None = None,
        *,
        backend: Backend | None = None,
        folder: str | None = None,
        read_only: bool = False,
        location: str | None = None,
        trust: Trust | None = None,
    ) -> None:
        project_path = lazyscribe_path(project if project is not None else "project.json")
        public_dir = Path(dir) if dir is not None else project_path.parent
        project_folder = folder if folder is not None else public_dir.as_posix()
        self._name = name
        self._created_at = created_at or utcnow()
        self._slug = slug or slugify(f"{name}-{self._created_at:%Y%m%d%H%M%S}")
        super().__init__(
            backend=backend,
            folder=Backend.join(project_folder, self._slug),
            read_only=read_only,
            metrics=metrics,
            parameters=parameters,
            artifacts=artifacts,
            trust=trust,
        )
        self._fs = fs
        self._project_path = project_path
        self._dir = public_dir
        self._project_folder = project_folder
        self._project = location if location is not None else os.fspath(project_path)
        self._author = author or default_author()
        self._last_updated = last_updated or utcnow()
        self._last_updated_by = last_updated_by or self._author
        self._short_slug = short_slug or slugify(name)
        self._tags = list(tags)
        self._dependencies = (
            dependencies
            if isinstance(dependencies, Dependencies)
            else Dependencies(dependencies or (), read_only=read_only)
        )
        self._tests = list(tests)
        #: The form this experiment was read or last saved in (``None`` while never saved).
        self._saved: dict[str, Any] | None = None
        #: :meth:`to_dict` as it was read or last saved: any difference is an unsaved edit.
        self._baseline: dict[str, Any] | None = None
        self.dirty = dirty and not read_only
        self._init_locks()
        if mutex_ is not None:
            self.mutex_ = mutex_

    def _init_locks(self) -> None:
        #: Guards the tests list while tests are logged from several threads.
        self.mutex_ = threading.Lock()

    def _attach(self, backend: Backend, folder: str, project: Path, location: str) -> None:
        """Place the experiment in a project (its folder and storage); done by the project."""
        self._backend, self._project_folder = backend, folder
        self._project_path, self._dir, self._project, self._fs = (
            project,
            project.parent,
            location,
            None,
        )
        self._folder = backend.join(folder, self._slug)
        self._attached = True
        for test in self._tests:
            self._attach_test(test)

    def _attach_test(self, test: Test) -> None:
        name = test_folder_name(test.name)
        test._attach(self._backend, self._backend.join(self._folder, name), self.path / name)
        test._trust = self._trust  # a test follows its experiment's (its project's) policy

    # -- identity ---------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._require_editable()
        self._name = value

    @property
    def slug(self) -> str:
        """Its unique identifier: the slug of the name and creation second."""
        return self._slug

    @slug.setter
    def slug(self, value: str) -> None:
        self._require_editable()
        saved = [a.name for t in (self, *self._tests) for a in t._artifacts if not a.dirty]
        if saved and value != self._slug:
            raise UnsupportedOperationError(
                f"cannot change the slug of experiment {self._slug!r} to {value!r}: the files "
                f"of its saved artifacts ({', '.join(map(repr, saved))}) are stored under the "
                "old slug and would no longer be found. Log a new experiment instead."
            )
        self._slug = value
        self._folder = self._backend.join(self._project_folder, value)
        for test in self._tests:
            if all(artifact.dirty for artifact in test._artifacts):  # no file stored yet
                self._attach_test(test)

    @property
    def short_slug(self) -> str:
        """The slug of the name alone."""
        return self._short_slug

    @short_slug.setter
    def short_slug(self, value: str) -> None:
        self._require_editable()
        self._short_slug = value

    @property
    def author(self) -> str:
        """Who created it."""
        return self._author

    @author.setter
    def author(self, value: str) -> None:
        self._require_editable()
        self._author = value

    @property
    def last_updated_by(self) -> str:
        """Who changed it last."""
        return self._last_updated_by

    @last_updated_by.setter
    def last_updated_by(self, value: str) -> None:
        self._require_editable()
        self._last_updated_by = value

    @property
    def created_at(self) -> datetime:
        """Creation time, naive UTC."""
        return self._created_at

    @created_at.setter
    def created_at(self, value: datetime) -> None:
        self._require_editable()
        self._created_at = value

    @property
    def last_updated(self) -> datetime:
        """Time of the last change, naive UTC."""
        return self._last_updated

    @last_updated.setter
    def last_updated(self, value: datetime) -> None:
        self._require_editable()
        self._last_updated = value

    @property
    def tags(self) -> Sequence[str]:
        """The tags (a list that refuses changes when read-only)."""
        return FrozenList(self._tags) if self._read_only else self._tags

    @tags.setter
    def tags(self, value: Sequence[str]) -> None:
        self._require_editable()
        self._tags = list(value)

    @property
    def dependencies(self) -> Dependencies:
        """Upstream experiments by short slug, as lazyscribe shows them.

        Stored as ``"<project>|<slug>"``; an upstream project is opened (read only) when
        one of its experiments is looked up. Add one with
        ``exp.dependencies["short-slug"] = other_project["short-slug"]``.
        """
        return self._dependencies

    @dependencies.setter
    def dependencies(self, value: Mapping[str, Experiment] | Iterable[str]) -> None:
        self._require_editable()
        self._dependencies = Dependencies(value)

    @property
    def tests(self) -> Sequence[Test]:
        """The tests (a list refusing changes when read-only); append a :class:`Test` to add one."""
        return FrozenList(self._tests) if self._read_only else self._tests

    @tests.setter
    def tests(self, value: Sequence[Test]) -> None:
        self._require_editable()
        self._tests = list(value)

    @property
    def project(self) -> Path:
        """The project file this experiment belongs to, as lazyscribe shows it."""
        return self._project_path

    @property
    def dir(self) -> Path:
        """The project's folder."""
        return self._dir

    @property
    def path(self) -> Path:
        """The experiment's folder, ``<project folder>/<slug>``, holding its artifact files.

        For a project in a bucket this is the path without the protocol, as in lazyscribe.
        """
        return self._dir / self._slug

    @property
    def fs(self) -> AbstractFileSystem:
        """The fsspec filesystem the artifact files are read and written through."""
        return self._fs if self._fs is not None else self._backend.fs

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
        archivist.errors.ReadOnlyExperimentError
            The experiment is read-only (attrs' ``FrozenInstanceError``, as lazyscribe raised).
        """
        self._require_editable()
        self._tags = list(tags) if overwrite else [*self._tags, *tags]
        self._touch()

    @contextmanager
    def log_test(self, name: str, description: str | None = None) -> Iterator[Test]:
        """Record a test (a sub-population) of this experiment.

        The test is added when the ``with`` block ends without an exception. Tests may be
        logged from several threads at once.

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
        archivist.errors.ReadOnlyExperimentError
            The experiment is read-only (attrs' ``FrozenInstanceError``, as lazyscribe raised).
        """
        self._require_editable()
        test = Test(name, description)
        self._attach_test(test)
        test._attached = self._attached
        yield test
        with self.mutex_:
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
            "dependencies": self._dependencies.references(),
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
        project: Path,
        location: str,
        read_only: bool,
        what: str = "an experiment",
        resolve: Callable[[str], Experiment] | None = None,
        trust: Trust | None = None,
    ) -> Experiment:
        """Build an experiment from its ``project.json`` form (archivist's or lazyscribe's).

        A read-only one is a :class:`ReadOnlyExperiment`, with read-only tests.

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
        try:
            check_stored_name(slug, "slug")  # the rule of every stored name: a folder's own
        except InvalidNameError as exc:
            raise ManifestError(f"{what}: {exc}") from None
        what = f"experiment {slug!r}"
        experiment_folder = backend.join(folder, slug)
        tests = []
        for i, item in enumerate(_list(data, "tests", what)):
            if not isinstance(item, Mapping):
                raise ManifestError(f"{what}, test {i} must be an object")
            name = test_folder_name(str(item.get("name", "")))
            tests.append(
                Test.from_dict(
                    item,
                    backend=backend,
                    folder=backend.join(experiment_folder, name),
                    path=project.parent / slug / name,
                    read_only=read_only,
                    what=f"{what}, test {i}",
                    trust=trust,
                )
            )
        last_updated = data.get("last_updated")
        created_at = parse_stored_time(data["created_at"], f"{what}: created_at")
        target = ReadOnlyExperiment if read_only else cls
        experiment = target(
            str(data["name"]),
            project,
            backend=backend,
            folder=folder,
            location=location,
            author=data.get("author"),
            created_at=created_at,
            read_only=read_only,
            last_updated=created_at
            if last_updated is None
            else parse_stored_time(last_updated, f"{what}: last_updated"),
            last_updated_by=data.get("last_updated_by"),
            slug=slug,
            short_slug=data.get("short_slug"),
            metrics=_mapping(data, "metrics", what),
            parameters=_mapping(data, "parameters", what),
            tags=[str(t) for t in _list(data, "tags", what)],
            dependencies=Dependencies(
                [str(d) for d in _list(data, "dependencies", what)],
                resolve=resolve,
                read_only=read_only,
            ),
            tests=tests,
            trust=trust,
            dirty=False,
        )
        experiment._load_artifacts(_list(data, "artifacts", what), what)
        experiment._saved = copy.deepcopy(dict(data))
        experiment._baseline = experiment.to_dict()
        return experiment

    def _save_files(self, written: list[str]) -> None:
        """Write the unsaved artifact files of the experiment and its tests."""
        self._write_dirty_artifacts(written)
        for test in self._tests:
            if not test._attached:  # created as Test(...) and appended to the tests list
                self._attach_test(test)
            test._write_dirty_artifacts(written)

    # -- promotion --------------------------------------------------------------------------

    def promote_artifact(self, repository: Repository, name: str) -> None:
        """Move an artifact of this experiment into a versioned repository.

        If the project was saved (the artifact's file exists), the file is copied into the
        repository's storage, streamed even between different backends, verified against
        its digest on arrival, and committed at once through the repository's commit
        protocol: no ``save()`` is needed. If the project was not saved yet, this is
        exactly ``repository.log_artifact(...)`` and the caller saves the repository.
        Either way the new version keeps the artifact's ``created_at`` and file name (as
        lazyscribe does) and records its lineage in a ``source`` field (the project file
        and the experiment slug).

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
        archivist.errors.LogError
            The artifact is not newer than the newest version of ``name`` in the repository
            (lazyscribe's ``ArtifactLogError``); nothing was copied.
        archivist.errors.AlreadyExistsError
            A version of ``name`` uses the artifact's file name, or a file is already there;
            nothing was changed.
        archivist.errors.UnsavedChangesError
            The file must be committed at once, but the repository holds unsaved changes.
        archivist.errors.IntegrityError
            The stored file does not match its digest; nothing was committed.
        archivist.errors.UntrustedArtifactError
            The project was opened with ``trust="verified"`` and the artifact has no digest
            and a handler that runs code.
        """
        promote(self, repository, name)

    # -- ordering and display ---------------------------------------------------------------

    def _eq_key(self) -> tuple[Any, ...]:
        return (
            self._name,
            self._author,
            self._last_updated_by,
            self._created_at,
            self._last_updated,
            self._short_slug,
            self._slug,
            self._tests,
            self._tags,
            *super()._eq_key(),
        )

    def __lt__(self, other: Experiment) -> bool:
        """Order as lazyscribe: by ``last_updated`` for one slug, else by ``created_at``."""
        if self._slug == other._slug:
            return self._last_updated < other._last_updated
        return self._created_at < other._created_at

    def __gt__(self, other: Experiment) -> bool:
        """Order as lazyscribe: by ``last_updated`` for one slug, else by ``created_at``."""
        if self._slug == other._slug:
            return self._last_updated > other._last_updated
        return self._created_at > other._created_at

    def __le__(self, other: Experiment) -> bool:
        """Equal, or older."""
        return self == other or self < other

    def __ge__(self, other: Experiment) -> bool:
        """Equal, or newer."""
        return self == other or self > other

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._name!r}, slug={self._slug!r})"


class ReadOnlyExperiment(Experiment):
    """An experiment that refuses every change (lazyscribe's ``ReadOnlyExperiment``).

    Experiments loaded from a project opened in mode ``r`` or ``a`` are read-only: logging
    and setting attributes raise :class:`~archivist.errors.ReadOnlyExperimentError` (attrs'
    ``FrozenInstanceError``, as lazyscribe raised), and metrics, parameters, tags, tests
    and artifacts are read-only views.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(*args, **kwargs)


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
