"""Handler I/O: the one place a value meets a :class:`~archivist.Handler`.

Repositories (``Repository.save``/``load_artifact``) and experiments and tests
(``Project.save``/``Experiment.load_artifact``) both call these functions, so one rule
holds everywhere:

* :func:`describe` asks a handler for a value's metadata, and refuses a key that would
  overwrite a record field (:data:`RECORD_FIELDS`) with an
  :class:`~archivist.errors.EncodingError`;
* :func:`write_value` writes a value through a handler into a raw byte stream (a text
  wrapper for text handlers), wrapping a handler's own failure in
  :class:`~archivist.errors.EncodingError` (a ``SerializationError`` and a ``WriteError``);
* :func:`write_new_file` is the collision policy: stored files are never overwritten; a
  generated name that is taken is replaced by a fresh generated one (at most
  :data:`MAX_NAME_ATTEMPTS` times), a name the user chose that is taken raises
  :class:`~archivist.errors.AlreadyExistsError`;
* :func:`read_value` reads a value back from an already verified byte stream, wrapping a
  handler's failure in :class:`~archivist.errors.DecodingError` (a ``SerializationError``
  and a ``LoadError``), and warns for ``output_only`` handlers (lazyscribe's warning);
* :func:`slug` and :func:`new_fname` are the one slug and the one file-name generator.

A handler's stream has a ``name`` only when it is a path, as the files lazyscribe hands its
handlers (fsspec's local files) have: a stream named by a descriptor number (a file opened
from a descriptor, an anonymous temporary file) is handed on without a ``name``, since
handlers such as ``onnx.load`` take any ``name`` for a path.
"""

from __future__ import annotations

import functools
import html.entities
import io
import re
import secrets
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import IO, Any, Literal, TypeVar, cast

from archivist._io.streams import stream_for
from archivist.errors import AlreadyExistsError, ArchivistError, DecodingError, EncodingError
from archivist.handlers.base import Handler

__all__ = [
    "MAX_NAME_ATTEMPTS",
    "RECORD_FIELDS",
    "describe",
    "environment_of",
    "new_fname",
    "read_value",
    "slug",
    "warn_output_only",
    "write_new_file",
    "write_value",
]

#: Fields of a version's (or an experiment artifact's) record that handler metadata may not set.
RECORD_FIELDS = frozenset(
    ("name", "version", "handler", "fname", "created_at", "expiry", "sha256", "size", "source")
)
#: How many generated file names a write tries before giving up (each has 32 random bits).
MAX_NAME_ATTEMPTS = 8
#: The longest slug a generated file name starts with (ASCII: well below 255 bytes in all).
MAX_SLUG_LENGTH = 100

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_NUMBER_COMMA = re.compile(r"(?<=\d),(?=\d)")
_ENTITY = re.compile(r"&(?:([A-Za-z][A-Za-z0-9]*)|#(\d+)|#[xX]([0-9a-fA-F]+));")
_CURLY_QUOTES = frozenset("\u2018\u2019")
#: Latin letters that do not decompose, as transliteration writes them.
_LATIN = {
    "ß": "ss",
    "æ": "ae",
    "Æ": "AE",
    "ø": "o",
    "Ø": "O",
    "œ": "oe",
    "Œ": "OE",
    "ł": "l",
    "Ł": "L",
    "đ": "d",
    "Đ": "D",
    "ð": "d",
    "Ð": "D",
    "þ": "th",
    "Þ": "Th",
    "\u0131": "i",  # dotless i
    "\u2044": "/",
}
_T = TypeVar("_T")


@functools.lru_cache(maxsize=1024)  # a bulk save logs one name many times
def slug(text: str) -> str:
    """Turn a name into a slug as lazyscribe does (python-slugify's defaults).

    The steps are python-slugify's: HTML entities decoded, apostrophes made separators,
    letters decomposed and accents dropped, lowercase, the comma inside a number dropped,
    anything but ``a-z0-9`` a separator. Without a transliteration table, letters that
    do not decompose are mapped for the Latin alphabets (``ß`` -> ``ss``, ``ø`` -> ``o``...)
    and dropped for other scripts, where lazyscribe transliterates them (``日本`` ->
    ``ri-ben``); give such names an explicit slug or file name.

    Parameters
    ----------
    text : str
        The name.

    Returns
    -------
    str
        Lowercase ASCII letters and digits separated by single hyphens (empty when
        ``text`` has none).
    """
    text = _ENTITY.sub(_decode_entity, text).replace("'", "-")
    text = "".join(_ascii(char) for char in unicodedata.normalize("NFKD", text)).lower()
    text = _NUMBER_COMMA.sub("", text)
    return _NOT_SLUG.sub("-", text).strip("-")


def _decode_entity(match: re.Match[str]) -> str:
    named, decimal, hexadecimal = match.groups()
    if named is not None:
        code = html.entities.name2codepoint.get(named)
        return match.group(0) if code is None else chr(code)
    try:
        return chr(int(decimal, 10) if decimal is not None else int(hexadecimal, 16))
    except (ValueError, OverflowError):
        return match.group(0)


def _ascii(char: str) -> str:
    """Return the ASCII stand-in of one decomposed character ("" to drop it)."""
    if char.isascii():
        return char
    latin = _LATIN.get(char)
    if latin is not None:
        return latin
    # accents (combining marks), quotes and other letters go; punctuation, symbols and
    # spaces separate words, as their transliterations do
    category = unicodedata.category(char)
    return "-" if category[0] in "PSZ" and char not in _CURLY_QUOTES else ""


def new_fname(name: str, created_at: datetime, suffix: str, *, unique: bool = True) -> str:
    """Return a file name for a value: the name's slug, the time and a random part.

    lazyscribe names a file ``<slug>-<YYYYMMDDHHMMSS>.<suffix>``; archivist adds 8 random
    hex digits so that two values logged in one second never share a file. lazyscribe
    reads the file name from the record, so it reads these names unchanged. The slug is cut
    to :data:`MAX_SLUG_LENGTH` characters, so that the name stays a valid file name.

    Parameters
    ----------
    name : str
        The artifact name.
    created_at : datetime.datetime
        When the value was logged.
    suffix : str
        The handler's suffix, without the dot (empty for none).
    unique : bool, optional
        ``False`` leaves the random part out: lazyscribe's own name, which experiments
        write first so that a project's files are named as lazyscribe names them (when
        that name is taken, :func:`write_new_file` moves on to unique ones).

    Returns
    -------
    str
        For example ``"features-20260131120000-1a2b3c4d.json"``.
    """
    stem = slug(name)[:MAX_SLUG_LENGTH].rstrip("-") or "artifact"
    stamp = created_at.strftime("%Y%m%d%H%M%S")
    random = f"-{secrets.token_hex(4)}" if unique else ""
    return f"{stem}-{stamp}{random}" + (f".{suffix}" if suffix else "")


def describe(handler: Handler, value: Any, alias: str, name: str) -> dict[str, Any]:
    """Return the metadata ``handler`` records for ``value``.

    Parameters
    ----------
    handler : archivist.Handler
        The handler that will write the value.
    value : Any
        The value.
    alias, name : str
        The handler's alias and the artifact name, for messages.

    Returns
    -------
    dict[str, Any]
        The metadata, to be stored beside the record fields.

    Raises
    ------
    archivist.errors.EncodingError
        The handler failed, or returned a key that is a record field (:data:`RECORD_FIELDS`).
    """
    try:
        metadata = dict(handler.metadata(value))
    except Exception as exc:
        raise EncodingError(
            f"handler {alias!r} could not describe {name!r}: {type(exc).__name__}: {exc}"
        ) from exc
    clash = sorted(RECORD_FIELDS.intersection(metadata))
    if clash:
        raise EncodingError(
            f"handler {alias!r} returned metadata for {name!r} that would overwrite the record "
            f"field(s) {', '.join(clash)}; rename those keys in the handler's metadata()"
        )
    return metadata


def environment_of(handler: Handler) -> dict[str, Any]:
    """Return what reading depends on, as ``handler`` describes it; ``{}`` if it cannot.

    For listings of versions not yet written (lazyscribe's artifact objects show it):
    describing a pending version never fails the listing.
    """
    try:
        return dict(handler.environment())
    except Exception:
        return {}


def write_value(
    handler: Handler,
    value: Any,
    raw: IO[bytes],
    writer_kwargs: Mapping[str, Any],
    alias: str,
    name: str,
) -> None:
    """Write ``value`` through ``handler`` into the byte stream ``raw`` (not closed).

    Parameters
    ----------
    handler : archivist.Handler
        The handler.
    value : Any
        The value.
    raw : IO[bytes]
        Where the bytes go (text handlers get a UTF-8 wrapper, flushed, not closed).
    writer_kwargs : Mapping[str, Any]
        The writer options given when the value was logged.
    alias, name : str
        The handler's alias and the artifact name, for messages.

    Raises
    ------
    archivist.errors.EncodingError
        The handler failed (an archivist error it raised passes unchanged).
    """
    with stream_for(_path_named(raw), handler.binary) as stream:
        try:
            handler.write(value, stream, **writer_kwargs)
        except ArchivistError:
            raise
        except Exception as exc:
            raise EncodingError(
                f"handler {alias!r} could not write {name!r}: {type(exc).__name__}: {exc}"
            ) from exc


def write_new_file(
    write: Callable[[str], _T], fname: str, fresh: Callable[[], str] | None, name: str
) -> tuple[str, _T]:
    """Write a new file under ``fname``, never over an existing file.

    Parameters
    ----------
    write : Callable[[str], T]
        Writes the file under the given name if absent (raising ``FileExistsError``, for
        example :class:`~archivist.errors.AlreadyExistsError`, when it exists).
    fname : str
        The first name to try.
    fresh : Callable[[], str] or None
        Returns another generated name; ``None`` when ``fname`` was chosen by the user.
    name : str
        The artifact name, for messages.

    Returns
    -------
    tuple[str, T]
        The file name written and what ``write`` returned.

    Raises
    ------
    archivist.errors.AlreadyExistsError
        ``fname`` was chosen by the user and exists, or :data:`MAX_NAME_ATTEMPTS`
        generated names in a row all existed.
    """
    for _ in range(MAX_NAME_ATTEMPTS):
        try:
            return fname, write(fname)
        except FileExistsError as exc:
            if fresh is None:
                if isinstance(exc, AlreadyExistsError):
                    raise
                raise AlreadyExistsError(
                    f"the file {fname!r} of {name!r} already exists; archivist never "
                    "overwrites a stored file. Omit fname for a unique one."
                ) from exc
            fname = fresh()
    raise AlreadyExistsError(  # pragma: no cover - eight random collisions in a row
        f"could not find a free file name for {name!r} in {MAX_NAME_ATTEMPTS} attempts"
    )


def read_value(
    handler: Handler,
    raw: IO[bytes],
    reader_kwargs: Mapping[str, Any],
    alias: str,
    what: str,
    name: str,
    stacklevel: int = 2,
) -> Any:
    """Read a value through ``handler`` from the verified byte stream ``raw``.

    Parameters
    ----------
    handler : archivist.Handler
        The handler.
    raw : IO[bytes]
        The stored bytes, already verified (text handlers get a UTF-8 wrapper).
    reader_kwargs : Mapping[str, Any]
        The reader options given to ``load_artifact``.
    alias : str
        The handler's alias, for messages.
    what : str
        What is read, for messages (``"version 2 of 'features'"``).
    name : str
        The artifact name (for the ``output_only`` warning).
    stacklevel : int, optional
        For the ``output_only`` warning, as :func:`warnings.warn` counts it from the caller.

    Returns
    -------
    Any
        The value.

    Raises
    ------
    archivist.errors.DecodingError
        The handler failed (an archivist error it raised passes unchanged).
    """
    with stream_for(_path_named(raw), handler.binary) as stream:
        try:
            value = handler.read(stream, **reader_kwargs)
        except ArchivistError:
            raise
        except Exception as exc:
            raise DecodingError(
                f"handler {alias!r} could not read {what}: {type(exc).__name__}: {exc}"
            ) from exc
    warn_output_only(handler, name, "load", stacklevel=stacklevel + 1)
    return value


def warn_output_only(
    handler: Handler | type[Handler], name: str, when: Literal["log", "load"], stacklevel: int = 2
) -> None:
    """Warn, as lazyscribe does, about an artifact whose handler is ``output_only``.

    Parameters
    ----------
    handler : archivist.Handler or its class
        The handler; only :attr:`~archivist.Handler.output_only` is read.
    name : str
        The artifact name.
    when : {"log", "load"}
        Logging or saving (``"log"``), or loading.
    stacklevel : int, optional
        As :func:`warnings.warn` counts it from the caller of this function.
    """
    if not handler.output_only:
        return
    if when == "load":
        message = f"Artifact '{name}' is not the original Python Object"
    else:
        message = f"Artifact '{name}' is added. It is not meant to be read back as Python Object"
    warnings.warn(message, UserWarning, stacklevel=stacklevel + 1)


def _path_named(raw: IO[bytes]) -> IO[bytes]:
    """Return ``raw``, or a view of it without ``name`` when its name is not a path string."""
    name = getattr(raw, "name", None)
    if name is None or isinstance(name, str):
        return raw
    return cast("IO[bytes]", _Unnamed(raw))


class _Unnamed(io.BufferedIOBase):
    """A byte stream passing every call to another one, without its ``name``.

    Closing the view leaves the stream open: its owner closes it.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        super().__init__()
        self._stream = stream

    def readable(self) -> bool:
        return self._stream.readable()

    def writable(self) -> bool:
        return self._stream.writable()

    def seekable(self) -> bool:
        return self._stream.seekable()

    def read(self, size: int | None = -1) -> bytes:
        return self._stream.read(-1 if size is None else size)

    def read1(self, size: int = -1) -> bytes:
        read1 = getattr(self._stream, "read1", None)
        return bytes(read1(size)) if read1 is not None else self._stream.read(size)

    def readinto(self, buffer: Any) -> int:
        readinto = getattr(self._stream, "readinto", None)
        if readinto is not None:
            return int(readinto(buffer) or 0)
        data = self._stream.read(len(memoryview(buffer)))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        return self._stream.readline(-1 if size is None else size)

    def write(self, data: Any) -> int:
        return self._stream.write(data)

    def writelines(self, lines: Iterable[Any]) -> None:
        self._stream.writelines(lines)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()

    def flush(self) -> None:
        if not self.closed:
            self._stream.flush()

    def fileno(self) -> int:
        return self._stream.fileno()
