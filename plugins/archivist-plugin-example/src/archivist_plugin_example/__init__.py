"""archivist-plugin-example: the ``example-lines`` handler, a template for handler plugins."""

from __future__ import annotations

from archivist_plugin_example._handler import LinesHandler

__all__ = ["LinesHandler"]
