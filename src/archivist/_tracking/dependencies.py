"""Cross-project dependencies of an experiment, as lazyscribe exposes them.

``project.json`` stores an experiment's upstream experiments as ``"<project path>|<slug>"``
strings. lazyscribe shows them as a dict from the upstream experiment's short slug to the
experiment itself; :class:`Dependencies` does the same, but resolves a reference only when
it is looked up, so loading a project never fails or slows down because an upstream project
moved. Resolving is the project's job (it opens the upstream project read only, once): the
project that reads an experiment hands its dependencies a resolver.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Union

from archivist.errors import ExperimentNotFoundError, ReadOnlyExperimentError

if TYPE_CHECKING:
    from archivist.experiment import Experiment

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
    resolve : Callable[[str], Experiment], optional
        Turns a stored reference into the experiment (the reading project's, which opens the
        upstream project). Without it a stored reference cannot be looked up.
    read_only : bool, optional
        Refuse changes.
    """

    def __init__(
        self,
        entries: Mapping[str, Experiment] | Iterable[str] = (),
        *,
        resolve: Callable[[str], Experiment] | None = None,
        read_only: bool = False,
    ) -> None:
        self._entries: dict[str, Entry] = {}
        if isinstance(entries, Mapping):
            self._entries.update(entries)
        else:
            for reference in entries:
                self._entries[_short_slug(str(reference))] = str(reference)
        self._resolve = resolve
        self._read_only = read_only

    def references(self) -> list[str]:
        """Return the stored form: one ``"<project>|<slug>"`` string per dependency."""
        return [
            entry if isinstance(entry, str) else dependency_reference(entry)
            for entry in self._entries.values()
        ]

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
            if self._resolve is None:
                raise ExperimentNotFoundError(
                    f"the dependency {key!r} is the reference {entry!r}, which only a project "
                    "can resolve: read the experiment from its Project to look it up"
                )
            entry = self._resolve(entry)
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

    def __repr__(self) -> str:
        return f"Dependencies({self.references()!r})"

    def _require_editable(self) -> None:
        if self._read_only:
            raise ReadOnlyExperimentError(
                "this experiment is read-only (its project was opened with mode 'r' or 'a'); "
                "open the project with mode 'w+' to change its dependencies"
            )
