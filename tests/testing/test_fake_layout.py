"""How the fake org is put together: a facade over a state, handlers per API, transports outside.

* no import cycle among the modules of ``sfbulk_sdk.testing`` (every import counts,
  function-local ones included, except under ``if TYPE_CHECKING:``);
* the org, its state, the router and the API handlers never reach the
  transports (``transport``, ``asgi``, ``server``), which take the org instead;
  the handlers never import the facade (``org``);
* :class:`FakeOrg` stays a small facade;
* nothing exported by ``sfbulk_sdk.testing`` has ``Any`` in its public signature.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args, get_type_hints, is_typeddict

import sfbulk_sdk.testing as testing
from sfbulk_sdk.testing import FakeOrg

TESTING_DIR = Path(testing.__file__).resolve().parent
PACKAGE = "sfbulk_sdk.testing"
SERVING = {f"{PACKAGE}.transport", f"{PACKAGE}.asgi", f"{PACKAGE}.server"}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(TESTING_DIR.rglob("*.py")):
        parts = [PACKAGE, *path.relative_to(TESTING_DIR).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
        return
    if isinstance(node, ast.If):
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        ):
            for child in node.orelse:
                yield from _imports(child)
            return
    for child in ast.iter_child_nodes(node):
        yield from _imports(child)


def _graph() -> dict[str, set[str]]:
    """Module to the modules of the package it imports (a package's ``__init__`` included)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for importer, path in modules.items():
        package = importer.split(".") if path.name == "__init__.py" else importer.split(".")[:-1]
        own = {".".join(importer.split(".")[:n]) for n in range(1, importer.count(".") + 1)}
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = package[: len(package) - node.level + 1] if node.level else []
                source = ".".join(base + ([node.module] if node.module else []))
                targets = [
                    f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source
                    for a in node.names
                ]
            for target in targets:
                parts = target.split(".")
                for end in range(len(parts), 0, -1):  # the module and the packages it implies
                    name = ".".join(parts[:end])
                    if name in modules and name != importer and name not in own:
                        graph[importer].add(name)
    return graph


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for child in graph[todo.pop()]:
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def test_the_fake_org_has_no_import_cycle() -> None:
    graph = _graph()
    assert {f"{PACKAGE}.org", f"{PACKAGE}.router", f"{PACKAGE}.api.bulk1"} <= set(graph)
    cycles = sorted(m for m in graph if m in _reachable(graph, m))
    assert cycles == [], f"modules on an import cycle: {cycles}"


def test_the_org_and_its_handlers_never_reach_a_transport() -> None:
    graph = _graph()
    core = [
        m
        for m in graph
        if m in (f"{PACKAGE}.org", f"{PACKAGE}.state", f"{PACKAGE}.router")
        or m.startswith(f"{PACKAGE}.api")
    ]
    assert len(core) >= 8
    reaching = {m: sorted(_reachable(graph, m) & SERVING) for m in core}
    assert {m: r for m, r in reaching.items() if r} == {}
    handlers = [m for m in core if m.startswith(f"{PACKAGE}.api")]
    assert [m for m in handlers if f"{PACKAGE}.org" in _reachable(graph, m)] == []
    # ...while each way of serving takes the org
    for module in (f"{PACKAGE}.transport", f"{PACKAGE}.asgi"):
        assert f"{PACKAGE}.org" in graph[module]


def test_fake_org_is_a_small_facade() -> None:
    public = [name for name in dir(FakeOrg) if not name.startswith("_")]
    attributes = [name for name in vars(FakeOrg()) if not name.startswith("_")]
    assert len(public) + len(attributes) < 30, public + attributes
    for gone in ("transport", "asgi_app", "now", "tick", "authenticate", "lock", "db"):
        assert gone not in public


def _any_in(hint: object, seen: set[type]) -> bool:
    if hint is Any:
        return True
    if isinstance(hint, type) and is_typeddict(hint):
        if hint in seen:
            return False
        seen.add(hint)
        return any(_any_in(h, seen) for h in get_type_hints(hint).values())
    return any(_any_in(arg, seen) for arg in get_args(hint))


def _signatures(obj: object) -> Iterator[tuple[str, object]]:
    """``(where, hint)`` for every annotation of a public function, method, property, field."""

    def of(where: str, function: Any) -> Iterator[tuple[str, object]]:
        for name, hint in get_type_hints(function, include_extras=True).items():
            yield f"{where}({name})", hint

    name = getattr(obj, "__name__", repr(obj))
    if inspect.isclass(obj):
        if not is_typeddict(obj):
            for field, hint in get_type_hints(obj).items():
                if not field.startswith("_"):
                    yield f"{name}.{field}", hint
        for attr in dir(obj):
            if attr.startswith("_") and attr != "__init__":
                continue
            raw = inspect.getattr_static(obj, attr)
            if isinstance(raw, property) and raw.fget is not None:
                yield from of(f"{name}.{attr}", raw.fget)
            elif isinstance(raw, (staticmethod, classmethod)):
                yield from of(f"{name}.{attr}", raw.__func__)
            elif inspect.isfunction(raw):
                yield from of(f"{name}.{attr}", raw)
        if is_typeddict(obj):
            yield name, obj
    elif inspect.isfunction(obj):
        yield from of(name, obj)
    else:
        yield name, obj  # a type alias


def test_no_any_in_the_public_signatures() -> None:
    found = [
        where
        for export in testing.__all__
        for where, hint in _signatures(getattr(testing, export))
        if _any_in(hint, set())
    ]
    assert found == []
