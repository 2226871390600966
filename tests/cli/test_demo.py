"""``sfbulk demo`` / ``make demo``: a sample load and query against the built-in fake org."""

from __future__ import annotations

import json
import subprocess

import pytest

from sfbulk_sdk.cli.commands import run
from sfbulk_sdk.demo import NEXT_STEPS, run_demo
from tests.cli.conftest import SFBULK


def test_demo_checks_its_own_numbers() -> None:
    lines: list[str] = []
    assert run_demo(accounts=300, contacts=700, say=lines.append) == 0
    text = "\n".join(lines)
    assert "insert Account via bulk1: 300 rows, 297 succeeded, 3 failed" in text
    assert "insert Contact via bulk1: 700 rows, 696 succeeded, 4 failed" in text
    assert "update Contact via bulk2: 70 rows, 70 succeeded" in text
    assert text.count("REQUIRED_FIELD_MISSING") == 7  # every bad row shown with its error
    assert "696 Contacts read back, 70 of them with the new Title" in text
    assert NEXT_STEPS in text


def test_demo_command_default_size_json() -> None:
    """The default demo (10,000 Accounts + 40,000 Contacts) as the README runs it."""
    done = subprocess.run([*SFBULK, "demo", "--json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["Accounts loaded"] == 9_997 and report["Contacts loaded"] == 39_996
    assert report["records queried"] == 39_996 and report["logins"] == 1
    assert report["seconds"] < 60
    assert "Traceback" not in done.stderr


def test_demo_command_talks_to_a_person(capsys: pytest.CaptureFixture[str]) -> None:
    done = subprocess.run(
        [*SFBULK, "demo", "--accounts", "200", "--contacts", "300"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # a person's output goes to stderr
    assert "Next, against a real org" in done.stderr and "records queried" in done.stderr
    assert run(["demo", "--accounts", "0"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_demo_with_fewer_than_ten_contacts_updates_one(capsys: pytest.CaptureFixture[str]) -> None:
    """``contacts // 10`` was 0 below ten Contacts: the update had no record and failed."""
    for contacts in (1, 2, 9):
        lines: list[str] = []
        assert run_demo(accounts=3, contacts=contacts, say=lines.append) == 0, lines
        assert any(
            line.startswith("update Contact via bulk2: 1 rows, 1 succeeded") for line in lines
        )
    assert run(["demo", "--accounts", "2", "--contacts", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["Contacts updated (Bulk 2.0)"] == 1
