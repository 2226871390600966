"""docs/cli.md is generated from the commands (scripts/cli_reference.py) and kept in step."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer.main

from sfbulk_sdk.cli.commands import app
from sfbulk_sdk.cli.exits import ExitCode
from sfbulk_sdk.cli.reference import render_reference

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())


def _paths(command: object, path: str = "sfbulk") -> list[str]:
    found = [path]
    for name, child in sorted(getattr(command, "commands", {}).items()):
        found += _paths(child, f"{path} {name}")
    return found


def test_the_page_is_in_step_with_the_commands() -> None:
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert page == render_reference(), "run: python scripts/cli_reference.py"
    check = subprocess.run(
        [sys.executable, "scripts/cli_reference.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # this checkout's commands, not an install's
    )
    assert check.returncode == 0, check.stdout


def test_the_page_covers_every_command_option_and_exit_code() -> None:
    page = render_reference()
    command = typer.main.get_command(app)
    paths = _paths(command)
    assert len(paths) >= 16  # root, 13 commands, the job group and its 5
    for path in paths:
        assert f"`{path}`" in page, path
    for flag in ("--external-id", "--success-file", "--error-file", "--pk-chunking", "--web"):
        assert f"`{flag}`" in page
    for code in ExitCode:
        assert f"| {int(code)} |" in page
    assert "SFBULK_CONFIG" in page and "SFBULK_PASSWORD" in page
