"""lazyscribe's project registry (``lazyscribe.registry``): projects referenced by name.

:data:`registry` is the process-wide instance lazyscribe code adds projects to, so that
experiment dependencies can be written as ``"<project name>|<experiment slug>"``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from attrs import Factory, define

__all__ = ["Registry", "registry"]


@define
class Registry:
    """Projects by name.

    Parameters
    ----------
    projects : dict[str, Any]
        The projects (:class:`archivist.Project` objects), by name.
    """

    projects: dict[str, Any] = Factory(dict)

    def add_project(self, name: str, project: Any) -> None:
        """Add (or replace) a project under ``name``.

        Parameters
        ----------
        name : str
            The key.
        project : archivist.Project
            The project.
        """
        self.projects[name] = project

    def search(self, fpath: Path) -> str | None:
        """Return the name of the project whose file is ``fpath``, if any.

        Parameters
        ----------
        fpath : pathlib.Path
            The project file's path.

        Returns
        -------
        str or None
            The first matching name.
        """
        for name, project in self.projects.items():
            if getattr(project, "fpath", None) == fpath:
                return name
        return None

    def __getitem__(self, name: str) -> Any:
        """Return the project named ``name``.

        Raises
        ------
        KeyError
            No project has that name.
        """
        try:
            return self.projects[name]
        except KeyError:
            raise KeyError(f"No project with the name '{name}' in the registry") from None

    def __contains__(self, name: object) -> bool:
        return name in self.projects


#: The process-wide registry.
registry = Registry()
