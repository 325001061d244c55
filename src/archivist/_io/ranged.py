"""Verified ranged reads: part of a large stored file, every byte checked against its block.

A version larger than 8 MiB has a block list (:mod:`archivist._formats.hashes`): the BLAKE3
of each 4 MiB block. :class:`RangedReader` is a read-only, seekable file object over such a
file that fetches only the blocks covering what is read (one call of the store's ranged
read for all blocks missing at once: ``cat_ranges`` on an object store, concurrent ranged
GETs), checks each block against its list before handing out any byte of it, and keeps the
last verified blocks. A block that does not match is an
:class:`~archivist.errors.IntegrityError` naming the block; none of its bytes are returned.

The reader's size is the recorded size: a file that grew since is read only up to it, and
a read past the end returns nothing.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from archivist._formats.hashes import BlockList, block_digest
from archivist._io.hashed_buffer import seek_target
from archivist.errors import IntegrityError

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = ["CACHED_BLOCKS", "RangedReader"]

#: How many verified blocks a reader keeps (16 blocks of 4 MiB: 64 MiB at most).
CACHED_BLOCKS = 16

#: Fetches byte ranges ``[start, end)`` of the stored file, in order.
Fetch = Callable[[Sequence[tuple[int, int]]], Sequence[bytes]]


class RangedReader(io.RawIOBase):
    """A read-only, seekable file over a stored file, verified block by block.

    Parameters
    ----------
    fetch : Callable[[Sequence[tuple[int, int]]], Sequence[bytes]]
        Reads the given ``[start, end)`` ranges of the stored file.
    blocks : BlockList
        The file's block list, already checked against its record.
    where : str
        The file's location, for messages.
    cached_blocks : int, optional
        How many verified blocks to keep (default :data:`CACHED_BLOCKS`).
    """

    def __init__(
        self, fetch: Fetch, blocks: BlockList, where: str, cached_blocks: int = CACHED_BLOCKS
    ) -> None:
        super().__init__()
        self._fetch = fetch
        self._blocks = blocks
        self._where = where
        self._limit = max(cached_blocks, 1)
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self._position = 0
        #: How many blocks were fetched so far (each verified before use).
        self.fetched = 0

    @property
    def size(self) -> int:
        """The file's recorded size in bytes."""
        return self._blocks.size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._checkClosed()
        self._position = seek_target(self._position, self.size, offset, whence)
        return self._position

    def tell(self) -> int:
        self._checkClosed()
        return self._position

    def readinto(self, buffer: Buffer) -> int:
        self._checkClosed()
        with memoryview(buffer) as target, target.cast("B") as flat:
            start = self._position
            end = min(self.size, start + len(flat))
            if end <= start:
                return 0
            size = self._blocks.block_size
            first, last = start // size, (end - 1) // size
            done = 0
            for group in range(first, last + 1, self._limit):
                indices = range(group, min(group + self._limit, last + 1))
                self._load(indices)
                for index in indices:
                    block_start, _ = self._blocks.span(index)
                    data = self._cache[index]
                    lo = max(start, block_start) - block_start
                    hi = min(end, block_start + len(data)) - block_start
                    flat[done : done + hi - lo] = data[lo:hi]
                    done += hi - lo
        self._position = end
        return done

    def _load(self, indices: Sequence[int]) -> None:
        """Fetch and verify the blocks of ``indices`` not kept yet (one fetch for all)."""
        missing = [index for index in indices if index not in self._cache]
        if missing:
            spans = [self._blocks.span(index) for index in missing]
            for index, (start, end), data in zip(missing, spans, self._fetch(spans), strict=True):
                if len(data) != end - start or block_digest(data) != self._blocks.blocks[index]:
                    raise IntegrityError(
                        f"block {index} (bytes {start} to {end}) of {self._where} does not "
                        "match its block list: the stored file was modified or damaged; no "
                        "byte of the block was returned"
                    )
                self.fetched += 1
                self._cache[index] = bytes(data)
        for index in indices:
            self._cache.move_to_end(index)
        while len(self._cache) > max(self._limit, len(indices)):
            self._cache.popitem(last=False)

    def close(self) -> None:
        self._cache.clear()
        super().close()
