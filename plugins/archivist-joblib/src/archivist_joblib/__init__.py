"""archivist-joblib: the ``joblib`` handler for archivist repositories.

The handler is found through the ``archivist`` entry point group; import it from here only to
subclass it or to name it in tests.
"""

from __future__ import annotations

from archivist_joblib._handler import JoblibHandler, package_version

__all__ = ["JoblibHandler", "package_version"]
