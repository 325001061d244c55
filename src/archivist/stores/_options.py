"""Storage options: the keywords passed through to a store's filesystem, checked first.

:class:`~archivist.Repository` and the stores take storage options either as keywords
(``Repository(url, key=..., secret=...)``, lazyscribe's spelling) or as one mapping
(``storage_options={...}``, the pandas and Kedro spelling). Because those keywords sit
beside real parameters, a misspelled parameter (``mdoe="r"``) would silently become a
storage option; :func:`merge_storage_options` refuses a keyword that is close to a
parameter name, and the local backend refuses any option its filesystem does not know.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from typing import Any

from archivist.errors import InvalidArgumentError

__all__ = ["merge_storage_options"]


def merge_storage_options(
    owner: str,
    storage_options: Mapping[str, Any] | None,
    keywords: Mapping[str, Any],
    parameters: Collection[str] = (),
) -> dict[str, Any]:
    """Merge ``storage_options={...}`` with storage options given as keywords.

    Parameters
    ----------
    owner : str
        What received them, for messages (``"Repository()"``).
    storage_options : Mapping[str, Any] or None
        The ``storage_options`` mapping, if one was given.
    keywords : Mapping[str, Any]
        The other keywords the caller did not know as parameters. A ``storage_options``
        key among them (a mapping passed on by code that forwards ``**kwargs``) is merged
        the same way.
    parameters : Collection[str], optional
        The caller's own parameter names: a keyword close to one of them is a typo.

    Returns
    -------
    dict[str, Any]
        The storage options.

    Raises
    ------
    archivist.errors.InvalidArgumentError
        ``storage_options`` is not a mapping, an option is given twice, or a keyword looks
        like a misspelled parameter.
    """
    options = dict(keywords)
    nested = options.pop("storage_options", None)
    merged: dict[str, Any] = {}
    for given in (storage_options, nested):
        if given is None:
            continue
        if not isinstance(given, Mapping):
            raise InvalidArgumentError(
                f"{owner} takes storage_options as a mapping of option names to values, got "
                f"{type(given).__name__}"
            )
        _merge_into(owner, merged, given)
    for key in options:
        close = difflib.get_close_matches(key, list(parameters), n=1, cutoff=0.75)
        if close and close[0] != key:
            raise InvalidArgumentError(
                f"{owner} got an unexpected keyword argument {key!r}; did you mean "
                f"{close[0]!r}? (Other keywords are passed to the storage as options.)"
            )
    _merge_into(owner, merged, options)
    return merged


def _merge_into(owner: str, merged: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if not isinstance(key, str):
            raise InvalidArgumentError(f"{owner}: storage option names are strings, got {key!r}")
        if key in merged:
            raise InvalidArgumentError(
                f"{owner} got the storage option {key!r} twice: once as a keyword and once in "
                "storage_options; give it once"
            )
        merged[key] = value
