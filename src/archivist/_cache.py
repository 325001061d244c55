"""A verified, content-addressed local cache of version files for remote repositories.

Loading from a bucket downloads the same file on every run. The cache keeps each file
under its SHA-256 (``<cache>/sha256/<first two hex digits>/<digest>``), so one entry serves
every repository, version and bucket holding the same bytes, and a manifest record's digest
is all a load needs to find it: a load whose digest is cached reads locally after one
manifest request. Every read of an entry hashes it again; an entry that does not match its
name is dropped and the file fetched again.

It is on by default for remote repositories (any backend but the local disk and memory),
in the user cache folder from :mod:`platformdirs` (``~/.cache/archivist`` on Linux,
honouring ``XDG_CACHE_HOME``). ``ARCHIVIST_CACHE_DIR`` or ``cache_dir=`` move it;
``ARCHIVIST_CACHE_SIZE`` or ``cache_size=`` bound it (bytes, or ``"500MB"``, ``"2GiB"``;
default 10 GiB; ``0`` turns the cache off). Least recently used entries are evicted first.

Several processes share one cache safely: an entry is written to a temporary file in the
cache and renamed into place atomically, so a reader sees a whole entry or none; entries are
never modified in place; an entry evicted while another process reads it stays readable
through that process's open handle, and a reader that finds an entry gone fetches the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from archivist._io.local import open_regular
from archivist._io.verified import read_verified
from archivist.errors import IntegrityError, InvalidArgumentError

if TYPE_CHECKING:
    from archivist.stores import AbstractRepositoryStore

__all__ = [
    "DEFAULT_CACHE_SIZE",
    "ArtifactCache",
    "CacheInfo",
    "cache_for",
    "cache_info",
    "clear_cache",
    "default_cache_dir",
    "parse_size",
]

_log = logging.getLogger("archivist")

#: The default bound on the cache's size: 10 GiB.
DEFAULT_CACHE_SIZE = 10 << 30
#: Temporary files older than this belong to a crashed writer and are removed.
_STALE_TEMP_SECONDS = 24 * 3600
_CHUNK = 1 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(i)?)?b?\s*", re.IGNORECASE)
_UNITS = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4}


def parse_size(value: int | str) -> int:
    """Read a cache size: bytes as an int, or a string such as ``"500MB"`` or ``"2GiB"``.

    Parameters
    ----------
    value : int or str
        The size.

    Returns
    -------
    int
        Bytes.

    Raises
    ------
    archivist.errors.InvalidArgumentError
        The value is negative or not understood.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise InvalidArgumentError(f"a cache size must be >= 0 bytes, got {value}")
        return value
    found = _SIZE.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        raise InvalidArgumentError(
            f"a cache size is a number of bytes or a string such as '500MB' or '2GiB', got "
            f"{value!r}"
        )
    unit = (found[2] or "").lower()
    factor = 1024 ** ("kmgt".index(unit) + 1) if found[3] else _UNITS[unit]
    return int(float(found[1]) * factor)


def default_cache_dir() -> Path:
    """Return the cache folder: ``ARCHIVIST_CACHE_DIR``, else the platform's user cache.

    Returns
    -------
    pathlib.Path
        For example ``~/.cache/archivist`` on Linux (``$XDG_CACHE_HOME/archivist`` when
        that is set).
    """
    configured = os.environ.get("ARCHIVIST_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("archivist", appauthor=False))


def _default_size() -> int:
    configured = os.environ.get("ARCHIVIST_CACHE_SIZE")
    return parse_size(configured) if configured else DEFAULT_CACHE_SIZE


@dataclass(frozen=True)
class CacheInfo:
    """What a cache folder holds.

    Attributes
    ----------
    path : str
        The folder.
    entries : int
        How many files it holds.
    size : int
        Their total size in bytes.
    max_size : int
        The bound eviction keeps it under (``ARCHIVIST_CACHE_SIZE`` or the default).
    """

    path: str
    entries: int
    size: int
    max_size: int


class ArtifactCache:
    """A content-addressed cache folder, bounded in size, shared by processes.

    Parameters
    ----------
    folder : str or os.PathLike, optional
        The cache folder (default :func:`default_cache_dir`).
    max_size : int or str, optional
        The bound in bytes (default ``ARCHIVIST_CACHE_SIZE`` or 10 GiB).
    """

    def __init__(
        self, folder: str | os.PathLike[str] | None = None, max_size: int | str | None = None
    ) -> None:
        self.folder = Path(folder).expanduser() if folder is not None else default_cache_dir()
        self.max_size = parse_size(max_size) if max_size is not None else _default_size()

    def __repr__(self) -> str:
        return f"ArtifactCache({str(self.folder)!r}, max_size={self.max_size})"

    def entry_path(self, sha256: str) -> Path:
        """Return where the entry of a digest lives."""
        return self.folder / "sha256" / sha256[:2] / sha256

    def open(self, sha256: str, size: int, fetch: Callable[[], IO[bytes]]) -> IO[bytes]:
        """Open the file with this digest: from the cache if a verified entry is there.

        Parameters
        ----------
        sha256 : str
            The file's digest (the manifest record's).
        size : int
            The file's size.
        fetch : Callable[[], IO[bytes]]
            Opens the file from the repository, verified; called on a miss, and its
            content is stored as a new entry.

        Returns
        -------
        IO[bytes]
            A readable stream at the start of the verified content; the caller closes it.
        """
        if not _SHA256.fullmatch(sha256):
            return fetch()
        cached = self._open_entry(sha256, size)
        if cached is not None:
            return cached
        with fetch() as source:
            try:
                self._store(sha256, size, source)
            except IntegrityError:
                raise
            except OSError as exc:  # no room, or something not ours in the entry's place
                _log.debug("could not cache sha256 %s, reading it uncached: %s", sha256, exc)
                return fetch()
        cached = self._open_entry(sha256, size)
        return cached if cached is not None else fetch()  # evicted at once by another process

    def _open_entry(self, sha256: str, size: int) -> IO[bytes] | None:
        """Return a verified copy of an entry, or ``None`` on a miss.

        The entry is opened with the one local opener (a FIFO, device, socket or folder in
        its place is a miss, never a hang) and read through the one verified reader, which
        hands on a copy of exactly the bytes it hashed. An entry that does not match its
        digest is dropped, and the caller fetches the file again.
        """
        path = self.entry_path(sha256)
        try:
            stream = open_regular(path)
        except OSError:  # missing, or not a regular file
            return None
        try:
            with stream:
                verified = read_verified(stream, f"cache entry {path}", sha256, size, "its name")
        except IntegrityError:
            with contextlib.suppress(OSError):
                path.unlink()  # a damaged entry: drop it, the caller fetches the file again
            return None
        self._touch(path)
        return verified

    @staticmethod
    def _touch(path: Path) -> None:
        with contextlib.suppress(OSError):
            os.utime(path)  # the entry's time is its last use, for LRU eviction

    def _store(self, sha256: str, size: int, source: IO[bytes]) -> None:
        """Copy ``source`` into a temporary file, check it, and rename it into place."""
        if size > self.max_size:
            return  # it could never fit; serve it uncached
        temp_folder = self.folder / "tmp"
        temp_folder.mkdir(parents=True, exist_ok=True)
        temp = temp_folder / f"{sha256[:16]}-{secrets.token_hex(8)}.part"
        try:
            digest = hashlib.sha256()
            with temp.open("xb") as out:
                for chunk in iter(lambda: source.read(_CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
                written = out.tell()
            if digest.hexdigest() != sha256 or written != size:
                raise IntegrityError(
                    f"the file fetched for sha256 {sha256} did not match it; it was not cached"
                )
            target = self.entry_path(sha256)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, target)  # atomic: readers see the whole entry or none
        finally:
            with contextlib.suppress(OSError):
                temp.unlink()
        self.evict(keep=sha256)

    def _entries(self) -> Iterator[tuple[Path, os.stat_result]]:
        root = self.folder / "sha256"
        if not root.is_dir():
            return
        for sub in root.iterdir():
            if not sub.is_dir():
                continue
            for path in sub.iterdir():
                with contextlib.suppress(OSError):
                    yield path, path.stat()

    def evict(self, keep: str | None = None) -> int:
        """Remove least recently used entries until the cache fits its bound.

        Parameters
        ----------
        keep : str, optional
            A digest never to evict (the entry just stored).

        Returns
        -------
        int
            How many entries were removed.
        """
        self._remove_stale_temps()
        entries = sorted(self._entries(), key=lambda item: item[1].st_mtime)
        total = sum(stat.st_size for _, stat in entries)
        removed = 0
        for path, stat in entries:
            if total <= self.max_size:
                break
            if path.name == keep:
                continue
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # a concurrent reader keeps its open handle
                removed += 1
            total -= stat.st_size
        return removed

    def _remove_stale_temps(self) -> None:
        temp_folder = self.folder / "tmp"
        if not temp_folder.is_dir():
            return
        cutoff = time.time() - _STALE_TEMP_SECONDS
        for path in temp_folder.iterdir():
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()

    def info(self) -> CacheInfo:
        """Return what the cache holds."""
        entries = list(self._entries())
        return CacheInfo(
            str(self.folder), len(entries), sum(s.st_size for _, s in entries), self.max_size
        )

    def clear(self) -> CacheInfo:
        """Remove every entry (and leftover temporary files, and manifest index columns).

        Returns
        -------
        CacheInfo
            What was removed.
        """
        removed = self.info()
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.folder / "manifests")  # the manifest index cache's columns
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.folder / "sha256")
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.folder / "tmp")
        return removed


def cache_info(cache_dir: str | os.PathLike[str] | None = None) -> CacheInfo:
    """Describe the cache (what ``archivist cache info`` prints).

    Parameters
    ----------
    cache_dir : str or os.PathLike, optional
        The cache folder (default ``ARCHIVIST_CACHE_DIR`` or the user cache folder).

    Returns
    -------
    CacheInfo
        Its folder, entries, size and bound.
    """
    return ArtifactCache(cache_dir).info()


def clear_cache(cache_dir: str | os.PathLike[str] | None = None) -> CacheInfo:
    """Empty the cache (what ``archivist cache clear`` does).

    Parameters
    ----------
    cache_dir : str or os.PathLike, optional
        The cache folder (default ``ARCHIVIST_CACHE_DIR`` or the user cache folder).

    Returns
    -------
    CacheInfo
        What was removed.
    """
    return ArtifactCache(cache_dir).clear()


def cache_for(
    store: AbstractRepositoryStore,
    cache: bool | None,
    cache_dir: str | os.PathLike[str] | None,
    cache_size: int | str | None,
) -> ArtifactCache | None:
    """Return the cache a repository reads through, or ``None`` when it reads directly.

    Parameters
    ----------
    store : AbstractRepositoryStore
        The repository's store.
    cache : bool or None
        ``None`` (default): on when the store says it is remote (``store.is_remote``: any
        backend but the local disk and memory); ``True``/``False`` force it on or off.
    cache_dir : str or os.PathLike or None
        The cache folder.
    cache_size : int or str or None
        The bound; ``0`` turns the cache off.

    Returns
    -------
    ArtifactCache or None
        The cache.
    """
    if cache is False:
        return None
    if cache is None and not store.is_remote:
        return None
    artifact_cache = ArtifactCache(cache_dir, cache_size)
    return artifact_cache if artifact_cache.max_size > 0 else None
