"""A registry of projects referenced by name (lazyscribe's ``lazyscribe.registry``).

Register a project under a key, and experiments that depend on its experiments record
``"<key>|<slug>"`` instead of the project's path; loading such a dependency looks the key up
here first. This makes dependencies portable between file systems.

Examples
--------
>>> from archivist import Project
>>> from archivist.registry import registry
>>> upstream = Project("memory://registry-doc/project.json", mode="w")
>>> registry.add_project("upstream", upstream)
>>> registry.search(upstream.fpath)
'upstream'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archivist.project import Project

__all__ = ["Registry", "registry"]


class Registry:
    """Projects by key.

    Parameters
    ----------
    projects : dict[str, Project], optional
        The initial projects.
    """

    def __init__(self, projects: dict[str, Project] | None = None) -> None:
        self.projects: dict[str, Project] = dict(projects or {})

    def add_project(self, name: str, project: Project) -> None:
        """Register a project under a key.

        Parameters
        ----------
        name : str
            The key.
        project : Project
            The project.
        """
        self.projects[name] = project

    def search(self, fpath: str | os.PathLike[str]) -> str | None:
        """Return the key of the project whose ``fpath`` is ``fpath``, if one is registered.

        Parameters
        ----------
        fpath : str or os.PathLike
            A project file path, as :attr:`Project.fpath <archivist.Project.fpath>`.

        Returns
        -------
        str or None
            The key, or ``None``.
        """
        target = Path(fpath)
        for name, project in self.projects.items():
            if project.fpath == target:
                return name
        return None

    def __getitem__(self, key: str) -> Project:
        """Return a registered project.

        Raises
        ------
        KeyError
            No project is registered under ``key``.
        """
        try:
            return self.projects[key]
        except KeyError:
            known = ", ".join(repr(k) for k in self.projects) or "none"
            raise KeyError(
                f"no project named {key!r} in the registry; registered: {known}. "
                "Register it with registry.add_project(name, project)."
            ) from None

    def __contains__(self, key: object) -> bool:
        """Tell whether a key is registered."""
        return key in self.projects

    def __repr__(self) -> str:
        return f"Registry({sorted(self.projects)!r})"


#: The registry dependencies are resolved through.
registry = Registry()
