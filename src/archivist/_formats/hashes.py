"""Content digests: the algorithms a record's digest may use, and block lists.

A version record carries ``sha256`` (every record archivist ever wrote) and, since BLAKE3
was added, ``blake3`` too: the same bytes under a hash that costs a fraction of SHA-256's
time. :func:`preferred` is the one choice of the digest a reader checks: BLAKE3 when the
record has it, else SHA-256, so records written before keep verifying as they did.

A file larger than :data:`BLOCKS_AFTER` also gets a **block list**: the BLAKE3 of each
:data:`BLOCK_SIZE`-byte block, kept in a small side object (:class:`BlockList`) whose own
BLAKE3 and size are in the record (:class:`BlockRef`), so that any block can be verified
alone. The side object also names the whole file's BLAKE3 and size, so a block list made
for other bytes is refused before any block is trusted. :class:`DigestSet` computes the
whole-file digests and the block digests in one pass over the bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import blake3 as _blake3

from archivist._formats.strict_json import load_json
from archivist.errors import IntegrityError, ManifestError

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = [
    "ALGORITHMS",
    "BLOCKS_AFTER",
    "BLOCK_SIZE",
    "Algorithm",
    "BlockList",
    "BlockRef",
    "Digest",
    "DigestSet",
    "FileDigests",
    "as_digest",
    "block_digest",
    "is_hex_digest",
    "new_hash",
    "preferred",
    "record_fields",
]

#: A digest algorithm a record may name.
Algorithm = Literal["blake3", "sha256"]
#: The algorithms records carry, the one readers prefer first.
ALGORITHMS: tuple[Algorithm, ...] = ("blake3", "sha256")
_HEX = re.compile(r"[0-9a-f]{64}")

#: Files larger than this get a block list.
BLOCKS_AFTER = 8 << 20
#: The size of each block of a block list (the last may be shorter).
BLOCK_SIZE = 4 << 20
#: The format of a block list side object; another is refused.
BLOCK_LIST_FORMAT = 1


def is_hex_digest(value: object) -> bool:
    """Tell whether ``value`` is a digest as records store it: 64 lowercase hex digits."""
    return isinstance(value, str) and _HEX.fullmatch(value) is not None


def block_digest(data: Buffer) -> str:
    """Return the BLAKE3 of one block, as a block list records it."""
    return str(_blake3.blake3(data).hexdigest())


def new_hash(algorithm: Algorithm) -> Any:
    """Return a new hash object (``update``, ``hexdigest``) for ``algorithm``.

    Parameters
    ----------
    algorithm : {"blake3", "sha256"}
        The algorithm.

    Returns
    -------
    object
        A hashlib-like hash object; BLAKE3 hashes large buffers on every core.
    """
    if algorithm == "blake3":
        return _blake3.blake3(max_threads=_blake3.blake3.AUTO)
    return hashlib.sha256()


@dataclass(frozen=True, slots=True)
class Digest:
    """A digest a file's bytes must have: its algorithm and hex value.

    Attributes
    ----------
    algorithm : {"blake3", "sha256"}
        The algorithm.
    hexdigest : str
        64 lowercase hex digits.
    """

    algorithm: Algorithm
    hexdigest: str

    def __str__(self) -> str:
        return f"{self.algorithm} {self.hexdigest}"

    def new(self) -> Any:
        """Return a new hash object of this digest's algorithm."""
        return new_hash(self.algorithm)

    def of(self, data: Buffer) -> str:
        """Return the hex digest of ``data`` under this digest's algorithm."""
        hasher = self.new()
        hasher.update(data)
        return str(hasher.hexdigest())


def preferred(sha256: str | None, blake3: str | None) -> Digest | None:
    """Return the digest a reader checks: BLAKE3 when there is one, else SHA-256.

    The one choice of the digest every verified read, the cache and ``verify`` use.

    Parameters
    ----------
    sha256, blake3 : str or None
        A record's digests.

    Returns
    -------
    Digest or None
        ``None`` when there is neither (a record lazyscribe wrote).
    """
    if blake3 is not None:
        return Digest("blake3", blake3)
    if sha256 is not None:
        return Digest("sha256", sha256)
    return None


def as_digest(value: Digest | str | None) -> Digest | None:
    """Return ``value`` as a :class:`Digest`; a plain string is a SHA-256 (older callers)."""
    if value is None or isinstance(value, Digest):
        return value
    return Digest("sha256", value)


@dataclass(frozen=True, slots=True)
class BlockRef:
    """A record's reference to its block list side object.

    Attributes
    ----------
    blake3 : str
        The BLAKE3 of the side object's bytes.
    size : int
        The side object's size in bytes.
    block_size : int
        The size of each block of the file.
    """

    blake3: str
    size: int
    block_size: int

    @classmethod
    def of(cls, blocks: BlockList) -> BlockRef:
        """Return the reference to ``blocks`` (the digest of its side object's bytes)."""
        data = blocks.to_bytes()
        return cls(_blake3.blake3(data).hexdigest(), len(data), blocks.block_size)

    def to_dict(self) -> dict[str, Any]:
        """Return the record field's JSON form."""
        return {"blake3": self.blake3, "size": self.size, "block_size": self.block_size}

    @classmethod
    def from_dict(cls, data: object, label: str) -> BlockRef:
        """Parse a record's ``blocks`` field, refusing anything but its exact form.

        Raises
        ------
        archivist.errors.ManifestError
            Not an object of exactly ``blake3``, ``size`` and ``block_size``, or a bad value.
        """
        if not isinstance(data, dict) or set(data) != {"blake3", "size", "block_size"}:
            raise ManifestError(
                f"{label}: blocks must be an object with exactly blake3, size and block_size"
            )
        digest, size, block_size = data["blake3"], data["size"], data["block_size"]
        if not is_hex_digest(digest):
            raise ManifestError(f"{label}: blocks.blake3 must be 64 lowercase hex digits")
        if not _count(size) or not _count(block_size) or block_size == 0:
            raise ManifestError(f"{label}: blocks.size and blocks.block_size must be integers")
        return cls(digest, size, block_size)


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@dataclass(frozen=True, slots=True)
class BlockList:
    """The BLAKE3 of each fixed-size block of one file (a block list side object).

    Attributes
    ----------
    blake3 : str
        The whole file's BLAKE3: a block list is used only with the record naming it.
    size : int
        The whole file's size in bytes.
    block_size : int
        The size of each block (the last may be shorter).
    blocks : tuple[str, ...]
        The BLAKE3 of each block, in order.
    """

    blake3: str
    size: int
    block_size: int
    blocks: tuple[str, ...] = field(default=())

    def to_bytes(self) -> bytes:
        """Return the side object's bytes (JSON)."""
        document = {
            "format": BLOCK_LIST_FORMAT,
            "algorithm": "blake3",
            "blake3": self.blake3,
            "size": self.size,
            "block_size": self.block_size,
            "blocks": list(self.blocks),
        }
        return json.dumps(document, separators=(",", ":")).encode()

    def span(self, index: int) -> tuple[int, int]:
        """Return the ``[start, end)`` byte range of block ``index``."""
        start = index * self.block_size
        return start, min(start + self.block_size, self.size)

    @classmethod
    def parse(cls, data: bytes, location: str, blake3: str, size: int) -> BlockList:
        """Parse a side object, strictly, and check it belongs to the file it is read for.

        Parameters
        ----------
        data : bytes
            The side object's bytes (already checked against the record's ``blocks.blake3``).
        location : str
            Where it was read from, for messages.
        blake3, size : str, int
            The record's whole-file BLAKE3 and size.

        Returns
        -------
        BlockList
            The block list.

        Raises
        ------
        archivist.errors.IntegrityError
            It is not a block list of this format, names another file's digest or size, or
            holds a block count that does not cover that size.
        """
        try:
            document = load_json(data, location, max_depth=2)
        except ManifestError as exc:
            raise IntegrityError(f"{location} is not a block list: {exc}") from None
        keys = {"format", "algorithm", "blake3", "size", "block_size", "blocks"}
        if (
            not isinstance(document, dict)
            or set(document) != keys
            or document["format"] != BLOCK_LIST_FORMAT
            or document["algorithm"] != "blake3"
        ):
            raise IntegrityError(f"{location} is not a block list of format {BLOCK_LIST_FORMAT}")
        block_size, blocks = document["block_size"], document["blocks"]
        if document["blake3"] != blake3 or document["size"] != size:
            raise IntegrityError(
                f"{location} is the block list of other bytes (blake3 {document['blake3']!r:.80}"
                f", {document['size']!r:.20} bytes), not of blake3 {blake3} and {size} bytes"
            )
        if (
            not _count(block_size)
            or block_size == 0
            or not isinstance(blocks, list)
            or not all(is_hex_digest(b) for b in blocks)
            or len(blocks) != -(-size // block_size)
        ):
            raise IntegrityError(
                f"{location} does not hold one 64-hex-digit block digest per block of {size} bytes"
            )
        return cls(blake3, size, block_size, tuple(blocks))


@dataclass(frozen=True, slots=True)
class FileDigests:
    """What hashing a written file found: its digests, size and block list.

    Attributes
    ----------
    sha256 : str
        The SHA-256.
    size : int
        The size in bytes.
    blake3 : str or None
        The BLAKE3 (``None`` from a store that computes only SHA-256).
    blocks : BlockList or None
        The block list, for a file larger than :data:`BLOCKS_AFTER`.
    """

    sha256: str
    size: int
    blake3: str | None = None
    blocks: BlockList | None = None


class _Sha256Part:
    """The SHA-256 part of a :class:`DigestSet`."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()

    def update(self, data: Buffer) -> None:
        self.hash.update(data)


class _Blake3Part:
    """The BLAKE3 part of a :class:`DigestSet`: the whole file's, and each block's."""

    def __init__(self) -> None:
        self.hash = _blake3.blake3()  # one thread: the writer and SHA-256 use the others
        self.block = _blake3.blake3()
        self.fill = 0
        self.done: list[str] = []

    def update(self, data: Buffer) -> None:
        view = memoryview(data).cast("B")
        self.hash.update(view)
        if self.fill + len(view) < BLOCK_SIZE:  # the common case: inside one block
            self.block.update(view)
            self.fill += len(view)
            return
        position = 0
        while position < len(view):
            take = min(BLOCK_SIZE - self.fill, len(view) - position)
            self.block.update(view[position : position + take])
            self.fill += take
            position += take
            if self.fill == BLOCK_SIZE:
                self.done.append(str(self.block.hexdigest()))
                self.block, self.fill = _blake3.blake3(), 0

    def blocks(self) -> list[str]:
        return self.done + ([str(self.block.hexdigest())] if self.fill else [])


class DigestSet:
    """SHA-256, BLAKE3 and block BLAKE3s of a byte stream, updated in one pass.

    :meth:`parts` gives the SHA-256 and the BLAKE3 updaters apart, for a writer to feed them
    on two threads (each releases the GIL on large buffers); :meth:`update` feeds both.

    Parameters
    ----------
    blocks_after : int, optional
        A stream longer than this gets a block list (default :data:`BLOCKS_AFTER`).
    """

    def __init__(self, blocks_after: int = BLOCKS_AFTER) -> None:
        self._sha256 = _Sha256Part()
        self._blake3 = _Blake3Part()
        self._blocks_after = blocks_after
        self.size = 0

    def parts(self) -> tuple[Any, Any]:
        """Return the two updaters (``update(buffer)``); the caller counts :attr:`size`."""
        return self._sha256, self._blake3

    def update(self, data: Buffer) -> None:
        """Hash ``data`` with every digest."""
        view = memoryview(data).cast("B")
        self._sha256.update(view)
        self._blake3.update(view)
        self.size += len(view)

    def result(self, size: int | None = None) -> FileDigests:
        """Return the digests of everything hashed (of ``size`` bytes, when parts were fed)."""
        size = self.size if size is None else size
        blake3 = str(self._blake3.hash.hexdigest())
        blocks = None
        if size > self._blocks_after:
            blocks = BlockList(blake3, size, BLOCK_SIZE, tuple(self._blake3.blocks()))
        return FileDigests(self._sha256.hash.hexdigest(), size, blake3, blocks)


def record_fields(digests: FileDigests) -> Mapping[str, Any]:
    """Return the additive record fields of ``digests`` (``blake3``, ``blocks``)."""
    out: dict[str, Any] = {}
    if digests.blake3 is not None:
        out["blake3"] = digests.blake3
    if digests.blocks is not None:
        out["blocks"] = BlockRef.of(digests.blocks).to_dict()
    return out
