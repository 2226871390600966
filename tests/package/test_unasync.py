"""The sync twins are generated from the async sources, and the check sees drift.

``scripts/unasync.py --check`` runs in ``make test``; these tests prove that it
can fail: on a hand-edited twin, on a twin without a source, and on a rename
rule that no source uses any more.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

#: The repository: the nearest folder above this file that holds ``pyproject.toml``.
ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("unasync", ROOT / "scripts" / "unasync.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["unasync"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The parts of the repository the generator reads, in a temporary folder."""
    for folder in ("sfbulk_sdk", "tests/_async", "tests/_sync", "scripts"):
        if (ROOT / folder).is_dir():
            shutil.copytree(
                ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__")
            )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_every_generated_twin_is_up_to_date_and_every_rule_is_used() -> None:
    assert _script().run(ROOT, check=True) == []


def test_generated_twins_say_so_in_their_first_line() -> None:
    unasync = _script()
    pairs = unasync.twins(ROOT)
    assert {p[1].relative_to(ROOT).as_posix() for p in pairs} >= {
        "sfbulk_sdk/_sync/client.py",
        "sfbulk_sdk/_sync/sessions.py",
        "sfbulk_sdk/_sync/driver.py",
        "sfbulk_sdk/stores/_sync/locks.py",
        "sfbulk_sdk/stores/_sync/memory.py",
        "sfbulk_sdk/stores/_sync/mongodb.py",
        "sfbulk_sdk/stores/_sync/redis.py",
    }
    for source, target in pairs:
        first = target.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# GENERATED from ") and source.name in first, target


def test_the_check_fails_on_a_hand_edited_twin(copy: Path) -> None:
    twin = copy / "sfbulk_sdk" / "_sync" / "bulk1.py"
    twin.write_text(twin.read_text().replace('"""A job\'s current state', '"""A state'))
    done = subprocess.run(
        [sys.executable, str(copy / "scripts" / "unasync.py"), "--check", "--root", str(copy)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "sfbulk_sdk/_sync/bulk1.py is out of date" in done.stderr
    # writing mode repairs it, after which the check passes again
    assert _script().run(copy, check=False) == []
    assert _script().run(copy, check=True) == []


def test_the_check_fails_on_a_twin_without_a_source(copy: Path) -> None:
    (copy / "sfbulk_sdk" / "_sync" / "orphan.py").write_text("x = 1\n")
    assert _script().run(copy, check=True) == ["sfbulk_sdk/_sync/orphan.py has no async source"]


def test_the_check_fails_on_a_rule_no_source_uses(copy: Path) -> None:
    unasync = _script()
    table = (*unasync.RULES, ("AsyncNothingAnyMore", "NothingAnyMore"))
    problems = unasync.run(copy, check=True, table=table)
    assert problems == ["rename rule 'AsyncNothingAnyMore' is never used"]
