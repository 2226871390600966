"""MkDocs hook: one API reference page per public module, generated at build time.

A module is public when it has an ``__all__`` and no part of its dotted name starts
with ``_``. The fake org's internal modules (tables, SOQL, wire renderers) are left
out: their public face is :mod:`sfbulk_sdk.testing`, which is documented whole.

Every exported name is documented once, at its *home*: the module that defines it
when that module is documented, else the most specific documented module exporting
it (``Bulk`` is defined in a private module and lives at ``sfbulk_sdk.client``).
Other modules exporting the name link to its home. Pages are never stale: they are
computed from the installed package on every build, and the nav entry
``reference/index.md`` becomes the whole "API reference" section.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

PACKAGE = "sfbulk_sdk"
_ROLE = re.compile(r":(?:py:)?[a-z]+:`~?(?:[^`<]*<)?(?:[\w.]*\.)?([^`<>.]+)>?`")
INDEX = "reference/index.md"

#: The fake org's internals, documented through ``sfbulk_sdk.testing``: the modules the
#: public-annotations test leaves out, except ``server`` (``serve_in_thread`` is used
#: directly). tests/docs checks that the two lists agree.
_INTERNAL_NAMES = (
    "accounts api asgi engine faults formats http ids jobs query router schema settings"
    " soql state store transport values"
)
FAKE_ORG_INTERNALS = frozenset(f"sfbulk_sdk.testing.{name}" for name in _INTERNAL_NAMES.split())


#: Modules documented whole on a page of their own (their reference page points there).
DOCUMENTED_ON = {"sfbulk_sdk.errors": "errors.md"}


@dataclass
class ModulePage:
    """The reference page of one public module."""

    name: str
    exports: list[str]
    homed: list[str] = field(default_factory=list)
    elsewhere: dict[str, str] = field(default_factory=dict)  # name -> home module
    foreign: dict[str, str] = field(default_factory=dict)  # name -> another library's module

    @property
    def src_uri(self) -> str:
        return f"reference/{self.name}.md"

    @property
    def group(self) -> str:
        parts = self.name.split(".")
        return parts[1] if len(parts) > 2 else PACKAGE

    def markdown(self) -> str:
        if self.name in DOCUMENTED_ON:
            return (
                f"# `{self.name}`\n\nEvery name of `{self.name}` is documented, with when it"
                f" is raised, on the [Errors](../{DOCUMENTED_ON[self.name]}) page.\n"
            )
        members = "[" + ", ".join(f'"{n}"' for n in self.homed) + "]" if self.homed else "false"
        lines = [
            f"# `{self.name}`",
            "",
            f"::: {self.name}",
            "    options:",
            "      show_root_heading: false",
            "      show_root_toc_entry: false",
            f"      members: {members}",
            "",
        ]
        if self.elsewhere:
            lines += ["## Also exported here", "", "| name | documented in |", "|---|---|"]
            for name, home in sorted(self.elsewhere.items()):
                lines.append(f"| [`{name}`][{home}.{name}] | [`{home}`]({home}.md) |")
            lines.append("")
        if self.foreign:
            lines += ["## Re-exported from other libraries", "", "| name | from |", "|---|---|"]
            for name, origin in sorted(self.foreign.items()):
                lines.append(f"| `{name}` | `{origin}` |")
            lines.append("")
        return "\n".join(lines)


def _is_internal(name: str) -> bool:
    return any(part.startswith("_") for part in name.split(".")) or (
        name in FAKE_ORG_INTERNALS or any(name.startswith(f"{m}.") for m in FAKE_ORG_INTERNALS)
    )


def public_modules() -> list[str]:
    """Every documented module, sorted."""
    package = importlib.import_module(PACKAGE)
    names = [PACKAGE]
    for info in pkgutil.walk_packages(package.__path__, f"{PACKAGE}."):
        if _is_internal(info.name):
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional extra that is not installed
            continue
        if hasattr(module, "__all__"):
            names.append(info.name)
    return sorted(names)


def _defined_in(module_name: str, name: str) -> str | None:
    obj = getattr(importlib.import_module(module_name), name)
    defined = getattr(obj, "__module__", None)
    return defined if isinstance(defined, str) else None


def build_pages(modules: Iterable[str] | None = None) -> list[ModulePage]:
    """The pages of ``modules`` (default: every public module), with homes decided."""
    pages = [
        ModulePage(name, list(importlib.import_module(name).__all__))
        for name in (public_modules() if modules is None else modules)
    ]
    exporters: dict[str, list[str]] = {}
    for page in pages:
        for name in page.exports:
            exporters.setdefault(name, []).append(page.name)
    homes: dict[tuple[str, str], str] = {}
    for page in pages:
        for name in page.exports:
            candidates = exporters[name]
            # the same name may be two objects (``Clock`` of the stores and of the org)
            same = [
                m
                for m in candidates
                if getattr(importlib.import_module(m), name)
                is getattr(importlib.import_module(page.name), name)
            ]
            defined = _defined_in(page.name, name)
            most_specific = sorted(same, key=lambda m: (-m.count("."), m))[0]
            homes[page.name, name] = defined if defined in same else most_specific
    for page in pages:
        for name in page.exports:
            defined = _defined_in(page.name, name)
            if defined is not None and defined.split(".")[0] != PACKAGE:
                page.foreign[name] = defined
                continue
            home = homes[page.name, name]
            if home == page.name:
                page.homed.append(name)
            else:
                page.elsewhere[name] = home
    return pages


def index_markdown(pages: list[ModulePage]) -> str:
    lines = [
        "# API reference",
        "",
        "Generated from the docstrings and type annotations of every public module (a",
        "module with an `__all__` and no private part in its name). Each name is",
        "documented once, where it is defined; the modules that re-export it link there.",
        "The fake org's internals are documented through `sfbulk_sdk.testing`.",
        "",
        "| module | what it is |",
        "|---|---|",
    ]
    for page in pages:
        doc = importlib.import_module(page.name).__doc__ or ""
        summary = doc.strip().splitlines()[0] if doc.strip() else ""
        summary = _ROLE.sub(r"`\1`", summary).replace("|", "\\|")
        lines.append(f"| [`{page.name}`]({page.name}.md) | {summary} |")
    return "\n".join(lines) + "\n"


def nav_section(pages: list[ModulePage]) -> list[object]:
    groups: dict[str, list[object]] = {}
    for page in pages:
        groups.setdefault(page.group, []).append({page.name: page.src_uri})
    section: list[object] = [{"Overview": INDEX}]
    for group in sorted(groups, key=lambda g: (g != PACKAGE, g)):
        title = PACKAGE if group == PACKAGE else f"{PACKAGE}.{group}"
        section.append({title: groups[group]})
    return section


# ------------------------------------------------------------------------- MkDocs hooks

_PAGES: list[ModulePage] = []


def _replace_index(items: list[object], section: list[object]) -> bool:
    for position, item in enumerate(items):
        if isinstance(item, dict):
            ((title, value),) = item.items()
            if value == INDEX:
                items[position] = {title: section}
                return True
            if isinstance(value, list) and _replace_index(value, section):
                return True
    return False


def on_config(config):  # type: ignore[no-untyped-def]  # MkDocs hook signature
    _PAGES[:] = build_pages()
    nav = config.get("nav")
    if nav is not None and not _replace_index(nav, nav_section(_PAGES)):
        raise ValueError(f"mkdocs.yml nav must hold {INDEX} for the API reference")
    return config


def on_files(files, config):  # type: ignore[no-untyped-def]  # MkDocs hook signature
    from mkdocs.structure.files import File

    files.append(File.generated(config, INDEX, content=index_markdown(_PAGES)))
    for page in _PAGES:
        files.append(File.generated(config, page.src_uri, content=page.markdown()))
    return files
