"""Tests of an experiment: metrics, parameters and artifacts of one sub-population.

A :class:`Test` is what lazyscribe calls a test: a named slice of an experiment (a region, a
customer segment) with its own metrics, parameters and artifacts. Create one with
:meth:`archivist.Experiment.log_test`, or as lazyscribe's guide does (``Test(name=...)``,
then ``exp.tests.append(test)``); its files live in ``<experiment folder>/<test slug>/``.
Tests loaded from a project opened in mode ``r`` or ``a`` are :class:`ReadOnlyTest`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from archivist._backends.base import Backend
from archivist._io.trust import Trust
from archivist._tracking.tracked import LoggedArtifact, Tracked
from archivist.errors import ManifestError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = ["ReadOnlyTest", "Test"]


class Test(Tracked):
    """Metrics, parameters and artifacts of one sub-population of an experiment.

    Parameters
    ----------
    name : str
        The test's name.
    description : str, optional
        What the test covers.
    metrics, parameters : Mapping[str, Any], optional
        Initial values.
    artifacts : Sequence[LoggedArtifact], optional
        Artifacts already logged.
    path : pathlib.Path, optional
        The folder of its artifact files as lazyscribe shows it (default ``Path(".")``
        until the test belongs to a saved experiment).
    fs : fsspec.AbstractFileSystem, optional
        Accepted for lazyscribe's signature; the project's storage is used once the test
        belongs to an experiment.
    backend : Backend, optional
        Where its artifact files are stored (set by the experiment).
    folder : str, optional
        The folder of its artifact files, in the backend's path form.
    read_only : bool, optional
        Refuse every change.
    """

    __test__: ClassVar[bool] = False  # not a pytest test class
    _label = "test"

    def __init__(
        self,
        name: str,
        description: str | None = None,
        metrics: Mapping[str, Any] | None = None,
        parameters: Mapping[str, Any] | None = None,
        artifacts: Sequence[LoggedArtifact] = (),
        path: Path | None = None,
        fs: AbstractFileSystem | None = None,
        *,
        backend: Backend | None = None,
        folder: str | None = None,
        read_only: bool = False,
        trust: Trust | None = None,
    ) -> None:
        public = Path(".") if path is None else Path(path)
        super().__init__(
            backend=backend,
            folder=folder if folder is not None else public.as_posix(),
            read_only=read_only,
            metrics=metrics,
            parameters=parameters,
            artifacts=artifacts,
            trust=trust,
        )
        self._fs = fs
        self._name = name
        self._description = description
        self._path = public

    def _attach(self, backend: Backend, folder: str, path: Path) -> None:
        """Place the test in its experiment's folder (done by the experiment)."""
        self._backend, self._folder, self._path, self._fs = backend, folder, path, None
        self._attached = True

    @property
    def name(self) -> str:
        """The test's name."""
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._require_editable()
        self._name = value

    @property
    def description(self) -> str | None:
        """What the test covers."""
        return self._description

    @description.setter
    def description(self, value: str | None) -> None:
        self._require_editable()
        self._description = value

    @property
    def path(self) -> Path:
        """The folder of the test's artifact files (``<experiment path>/<test slug>``)."""
        return self._path

    @property
    def fs(self) -> AbstractFileSystem:
        """The fsspec filesystem the artifact files are read and written through."""
        return self._fs if self._fs is not None else self._backend.fs

    def _eq_key(self) -> tuple[Any, ...]:
        return (self._name, self._description, *super()._eq_key())

    def to_dict(self) -> dict[str, Any]:
        """Return the test as ``project.json`` stores it (lazyscribe's shape).

        Returns
        -------
        dict[str, Any]
            ``name``, ``description``, ``metrics``, ``parameters``, ``artifacts``.
        """
        return {
            "name": self._name,
            "description": self._description,
            "metrics": dict(self._metrics),
            "parameters": dict(self._parameters),
            "artifacts": self._artifact_dicts(),
        }

    @classmethod
    def from_dict(
        cls,
        data: object,
        *,
        backend: Backend,
        folder: str,
        read_only: bool,
        what: str,
        path: Path | None = None,
        trust: Trust | None = None,
    ) -> Test:
        """Build a test from its ``project.json`` form (a :class:`ReadOnlyTest` if read-only).

        Raises
        ------
        archivist.errors.ManifestError
            A field is missing or malformed.
        """
        if not isinstance(data, Mapping) or not isinstance(data.get("name"), str):
            raise ManifestError(f"{what} must be an object with a string 'name'")
        metrics, parameters = data.get("metrics", {}), data.get("parameters", {})
        if not isinstance(metrics, Mapping) or not isinstance(parameters, Mapping):
            raise ManifestError(f"{what}: metrics and parameters must be objects")
        artifacts = data.get("artifacts", [])
        if not isinstance(artifacts, list):
            raise ManifestError(f"{what}: artifacts must be a list")
        target = ReadOnlyTest if read_only else cls
        return target(
            data["name"],
            data.get("description"),
            metrics=metrics,
            parameters=parameters,
            trust=trust,
            artifacts=[
                LoggedArtifact.from_dict(item, f"{what}, artifact {i}")
                for i, item in enumerate(artifacts)
            ],
            path=path,
            backend=backend,
            folder=folder,
            read_only=read_only,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._name!r})"


class ReadOnlyTest(Test):
    """A test that refuses every change (lazyscribe's ``ReadOnlyTest``).

    Tests of experiments loaded from a project opened in mode ``r`` or ``a`` are read-only:
    logging and setting attributes raise :class:`~archivist.errors.ReadOnlyError`, and
    metrics, parameters and artifacts are read-only views.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(*args, **kwargs)
