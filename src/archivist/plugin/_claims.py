"""Which class a handler alias or URL protocol names when several plugins claim it.

The plugin manager collects every claim on a name (:class:`Claim`: the class and the
plugin it came from) and asks :func:`settle` for the winner:

* one claim: it;
* exactly one class registered with ``archivist.register(cls, override=True)``: it;
* else, when every claim but one comes from a yielding plugin (:data:`YIELDING_PLUGINS`: the
  adapters of lazyscribe's handler packages), the other one, with a warning naming both;
  when every claim is a yielding plugin's, the first (lazyscribe's own choice: the first
  entry point of the alias), with a warning;
* else :class:`~archivist.errors.DuplicatePluginError`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import NamedTuple

from archivist.errors import DuplicatePluginError

__all__ = ["YIELDING_PLUGINS", "Claim", "settle"]

#: Plugins whose classes give way to another plugin's class of the same name: the adapters of
#: lazyscribe's handler packages (lazyscribe-arrow's ``parquet`` yields to archivist-parquet's).
YIELDING_PLUGINS = frozenset({"archivist.handlers.lazyscribe"})


class Claim(NamedTuple):
    """One plugin's class for a name."""

    cls: type
    #: Where it came from, for messages (``"plugin 'archivist-parquet:parquet'"``).
    source: str
    #: Whether it comes from one of :data:`YIELDING_PLUGINS`.
    yields: bool

    def describe(self) -> str:
        """Name the class and where it comes from (an adapter names what it wraps)."""
        provided_by = getattr(self.cls, "provided_by", None)
        if isinstance(provided_by, str) and provided_by:
            return provided_by
        return f"{self.cls.__module__}.{self.cls.__qualname__} ({self.source})"


def settle(
    what: str, name: str, claims: Sequence[Claim], overrides: Collection[object]
) -> tuple[type, str | None]:
    """Decide which class ``name`` stands for.

    Parameters
    ----------
    what : str
        What the name is, for messages (``"handler alias"``, ``"protocol"``).
    name : str
        The name.
    claims : Sequence[Claim]
        Every distinct class claiming it, in registration order (at least one).
    overrides : Collection
        The classes registered with ``override=True``.

    Returns
    -------
    tuple[type, str or None]
        The winning class, and the warning to give on the name's first use when another
        plugin's claim lost without the user choosing (else ``None``).

    Raises
    ------
    archivist.errors.DuplicatePluginError
        Two plugins that do not yield claim the name and no override decides.
    """
    if len(claims) == 1:
        return claims[0].cls, None
    chosen = [claim.cls for claim in claims if claim.cls in overrides]
    if len(chosen) == 1:
        return chosen[0], None
    firm = [claim for claim in claims if not claim.yields]
    if len(firm) > 1:
        listing = "; ".join(claim.describe() for claim in claims)
        raise DuplicatePluginError(
            f"{what} {name!r} is claimed by more than one plugin: {listing}. Uninstall one, "
            "or register the one to use with archivist.register(cls, override=True)."
        )
    winner = firm[0] if firm else claims[0]
    losers = "; ".join(claim.describe() for claim in claims if claim.cls is not winner.cls)
    why = (
        "archivist's plugins win over lazyscribe's handler packages"
        if firm
        else "the first entry point wins, as in lazyscribe"
    )
    return winner.cls, (
        f"{what} {name!r} is claimed by more than one plugin; {winner.describe()} is used, "
        f"not {losers} ({why}). To choose, register the one to use with "
        "archivist.register(cls, override=True); for a lazyscribe handler class, "
        "archivist.register(archivist.handlers.lazyscribe.adapt(cls), override=True)."
    )
