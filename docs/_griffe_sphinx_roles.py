"""A Griffe extension that renders the Sphinx roles of the docstrings as cross-references.

The docstrings follow numpydoc, whose cross-references are Sphinx roles
(``:class:`~archivist.Repository```, ``:meth:`adopt```). mkdocstrings renders docstrings as
Markdown, where a role would show as raw text; this extension, loaded by mkdocs.yml, turns
each role into what the API reference shows: the name in code font (shortened by ``~``,
``()`` after a function), linked to its entry when the reference documents it. A name is
looked up as Sphinx would: in the docstring's own scope, then the enclosing ones, then from
the top (``archivist.<name>``), and written as the path the reference renders it under
(``archivist.Repository.adopt``, not the mixin that defines ``adopt``). A name the
reference does not document (``json.dump``, a private helper) is shown unlinked.
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

ROLE = re.compile(
    r":(?:py:)?(?P<role>class|meth|func|attr|data|mod|exc|obj|const):`(?P<body>[^`]+)`"
)
EXPLICIT_TITLE = re.compile(r"^(?P<title>.+?)\s*<(?P<target>[^<>]+)>$")
#: The packages whose public names the API reference renders at their top level.
PUBLIC_PACKAGES = ("archivist", "archivist.errors", "archivist.release", "archivist.testing")


def convert(text: str, resolve: Any) -> str:
    """Replace every Sphinx role in ``text``; ``resolve(target)`` gives an identifier or None."""

    def replace(match: re.Match[str]) -> str:
        body = match["body"].lstrip("!")
        explicit = EXPLICIT_TITLE.match(body)
        if explicit:
            title, target = explicit["title"], explicit["target"].lstrip("~")
        else:
            target = body.lstrip("~")
            title = target.rsplit(".", 1)[-1] if body.startswith("~") else target
            if match["role"] in {"meth", "func"}:
                title += "()"
        identifier = resolve(target)
        code = f"<code>{html.escape(title)}</code>"
        if identifier is None:
            return code
        return f'<autoref identifier="{html.escape(identifier)}" optional>{code}</autoref>'

    return ROLE.sub(replace, text)


class SphinxRoles(griffe.Extension):
    """Rewrite the roles of every docstring once the object tree is complete."""

    def __init__(self) -> None:
        self._public: dict[str, str] | None = None

    def on_object(self, *, obj: griffe.Object, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        """Convert the roles of ``obj``'s docstring (aliases share their target's)."""
        if obj.is_alias or obj.docstring is None or ":" not in obj.docstring.value:
            return
        obj.docstring.value = convert(obj.docstring.value, lambda t: self._resolve(obj, t))

    def _public_paths(self, collection: Any) -> dict[str, str]:
        """Map the defining path of each re-exported public name to the path rendered."""
        if self._public is None:
            self._public = {}
            for package in PUBLIC_PACKAGES:
                try:
                    module = collection[package]
                except (KeyError, griffe.AliasResolutionError):
                    continue
                for name, member in module.all_members.items():
                    if name.startswith("_"):
                        continue
                    try:
                        canonical = member.final_target.path if member.is_alias else member.path
                    except (griffe.AliasResolutionError, griffe.CyclicAliasError):
                        continue
                    self._public.setdefault(canonical, f"{package}.{name}")
        return self._public

    def _resolve(self, obj: griffe.Object, target: str) -> str | None:
        collection = obj.modules_collection
        scopes: list[str] = []
        scope: griffe.Object | None = obj
        while scope is not None:
            scopes.append(scope.path)
            scope = scope.parent
        candidates = [f"{path}.{target}" for path in scopes]
        candidates += [target, f"archivist.{target}"]
        for candidate in candidates:
            try:
                collection[candidate]
            except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
                continue
            return self._rendered_path(collection, candidate)
        return None

    def _rendered_path(self, collection: Any, path: str) -> str:
        """Rewrite ``path`` under the public name its longest documented prefix has."""
        public = self._public_paths(collection)
        parts = path.split(".")
        for end in range(len(parts), 0, -1):
            prefix = ".".join(parts[:end])
            if prefix in public:
                return ".".join([public[prefix], *parts[end:]])
        return path
