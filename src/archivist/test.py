"""Tests of an experiment: metrics, parameters and artifacts of one sub-population.

A :class:`Test` is what lazyscribe calls a test: a named slice of an experiment (a region, a
customer segment) with its own metrics, parameters and artifacts. Create one with
:meth:`archivist.Experiment.log_test`; its files live in ``<experiment folder>/<test slug>/``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from archivist._tracking import LoggedArtifact, Tracked
from archivist._trust import Trust
from archivist.errors import ManifestError
from archivist.storage.base import Backend

__all__ = ["Test"]


class Test(Tracked):
    """Metrics, parameters and artifacts of one sub-population of an experiment.

    Not meant to be created directly: use :meth:`archivist.Experiment.log_test`.

    Parameters
    ----------
    name : str
        The test's name.
    description : str, optional
        What the test covers.
    backend : Backend
        Where its artifact files are stored.
    folder : str
        The folder of its artifact files, in the backend's path form.
    read_only : bool, optional
        Refuse every change.
    metrics, parameters : Mapping[str, Any], optional
        Initial values.
    artifacts : Sequence[LoggedArtifact], optional
        Artifacts already logged.
    """

    __test__: ClassVar[bool] = False  # not a pytest test class
    _label = "test"

    def __init__(
        self,
        name: str,
        description: str | None = None,
        *,
        backend: Backend,
        folder: str,
        read_only: bool = False,
        metrics: Mapping[str, Any] | None = None,
        parameters: Mapping[str, Any] | None = None,
        artifacts: Sequence[LoggedArtifact] = (),
        trust: Trust | None = None,
    ) -> None:
        super().__init__(
            backend=backend,
            folder=folder,
            read_only=read_only,
            metrics=metrics,
            parameters=parameters,
            artifacts=artifacts,
            trust=trust,
        )
        self._name = name
        self._description = description

    @property
    def name(self) -> str:
        """The test's name."""
        return self._name

    @property
    def description(self) -> str | None:
        """What the test covers."""
        return self._description

    @property
    def path(self) -> str:
        """The folder of the test's artifact files."""
        return self._folder

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
        trust: Trust | None = None,
    ) -> Test:
        """Build a test from its ``project.json`` form.

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
        return cls(
            data["name"],
            data.get("description"),
            backend=backend,
            folder=folder,
            read_only=read_only,
            metrics=metrics,
            parameters=parameters,
            trust=trust,
            artifacts=[
                LoggedArtifact.from_dict(item, f"{what}, artifact {i}")
                for i, item in enumerate(artifacts)
            ],
        )

    def __repr__(self) -> str:
        return f"Test({self._name!r})"
