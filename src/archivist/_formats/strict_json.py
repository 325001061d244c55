"""Reading JSON that archivist may not have written: strict, bounded, one error type.

Manifests, ``releases.json`` and ``project.json`` come from disk or a bucket, where anyone
(or any truncated upload) may have put them. :func:`load_json` turns every way such text can
be wrong into a :class:`~archivist.errors.ManifestError` naming the file: invalid JSON or
UTF-8, nesting deeper than Python's recursion limit, integers longer than Python converts,
``NaN``/``Infinity`` (not JSON, though Python writes them), and an object with a key twice
(parsers disagree on which value wins, so archivist refuses to pick one).

:func:`load_object_list` reads a manifest-like array of flat objects without
:func:`load_json`'s per-object hook (with msgspec's C decoder when it is large) when that
provably gives what :func:`load_json` gives, and otherwise with :func:`load_json` itself.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from archivist.errors import ManifestError

__all__ = ["MAX_DEPTH", "MSGSPEC_FROM_BYTES", "check_depth", "load_json", "load_object_list"]

#: How deeply a value archivist keeps and writes back may nest. Deeper values are refused
#: when read, so writing them back (and printing them) can never hit the recursion limit.
MAX_DEPTH = 64


class _DuplicateKeyError(ValueError):
    pass


class _ConstantError(ValueError):
    pass


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(f"an object holds the key {key!r} twice")
            seen.add(key)
    return result


def _refuse_constant(name: str) -> Any:
    raise _ConstantError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses to inf, which would be written as Infinity
        raise _ConstantError(f"the number {text[:40]} is too large for a float")
    return value


def load_json(
    data: str | bytes | bytearray,
    location: str,
    *,
    allow_nan: bool = False,
    max_depth: int | None = None,
) -> Any:
    """Parse JSON text from storage, turning every failure into a :class:`ManifestError`.

    Parameters
    ----------
    data : str, bytes or bytearray
        The text (bytes are decoded as JSON's UTF-8/16/32).
    location : str
        Where it was read from, for messages.
    allow_nan : bool, optional
        Accept ``NaN``, ``Infinity``, ``-Infinity`` and numbers too large for a float
        (Python's ``json`` writes such floats, and lazyscribe's ``project.json`` may hold
        them as metrics). Default: refuse them.
    max_depth : int, optional
        Refuse values nested deeper than this (see :func:`check_depth`); by default only
        what Python's recursion limit cannot parse is refused.

    Returns
    -------
    Any
        The parsed value.

    Raises
    ------
    archivist.errors.ManifestError
        The text is not valid JSON, nests too deeply, holds a number Python cannot convert,
        a ``NaN``/``Infinity`` not allowed, or an object with a repeated key.
    """
    try:
        if allow_nan:
            parsed = json.loads(data, object_pairs_hook=_unique_object)
        else:
            parsed = json.loads(
                data,
                object_pairs_hook=_unique_object,
                parse_constant=_refuse_constant,
                parse_float=_finite_float,
            )
    except RecursionError:
        raise ManifestError(
            f"{location} nests JSON arrays or objects too deeply to be read; it is corrupt or "
            "was not written by archivist or lazyscribe"
        ) from None
    except (_DuplicateKeyError, _ConstantError) as exc:
        raise ManifestError(f"{location} is not valid: {exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:  # also int digits beyond Python's limit
        raise ManifestError(
            f"{location} is not valid JSON ({exc}); it may be truncated or corrupt"
        ) from None
    if max_depth is not None:
        check_depth(parsed, max_depth, location)
    return parsed


#: A quote followed by whitespace: a key written as ``"key" :`` (or whitespace in a string).
_QUOTE_SPACE = re.compile(rb'"[ \t\r\n]')
_QUOTE_SPACE_STR = re.compile(r'"[ \t\r\n]')


#: From this size on, :func:`load_object_list` decodes with msgspec (faster than the
#: standard library by more than importing msgspec costs); below, with the standard library.
MSGSPEC_FROM_BYTES = 4 << 20


def load_object_list(data: str | bytes | bytearray, location: str) -> Any:
    """Parse JSON text as :func:`load_json` does, fast when it is an array of flat objects.

    The text is decoded without :func:`load_json`'s per-object hook (which costs a Python
    call per record), by msgspec in C for large texts and by the standard library below
    :data:`MSGSPEC_FROM_BYTES`. Both refuse what :func:`load_json` refuses except a repeated
    key, whose last value they keep silently (texts they refuse go to :func:`load_json`,
    which names the problem). So their value is used only for an array of objects whose keys
    are all provably distinct: when no quote is followed by whitespace, every key is
    followed by ``":``, and the text holds exactly as many ``":`` as the objects hold keys
    (a nested object, a repeated key, or ``":`` inside a string makes the counts differ).
    Any other text is parsed by :func:`load_json`, with the same result and the same errors.

    Parameters
    ----------
    data : str, bytes or bytearray
        The text.
    location : str
        Where it was read from, for messages.

    Returns
    -------
    Any
        The parsed value.

    Raises
    ------
    archivist.errors.ManifestError
        As :func:`load_json`.
    """
    parsed = _decode_msgspec(data) if len(data) >= MSGSPEC_FROM_BYTES else _decode_plain(data)
    if parsed is None or not isinstance(parsed, list):
        return load_json(data, location)
    keys = 0
    for item in parsed:
        if type(item) is not dict:
            return load_json(data, location)
        keys += len(item)
    if isinstance(data, str):
        colons, spaced = data.count('":'), _QUOTE_SPACE_STR.search(data) is not None
    else:
        colons, spaced = data.count(b'":'), _QUOTE_SPACE.search(data) is not None
    if spaced or colons != keys:
        return load_json(data, location)
    return parsed


def _decode_plain(data: str | bytes | bytearray) -> Any:
    """Decode with the standard library, without the repeated-key hook; None if refused."""
    try:
        return json.loads(data, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (RecursionError, ValueError):  # also _ConstantError and UnicodeDecodeError
        return None


def _decode_msgspec(data: str | bytes | bytearray) -> Any:
    """Decode with msgspec; None when it refuses the text (load_json then names why)."""
    import msgspec

    try:
        return msgspec.json.decode(data)
    except (msgspec.MsgspecError, RecursionError, ValueError):
        return None


def check_depth(value: object, max_depth: int, what: str) -> None:
    """Refuse a parsed JSON value that nests lists or objects deeper than ``max_depth``.

    Iterative, so it never recurses itself.

    Parameters
    ----------
    value : object
        A parsed JSON value.
    max_depth : int
        The deepest nesting accepted (``0``: scalars only; ``1``: a flat list or object).
    what : str
        What the value is, for the message.

    Raises
    ------
    archivist.errors.ManifestError
        The value nests deeper.
    """
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth + 1 > max_depth:
            raise ManifestError(
                f"{what} nests lists or objects more than {max_depth} levels deep; archivist "
                "does not keep values that deep"
            )
        stack.extend((child, depth + 1) for child in children)
