"""Finding REPO as git finds its repository, and naming a JSON file that is not a manifest.

Every command's REPO may be left out: :class:`RepoCommand` then finds ``repository.json`` in
the current folder or the nearest folder above it (:func:`find_repository`), and says which
manifest it used when the folder holds other manifests too. When REPO names a JSON file that
is not a manifest (a project, a releases or alias file, a version's own file),
:func:`describe_document` says what it is and which command reads it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from archivist._formats.strict_json import MAX_DEPTH, load_json
from archivist._io.local import read_regular
from archivist.errors import ArchivistError, RepositoryNotFoundError

__all__ = [
    "FIND_REPOSITORY",
    "MANIFEST_NAME",
    "PROJECT_NAME",
    "RepoCommand",
    "describe_document",
    "document_kind",
    "find_repository",
    "find_upward",
    "manifests_in",
    "note_other_manifests",
]

MANIFEST_NAME = "repository.json"
PROJECT_NAME = "project.json"
#: REPO when it was left out: a NUL, which no command line can hold.
FIND_REPOSITORY = "\x00"
#: The largest JSON file looked into to tell what it holds.
_SNIFF_LIMIT = 16 << 20
#: At most this many JSON files of one folder are looked into.
_SNIFF_FILES = 64

_MANIFEST_FIELDS = frozenset({"name", "version", "fname", "handler"})


def document_kind(value: Any) -> str:
    """Tell which of archivist's JSON files a parsed document is.

    Parameters
    ----------
    value : Any
        The parsed JSON.

    Returns
    -------
    str
        ``manifest``, ``project``, ``releases``, ``aliases``, or ``other``.
    """
    if isinstance(value, dict):
        return "aliases" if "moves" in value and "format" in value else "other"
    if not isinstance(value, list) or not value or not isinstance(value[0], dict):
        return "other"
    first = value[0]
    if first.keys() >= _MANIFEST_FIELDS:
        return "manifest"
    if "slug" in first and "metrics" in first:
        return "project"
    if "tag" in first and "artifacts" in first:
        return "releases"
    return "other"


def _parse(path: Path) -> Any:
    """Return the JSON ``path`` holds, or ``None`` when it is unreadable, too large or not JSON."""
    try:
        return load_json(read_regular(path, _SNIFF_LIMIT), str(path), max_depth=MAX_DEPTH)
    except (OSError, ArchivistError):
        return None


def manifests_in(folder: Path) -> list[str]:
    """Return the JSON files of ``folder`` but ``repository.json`` that are manifests too."""
    try:
        names = sorted(
            entry.name
            for entry in os.scandir(folder)
            if entry.name.endswith(".json") and entry.name != MANIFEST_NAME
        )
    except OSError:
        return []
    return [
        name for name in names[:_SNIFF_FILES] if document_kind(_parse(folder / name)) == "manifest"
    ]


def find_repository(start: Path | None = None) -> str:
    """Find ``repository.json`` in ``start`` or the nearest folder above it, as git does.

    ``start`` defaults to the current folder. When the folder found also holds other
    manifests, a note on standard error says which one was used and how to choose another.

    Parameters
    ----------
    start : pathlib.Path, optional
        Where to start looking.

    Returns
    -------
    str
        The manifest's path.

    Raises
    ------
    archivist.errors.RepositoryNotFoundError
        No folder up to the root holds one, or the nearest folder with a manifest holds
        only manifests of other names (the message lists them).
    """
    here = (start or Path.cwd()).absolute()
    for folder in (here, *here.parents):
        candidate = folder / MANIFEST_NAME
        others = manifests_in(folder)
        if candidate.is_file():
            note_other_manifests(candidate, others)
            return os.fspath(candidate)
        if others:
            raise RepositoryNotFoundError(
                f"{_shown(folder)} holds no {MANIFEST_NAME} but the manifest(s) "
                f"{', '.join(others)}: give one as REPO, e.g. "
                f"archivist ls {_shown(folder / others[0])}"
            )
    raise RepositoryNotFoundError(
        f"no {MANIFEST_NAME} in {here} or any folder above it: give REPO, a repository.json, "
        "the folder holding one, or a URL (e.g. archivist ls path/to/repo)"
    )


def note_other_manifests(used: Path, others: list[str] | None = None) -> None:
    """Say on standard error which manifest was used when its folder holds others too.

    Parameters
    ----------
    used : pathlib.Path
        The ``repository.json`` used.
    others : list[str], optional
        The folder's other manifests, when already known.
    """
    others = manifests_in(used.parent) if others is None else others
    if others:
        click.echo(
            f"archivist: note: using {_shown(used)}; this folder also holds the "
            f"manifest(s) {', '.join(others)}: give one as REPO to use it",
            err=True,
        )


def find_upward(file_name: str, what: str) -> str:
    """Find ``file_name`` in the current folder or the nearest folder above it.

    Parameters
    ----------
    file_name : str
        Such as ``project.json``.
    what : str
        What it is, for the message: ``project``.

    Returns
    -------
    str
        Its path.

    Raises
    ------
    archivist.errors.RepositoryNotFoundError
        No folder up to the root holds one.
    """
    here = Path.cwd().absolute()
    for folder in (here, *here.parents):
        if (folder / file_name).is_file():
            return os.fspath(folder / file_name)
    raise RepositoryNotFoundError(
        f"no {file_name} in {here} or any folder above it: give the {what} (a {file_name}, "
        "the folder holding one, or a URL)"
    )


def _shown(path: Path) -> str:
    """``path`` relative to the current folder when it lies below it."""
    try:
        return os.fspath(path.relative_to(Path.cwd())) or "."
    except ValueError:
        return os.fspath(path)


def describe_document(path: Path, expected: str = "manifest") -> str | None:
    """Say what a JSON file that is not a manifest holds, and which command reads it.

    Parameters
    ----------
    path : pathlib.Path
        A local file given as REPO.
    expected : {"manifest", "project"}, optional
        What the command reads.

    Returns
    -------
    str or None
        The sentence, or ``None`` when the file cannot be read as JSON (the manifest
        parser's own message says more then).
    """
    value = _parse(path)
    if value is None:
        return None
    kind = document_kind(value)
    shown = _shown(path)
    if kind == expected:
        return None
    if kind == "manifest":
        return (
            f"{shown} is a repository manifest, not a project file: read it with "
            f"archivist ls {shown}"
        )
    if kind == "project":
        return (
            f"{shown} is a project file (experiments), not a repository manifest: read it with "
            f"archivist project ls {shown}"
        )
    if kind == "releases":
        return (
            f"{shown} holds the releases of the repository beside it, not a manifest: read it "
            f"with archivist release list {_shown(path.parent)}"
        )
    if kind == "aliases":
        return (
            f"{shown} holds the alias moves of the repository beside it, not a manifest: read "
            f"them with archivist alias list {_shown(path.parent)} NAME"
        )
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return None  # records, damaged: the parser says what is wrong with them
    what = "a JSON array" if isinstance(value, list) else "a JSON value"
    if expected == "project":
        return f"{shown} is not a project file (an array of experiments): it holds {what}"
    return (
        f"{shown} is not a repository manifest (an array of version records): it holds "
        f"{what}, such as a version's own file, which archivist get writes and archivist cat "
        f"prints. Give the repository.json, or the folder holding one"
    )


def _takes_value(option: click.Option) -> bool:
    return not (option.is_flag or option.count)


def _positionals(command: click.Command, args: list[str], ignore_unknown: bool) -> list[str]:
    """Return the words of ``args`` that are arguments, not options or their values."""
    values = {
        name
        for param in command.params
        if isinstance(param, click.Option) and _takes_value(param)
        for name in param.opts
    }
    known = {
        name for param in command.params if isinstance(param, click.Option) for name in param.opts
    }
    words: list[str] = []
    skip = False
    for index, word in enumerate(args):
        if skip:
            skip = False
            continue
        if word == "--":
            return words + args[index + 1 :]
        if word.startswith("-") and len(word) > 1:
            name = word.partition("=")[0]
            if name in values and "=" not in word:
                skip = True
                continue
            if name in known or not ignore_unknown:
                continue
        words.append(word)
    return words


#: The first arguments that may be left out, and the file each names.
_FOUND = {"repo": MANIFEST_NAME, "project_": PROJECT_NAME}


def _names_location(word: str, file_name: str) -> bool:
    """Tell whether ``word`` reads as a repository (or project), not a name or a version."""
    if "://" in word or word.endswith((".json", "/")):
        return True
    return (Path(word) / file_name).is_file()


class RepoCommand(click.Command):
    """A command whose first argument, REPO (or PROJECT), may be left out.

    When the words left after the options are one fewer than the command needs with REPO,
    REPO was left out and is found (:func:`find_repository`). A command with optional
    arguments after REPO takes its first word as REPO when that reads as one: a URL, a
    ``.json`` path, or a folder holding ``repository.json``.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Insert the marker of a left-out REPO, then parse as click does."""
        arguments = [p for p in self.params if isinstance(p, click.Argument)]
        first = arguments[0].name if arguments else None
        if first in _FOUND and not _asks_for_help(args):
            after = arguments[1:]
            needed = sum(1 for p in after if p.required)
            optional = sum(1 for p in after if not p.required)
            words = _positionals(self, args, ctx.ignore_unknown_options)
            if len(words) <= needed or (
                len(words) <= needed + optional and not _names_location(words[0], _FOUND[first])
            ):
                args = [FIND_REPOSITORY, *args]
        return super().parse_args(ctx, args)


def _asks_for_help(args: list[str]) -> bool:
    return any(word in ("-h", "--help") for word in args)
