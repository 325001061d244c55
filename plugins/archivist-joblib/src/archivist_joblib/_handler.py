"""The ``joblib`` handler: any object joblib can pickle, with its environment recorded.

joblib (and numpy with it) is imported on first use, not when archivist discovers the plugin.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from typing import IO, Any, ClassVar

from archivist import Handler

__all__ = ["JoblibHandler", "package_version"]


@functools.cache
def _distributions() -> Mapping[str, list[str]]:
    return packages_distributions()


def package_version(package: str) -> str | None:
    """Return the installed version of the distribution that provides an import package.

    Parameters
    ----------
    package : str
        A top-level import name, for example ``"sklearn"`` or ``"numpy"``.

    Returns
    -------
    str or None
        The version (``"1.9.1"``), or ``None`` for the standard library and for modules no
        installed distribution provides (a script's ``__main__``, say).
    """
    if package in sys.stdlib_module_names or package in {"builtins", "__main__"}:
        return None
    for distribution in (*_distributions().get(package, ()), package):
        try:
            return version(distribution)
        except PackageNotFoundError:
            continue
    found = getattr(sys.modules.get(package), "__version__", None)
    return found if isinstance(found, str) else None


def _package_of(value: Any) -> str:
    return type(value).__module__.split(".")[0]


class JoblibHandler(Handler):
    """Store any object joblib can pickle: numpy arrays, scikit-learn estimators, and more.

    Writer options go to :func:`joblib.dump` (``compress=3``), reader options to
    :func:`joblib.load`. Each version records ``joblib_version`` and, as lazyscribe-joblib
    does, the top-level ``package`` of the value's class and that package's
    ``package_version``. Loading under another joblib or package version is refused (or,
    with ``validate=False``, warned about): unpickling under other versions can fail or
    silently give different objects. Only load from repositories you trust: unpickling runs
    code.

    Examples
    --------
    >>> import numpy as np
    >>> from archivist import Repository
    >>> repository = Repository("memory://joblib-doc/repository.json", mode="w")
    >>> repository.log_artifact("weights", np.arange(3.0), handler="joblib", compress=3)
    >>> repository.save()
    >>> repository.get_artifact_metadata("weights")["package"]
    'numpy'
    """

    alias: ClassVar[str] = "joblib"
    suffix: ClassVar[str] = "joblib"
    binary: ClassVar[bool] = True
    executes_code: ClassVar[bool] = True

    def write(self, value: Any, stream: IO[Any], **kwargs: Any) -> None:
        """Write ``value`` with :func:`joblib.dump` (``compress``, ``protocol``)."""
        import joblib

        joblib.dump(value, stream, **kwargs)

    def read(self, stream: IO[Any], **kwargs: Any) -> Any:
        """Read a value with :func:`joblib.load`."""
        import joblib

        return joblib.load(stream, **kwargs)

    def environment(self) -> dict[str, Any]:
        """Record the joblib version the file was written with."""
        import joblib

        return {"joblib_version": joblib.__version__}

    def metadata(self, value: Any) -> dict[str, Any]:
        """Record the joblib version, and the value's top-level package and its version."""
        package = _package_of(value)
        return {
            **self.environment(),
            "package": package,
            "package_version": package_version(package),
        }

    def mismatches(self, recorded: Mapping[str, Any]) -> list[str]:
        """Compare joblib's and the stored object's package version with the running ones."""
        problems = super().mismatches(recorded)
        package, written = recorded.get("package"), recorded.get("package_version")
        if isinstance(package, str) and written is not None:
            running = package_version(package)
            if running is None:
                problems.append(
                    f"{package}: written with version {written!r}, which is not installed here"
                )
            elif running != written:
                problems.append(f"{package}: written with {written!r}, running {running!r}")
        return problems
