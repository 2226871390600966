"""The package's import graph: no cycle, and every edge respects the layering.

The graph is built from the source with :mod:`ast`, not by importing: every
``import`` and ``from ... import`` statement counts, module-level or inside a
function (a lazy import is a cycle waiting for the first call), except those
under ``if TYPE_CHECKING:``, which never run.

Rules of the graph:

* relative imports are resolved against the importing module's package;
* ``from pkg import name`` where ``pkg/name.py`` (or ``pkg/name/``) exists is
  an import of that submodule; otherwise it is an import of ``pkg`` itself;
* importing ``pkg.sub`` also imports ``pkg/__init__`` (and every package above
  it), except the packages that contain the importer: those have necessarily
  been imported before the importer itself runs;
* only modules of the package under test are nodes.

This file is self-contained (it imports nothing from the tests' helpers), so it
can move to any test folder.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pytest

#: The repository: the nearest folder above this file that holds ``pyproject.toml``.
ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
PACKAGE_DIR = ROOT / "sfbulk_sdk"

#: Import edges that close a cycle today, in files this change does not own.
#: Each is ``(importer, imported)``; the cycle test ignores exactly these edges,
#: so any *new* cycle still fails, and an entry that no longer closes a cycle
#: fails too (remove it then). Empty: no cycle remains.
KNOWN_CYCLE_EDGES: frozenset[tuple[str, str]] = frozenset()

#: The layers, bottom up: a module may import its own layer and those below.
#: A top-level module or package not named here counts as the client layer
#: (``_async``, ``_sync``, ``ops``, ``spark``, ... when they appear).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "deprecations", "_redact", "_error_support"),
    ("models",),
    ("core",),
    ("csvfiles",),  # file I/O over the pure core (read a CSV file into batches)
    ("auth",),
    ("stores",),
    ("client", "aio", "sessions", "_base", "_source", "_async", "_sync", "ops", "spark"),
    ("testing",),
    ("cli", "demo", "__init__"),  # ``__init__``: the package's own top-level re-exports
)
CLIENT_LAYER = "client"
#: The fake org may use only these (and itself).
TESTING_MAY_USE = frozenset({"errors", "models", "core", "testing"})


# --------------------------------------------------------------------------- graph


def _module_names(package_dir: Path) -> dict[str, Path]:
    """Every module of the package, by dotted name (a package by its ``__init__``)."""
    root = package_dir.name
    found: dict[str, Path] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = [root, *path.relative_to(package_dir).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _import_nodes(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement under ``node``, skipping ``if TYPE_CHECKING:`` bodies."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
        return
    if isinstance(node, ast.If) and _is_type_checking(node.test):
        for child in node.orelse:
            yield from _import_nodes(child)
        return
    for child in ast.iter_child_nodes(node):
        yield from _import_nodes(child)


def _ancestors(name: str) -> Iterator[str]:
    parts = name.split(".")
    for end in range(len(parts) - 1, 0, -1):
        yield ".".join(parts[:end])


def _targets(
    node: ast.Import | ast.ImportFrom, importer: str, is_package: bool, modules: Mapping[str, Path]
) -> Iterator[str]:
    """The modules one import statement imports (inside or outside the package)."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
        return
    if node.level:
        base = importer.split(".")
        if not is_package:
            base.pop()
        if node.level > 1:
            base = base[: len(base) - (node.level - 1)]
        if node.module:
            base.append(node.module)
        source = ".".join(base)
    else:
        source = node.module or ""
    for alias in node.names:
        candidate = f"{source}.{alias.name}"
        if candidate in modules:
            yield candidate  # a submodule: ``source`` itself is implied, as its parent
        else:
            yield source  # a name read from ``source`` (or ``*``)


def build_import_graph(package_dir: Path) -> dict[str, set[str]]:
    """The import graph of the package at ``package_dir``: module to the modules it imports."""
    modules = _module_names(package_dir)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for importer, path in modules.items():
        is_package = path.name == "__init__.py"
        own = {importer, *_ancestors(importer)}
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _import_nodes(tree):
            for target in _targets(node, importer, is_package, modules):
                # the target itself, even one of the importer's own packages (a name
                # read from a half-initialised ``__init__``), and the parents it implies
                if target in modules and target != importer:
                    graph[importer].add(target)
                for parent in _ancestors(target):
                    if parent in modules and parent not in own:
                        graph[importer].add(parent)
    return graph


def _strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative): the components, each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def _path(graph: Mapping[str, Iterable[str]], start: str, goal: str, within: set[str]) -> list[str]:
    """A shortest path ``start -> ... -> goal`` inside ``within`` (breadth first)."""
    previous: dict[str, str] = {}
    frontier = [start]
    seen = {start}
    while frontier:
        following: list[str] = []
        for node in frontier:
            for child in sorted(graph.get(node, ())):
                if child == goal:
                    path = [goal, node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return path[::-1]
                if child in within and child not in seen:
                    seen.add(child)
                    previous[child] = node
                    following.append(child)
        frontier = following
    return []


def find_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """One cycle per strongly connected component, as ``[a, b, ..., a]``."""
    cycles: list[list[str]] = []
    for component in _strongly_connected(graph):
        members = set(component)
        if len(component) > 1:
            cycles.append(_path(graph, component[0], component[0], members))
    return cycles


def _without(
    graph: Mapping[str, Iterable[str]], edges: Iterable[tuple[str, str]]
) -> dict[str, set[str]]:
    removed = set(edges)
    return {a: {b for b in targets if (a, b) not in removed} for a, targets in graph.items()}


def _reaches(graph: Mapping[str, Iterable[str]], start: str, goal: str) -> bool:
    return bool(_path(graph, start, goal, set(graph)))


# --------------------------------------------------------------------------- layers


def _unit(module: str) -> str:
    """The top-level unit: ``pkg.models.jobs`` -> ``models``; ``pkg`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _rank(unit: str, layers: tuple[tuple[str, ...], ...]) -> int:
    for rank, names in enumerate(layers):
        if unit in names:
            return rank
    return _rank(CLIENT_LAYER, layers)


def layer_violations(
    graph: Mapping[str, Iterable[str]],
    layers: tuple[tuple[str, ...], ...] = LAYERS,
    testing_may_use: frozenset[str] = TESTING_MAY_USE,
) -> list[str]:
    """Every edge between top-level units that points up the layers (or out of ``testing``)."""
    problems: list[str] = []
    for importer in sorted(graph):
        for imported in sorted(graph[importer]):
            low, high = _unit(imported), _unit(importer)
            if low == high:
                continue
            if high == "testing" and low not in testing_may_use:
                problems.append(f"{importer} -> {imported}: testing may use only {testing_may_use}")
            elif _rank(low, layers) > _rank(high, layers):
                problems.append(f"{importer} -> {imported}: {high!r} is below {low!r}")
    return problems


# --------------------------------------------------------------------------- tests


def _describe(cycles: list[list[str]]) -> str:
    return "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_the_package_has_no_import_cycle() -> None:
    graph = build_import_graph(PACKAGE_DIR)
    assert len(graph) > 30  # the walk found the package, not an empty folder
    cycles = find_cycles(_without(graph, KNOWN_CYCLE_EDGES))
    assert cycles == [], f"import cycles (allow-listed known edges: {KNOWN_CYCLE_EDGES}):\n" + (
        _describe(cycles)
    )


def test_every_allow_listed_cycle_edge_still_closes_a_cycle() -> None:
    graph = build_import_graph(PACKAGE_DIR)
    stale = [
        (a, b)
        for a, b in sorted(KNOWN_CYCLE_EDGES)
        if b not in graph[a] or not _reaches(graph, b, a)
    ]
    assert stale == [], f"remove these from KNOWN_CYCLE_EDGES, they close no cycle: {stale}"


def test_the_package_respects_its_layers() -> None:
    problems = layer_violations(build_import_graph(PACKAGE_DIR))
    assert problems == [], "imports against the layering:\n" + "\n".join(problems)


def _plant(root: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root / next(iter(files)).split("/")[0]


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    """A small package with one lazy cycle, one hidden by TYPE_CHECKING and one via a parent."""
    return _plant(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from . import b\n",
            # function-local: still an edge, and it closes a -> b -> a
            "pkg/b.py": "def later():\n    from .a import thing\n    return thing\n",
            # TYPE_CHECKING only: no edge, so c <-> d is no cycle
            "pkg/c.py": "from .d import D\n",
            "pkg/d.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from .c import C\n"
                "else:\n    import json\n"
            ),
            # importing pkg.sub.leaf imports pkg/sub/__init__, which imports e
            "pkg/sub/__init__.py": "from .. import e as _e\n",
            "pkg/sub/leaf.py": "import os\n",
            "pkg/e.py": "import pkg.sub.leaf\n",
        },
    )


def test_graph_builder_resolves_relative_lazy_and_parent_imports(planted: Path) -> None:
    graph = build_import_graph(planted)
    assert graph["pkg.a"] == {"pkg.b"}
    assert graph["pkg.b"] == {"pkg.a"}
    assert graph["pkg.c"] == {"pkg.d"}
    assert graph["pkg.d"] == set()
    assert graph["pkg.e"] == {"pkg.sub", "pkg.sub.leaf"}
    assert graph["pkg.sub"] == {"pkg.e"}
    assert graph["pkg.sub.leaf"] == set()  # its own parents are not edges


def test_cycle_checker_reports_a_planted_cycle(planted: Path) -> None:
    cycles = find_cycles(build_import_graph(planted))
    assert sorted(cycles) == [["pkg.a", "pkg.b", "pkg.a"], ["pkg.e", "pkg.sub", "pkg.e"]]
    assert "pkg.a -> pkg.b -> pkg.a" in _describe(cycles)
    # allow-listing an edge removes exactly that cycle
    rest = find_cycles(_without(build_import_graph(planted), {("pkg.b", "pkg.a")}))
    assert rest == [["pkg.e", "pkg.sub", "pkg.e"]]


def test_layer_checker_reports_an_upward_import(tmp_path: Path) -> None:
    package = _plant(
        tmp_path,
        {
            "lay/__init__.py": "",
            "lay/errors.py": "",
            "lay/models/__init__.py": "from ..errors import *\n",
            "lay/models/base.py": "def f():\n    from ..auth import login\n",
            "lay/auth.py": "from .models import base\n",
            "lay/testing/__init__.py": "from ..client import Bulk\n",
            "lay/client.py": "from . import auth\n",
        },
    )
    problems = layer_violations(build_import_graph(package))
    assert problems == [
        "lay.models.base -> lay.auth: 'models' is below 'auth'",
        f"lay.testing -> lay.client: testing may use only {TESTING_MAY_USE}",
    ]
