"""Griffe extension: Sphinx roles in docstrings become code, linked where possible.

The package's docstrings use reStructuredText roles (``:class:`~sfbulk_sdk.Bulk```,
``:meth:`login```, ``:func:`Title <target>```) and literal-block markers (``text::``).
Markdown shows those raw. Once the whole package is loaded, every docstring is
rewritten: a role becomes an inline code span wrapped in an *optional* autorefs
cross-reference to the object's canonical path (a link when that object is documented,
plain code otherwise: an ``ImportError`` or an ``httpx`` name never breaks the build),
and ``text::`` becomes ``text:``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import griffe

#: ``:role:`target```, ``:py:role:`~target```, ``:role:`Title <target>```, ``:role:`!x```.
ROLE = re.compile(
    r":(?:py:)?(?P<role>meth|class|func|attr|mod|exc|data|obj|const|type|ref)"
    r":`(?P<body>[^`]+)`"
)
_TITLED = re.compile(r"^(?P<title>.+?)\s*<(?P<target>[^<>]+)>$")
_LITERAL_MARKER = re.compile(r"(?m)(?<=\S)::$")
_BARE_MARKER = re.compile(r"(?m)^\s*::\s*$\n?")


def _lookup(collection: griffe.ModulesCollection, path: str) -> griffe.Object | griffe.Alias | None:
    try:
        found = collection[path]
    except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None
    return found if isinstance(found, (griffe.Object, griffe.Alias)) else None


def _canonical(found: griffe.Object | griffe.Alias) -> str | None:
    try:
        return found.final_target.path if isinstance(found, griffe.Alias) else found.path
    except (griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None


def resolve(obj: griffe.Object, target: str, collection: griffe.ModulesCollection) -> str | None:
    """The canonical path ``target`` names, seen from the docstring of ``obj``."""
    target = target.strip().lstrip(".")
    scopes: list[griffe.Object] = []
    scope: griffe.Object | None = obj
    while scope is not None:  # the object, its class, its module, its package...
        scopes.append(scope)
        scope = scope.parent
    head, _, rest = target.partition(".")
    for scope in scopes:
        member = scope.members.get(head) if hasattr(scope, "members") else None
        if member is not None:
            found = _lookup(collection, f"{member.path}.{rest}" if rest else member.path)
            if found is not None:
                return _canonical(found)
    found = _lookup(collection, target)
    return _canonical(found) if found is not None else None


def rewrite(text: str, obj: griffe.Object, collection: griffe.ModulesCollection) -> str:
    """``text`` with every role and literal-block marker turned into Markdown."""

    def replace(match: re.Match[str]) -> str:
        body = match.group("body").strip()
        titled = _TITLED.match(body)
        if titled:
            title, target = titled.group("title"), titled.group("target")
        else:
            target = body.lstrip("~!")
            title = target.rsplit(".", 1)[-1] if body.startswith("~") else target
        if not titled and match.group("role") in {"meth", "func"} and not title.endswith(")"):
            title += "()"
        code = f"<code>{html.escape(title)}</code>"
        path = None if body.startswith("!") else resolve(obj, target, collection)
        if path is None:
            return code
        return f'<autoref identifier="{html.escape(path)}" optional hover>{code}</autoref>'

    text = ROLE.sub(replace, text)
    text = _BARE_MARKER.sub("\n", text)
    return _LITERAL_MARKER.sub(":", text)


def _walk(obj: griffe.Object) -> Iterator[griffe.Object]:
    yield obj
    for member in obj.members.values():
        if not isinstance(member, griffe.Alias):
            yield from _walk(member)


class SphinxRoles(griffe.Extension):
    """Rewrite the docstrings of a loaded package (see the module docstring)."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        for obj in _walk(pkg):
            if obj.docstring is not None:
                obj.docstring.value = rewrite(obj.docstring.value, obj, loader.modules_collection)
