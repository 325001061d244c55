"""Cross-project dependencies of an experiment, as lazyscribe exposes them.

``project.json`` stores an experiment's upstream experiments as ``"<project path>|<slug>"``
strings. lazyscribe shows them as a dict from the upstream experiment's short slug to the
experiment itself; :class:`Dependencies` does the same, but opens an upstream project (read
only, once per dependency set) only when one of its experiments is looked up, so loading a
project never fails or slows down because an upstream project moved.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union, cast

from archivist.errors import ReadOnlyError

if TYPE_CHECKING:
    from archivist.experiment import Experiment
    from archivist.project import Project

__all__ = ["Dependencies", "dependency_reference"]

_TIMESTAMP = re.compile(r"-\d{14}$")

#: A dependency as given: a stored reference string or an experiment.
Entry = Union[str, "Experiment"]


def dependency_reference(experiment: Experiment) -> str:
    """Return the ``"<project>|<slug>"`` reference lazyscribe stores for an experiment.

    A project registered in :data:`archivist.registry.registry` is named by its key.
    """
    from archivist.registry import registry

    project = registry.search(experiment.project)
    return f"{project if project is not None else experiment.project}|{experiment.slug}"


def _short_slug(reference: str) -> str:
    slug = reference.rpartition("|")[2]
    return _TIMESTAMP.sub("", slug)


class Dependencies(MutableMapping[str, "Experiment"]):
    """Upstream experiments keyed by short slug, resolved when looked up.

    Parameters
    ----------
    entries : Mapping[str, Experiment] or Iterable[str], optional
        Experiments by short slug, or stored ``"<project>|<slug>"`` references.
    protocol : str, optional
        The protocol of the project these dependencies belong to, used to open upstream
        projects stored as paths without one (as lazyscribe does).
    storage_options : Mapping[str, Any], optional
        Storage options for opening upstream projects.
    read_only : bool, optional
        Refuse changes.
    """

    def __init__(
        self,
        entries: Mapping[str, Experiment] | Iterable[str] = (),
        *,
        protocol: str = "file",
        storage_options: Mapping[str, Any] | None = None,
        read_only: bool = False,
    ) -> None:
        self._entries: dict[str, Entry] = {}
        if isinstance(entries, Mapping):
            self._entries.update(entries)
        else:
            for reference in entries:
                self._entries[_short_slug(str(reference))] = str(reference)
        self._protocol = protocol
        self._storage_options = dict(storage_options or {})
        self._read_only = read_only
        self._projects: dict[str, Project] = {}

    def references(self) -> list[str]:
        """Return the stored form: one ``"<project>|<slug>"`` string per dependency."""
        return [
            entry if isinstance(entry, str) else dependency_reference(entry)
            for entry in self._entries.values()
        ]

    def _open(self, project_name: str) -> Project:
        from archivist.project import Project
        from archivist.registry import registry

        if project_name in registry:
            return cast("Project", registry[project_name])
        key = registry.search(Path(project_name))
        if key is not None:
            return cast("Project", registry[key])
        if project_name not in self._projects:
            location = project_name
            if self._protocol not in ("file", "local"):
                location = f"{self._protocol}://{project_name}"
            self._projects[project_name] = Project(location, mode="r", **self._storage_options)
        return self._projects[project_name]

    def __getitem__(self, key: str) -> Experiment:
        """Return the upstream experiment, opening its project (read only) if needed.

        Raises
        ------
        KeyError
            No dependency has that short slug.
        archivist.errors.RepositoryNotFoundError
            The upstream project file does not exist.
        archivist.errors.ExperimentNotFoundError
            The upstream project has no such experiment.
        """
        entry = self._entries[key]
        if isinstance(entry, str):
            project_name, _, slug = entry.rpartition("|")
            entry = self._open(project_name)[slug]
            self._entries[key] = entry
        return entry

    def __setitem__(self, key: str, value: Experiment) -> None:
        """Add an upstream experiment."""
        self._require_editable()
        self._entries[key] = value

    def __delitem__(self, key: str) -> None:
        """Remove a dependency."""
        self._require_editable()
        del self._entries[key]

    def __iter__(self) -> Iterator[str]:
        """Iterate over the short slugs."""
        return iter(self._entries)

    def __len__(self) -> int:
        """Return the number of dependencies."""
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        """Tell whether a short slug is a dependency, without opening any project."""
        return key in self._entries

    def __eq__(self, other: object) -> bool:
        """Compare by the stored references."""
        if isinstance(other, Dependencies):
            return self.references() == other.references()
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the opened upstream projects."""
        return {**self.__dict__, "_projects": {}}

    def __repr__(self) -> str:
        return f"Dependencies({self.references()!r})"

    def _require_editable(self) -> None:
        if self._read_only:
            raise ReadOnlyError(
                "this experiment is read-only (its project was opened with mode 'r' or 'a'); "
                "open the project with mode 'w+' to change its dependencies"
            )
