"""Arguments every ``archivist`` command shares: REPO, storage options, NAME@VERSION, --json."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

import click
from fsspec.core import split_protocol

from archivist._formats.strict_json import MAX_DEPTH, load_json
from archivist._formats.versions import check_duration, parse_number
from archivist._lifecycle.aliases import check_alias
from archivist.errors import InvalidArgumentError, ManifestError, RepositoryNotFoundError
from archivist.repository import Mode, Repository

__all__ = [
    "DEFAULT_REPOSITORY",
    "Count",
    "VersionSpec",
    "json_option",
    "open_repository",
    "parse_duration",
    "parse_version_ref",
    "parse_version_spec",
    "repository_argument",
    "resolve_repository",
    "storage_options",
    "storage_options_option",
]

#: REPO when none is given.
DEFAULT_REPOSITORY = "repository.json"
MANIFEST_NAME = "repository.json"

F = TypeVar("F", bound=Callable[..., Any])


def repository_argument(function: F) -> F:
    """Add the optional ``REPO`` argument (default ``./repository.json``)."""
    return click.argument("repo", default=DEFAULT_REPOSITORY, metavar="[REPO]")(function)


def json_option(function: F) -> F:
    """Add ``--json``: print one JSON document and nothing else on standard output."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print one JSON document on standard output, and nothing else.",
    )(function)


def storage_options_option(function: F) -> F:
    """Add ``--storage-options JSON`` and the repeatable ``--storage-option KEY=VALUE``."""
    function = click.option(
        "--storage-option",
        "storage_option_pairs",
        multiple=True,
        metavar="KEY=VALUE",
        help="One fsspec storage option; repeatable. VALUE is read as JSON when it parses "
        "(true, 3, null), else as text.",
    )(function)
    return click.option(
        "--storage-options",
        "storage_options_json",
        metavar="JSON",
        help="fsspec storage options as a JSON object, e.g. '{\"anon\": true}'.",
    )(function)


def storage_options(options_json: str | None, pairs: tuple[str, ...]) -> dict[str, Any]:
    """Merge ``--storage-options`` and ``--storage-option`` values into one dict.

    Parameters
    ----------
    options_json : str or None
        A JSON object.
    pairs : tuple[str, ...]
        ``KEY=VALUE`` strings; they override keys of the JSON object.

    Returns
    -------
    dict[str, Any]
        The options.

    Raises
    ------
    click.BadParameter
        The JSON is not an object (or not valid JSON, nested more than
        :data:`archivist._formats.strict_json.MAX_DEPTH` levels, or holding a key twice), or a
        pair has no ``=``.
    """
    options: dict[str, Any] = {}
    if options_json:
        try:
            parsed = load_json(options_json, "the JSON", max_depth=MAX_DEPTH)
        except ManifestError as exc:
            raise click.BadParameter(
                f"{exc}; write an object such as '{{\"anon\": true}}'",
                param_hint="--storage-options",
            ) from None
        if not isinstance(parsed, dict):
            raise click.BadParameter(
                f"must be a JSON object, got {type(parsed).__name__}",
                param_hint="--storage-options",
            )
        options.update(parsed)
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(
                f"{pair!r} is not KEY=VALUE, e.g. --storage-option anon=true",
                param_hint="--storage-option",
            )
        try:
            options[key.strip()] = load_json(text, "the value", max_depth=MAX_DEPTH)
        except ManifestError:
            options[key.strip()] = text
    return options


def resolve_repository(repo: str, **options: Any) -> str:
    """Turn REPO (a manifest path, a folder holding one, or a URL) into a manifest location.

    Parameters
    ----------
    repo : str
        What the user gave.
    **options
        Storage options, to look inside a remote folder.

    Returns
    -------
    str
        The manifest's path or URL.
    """
    protocol, _ = split_protocol(repo)
    if protocol in (None, "file", "local"):
        local = Path(repo[len("file://") :] if repo.startswith("file://") else repo)
        return os.fspath(local / MANIFEST_NAME) if local.is_dir() else repo
    if repo.endswith("/"):
        return repo + MANIFEST_NAME
    if repo.endswith(".json"):
        return repo
    from archivist.stores import open_backend

    backend, path = open_backend(repo, **options)
    if backend.exists(backend.join(path, MANIFEST_NAME)):
        return repo + "/" + MANIFEST_NAME
    return repo


def open_repository(
    repo: str, mode: Mode, options_json: str | None, pairs: tuple[str, ...]
) -> Repository:
    """Open REPO, which must exist, in ``mode``.

    A repository that is not there is an error for every command, writers included, so a
    mistyped path never creates or deletes anything.

    Raises
    ------
    archivist.errors.RepositoryNotFoundError
        There is no manifest at REPO; the message names what was looked for.
    """
    options = storage_options(options_json, pairs)
    location = resolve_repository(repo, **options)
    try:
        repository = Repository(location, mode="r", **options)
    except RepositoryNotFoundError:
        raise RepositoryNotFoundError(
            f"no repository at {location}: there is no repository.json there. Give the path "
            "or URL of a repository.json, or the folder holding one (REPO defaults to "
            "./repository.json)"
        ) from None
    if mode == "r":
        return repository
    return Repository(location, mode=mode, **options)


@dataclass(frozen=True)
class VersionSpec:
    """``NAME@VERSION`` parsed: the name and which version of it.

    Attributes
    ----------
    name : str
        The artifact name.
    version : int, str or None
        A number, an ISO time, or ``None`` (the latest, or what ``alias`` names).
    match : {"exact", "asof"}
        How to match a time.
    alias : str or None
        An alias (``production``): the version it names.
    as_of : str or None
        With ``alias``: the version it named at this ISO time.
    """

    name: str
    version: int | str | None
    match: Literal["exact", "asof"]
    alias: str | None = None
    as_of: str | None = None

    def __str__(self) -> str:
        if self.alias is not None:
            suffix = "" if self.as_of is None else f"~{self.as_of}"
            return f"{self.name}@{self.alias}{suffix}"
        if self.version is None:
            return self.name
        return f"{self.name}@{'~' if self.match == 'asof' else ''}{self.version}"

    def metadata(self, repository: Repository) -> dict[str, Any]:
        """Return the record of the version this names in ``repository``.

        Raises
        ------
        archivist.errors.ArchivistError
            As :meth:`archivist.Repository.get_artifact_metadata` does: no such artifact,
            version or alias (or none at that time).
        """
        return repository.get_artifact_metadata(
            self.name, self.version, self.match, alias=self.alias, as_of=self.as_of
        )


#: ``NAME@latest``: the latest version (``latest`` is a reserved alias name).
LATEST = "latest"


def parse_version_text(text: str) -> tuple[int | str, Literal["exact", "asof"]]:
    """Parse a number, an ISO time, or ``~``TIME for as-of (release show's TAG|TIME|~TIME).

    Raises
    ------
    archivist.errors.InvalidVersionError
        A number with more digits than any version has.
    """
    if text.startswith("~"):
        return text[1:], "asof"
    number = parse_number(text)
    return (text, "exact") if number is None else (number, "exact")


def parse_version_ref(name: str, text: str) -> VersionSpec:
    """Parse what follows ``NAME@``: a number, a time, ``~TIME``, ``ALIAS`` or ``ALIAS~TIME``.

    A text that starts with a letter is an alias (times and numbers never do), checked by
    the library's own rule (:func:`archivist._lifecycle.aliases.check_alias`); ``latest`` means the
    latest version. ``ALIAS~TIME`` is the version the alias named at that time.

    Parameters
    ----------
    name : str
        The artifact name.
    text : str
        The version part; empty means the latest.

    Returns
    -------
    VersionSpec
        The name and version.

    Raises
    ------
    archivist.errors.InvalidNameError
        The text starts with a letter but is not a valid alias name.
    click.BadParameter
        ``ALIAS~`` without a time.
    """
    if not text or text == LATEST:
        return VersionSpec(name, None, "exact")
    if not text[0].isalpha():
        version, match = parse_version_text(text)
        return VersionSpec(name, version, match)
    alias, tilde, when = text.partition("~")
    check_alias(alias)
    if tilde and not when:
        raise click.BadParameter(
            f"{name}@{text} has no time after '~'; write {name}@{alias}~2026-03-01 for what "
            f"{alias!r} named then, or {name}@{alias} for what it names now"
        )
    return VersionSpec(name, None, "exact", alias=alias, as_of=when or None)


def parse_version_spec(spec: str, names: Callable[[], list[str]] | None = None) -> VersionSpec:
    """Parse ``NAME`` or ``NAME@VERSION``: see :func:`parse_version_ref` for ``VERSION``.

    For example ``features@3``, ``features@-1``, ``features@2026-01-31T12:00``,
    ``features@~2026-01-31``, ``model@production`` or ``model@production~2026-03-01``.

    Parameters
    ----------
    spec : str
        What the user gave.
    names : callable, optional
        Returns the repository's artifact names: a name that itself holds ``@`` is taken
        whole when it is one of them.

    Returns
    -------
    VersionSpec
        The name and version.

    Raises
    ------
    click.BadParameter
        The name is empty.
    archivist.errors.InvalidNameError
        The version part reads as an alias but is not a valid one.
    """
    if names is not None and "@" in spec and spec in names():
        return VersionSpec(spec, None, "exact")
    name, sep, text = spec.rpartition("@")
    if not sep:
        return VersionSpec(spec, None, "exact")
    if not name:
        raise click.BadParameter(f"{spec!r} has no artifact name before '@'; write NAME@VERSION")
    return parse_version_ref(name, text)


_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([wdhms])", re.IGNORECASE | re.ASCII)
_UNITS = {"w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(text: str) -> timedelta:
    """Parse seconds (``3600``, ``0.5``) or a duration (``1h``, ``30m``, ``1h30m``, ``2d``).

    Parameters
    ----------
    text : str
        The duration.

    Returns
    -------
    datetime.timedelta
        The duration.

    Raises
    ------
    click.BadParameter
        Negative, not finite, reaching back before the year 1, not understood, or written
        with other than ASCII digits.
    """
    cleaned = text.strip()
    seconds: float
    try:
        if not cleaned.isascii():
            raise ValueError(cleaned)  # float() would read fullwidth or Arabic-Indic digits
        seconds = float(cleaned)
    except ValueError:
        parts = _DURATION.findall(cleaned)
        if not parts or _DURATION.sub("", cleaned).strip():
            raise click.BadParameter(
                f"{text!r} is not a duration; give seconds (3600) or e.g. 1h, 30m, 1h30m, 2d"
            ) from None
        seconds = sum(float(value) * _UNITS[unit.lower()] for value, unit in parts)
    if not math.isfinite(seconds) or seconds < 0:
        raise click.BadParameter(f"{text!r} must be a finite, non-negative duration")
    try:
        return check_duration(timedelta(seconds=seconds), repr(text))
    except OverflowError:
        raise click.BadParameter(f"{text!r} is too long a duration") from None
    except InvalidArgumentError as exc:
        raise click.BadParameter(str(exc)) from None


class Count(click.IntRange):
    """A count of zero or more, in ASCII digits (``int()`` alone reads other scripts' digits)."""

    name = "count"

    def __init__(self) -> None:
        super().__init__(min=0)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Refuse a text in other than ASCII digits, then convert as :class:`click.IntRange`."""
        if isinstance(value, str) and not value.strip().isascii():
            self.fail(f"{value!r} is not a number in ASCII digits (0-9)", param, ctx)
        return super().convert(value, param, ctx)


def record_summary(record: dict[str, Any]) -> dict[str, Any]:
    """Return the fields ``log`` shows of a version record."""
    return {
        "name": record["name"],
        "version": record["version"],
        "created_at": record["created_at"],
        "expiry": record.get("expiry"),
        "handler": record["handler"],
        "size": record.get("size"),
        "sha256": record.get("sha256"),
        "fname": record["fname"],
    }
