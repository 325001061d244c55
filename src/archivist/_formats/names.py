"""Names of artifacts and their files: what may become a folder or file in a repository.

An artifact's files live in ``<repository folder>/<name>/<fname>``: a name is a single path
component, a file name one or more (sub-folders, as lazyscribe 2.2 allows). New names are
checked strictly (no leading dot, at most 255 bytes, not a file kept beside the manifest);
names read from stored files only need to stay inside their folder, so what lazyscribe wrote
still opens.
"""

from __future__ import annotations

import re

from archivist.errors import InvalidNameError, ManifestError

__all__ = [
    "ALIAS_FILE_SUFFIX",
    "MAX_NAME_BYTES",
    "PRIVATE_FOLDER_SUFFIX",
    "SIDE_FILES",
    "alias_file_name",
    "block_list_parts",
    "check_file_name",
    "check_name",
    "check_name_beside",
    "check_stored_file_name",
    "check_stored_name",
    "check_stored_record",
    "names_beside",
    "private_folder_name",
]

# One path component: no separators, control characters or lone surrogates, no leading dot,
# no drive prefix.
_SAFE_COMPONENT = re.compile(
    r"(?![A-Za-z]:)[^./\\\x00-\x1f\x7f\ud800-\udfff][^/\\\x00-\x1f\x7f\ud800-\udfff]*"
)
# The same, as read from a stored file: a leading dot is allowed (lazyscribe wrote such names).
_STORED_COMPONENT = re.compile(r"(?![A-Za-z]:)[^/\\\x00-\x1f\x7f]+")

#: The longest artifact name or file name archivist creates, in UTF-8 bytes: the limit of
#: one path component on most local file systems (ext4, APFS, NTFS), kept for every store
#: so a repository can be copied between them.
MAX_NAME_BYTES = 255


def check_name(name: object) -> str:
    """Validate a new artifact name: it becomes a folder directly below the repository folder.

    Parameters
    ----------
    name : object
        The name to check.

    Returns
    -------
    str
        The name, unchanged.

    Raises
    ------
    archivist.errors.InvalidNameError
        The name is empty, not a string, ``.`` or ``..``, holds a path separator or a
        control character, starts with a dot (reserved for archivist's own files), or is
        longer than :data:`MAX_NAME_BYTES` bytes in UTF-8.
    """
    return _check_component(name, "artifact name")


def check_file_name(fname: object) -> str:
    r"""Validate a new version's file name: a path inside the artifact folder.

    As in lazyscribe 2.2, the file name may hold sub-folders (``"mydir/sub/x.json"``,
    ``/``-separated); each part follows the rules of :func:`check_name`, so the file stays
    inside ``<repository folder>/<name>/``.

    Parameters
    ----------
    fname : object
        The file name to check.

    Returns
    -------
    str
        The file name, unchanged.

    Raises
    ------
    archivist.errors.InvalidNameError
        The name is empty, absolute, has an empty part (``a//b``, a trailing ``/``), or a
        part breaks the rules of :func:`check_name` (``..``, ``\\``, a leading dot, ...).
    """
    return _check_path(fname, "file name", stored=False)


def check_stored_file_name(fname: object, what: str) -> str:
    """Validate a file name read from a stored file: :func:`check_stored_name` per part.

    Parameters
    ----------
    fname : object
        The stored file name (sub-folders ``/``-separated).
    what : str
        What it is, for messages.

    Returns
    -------
    str
        The file name, unchanged.

    Raises
    ------
    archivist.errors.InvalidNameError
        It is empty, absolute, has an empty part, or a part would leave its folder.
    """
    return _check_path(fname, what, stored=True)


def _check_path(fname: object, what: str, *, stored: bool) -> str:
    if isinstance(fname, str) and "/" in fname:
        if fname.startswith("/"):
            raise InvalidNameError(
                f"{what} {fname!r:.300} is absolute; give a path relative to the artifact folder"
            )
        parts = fname.split("/")
        if not all(parts):
            raise InvalidNameError(f"{what} {fname!r:.300} has an empty part ('//' or a final '/')")
        for part in parts:
            _check_component(part, f"{what} {fname!r:.300}: part", stored=stored)
        return fname
    return _check_component(fname, what, stored=stored)


def check_stored_name(value: object, what: str) -> str:
    """Validate a name or file name read from a stored file (manifest, project).

    Only the rules that keep a path inside its folder apply: lazyscribe wrote names
    archivist would not create (a leading dot, a name longer than the local disk allows on
    a bucket), and those must still open and load.

    Parameters
    ----------
    value : object
        The stored name.
    what : str
        What it is, for messages.

    Returns
    -------
    str
        The name, unchanged.

    Raises
    ------
    archivist.errors.InvalidNameError
        The name is empty, not a string, ``.`` or ``..``, or holds a path separator, a
        control character or a drive prefix.
    """
    return _check_component(value, what, stored=True)


#: Files kept beside any manifest, whose names no artifact folder may take. With the
#: manifest's own name, its alias file and its private folder (see :func:`names_beside`),
#: this is the one list of names archivist reserves in a repository folder.
SIDE_FILES = ("repository.json", "releases.json", "project.json")
#: The end of every alias file's name (``<manifest stem>.aliases.json``): reserved for every
#: manifest's alias file, since two repositories may share one folder.
ALIAS_FILE_SUFFIX = ".aliases.json"
#: The end of every private folder's name (``.<manifest name>.archivist``).
PRIVATE_FOLDER_SUFFIX = ".archivist"


def alias_file_name(manifest_name: str) -> str:
    """Return the name of a manifest's alias file: ``X.json`` -> ``X.aliases.json``.

    Parameters
    ----------
    manifest_name : str
        The manifest's file name (``"repository.json"``).

    Returns
    -------
    str
        The alias file's name, beside the manifest.
    """
    stem = manifest_name[: -len(".json")] if manifest_name.endswith(".json") else manifest_name
    return f"{stem}{ALIAS_FILE_SUFFIX}"


def private_folder_name(manifest_name: str) -> str:
    """Return the name of a manifest's private folder (journals): ``.X.json.archivist``.

    Parameters
    ----------
    manifest_name : str
        The manifest's file name.

    Returns
    -------
    str
        The folder's name, beside the manifest; named after it, so two repositories in one
        folder never share one.
    """
    return f".{manifest_name}{PRIVATE_FOLDER_SUFFIX}"


def names_beside(manifest_name: str) -> frozenset[str]:
    """Return the names archivist keeps beside a manifest, case-folded.

    Parameters
    ----------
    manifest_name : str
        The manifest's file name.

    Returns
    -------
    frozenset[str]
        :data:`SIDE_FILES`, the manifest's own name, its alias file and its private folder,
        each ``str.casefold``-ed. Every name ending in :data:`ALIAS_FILE_SUFFIX` is reserved
        too (see :func:`check_name_beside`).
    """
    names = {*SIDE_FILES, manifest_name, alias_file_name(manifest_name)}
    names.add(private_folder_name(manifest_name))
    return frozenset(name.casefold() for name in names)


def check_name_beside(name: str, manifest_name: str) -> str:
    """Refuse an artifact name that would clash with a file archivist keeps beside a manifest.

    An artifact's files live in ``<folder>/<name>/``; a folder named like the manifest, its
    alias file (any ``*.aliases.json``: another manifest in the folder may own it), its
    private folder, ``releases.json``, ``project.json`` or ``repository.json`` would stop
    that file from being written, or hide it. Compared ignoring case, as on macOS and
    Windows.

    Parameters
    ----------
    name : str
        The artifact name.
    manifest_name : str
        The manifest's file name (``"repository.json"``).

    Returns
    -------
    str
        The name, unchanged.

    Raises
    ------
    archivist.errors.InvalidNameError
        The name is one of those names.
    """
    folded = name.casefold()
    if folded in names_beside(manifest_name) or folded.endswith(ALIAS_FILE_SUFFIX):
        reserved = sorted({manifest_name, *SIDE_FILES, alias_file_name(manifest_name)})
        raise InvalidNameError(
            f"artifact name {name!r} would make a folder named like a file archivist keeps "
            f"beside the manifest ({', '.join(reserved)}, any '*{ALIAS_FILE_SUFFIX}', "
            f"{private_folder_name(manifest_name)!r}); choose another name, for example "
            "without the '.json'"
        )
    return name


def check_stored_record(name: object, fname: object, what: str) -> tuple[str, str]:
    """Validate the artifact name and file name of an entry read from a stored file.

    The one check of where a stored entry's file lies, for every file that names one: a
    manifest record, a save journal's entry, an alias move, an index cache's row. Names
    read from storage can be forged; one that passes lies strictly inside its artifact's
    folder (no empty, ``.``, ``..`` or absolute part, no backslash, drive prefix or control
    character), on every backend.

    Parameters
    ----------
    name, fname : object
        The stored artifact name and file name.
    what : str
        What the entry is (``"manifest record #3"``), for the message.

    Returns
    -------
    tuple[str, str]
        ``(name, fname)``, unchanged.

    Raises
    ------
    archivist.errors.ManifestError
        Either would leave its folder, or is not a string.
    """
    try:
        return check_stored_name(name, "artifact name"), check_stored_file_name(fname, "file name")
    except InvalidNameError as exc:
        raise ManifestError(f"{what}: {exc}") from None


#: The folder, in a manifest's private folder, holding the block lists of large files.
BLOCK_LISTS_FOLDER = "blocks"


def block_list_parts(name: object, fname: object) -> tuple[str, str, str]:
    """Return where a version's block list lies in the manifest's private folder.

    A version's block list (see :mod:`archivist._formats.hashes`) is
    ``<private folder>/blocks/<name>/<fname>``: named after its version's file, so it
    belongs to that version (deleted when, and only when, the file is), and in archivist's
    own folder, so it never meets a file the user named. The names pass
    :func:`check_stored_record` first, as every stored entry's do.

    Parameters
    ----------
    name, fname : object
        The version's artifact name and file name.

    Returns
    -------
    tuple[str, str, str]
        ``("blocks", name, fname)``, the parts below the private folder.

    Raises
    ------
    archivist.errors.ManifestError
        Either name would leave its folder.
    """
    checked_name, checked_fname = check_stored_record(name, fname, "a block list")
    return BLOCK_LISTS_FOLDER, checked_name, checked_fname


def _check_component(value: object, what: str, *, stored: bool = False) -> str:
    if (
        isinstance(value, str)
        and (_STORED_COMPONENT if stored else _SAFE_COMPONENT).fullmatch(value)
        and value.strip()
        and value not in {".", ".."}
        and (stored or len(value) * 4 <= MAX_NAME_BYTES or _utf8_length(value) <= MAX_NAME_BYTES)
    ):
        return value  # the common case: one regex match and a length check
    if not isinstance(value, str) or not value.strip():
        raise InvalidNameError(f"{what} must be a non-empty string, got {value!r:.300}")
    if value in {".", ".."} or "/" in value or "\\" in value:
        raise InvalidNameError(
            f"{what} {value!r:.300} would leave the repository folder: it may not be '.' or "
            "'..' or contain '/' or '\\'"
        )
    if any(ch < " " or ch == "\x7f" for ch in value):
        raise InvalidNameError(f"{what} {value!r:.300} holds a control character")
    if len(value) >= 2 and value[1] == ":" and value[0].isalpha():
        raise InvalidNameError(
            f"{what} {value!r:.300} looks like a drive-qualified (absolute) path"
        )
    if not stored and value.startswith("."):
        raise InvalidNameError(
            f"{what} {value!r:.300} may not start with '.': names starting with a dot are "
            "reserved for archivist's own files"
        )
    length = _utf8_length(value)
    if length < 0:
        raise InvalidNameError(
            f"{what} {value!r:.300} cannot be encoded as UTF-8 (it holds a lone surrogate)"
        )
    raise InvalidNameError(
        f"{what} {value[:40]!r}... is {length} bytes long in UTF-8; a folder or file name may "
        f"be at most {MAX_NAME_BYTES} bytes on most file systems. Choose a shorter one."
    )


def _utf8_length(value: str) -> int:
    """Return the UTF-8 length of ``value``, or -1 when it cannot be encoded."""
    try:
        return len(value.encode("utf-8"))
    except UnicodeEncodeError:
        return -1
