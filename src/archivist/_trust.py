"""The trust policy for files no digest vouches for, when reading them runs code.

Versions and artifacts archivist writes carry a SHA-256 and size, checked before anything is
deserialized. Records lazyscribe wrote carry none: archivist cannot tell whether such a file
changed since it was written. For handlers that only parse data (JSON, YAML) that is harmless;
for handlers whose ``read`` runs code named by the file (:attr:`Handler.executes_code`:
pickle, joblib) it is not. The policy decides:

* ``"any"`` (the default) loads them with an :class:`~archivist.errors.ArchivistWarning`;
* ``"verified"`` refuses them with :class:`~archivist.errors.UntrustedArtifactError`.

It is chosen with ``trust=`` on :class:`~archivist.Repository` and
:class:`~archivist.Project`, else by the environment variable :data:`TRUST_ENV`.
"""

from __future__ import annotations

import os
import warnings
from typing import Literal

from archivist.errors import ArchivistWarning, ConfigError, UntrustedArtifactError
from archivist.handlers.base import Handler

__all__ = ["TRUST_CHOICES", "TRUST_ENV", "Trust", "check_trusted", "resolve_trust"]

Trust = Literal["any", "verified"]
#: The policies, in the order messages list them.
TRUST_CHOICES: tuple[Trust, ...] = ("any", "verified")
#: The environment variable read when ``trust=`` is not given.
TRUST_ENV = "ARCHIVIST_TRUST"


def resolve_trust(trust: str | None) -> Trust:
    """Return the policy ``trust`` names, or the environment's when it is ``None``.

    Parameters
    ----------
    trust : str or None
        ``"any"``, ``"verified"`` or ``None`` (read :data:`TRUST_ENV`, default ``"any"``).

    Returns
    -------
    Trust
        The policy.

    Raises
    ------
    archivist.errors.ConfigError
        The value (given or from the environment) is not one of the choices.
    """
    if trust is None:
        value = os.environ.get(TRUST_ENV, "").strip().lower() or "any"
        source = f"the environment variable {TRUST_ENV}"
    else:
        value, source = trust, "trust"
    if value not in TRUST_CHOICES:
        raise ConfigError(
            f"{source} must be one of {', '.join(repr(c) for c in TRUST_CHOICES)}, got "
            f"{value!r}: 'verified' refuses to run code from files without a recorded digest, "
            "'any' loads them with a warning"
        )
    return value


def check_trusted(
    trust: Trust,
    handler: type[Handler] | Handler,
    sha256: str | None,
    what: str,
    remedy: str,
    stacklevel: int,
) -> None:
    """Apply the policy before a handler reads a stored file.

    Parameters
    ----------
    trust : Trust
        The policy.
    handler : type[Handler] or Handler
        The handler that would read the file.
    sha256 : str or None
        The recorded digest; with one, the bytes are verified and nothing is checked here.
    what : str
        The version or artifact, for messages (``"version 0 of 'model'"``).
    remedy : str
        How to record a digest for it, for messages.
    stacklevel : int
        Passed to :func:`warnings.warn`, to point at the user's call.

    Raises
    ------
    archivist.errors.UntrustedArtifactError
        ``trust`` is ``"verified"`` and the file would run code unverified.
    """
    if sha256 is not None or not handler.executes_code:
        return
    message = (
        f"{what} has no recorded digest (it was written by lazyscribe), and its handler "
        f"{handler.alias!r} runs code from the file when it reads it: archivist cannot tell "
        f"whether the file was changed since. {remedy}"
    )
    if trust == "verified":
        raise UntrustedArtifactError(f"{message} trust='verified' refuses to load it.")
    warnings.warn(
        f"{message} Loading it anyway (trust='any'); pass trust='verified' or set "
        f"{TRUST_ENV}=verified to refuse such files.",
        ArchivistWarning,
        stacklevel=stacklevel + 1,
    )
