"""No ``typing.Any`` in a public signature of the package.

The public modules are those with an ``__all__`` whose dotted name has no
part starting with ``_``. For every name they export:

* a function: its parameters and return type;
* a class: the methods (public and dunder, ``__init__`` included),
  properties, classmethods and staticmethods, and the class-level annotated
  fields (pydantic model fields and dataclass fields included) of every class
  of its MRO that this package defines (what pydantic's ``BaseModel`` or
  another library declares is theirs, not ours);
* a type alias: its value.

Annotations are resolved with ``typing.get_type_hints(..., include_extras=True)``
and walked through ``get_args`` recursively: unions, ``Callable[...]``
(argument lists included), ``Annotated``, ``TypeAliasType`` values, ``TypeVar``
bounds and constraints, ``NewType`` supertypes.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import sys
import textwrap
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
import typing_extensions

#: The fake org's own modules: its public face is ``sfbulk_sdk.testing`` (checked),
#: whose exports are checked wherever they are defined; the modules behind it are
#: the emulator's internals (tables, SOQL, wire renderers).
EXCLUDED_MODULES: tuple[str, ...] = tuple(
    f"sfbulk_sdk.testing.{name}"
    for name in (
        "accounts",
        "api",
        "asgi",
        "engine",
        "faults",
        "formats",
        "http",
        "ids",
        "jobs",
        "query",
        "router",
        "schema",
        "server",
        "settings",
        "soql",
        "state",
        "store",
        "transport",
        "values",
    )
)

#: ``Any`` left in files this change does not own, as ``(qualified name,
#: parameter)``. Exactly these are tolerated; anything new fails, and so does an
#: entry that is gone (remove it then). Empty: no public signature holds ``Any``.
KNOWN_ANY: frozenset[tuple[str, str]] = frozenset()

_ANY_OBJECTS = (typing.Any, typing_extensions.Any)
_ALIAS_TYPES = tuple(
    {getattr(module, "TypeAliasType", None) for module in (typing, typing_extensions)} - {None}
)


# --------------------------------------------------------------------------- the walk


def contains_any(annotation: object) -> bool:
    """True when ``typing.Any`` occurs anywhere inside ``annotation``."""
    seen: set[int] = set()

    def walk(node: object) -> bool:
        if any(node is any_ for any_ in _ANY_OBJECTS):
            return True
        if id(node) in seen:
            return False
        seen.add(id(node))
        if isinstance(node, (list, tuple)):  # Callable[[A, B], C] argument lists
            return any(walk(item) for item in node)
        if typing.get_origin(node) is typing.Annotated:
            return walk(node.__origin__)  # type: ignore[attr-defined]  # metadata is no type
        inner: list[object] = list(typing.get_args(node))
        if _ALIAS_TYPES and isinstance(node, _ALIAS_TYPES):
            inner.append(node.__value__)  # type: ignore[attr-defined]
        if isinstance(node, (typing.TypeVar, typing_extensions.TypeVar)):
            inner += [node.__bound__, *node.__constraints__]
        supertype = getattr(node, "__supertype__", None)  # NewType
        if supertype is not None:
            inner.append(supertype)
        return any(walk(item) for item in inner)

    return walk(annotation)


def _type_checking_names(module_name: str) -> dict[str, object]:
    """The names a module imports under ``if TYPE_CHECKING:`` (to resolve annotations)."""
    module = sys.modules[module_name]
    tree = ast.parse(inspect.getsource(module))
    names: dict[str, object] = {"__name__": module_name, "__package__": module.__package__}
    for node in tree.body:
        test = node.test if isinstance(node, ast.If) else None
        if isinstance(test, (ast.Name, ast.Attribute)) and "TYPE_CHECKING" in ast.unparse(test):
            imports = [n for n in node.body if isinstance(n, (ast.Import, ast.ImportFrom))]
            exec(compile(ast.Module(imports, []), module_name, "exec"), names)
    return names


def _hints(obj: object) -> dict[str, object]:
    try:
        return typing.get_type_hints(obj, include_extras=True)
    except NameError:
        # a name imported only for type checking: import it now, as mypy sees it
        extra = _type_checking_names(getattr(obj, "__module__", ""))
        return typing.get_type_hints(obj, localns=extra, include_extras=True)


def _function(member: object) -> Callable[..., object] | None:
    """The plain function behind a class attribute (or ``None`` for data)."""
    if isinstance(member, (staticmethod, classmethod)):
        member = member.__func__
    if inspect.isfunction(member):
        return member
    return None


def _is_public(name: str) -> bool:
    return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))


def _own(module_name: str, root: str) -> bool:
    return module_name == root or module_name.startswith(root + ".")


def _check_callable(function: Callable[..., object], where: str) -> Iterator[tuple[str, str]]:
    try:
        hints = _hints(function)
    except Exception as exc:  # an annotation that does not resolve is not checked: say so
        yield where, f"<unresolvable: {type(exc).__name__}: {exc}>"
        return
    for parameter, annotation in hints.items():
        if contains_any(annotation):
            yield where, parameter


def _check_class(cls: type, root: str) -> Iterator[tuple[str, str]]:
    for klass in cls.__mro__:
        if not _own(klass.__module__, root):
            continue
        prefix = f"{klass.__module__}.{klass.__qualname__}"
        for name, member in vars(klass).items():
            if not _is_public(name):
                continue
            if isinstance(member, property):
                for accessor in (member.fget, member.fset):
                    if accessor is not None and _own(accessor.__module__, root):
                        yield from _check_callable(accessor, f"{prefix}.{name}")
                continue
            function = _function(member)
            if function is not None and _own(function.__module__, root):
                yield from _check_callable(function, f"{prefix}.{name}")
        own_fields = [n for n in vars(klass).get("__annotations__", {}) if not n.startswith("_")]
        if not own_fields:
            continue
        try:
            hints = _hints(klass)
        except Exception as exc:
            yield prefix, f"<unresolvable: {type(exc).__name__}: {exc}>"
            continue
        for name in own_fields:
            if contains_any(hints.get(name)):
                yield f"{prefix}.{name}", "field"


def _looks_like_a_type(value: object) -> bool:
    return (
        typing.get_origin(value) is not None
        or isinstance(value, (types.UnionType, typing.TypeVar, *_ALIAS_TYPES))
        or any(value is any_ for any_ in _ANY_OBJECTS)
    )


def find_any(module_names: Iterable[str]) -> set[tuple[str, str]]:
    """Every ``(qualified name, parameter)`` of a public signature that holds ``Any``.

    ``parameter`` is a parameter name, ``"return"``, ``"field"`` (a class-level
    annotation) or ``"alias"`` (an exported type alias).
    """
    found: set[tuple[str, str]] = set()
    for module_name in module_names:
        module = importlib.import_module(module_name)
        root = module_name.split(".")[0]
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if inspect.isclass(value):
                if _own(value.__module__, root):
                    found.update(_check_class(value, root))
            elif inspect.isfunction(value):
                if _own(value.__module__, root):
                    qualified = f"{value.__module__}.{value.__qualname__}"
                    found.update(_check_callable(value, qualified))
            elif _looks_like_a_type(value) and contains_any(value):
                found.add((f"{module_name}.{name}", "alias"))
    return found


def public_modules(package: str = "sfbulk_sdk", exclude: Iterable[str] = ()) -> list[str]:
    """The package's public modules: those with ``__all__`` and no ``_`` in their path."""
    excluded = tuple(exclude)
    root = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        names.append(info.name)
    selected: list[str] = []
    for name in names:
        parts = name.split(".")[1:]
        if any(part.startswith("_") for part in parts):
            continue
        if any(name == skip or name.startswith(skip + ".") for skip in excluded):
            continue
        if hasattr(importlib.import_module(name), "__all__"):
            selected.append(name)
    return selected


# --------------------------------------------------------------------------- tests


def _report(items: Iterable[tuple[str, str]]) -> str:
    return "\n".join(f"  {where} ({parameter})" for where, parameter in sorted(items))


def test_the_public_modules_are_found() -> None:
    modules = public_modules(exclude=EXCLUDED_MODULES)
    assert {"sfbulk_sdk", "sfbulk_sdk.errors", "sfbulk_sdk.models", "sfbulk_sdk.core.bulk1"} <= set(
        modules
    )
    assert {"sfbulk_sdk.testing", "sfbulk_sdk.testing.org"} <= set(modules)
    assert "sfbulk_sdk.testing.store" in public_modules()  # the exclusion is only a parameter


def test_no_public_signature_holds_any() -> None:
    found = find_any(public_modules(exclude=EXCLUDED_MODULES))
    new = found - KNOWN_ANY
    assert not new, "typing.Any in public signatures:\n" + _report(new)
    gone = KNOWN_ANY - found
    assert not gone, "remove these from KNOWN_ANY, they hold no Any any more:\n" + _report(gone)


_PLANTED = """
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, NewType, TypeAlias, TypeVar, Union

from typing_extensions import TypeAliasType

if TYPE_CHECKING:
    from collections import OrderedDict

__all__ = [
    "Alias", "Clean", "Handle", "Model", "Recursive", "bounded", "deep", "fine", "plain",
    "via_alias", "LIMIT", "checked",
]

LIMIT = 10
Alias: TypeAlias = dict[str, list[Any]]
Recursive = TypeAliasType("Recursive", Union[int, list["Recursive"], Callable[[Any], None]])
Handle = NewType("Handle", int)
T = TypeVar("T", bound=Any)


def plain(x: Any) -> None: ...
def deep(x: Callable[..., Annotated[Iterator[int | Any], "meta"]]) -> None: ...
def via_alias(x: Alias) -> int: ...
def bounded(x: T) -> T: ...
def fine(x: int, y: Callable[[str], list[int]], h: Handle) -> dict[str, object]: ...
def _private(x: Any) -> Any: ...
def checked(x: OrderedDict[str, Any]) -> None: ...  # resolved although TYPE_CHECKING-only


@dataclass
class Model:
    data: dict[str, Any]
    count: int = 0

    def items(self) -> Iterator[tuple[str, Any]]: ...
    @property
    def first(self) -> Any: ...
    @classmethod
    def build(cls, raw: Recursive) -> Model: ...
    def _hidden(self) -> Any: ...


class Clean:
    def __iter__(self) -> Iterator[int]: ...
    def __len__(self) -> int: ...
"""


def test_the_checker_finds_a_planted_any(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "planted_any.py").write_text(textwrap.dedent(_PLANTED), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "planted_any", raising=False)
    try:
        found = find_any(["planted_any"])
    finally:
        sys.modules.pop("planted_any", None)
    assert found == {
        ("planted_any.Alias", "alias"),
        ("planted_any.Recursive", "alias"),
        ("planted_any.plain", "x"),
        ("planted_any.deep", "x"),
        ("planted_any.via_alias", "x"),
        ("planted_any.bounded", "x"),
        ("planted_any.bounded", "return"),
        ("planted_any.checked", "x"),
        ("planted_any.Model.data", "field"),
        ("planted_any.Model.__init__", "data"),
        ("planted_any.Model.items", "return"),
        ("planted_any.Model.first", "return"),
        ("planted_any.Model.build", "raw"),
    }


def test_contains_any_walks_every_kind_of_annotation() -> None:
    assert contains_any(typing.Any)
    assert contains_any(list[int | typing.Any])
    assert contains_any(Callable[[int, typing.Any], None])
    assert contains_any(typing.Annotated[list[typing.Any], "x"])
    assert not contains_any(Callable[[int], dict[str, object]])
    assert not contains_any(typing.Annotated[int, typing.Any])  # metadata is no type
