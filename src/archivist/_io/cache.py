"""A verified, content-addressed local cache of version files for remote repositories.

Loading from a bucket downloads the same file on every run. The cache keeps each file
under the digest its record carries, BLAKE3 when it has one, else SHA-256
(``<cache>/blake3/<first two hex digits>/<digest>``, ``<cache>/sha256/...``), so one entry serves
every repository, version and bucket holding the same bytes, and a manifest record's digest
is all a load needs to find it: a load whose digest is cached reads locally after one
manifest request. Every read of an entry hashes it again; an entry that does not match its
name is dropped and the file fetched again.

It is on by default for remote repositories (any backend but the local disk and memory),
in the user cache folder from :mod:`platformdirs` (``~/.cache/archivist`` on Linux,
honouring ``XDG_CACHE_HOME``). ``ARCHIVIST_CACHE_DIR`` or ``cache_dir=`` move it;
``ARCHIVIST_CACHE_SIZE`` or ``cache_size=`` bound it (bytes, or ``"500MB"``, ``"2GiB"``;
default 10 GiB; ``0`` turns the cache off). Least recently used entries are evicted first.

The folder is marked as archivist's when archivist creates it (see
:mod:`archivist._io.cache_folder`); a folder that holds files and no marker is refused,
and only files archivist named are ever deleted.

Several processes share one cache safely: an entry is written to a temporary file in the
cache and renamed into place atomically, so a reader sees a whole entry or none; entries are
never modified in place; an entry evicted while another process reads it stays readable
through that process's open handle, and a reader that finds an entry gone fetches the file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeVar

from archivist._formats.hashes import Digest, as_digest, is_hex_digest
from archivist._io import cache_folder
from archivist._io.local import open_regular
from archivist._io.verified import read_verified
from archivist.errors import ConfigError, IntegrityError, InvalidArgumentError

if TYPE_CHECKING:
    from archivist.stores import AbstractRepositoryStore

__all__ = [
    "DEFAULT_CACHE_SIZE",
    "ArtifactCache",
    "CacheInfo",
    "CachePlan",
    "cache_for",
    "cache_info",
    "clear_cache",
    "default_cache_dir",
    "parse_size",
]

_log = logging.getLogger("archivist")

#: The default bound on the cache's size: 10 GiB.
DEFAULT_CACHE_SIZE = 10 << 30
#: The largest bound a cache size may give (8 EiB).
MAX_CACHE_SIZE = (1 << 63) - 1
#: Temporary files older than this belong to a crashed writer and are removed.
_STALE_TEMP_SECONDS = 24 * 3600
_CHUNK = 1 << 20
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(i)?)?b?\s*", re.IGNORECASE)
_UNITS = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4}
#: Attempts at creating a file in a subfolder that a concurrent clear may remove.
_FOLDER_ATTEMPTS = 5
_T = TypeVar("_T")


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
        The value is negative, larger than :data:`MAX_CACHE_SIZE` or not understood.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    else:
        found = _SIZE.fullmatch(value) if isinstance(value, str) else None
        if found is None or len(found[1]) > 40:
            raise InvalidArgumentError(
                f"a cache size is a number of bytes or a string such as '500MB' or '2GiB', "
                f"got {value!r:.80}"
            )
        unit = (found[2] or "").lower()
        factor = 1024 ** ("kmgt".index(unit) + 1) if found[3] else _UNITS[unit]
        size = int(Fraction(found[1]) * factor)
    if not 0 <= size <= MAX_CACHE_SIZE:
        raise InvalidArgumentError(
            f"a cache size must be between 0 and {MAX_CACHE_SIZE} bytes (8 EiB), got {value!r:.80}"
        )
    return size


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
    return cache_folder.platform_cache_dir()


def _default_size() -> int:
    configured = os.environ.get("ARCHIVIST_CACHE_SIZE")
    if not configured:
        return DEFAULT_CACHE_SIZE
    try:
        return parse_size(configured)
    except InvalidArgumentError as exc:
        raise ConfigError(f"ARCHIVIST_CACHE_SIZE: {exc}; unset it or fix it") from None


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
    index_files : int
        How many manifest index files (and their temporary files) it holds.
    temp_files : int
        How many temporary files of unfinished or crashed writes it holds.
    """

    path: str
    entries: int
    size: int
    max_size: int
    index_files: int = 0
    temp_files: int = 0


@dataclass(frozen=True)
class CachePlan:
    """What clearing a cache folder would remove: the files archivist made there.

    Apply it with :meth:`ArtifactCache.apply`; it removes these files and nothing else
    (a file written after the plan was made stays).

    Attributes
    ----------
    path : str
        The folder.
    files : tuple[str, ...]
        The files to remove, relative to the folder.
    entries : int
        How many of them are cache entries.
    size : int
        The entries' total size in bytes.
    """

    path: str
    files: tuple[str, ...]
    entries: int
    size: int


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

    def entry_path(self, digest: Digest | str) -> Path:
        """Return where the entry of a digest lives (a string is a SHA-256)."""
        key = digest if isinstance(digest, Digest) else Digest("sha256", digest)
        return self.folder / key.algorithm / key.hexdigest[:2] / key.hexdigest

    def open(self, digest: Digest | str, size: int, fetch: Callable[[], IO[bytes]]) -> IO[bytes]:
        """Open the file with this digest: from the cache if a verified entry is there.

        Parameters
        ----------
        digest : Digest or str
            The file's digest, the one its manifest record carries (BLAKE3 when it has one:
            :attr:`archivist.manifest.VersionRecord.digest`); a string is a SHA-256.
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
        key = as_digest(digest)
        if key is None or not is_hex_digest(key.hexdigest):
            return fetch()
        cached = self._open_entry(key, size)
        if cached is not None:
            _log.debug("cache hit: %s (%d bytes) read from %s", key, size, self.folder)
            return cached
        _log.debug("cache miss: %s (%d bytes) fetched into %s", key, size, self.folder)
        with fetch() as source:
            try:
                self._store(key, size, source)
            except IntegrityError:
                raise
            except OSError as exc:  # no room, or something not ours in the entry's place
                _log.debug("could not cache %s, reading it uncached: %s", key, exc)
                return fetch()
        cached = self._open_entry(key, size)
        return cached if cached is not None else fetch()  # evicted at once by another process

    def _open_entry(self, digest: Digest, size: int) -> IO[bytes] | None:
        """Return a verified copy of an entry, or ``None`` on a miss.

        The entry is opened with the one local opener (a FIFO, device, socket or folder in
        its place is a miss, never a hang) and read through the one verified reader, which
        hands on a copy of exactly the bytes it hashed. An entry that does not match its
        digest is dropped, and the caller fetches the file again.
        """
        path = self.entry_path(digest)
        try:
            stream = open_regular(path)
        except OSError:  # missing, or not a regular file
            return None
        try:
            with stream:
                verified = read_verified(stream, f"cache entry {path}", digest, size, "its name")
        except IntegrityError:
            with contextlib.suppress(OSError):  # a damaged entry: drop it, the caller fetches it
                cache_folder.delete(self.folder, path.relative_to(self.folder).as_posix())
            return None
        self._touch(path)
        return verified

    @staticmethod
    def _touch(path: Path) -> None:
        with contextlib.suppress(OSError):
            os.utime(path)  # the entry's time is its last use, for LRU eviction

    def _store(self, digest: Digest, size: int, source: IO[bytes]) -> None:
        """Copy ``source`` into a temporary file, check it, and rename it into place.

        Storing is best effort: a folder that cannot be written (or that a concurrent clear
        emptied) leaves the file uncached; a folder that is not archivist's is refused.
        """
        if size > self.max_size or not self.claim():
            return  # it could never fit, or there is no cache folder: serve it uncached
        temp = self.folder / "tmp" / f"{digest.hexdigest[:16]}-{secrets.token_hex(8)}.part"
        try:
            self._write_entry(digest, size, source, temp)
        except OSError as exc:
            _log.debug("could not cache %s in %s: %s", digest, self.folder, exc)
            return
        finally:
            with contextlib.suppress(OSError):  # renamed into place, or ours and unfinished
                cache_folder.delete(self.folder, temp.relative_to(self.folder).as_posix())
        self.evict(keep=digest.hexdigest)

    def _write_entry(self, digest: Digest, size: int, source: IO[bytes], temp: Path) -> None:
        hasher = digest.new()
        with _in_folder(temp, lambda: temp.open("xb")) as out:
            for chunk in iter(lambda: source.read(_CHUNK), b""):
                hasher.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
            written = out.tell()
        if hasher.hexdigest() != digest.hexdigest or written != size:
            raise IntegrityError(
                f"the file fetched for {digest} did not match it; it was not cached"
            )
        target = self.entry_path(digest)
        _in_folder(target, lambda: os.replace(temp, target))  # atomic: whole entry or none

    def claim(self) -> bool:
        """Make sure the folder is an archivist cache folder, creating and marking it if need be.

        Returns
        -------
        bool
            ``False`` when the folder cannot be created or marked (the cache is then
            skipped).

        Raises
        ------
        archivist.errors.ConfigError
            The folder exists, is not empty and is not marked as archivist's.
        """
        return cache_folder.claim(self.folder)

    def _entries(self) -> Iterator[tuple[str, os.stat_result]]:
        return cache_folder.owned_files(self.folder, "entry")

    def evict(self, keep: str | None = None) -> int:
        """Remove least recently used entries until the cache fits its bound.

        Only files archivist made are considered (see :mod:`archivist._io.cache_folder`).

        Parameters
        ----------
        keep : str, optional
            A digest never to evict (the entry just stored).

        Returns
        -------
        int
            How many entries were removed.

        Raises
        ------
        archivist.errors.ConfigError
            The folder is not an archivist cache folder; nothing was removed.
        """
        if not self.folder.exists() or not self.claim():
            return 0
        self._remove_stale_temps()
        entries = sorted(self._entries(), key=lambda item: item[1].st_mtime)
        total = sum(found.st_size for _, found in entries)
        removed = 0
        for relative, found in entries:
            if total <= self.max_size:
                break
            if relative.endswith("/" + (keep or "-")):
                continue
            removed += cache_folder.delete(self.folder, relative)  # a reader keeps its handle
            total -= found.st_size
        return removed

    def _remove_stale_temps(self) -> None:
        cutoff = time.time() - _STALE_TEMP_SECONDS
        for relative, found in cache_folder.owned_files(self.folder, "temp"):
            if found.st_mtime < cutoff:
                cache_folder.delete(self.folder, relative)

    def info(self) -> CacheInfo:
        """Return what the cache holds (only files archivist made there are counted)."""
        entries = list(self._entries())
        return CacheInfo(
            str(self.folder),
            len(entries),
            sum(found.st_size for _, found in entries),
            self.max_size,
            sum(1 for _ in cache_folder.owned_files(self.folder, "index")),
            sum(1 for _ in cache_folder.owned_files(self.folder, "temp")),
        )

    def plan_clear(self) -> CachePlan:
        """List what :meth:`clear` would remove: every file archivist made in the folder.

        Returns
        -------
        CachePlan
            The entries, temporary files and manifest index files, to apply with
            :meth:`apply`.

        Raises
        ------
        archivist.errors.ConfigError
            The folder is not an archivist cache folder (not empty, not marked).
        """
        if not self.folder.exists() or not self.claim():
            return CachePlan(str(self.folder), (), 0, 0)
        entries = list(self._entries())
        others = [
            relative
            for kind in ("temp", "index")
            for relative, _ in cache_folder.owned_files(self.folder, kind)
        ]
        return CachePlan(
            str(self.folder),
            tuple([relative for relative, _ in entries] + others),
            len(entries),
            sum(found.st_size for _, found in entries),
        )

    def apply(self, plan: CachePlan) -> CacheInfo:
        """Remove exactly the files of ``plan``, each checked again; nothing else.

        Parameters
        ----------
        plan : CachePlan
            What :meth:`plan_clear` listed for this folder.

        Returns
        -------
        CacheInfo
            What was removed: files another process removed first are not counted.

        Raises
        ------
        archivist.errors.InvalidArgumentError
            The plan is for another folder.
        archivist.errors.ConfigError
            The folder is no longer an archivist cache folder; nothing was removed.
        """
        if plan.path != str(self.folder):
            raise InvalidArgumentError(
                f"the plan lists files of {plan.path}, not of this cache ({self.folder})"
            )
        counts = {"entry": 0, "index": 0, "temp": 0}
        size = 0
        if plan.files and self.claim():
            for relative in plan.files:
                kind = cache_folder.owned_kind(relative)
                if kind is None:
                    continue
                try:
                    length = os.lstat(self.folder / relative).st_size
                except OSError:
                    continue
                if cache_folder.delete(self.folder, relative):
                    counts[kind] += 1
                    size += length if kind == "entry" else 0
        return CacheInfo(
            str(self.folder), counts["entry"], size, self.max_size, counts["index"], counts["temp"]
        )

    def clear(self) -> CacheInfo:
        """Remove every entry (and leftover temporary files, and manifest index columns).

        Only files archivist made are removed; folders are left in place.

        Returns
        -------
        CacheInfo
            What was removed.

        Raises
        ------
        archivist.errors.ConfigError
            The folder is not an archivist cache folder; nothing was removed.
        """
        return self.apply(self.plan_clear())


def _in_folder(path: Path, create: Callable[[], _T]) -> _T:
    """Create ``path`` with ``create``, making its folder first (again if a clear removed it)."""
    for attempt in range(_FOLDER_ATTEMPTS):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return create()
        except (FileNotFoundError, FileExistsError):
            if attempt == _FOLDER_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


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
        What was removed: the entries, manifest index files and temporary files archivist
        made there (folders stay).

    Raises
    ------
    archivist.errors.ConfigError
        The folder is not an archivist cache folder: nothing is removed.
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
        The cache; ``None`` also when its folder cannot be created (a file in its place,
        no permission): the repository then reads without it.

    Raises
    ------
    archivist.errors.ConfigError
        The folder is not an archivist cache folder (it holds files and no marker), or
        ``ARCHIVIST_CACHE_SIZE`` is not a size.
    """
    if cache is False:
        return None
    if cache is None and not store.is_remote:
        return None
    artifact_cache = ArtifactCache(cache_dir, cache_size)
    if artifact_cache.max_size == 0:
        return None
    if not artifact_cache.claim():
        _log.warning(
            "the cache folder %s cannot be created; reading without the cache",
            artifact_cache.folder,
        )
        return None
    return artifact_cache
