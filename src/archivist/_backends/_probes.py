"""Remember, across processes, which stores passed the conditional-write probe.

An object store's first write in a process is preceded by a probe of its conditional
requests (four requests; see
:meth:`~archivist._backends.object_store.ObjectStoreBackend.probe_conditional_writes`).
Short CLI and CI processes would pay it on every save, so a passed probe is remembered in
a small JSON file in the user's cache folder (``platformdirs.user_cache_dir("archivist")``,
or ``$ARCHIVIST_CACHE_DIR``), keyed by backend class and probe scope (endpoint and bucket),
for :data:`REMEMBER_FOR`.

The file is only ever an optimisation: a missing, unreadable, corrupt or foreign file means
"nothing remembered" (the store is probed again), and a failure to write it is ignored.
Only passed probes are remembered, never a refusal.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
from collections.abc import Hashable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from archivist._io.local import read_regular

__all__ = ["CACHE_DIR_ENV", "REMEMBER_FOR", "cache_file", "remember", "remembered"]

logger = logging.getLogger("archivist")

#: Overrides the cache folder (tests point it at a temporary folder).
CACHE_DIR_ENV = "ARCHIVIST_CACHE_DIR"
#: A passed probe is trusted for this long, then the store is probed again.
REMEMBER_FOR = timedelta(days=7)
#: The format of the file; a file of another format is ignored (and replaced).
_FORMAT = 1
_FILE_NAME = "conditional-writes.json"
#: A larger file is not read (it holds a line per store probed: kilobytes).
_MAX_BYTES = 16 << 20


def cache_file() -> str:
    """Return the path of the file that remembers passed probes.

    Returns
    -------
    str
        ``<user cache folder>/conditional-writes.json``.
    """
    folder = os.environ.get(CACHE_DIR_ENV)
    if not folder:
        import platformdirs

        folder = platformdirs.user_cache_dir("archivist", appauthor=False)
    return os.path.join(folder, _FILE_NAME)


def _key(backend_class: type, scope: Hashable) -> str:
    return json.dumps([f"{backend_class.__module__}.{backend_class.__qualname__}", repr(scope)])


def _load() -> dict[str, str]:
    """Return the remembered probes (key -> ISO time); empty on any problem with the file."""
    try:
        document = json.loads(read_regular(cache_file(), _MAX_BYTES))
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(document, dict) or document.get("format") != _FORMAT:
        return {}
    stores = document.get("stores")
    if not isinstance(stores, dict):
        return {}
    return {k: v for k, v in stores.items() if isinstance(k, str) and isinstance(v, str)}


def remembered(backend_class: type, scope: Hashable) -> bool:
    """Tell whether a probe of ``scope`` with ``backend_class`` passed recently.

    Parameters
    ----------
    backend_class : type
        The backend class that probed.
    scope : Hashable
        Its :meth:`~archivist.Backend.conditional_write_scope`; ``None`` (a backend that
        names no endpoint or bucket) is never remembered.

    Returns
    -------
    bool
        ``True`` when a passed probe younger than :data:`REMEMBER_FOR` is on record.
    """
    if scope is None:
        return False
    stamp = _load().get(_key(backend_class, scope))
    return stamp is not None and _fresh(stamp, datetime.now(UTC))


def remember(backend_class: type, scope: Hashable) -> None:
    """Record that a probe of ``scope`` with ``backend_class`` passed just now (best effort).

    Parameters
    ----------
    backend_class : type
        The backend class that probed.
    scope : Hashable
        Its probe scope; ``None`` is not recorded.
    """
    if scope is None:
        return
    now = datetime.now(UTC)
    stores = {
        key: stamp
        for key, stamp in _load().items()
        if _fresh(stamp, now)  # drop what expired, so the file stays small
    }
    stores[_key(backend_class, scope)] = now.isoformat()
    _write({"format": _FORMAT, "stores": stores})


def _fresh(stamp: str, now: datetime) -> bool:
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return False
    return when.tzinfo is not None and timedelta(0) <= now - when <= REMEMBER_FOR


def _write(document: dict[str, object]) -> None:
    path = cache_file()
    tmp = f"{path}.{secrets.token_hex(8)}.tmp"
    from archivist._io.cache_folder import claim_quietly

    if not claim_quietly(Path(os.path.dirname(path))):
        return  # no cache folder, or a folder of the user's: remember nothing there
    try:
        with open(tmp, "w", encoding="utf-8") as stream:
            json.dump(document, stream, indent=1, sort_keys=True)
        os.replace(tmp, path)  # atomic: a concurrent reader sees the old or the new file
    except OSError as exc:
        logger.debug("could not remember a passed conditional-write probe in %s: %s", path, exc)
        with contextlib.suppress(OSError):
            os.remove(tmp)
