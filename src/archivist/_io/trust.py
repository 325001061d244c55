"""The trust policy for files no digest vouches for, when reading them runs code.

Versions and artifacts archivist writes carry a SHA-256 and size, checked before anything is
deserialized. Records lazyscribe wrote carry none: archivist cannot tell whether such a file
changed since it was written. For handlers that only parse data (JSON, YAML) that is harmless;
for handlers whose ``read`` runs code named by the file (:attr:`Handler.executes_code`:
pickle, joblib) it is not. The policy decides:

* ``"any"`` (the default) loads them with an :class:`~archivist.errors.ArchivistWarning`;
* ``"verified"`` refuses them with :class:`~archivist.errors.UntrustedArtifactError`.

The policy travels with the bytes: a copy (a release copy, a promotion) and an adoption
apply their source's policy through :func:`check_trusted`, and record a digest only for
bytes that were verified against one.

It is chosen with ``trust=`` on :class:`~archivist.Repository` and
:class:`~archivist.Project`, else by the environment variable :data:`TRUST_ENV`.
"""

from __future__ import annotations

import os
import warnings
from typing import Literal

from archivist.errors import ArchivistWarning, ConfigError, UntrustedArtifactError
from archivist.handlers.base import Handler
from archivist.plugin.manager import get_handler

__all__ = ["TRUST_CHOICES", "TRUST_ENV", "Action", "Trust", "check_trusted", "resolve_trust"]

Trust = Literal["any", "verified"]
#: What is about to happen to a stored file: read by its handler, copied, or adopted.
Action = Literal["load", "copy", "adopt"]
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
    handler: type[Handler] | Handler | str,
    digest: object,
    what: str,
    remedy: str,
    stacklevel: int = 1,
    *,
    action: Action = "load",
) -> None:
    """Apply the policy before a handler reads a stored file, or before a copy vouches for it.

    This is the one place the policy is decided. Loads call it before the handler reads;
    every copy (a release copy, a promotion) and :meth:`~archivist.Repository.adopt` call
    it before recording anything, with the *source's* policy: a copy records a digest only
    for bytes that were verified against one, so under ``"verified"`` a digest-less file
    whose handler runs code is refused rather than laundered into a record that vouches
    for it. Copying and adopting run no code, so under ``"any"`` they pass silently (the
    copy stays digest-less, and loading it warns).

    Parameters
    ----------
    trust : Trust
        The policy.
    handler : type[Handler], Handler or str
        The handler that would read the file, or its alias (resolved only when the policy
        needs to know whether it runs code).
    digest : Digest, str or None
        The recorded digest (BLAKE3 or SHA-256: :attr:`VersionRecord.digest`); with one, the
        bytes are verified and nothing is checked here.
    what : str
        The version or artifact, for messages (``"version 0 of 'model'"``).
    remedy : str
        How to record a digest for it, for messages.
    stacklevel : int, optional
        Passed to :func:`warnings.warn`, to point at the user's call.
    action : {"load", "copy", "adopt"}, optional
        What is about to happen to the file, for messages; only a load warns.

    Raises
    ------
    archivist.errors.UntrustedArtifactError
        ``trust`` is ``"verified"`` and the file would run code unverified, or a copy or
        adoption would vouch for such a file.
    archivist.errors.UnknownHandlerError
        The policy needs the handler, and none is installed under that alias.
    """
    if digest is not None or (action != "load" and trust != "verified"):
        return
    if isinstance(handler, str):
        handler = get_handler(handler)
    if not handler.executes_code:
        return
    message = (
        f"{what} has no recorded digest (neither blake3 nor sha256: it was written by "
        f"lazyscribe), and its handler "
        f"{handler.alias!r} runs code from the file when it reads it: archivist cannot tell "
        f"whether the file was changed since. {remedy}"
    )
    if trust == "verified":
        raise UntrustedArtifactError(f"{message} trust='verified' refuses to {action} it.")
    warnings.warn(
        f"{message} Loading it anyway (trust='any'); pass trust='verified' or set "
        f"{TRUST_ENV}=verified to refuse such files.",
        ArchivistWarning,
        stacklevel=stacklevel + 1,
    )
