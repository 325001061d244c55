"""Projects: a ``project.json`` of experiments, in lazyscribe 2.x's format.

A :class:`Project` logs experiments (:meth:`Project.log`), saves them with their artifact
files, and reads back ``project.json`` files written by archivist or by lazyscribe 2.x.
Saving writes the artifact files first, then replaces ``project.json`` with a
compare-and-swap, merging experiments other writers saved in the meantime.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import threading
import warnings
from bisect import insort
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from fsspec.core import split_protocol

from archivist._backends.base import Backend
from archivist._io.paths import delete_owned
from archivist._io.trust import Trust, resolve_trust
from archivist._tracking.tracked import default_author, lazyscribe_path, test_folder_name
from archivist.errors import (
    ArchivistError,
    EncodingError,
    ExperimentNotFoundError,
    InvalidModeError,
    ReadOnlyModeError,
    RepositoryNotFoundError,
)
from archivist.experiment import Experiment
from archivist.manifest import utcnow
from archivist.registry import registry
from archivist.stores import open_location, storage_errors
from archivist.stores._documents import MAX_ATTEMPTS, Tally
from archivist.stores._projects import ProjectStore

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = ["Project", "ProjectState"]

ProjectMode = Literal["r", "a", "w", "w+"]


class ProjectState(TypedDict):
    """The fields lazyscribe pickles for a project (archivist pickles these and more)."""

    author: str
    experiments: list[Experiment]
    fpath: Path
    mode: ProjectMode
    protocol: str
    storage_options: dict[str, Any]


_MODES = ("r", "a", "w", "w+")
#: How many times a save re-reads and re-merges ``project.json`` after losing a race.
MAX_SAVE_ATTEMPTS = MAX_ATTEMPTS


class Project:
    """A list of experiments kept in ``project.json``, with their artifact files beside it.

    Parameters
    ----------
    fpath : str or os.PathLike, optional
        The project file's path or URL (default ``"project.json"``).
    mode : {"a", "r", "w", "w+"}, optional
        ``r`` reads only; ``a`` (default) loads existing experiments read-only and adds
        new ones; ``w`` ignores existing experiments and replaces the file on save; ``w+``
        loads existing experiments editable.
    author : str, optional
        The author recorded on new and changed experiments (default: the current user).
    trust : {"any", "verified"}, optional
        The policy for artifacts lazyscribe wrote (no recorded digest) whose handler runs
        code when reading (pickle, joblib), followed by every experiment and test of this
        project: ``"any"`` loads them with an :class:`~archivist.ArchivistWarning`,
        ``"verified"`` refuses them with :class:`~archivist.UntrustedArtifactError`.
        Default: the environment variable ``ARCHIVIST_TRUST``, else ``"any"``.
    **storage_options
        Passed to the backend's fsspec filesystem.

    Raises
    ------
    archivist.errors.InvalidModeError
        ``mode`` is not one of the four.
    archivist.errors.ConfigError
        ``trust`` (or ``ARCHIVIST_TRUST``) is not ``"any"`` or ``"verified"``.
    archivist.errors.RepositoryNotFoundError
        ``mode="r"`` and there is no project file.
    archivist.errors.ManifestError
        The project file is corrupt.

    Examples
    --------
    >>> from archivist import Project
    >>> project = Project("memory://project-doc/project.json", mode="w")
    >>> with project.log("baseline") as exp:
    ...     exp.log_metric("auc", 0.91)
    >>> project.save()
    >>> Project("memory://project-doc/project.json", mode="r")["baseline"].metrics["auc"]
    0.91
    """

    def __init__(
        self,
        fpath: str | os.PathLike[str] = "project.json",
        mode: ProjectMode = "a",
        author: str | None = None,
        *,
        trust: Trust | None = None,
        **storage_options: Any,
    ) -> None:
        if mode not in _MODES:
            raise InvalidModeError(f"mode must be one of 'r', 'a', 'w', 'w+', got {mode!r}")
        self.mode: ProjectMode = mode
        self.trust: Trust = resolve_trust(trust)
        self.author = author if author is not None else default_author()
        self.storage_options = storage_options
        self.backend: Backend
        self.backend, self.path, self.location = open_location(fpath, **storage_options)
        #: The project file's path as lazyscribe shows it (a URL without its protocol).
        self.fpath = lazyscribe_path(fpath)
        #: The URL protocol (``"file"`` for a local path), as lazyscribe's ``protocol``.
        self.protocol: str = split_protocol(os.fspath(fpath))[0] or "file"
        self._fpath_given = fpath
        self.dir = posixpath.dirname(self.path)
        self.experiments: list[Experiment] = []
        self._token: str | None = None
        self.mutex_ = threading.Lock()
        if mode != "w":
            self.load()

    @property
    def fs(self) -> AbstractFileSystem:
        """The fsspec filesystem the project is stored through (lazyscribe's ``fs``)."""
        return self.backend.fs

    def __getstate__(self) -> dict[str, Any]:
        """Return the state to pickle: the backend and lock are re-created on unpickling."""
        return {k: v for k, v in self.__dict__.items() if k not in ("backend", "mutex_")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a pickled project, re-opening its storage."""
        self.__dict__.update(state)
        self.backend = open_location(self._fpath_given, **self.storage_options)[0]
        self.mutex_ = threading.Lock()
        for experiment in self.experiments:
            experiment._backend = self.backend

    # -- reading ----------------------------------------------------------------------------

    @property
    def _store(self) -> ProjectStore:
        """``project.json`` as a document (made on use: it holds the backend)."""
        return ProjectStore(self.backend, self.path, self.location)

    def _read(self) -> tuple[list[dict[str, Any]], str | None]:
        return self._store.read()

    def load(self) -> None:
        """(Re-)read the experiments from the project file.

        Raises
        ------
        archivist.errors.RepositoryNotFoundError
            Mode ``r`` and there is no project file.
        archivist.errors.ManifestError
            The file is corrupt.
        """
        entries, token = self._read()
        if token is None and self.mode == "r":
            raise RepositoryNotFoundError(
                f"no project at {self.location}; open it with mode 'a' or 'w' to create one"
            )
        read_only = self.mode in ("r", "a")
        experiments = [
            Experiment.from_dict(
                entry,
                backend=self.backend,
                folder=self.dir,
                project=self.fpath,
                location=self.location,
                read_only=read_only,
                what=f"experiment {i} of {self.location}",
                trust=self.trust,
                resolve=UpstreamProjects(self.protocol, self.storage_options),
            )
            for i, entry in enumerate(entries)
        ]
        self.experiments = []
        for experiment in experiments:  # in file order, each placed as lazyscribe places it
            insort(self.experiments, experiment)
        self._token = token

    def __getitem__(self, key: str) -> Experiment:
        """Return the last experiment in :attr:`experiments` whose slug or short slug is ``key``.

        Raises
        ------
        archivist.errors.ExperimentNotFoundError
            No experiment matches (a ``KeyError``).
        """
        for experiment in reversed(self.experiments):
            if key in (experiment.slug, experiment.short_slug):
                return experiment
        names = ", ".join(repr(e.slug) for e in self.experiments[-20:]) or "none"
        raise ExperimentNotFoundError(
            f"no experiment with the slug or short slug {key!r} in {self.location}; "
            f"experiments: {names}"
        )

    def __contains__(self, key: object) -> bool:
        return any(key in (e.slug, e.short_slug) for e in self.experiments)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Yield each experiment as a dict, in project order (as lazyscribe does)."""
        for experiment in self.experiments:
            yield experiment.to_dict()

    def __len__(self) -> int:
        return len(self.experiments)

    def __repr__(self) -> str:
        return f"Project({self.location!r}, mode={self.mode!r}: {len(self)} experiments)"

    def filter(self, func: Callable[[Experiment], bool]) -> Iterator[Experiment]:
        """Yield the experiments for which ``func`` returns true.

        Parameters
        ----------
        func : Callable[[Experiment], bool]
            The test.

        Yields
        ------
        Experiment
            Matching experiments, in project order.
        """
        for experiment in self.experiments:
            if func(experiment):
                yield experiment

    # -- writing ----------------------------------------------------------------------------

    def _require_writable(self) -> None:
        if self.mode == "r":
            raise ReadOnlyModeError(
                f"{self.location} is open read-only (mode='r'); open it with mode 'a' or 'w+'"
            )

    def _new_experiment(self, name: str) -> Experiment:
        return Experiment(
            name,
            self.fpath,
            author=self.author,
            backend=self.backend,
            folder=self.dir,
            location=self.location,
            trust=self.trust,
        )

    def _adopt(self, experiment: Experiment) -> None:
        """Place an experiment created outside this project in its folder and storage."""
        if not experiment._attached and not experiment.read_only:
            experiment._trust = self.trust
            experiment._attach(self.backend, self.dir, self.fpath, self.location)

    @contextmanager
    def log(self, name: str) -> Iterator[Experiment]:
        """Run an experiment; it is added to the project if the block succeeds.

        Parameters
        ----------
        name : str
            The experiment's name.

        Yields
        ------
        Experiment
            The new experiment, to log metrics, parameters, tags, tests and artifacts to.

        Raises
        ------
        archivist.errors.ReadOnlyError
            The project is open in mode ``r``.
        """
        self._require_writable()
        experiment = self._new_experiment(name)
        yield experiment
        self.append(experiment)

    def append(self, other: Experiment) -> None:
        """Add an experiment to the project (saved by :meth:`save`).

        It is placed as lazyscribe places it (:func:`bisect.insort`, by the experiments'
        order: ``created_at``, or ``last_updated`` for one slug); the list is not sorted
        again, so an experiment whose ``created_at`` is edited afterwards stays where it is.

        Parameters
        ----------
        other : Experiment
            The experiment (lazyscribe's parameter name).

        Raises
        ------
        archivist.errors.ReadOnlyError
            The project is open in mode ``r``.
        """
        self._require_writable()
        self._adopt(other)
        with self.mutex_:
            insort(self.experiments, other)

    def merge(self, *others: Project, other: Project | None = None) -> Project:
        """Return a new project holding this project's and the others' experiments.

        The others' experiments are placed as :meth:`append` places them (an experiment
        equal to one already there is skipped), and experiments sharing a slug are kept
        once, where the last of them is, as in lazyscribe; the one kept is the one updated
        last (lazyscribe's rule), even where its insertion order would keep an older one.
        The new project has this project's file, mode and author; nothing is saved.

        Parameters
        ----------
        *others : Project
            The projects to merge in.
        other : Project, optional
            One project to merge in; deprecated (as in lazyscribe 2.2), pass it positionally.

        Returns
        -------
        Project
            The merged project.

        Warns
        -----
        DeprecationWarning
            ``other`` was given.
        """
        if other is not None:
            warnings.warn(
                "Named argument ``other`` is deprecated and will be removed in version 3.0. "
                "Please use a positional argument",
                DeprecationWarning,
                stacklevel=2,
            )
            others = (*others, other)
        combined = list(self.experiments)
        for project in others:
            for experiment in project.experiments:
                if experiment not in combined:
                    insort(combined, experiment)
        newest: dict[str, Experiment] = {}  # per slug, the one updated last (ties: the later)
        for experiment in combined:
            current = newest.get(experiment.slug)
            if current is None or current.last_updated <= experiment.last_updated:
                newest[experiment.slug] = experiment
        slugs = [experiment.slug for experiment in combined]
        kept = [newest[e.slug] for i, e in enumerate(combined) if e.slug not in slugs[i + 1 :]]
        merged = object.__new__(Project)
        merged.__dict__.update(self.__dict__)
        merged.mutex_ = threading.Lock()
        merged.experiments = kept
        return merged

    def save(self) -> None:
        """Write the new artifact files, then ``project.json``.

        Files are written first (never overwriting a stored file); then ``project.json``
        is re-read and replaced with a compare-and-swap, keeping experiments that other
        writers saved meanwhile (mode ``w`` replaces the file with this project's
        experiments). Every edited experiment is saved, however it was edited (see
        :attr:`Experiment.dirty <archivist.Experiment.dirty>`).

        If the save fails before the replace of ``project.json``, the files it wrote are
        removed. If it fails during or after the replace (an error, a lost acknowledgement,
        Ctrl-C), ``project.json`` is read again: the files are removed only if it provably
        does not name them; if it names them the save landed and this project counts as
        saved (the error is still raised); if it cannot be read the files stay, as orphans
        that never break the project.

        Raises
        ------
        archivist.errors.ReadOnlyError
            The project is open in mode ``r``.
        archivist.errors.EncodingError
            A handler could not write an artifact, or a metric or parameter is not
            JSON-serializable; nothing was written.
        archivist.errors.ConflictError
            Other writers kept saving the project.
        """
        self._require_writable()
        for experiment in self.experiments:  # appended to project.experiments directly
            self._adopt(experiment)
        dirty = [e for e in self.experiments if not e.read_only and e.dirty]
        for experiment in dirty:
            _check_serializable(experiment)
        for experiment in dirty:
            if not experiment._dirty:  # edited through a test or directly: stamp the change
                experiment._last_updated = utcnow()
            if self.mode == "w+":
                experiment._last_updated_by = self.author
        written: list[str] = []
        before = [item._snapshot() for e in dirty for item in (e, *e._tests)]
        owners = [item for e in dirty for item in (e, *e._tests)]
        tally = Tally()  # tally.unanswered: a replace of project.json may have landed
        try:
            for experiment in dirty:
                experiment._save_files(written)
            if written:
                with storage_errors(f"flushing the files of {self.location}"):
                    self.backend.sync(written)  # durable before project.json names them
            self._commit(dirty, written, tally)
        except BaseException:
            landed = self._landed(dirty, written) if tally.unanswered else False
            if landed:
                for experiment in dirty:
                    experiment._mark_saved()
            else:
                if landed is False:
                    for path in written:
                        with contextlib.suppress(ArchivistError, OSError):  # best-effort
                            delete_owned(self.backend, self.dir, path)
                for owner, snapshot in zip(owners, before, strict=True):
                    owner._restore(snapshot)
            raise
        for experiment in dirty:
            experiment._mark_saved()

    def _landed(self, dirty: list[Experiment], written: list[str]) -> bool | None:
        """Tell whether a save whose replace failed is in ``project.json`` after all.

        Returns ``True`` when the stored file names this save's files (or holds all its
        experiments, when it wrote no file), ``False`` when it provably does not, and
        ``None`` when the file cannot be read.
        """
        try:
            entries, token = self._read()
        except BaseException:  # unknown state (even a second Ctrl-C): keep every file
            return None
        landed = self._holds(entries, dirty, written)
        if landed:
            self._token = token
        return landed

    def _holds(
        self, entries: list[dict[str, Any]], dirty: list[Experiment], written: list[str]
    ) -> bool:
        """Tell whether stored ``entries`` hold this save.

        They do when they name a file it wrote (file names are never reused), or, when it
        wrote none, hold every experiment it saved.
        """
        if written:
            referenced = set(self._referenced_paths(entries))
            return any(path in referenced for path in written)
        return bool(dirty) and all(e.to_dict() in entries for e in dirty)

    def _referenced_paths(self, entries: list[dict[str, Any]]) -> Iterator[str]:
        """Yield the path of every artifact file that stored experiments name."""
        join = self.backend.join
        for entry in entries:
            slug = entry.get("slug")
            if not isinstance(slug, str):
                continue
            for artifact in _records(entry.get("artifacts")):
                yield join(self.dir, slug, str(artifact.get("fname")))
            for test in _records(entry.get("tests")):
                folder = join(self.dir, slug, test_folder_name(str(test.get("name", ""))))
                for artifact in _records(test.get("artifacts")):
                    yield join(folder, str(artifact.get("fname")))

    def _commit(self, dirty: list[Experiment], written: list[str], tally: Tally) -> None:
        """Merge this project's experiments into ``project.json`` with compare-and-swap."""

        def merge(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
            if self.mode == "w":
                return [e.to_dict() for e in self.experiments]
            return _merge_entries(entries, self.experiments, dirty)

        done = self._store.update(
            merge,
            landed=lambda entries: self._holds(entries, dirty, written),
            tally=tally,
            attempts=MAX_SAVE_ATTEMPTS,
        )
        self._token = done.token


def _records(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _check_serializable(experiment: Experiment) -> None:
    """Refuse, before anything is written, an experiment ``project.json`` cannot hold."""
    for label, values in (
        ("metric", experiment._metrics),
        ("parameter", experiment._parameters),
        *((f"metric of test {test.name!r}", test._metrics) for test in experiment._tests),
        *((f"parameter of test {test.name!r}", test._parameters) for test in experiment._tests),
    ):
        for key, value in values.items():
            try:
                json.dumps(value)
            except (TypeError, ValueError) as exc:
                raise EncodingError(
                    f"the {label} {key!r} of experiment {experiment.slug!r} cannot be saved "
                    f"in project.json: {exc}. Log a JSON value (str, number, bool, None, "
                    "list or dict of those) instead; nothing was written."
                ) from None


def _merge_entries(
    entries: list[dict[str, Any]], experiments: list[Experiment], dirty: list[Experiment]
) -> list[dict[str, Any]]:
    """Lay this project's changed and new experiments over the stored entries.

    An experiment read from a file is matched to the stored entry equal to the form it was
    read in (so experiments sharing a slug never replace each other); a changed one
    replaces that entry, an unchanged one leaves the stored entry alone. New experiments,
    and read ones whose entry is gone, are appended; an unchanged one is appended in the
    form it was read in, so nothing changed in memory sneaks into the file.
    """
    merged = list(entries)
    claimed: set[int] = set()
    changed = {id(e) for e in dirty}
    for experiment in experiments:
        saved = experiment._saved
        index = None
        if saved is not None:
            index = next(
                (i for i, entry in enumerate(merged) if i not in claimed and entry == saved),
                None,
            )
        if index is not None:
            claimed.add(index)
            if id(experiment) in changed:
                merged[index] = experiment.to_dict()
            continue
        if id(experiment) in changed or saved is None:
            merged.append(experiment.to_dict())
        else:
            merged.append(saved)
        claimed.add(len(merged) - 1)
    return merged


class UpstreamProjects:
    """Resolves an experiment's stored ``"<project>|<slug>"`` dependencies to experiments.

    The project is looked up as lazyscribe does: a key of :data:`archivist.registry.registry`,
    a registered project's path, else a path opened read only (once) with the protocol and
    storage options of the project that read the experiment. It pickles without the projects
    it opened.

    Parameters
    ----------
    protocol : str
        The reading project's URL protocol, for upstream paths stored without one.
    storage_options : Mapping[str, Any]
        The reading project's storage options.
    """

    def __init__(self, protocol: str, storage_options: Mapping[str, Any]) -> None:
        self.protocol = protocol
        self.storage_options = dict(storage_options)
        self._opened: dict[str, Project] = {}

    def __call__(self, reference: str) -> Experiment:
        """Return the experiment ``reference`` names, opening its project if needed."""
        project_name, _, slug = reference.rpartition("|")
        upstream: Project | None = None
        if project_name in registry:
            upstream = registry[project_name]
        else:
            key = registry.search(Path(project_name))
            upstream = registry[key] if key is not None else self._opened.get(project_name)
        if upstream is None:
            location = project_name
            if self.protocol not in ("file", "local"):
                location = f"{self.protocol}://{project_name}"
            upstream = Project(location, mode="r", **self.storage_options)
            self._opened[project_name] = upstream
        return upstream[slug]

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the opened projects."""
        return {**self.__dict__, "_opened": {}}
