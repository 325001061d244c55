"""A plugin distribution's packaging, as a pytest suite: found by its entry point alone.

Subclass :class:`DistributionTests` in the distribution's own tests, naming the distribution
and the handler alias or backend protocol it provides::

    class TestMyDistribution(DistributionTests):
        distribution = "my-archivist-handler"
        provides = "my-format"

It checks what a user installing the distribution relies on: one ``archivist`` entry point,
the name resolving to the distribution's own class with no setup, and a requirement on
archivist with a lower and an upper bound.
"""

from __future__ import annotations

from importlib.metadata import distribution, entry_points
from typing import ClassVar

from archivist.errors import UnknownBackendError
from archivist.plugin.manager import get_backend, get_handler

__all__ = ["DistributionTests"]


class DistributionTests:
    """The packaging contract of a plugin distribution.

    Attributes
    ----------
    distribution : str
        The distribution's name, as installed (``"archivist-joblib"``).
    provides : str
        A handler alias or backend protocol its entry point registers.
    archivist_range : tuple[str, ...]
        Specifiers the requirement on archivist must hold (for example ``(">=0.1",
        "<0.2")``); by default any lower and upper bound.
    """

    distribution: ClassVar[str]
    provides: ClassVar[str]
    archivist_range: ClassVar[tuple[str, ...]] = ()

    def test_declares_one_entry_point(self) -> None:
        """The distribution declares exactly one ``[project.entry-points.archivist]``."""
        declared = [
            ep
            for ep in entry_points(group="archivist")
            if ep.dist is not None and ep.dist.name == self.distribution
        ]
        assert len(declared) == 1, f"{self.distribution} should declare one archivist entry point"

    def test_its_name_resolves_to_its_own_class(self) -> None:
        """The alias or protocol resolves, with no setup, to a class of this distribution."""
        try:
            provided: type = get_handler(self.provides)
        except LookupError:
            try:
                provided = get_backend(self.provides)
            except UnknownBackendError:
                raise AssertionError(f"nothing provides {self.provides!r}") from None
        [declared] = [
            ep
            for ep in entry_points(group="archivist")
            if ep.dist is not None and ep.dist.name == self.distribution
        ]
        assert declared.module.split(".")[0] == provided.__module__.split(".")[0]

    def test_requires_a_bounded_range_of_archivist(self) -> None:
        """The requirement on archivist has a lower and an upper bound."""
        requirement = next(
            r for r in distribution(self.distribution).requires or [] if r.startswith("archivist")
        )
        assert ">=" in requirement, f"no lower bound: {requirement}"
        assert "<" in requirement.replace("<=", ""), f"no upper bound: {requirement}"
        for specifier in self.archivist_range:
            assert specifier in requirement, (specifier, requirement)
