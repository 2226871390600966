"""The Guarantees page names only tests that exist: each ``file::test`` it cites is a test
function of that file, so a renamed or deleted test cannot leave a promise unproved."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
PAGE = ROOT / "docs" / "guarantees.md"
_CITED = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def _tests_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.name.startswith("test_")
    }


def test_every_cited_test_exists() -> None:
    cited = _CITED.findall(PAGE.read_text(encoding="utf-8"))
    assert len(cited) >= 40
    missing = [
        f"{file}::{name}"
        for file, name in cited
        if not (ROOT / file).is_file() or name not in _tests_of(ROOT / file)
    ]
    assert missing == []


def test_every_reliability_test_is_cited() -> None:
    cited = set(_CITED.findall(PAGE.read_text(encoding="utf-8")))
    here = Path(__file__).resolve().parent
    uncited = [
        f"{path.name}::{name}"
        for path in sorted(here.glob("test_*.py"))
        if path.name != Path(__file__).name
        for name in sorted(_tests_of(path))
        if (f"tests/reliability/{path.name}", name) not in cited
    ]
    assert uncited == []
