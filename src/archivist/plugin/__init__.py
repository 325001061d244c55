"""One name drives the plugin system: the hook markers, the manager and the entry point group.

Plugins implement hooks with :data:`hookimpl` in a module exposed through the entry point
group ``archivist`` (``[project.entry-points.archivist]``), or are registered at runtime with
:func:`archivist.register`.
"""

from __future__ import annotations

import pluggy

__all__ = ["NAME", "hookimpl", "hookspec"]

#: The project name, used for the hook markers, the plugin manager and the entry point group.
NAME = "archivist"

#: Marks a function as the specification of a hook.
hookspec = pluggy.HookspecMarker(NAME)

#: Marks a function as an implementation of an archivist hook.
hookimpl = pluggy.HookimplMarker(NAME)
