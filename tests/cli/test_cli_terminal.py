"""What a person sees: progress bars in a real pseudo-terminal, one-line errors, --version."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import termios
import time
from pathlib import Path

import pytest

from sfbulk_sdk import __version__
from sfbulk_sdk.cli.commands import run
from sfbulk_sdk.testing import DEFAULT_PASSWORD
from tests.cli.conftest import SFBULK, Cli, Served

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _in_pty(args: list[str], timeout: float = 90) -> tuple[int, str]:
    """Run ``args`` with stdin/stdout/stderr on a pseudo-terminal; (exit code, screen text)."""
    main, child = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(args, stdin=child, stdout=child, stderr=child, env=env)
    os.close(child)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.5)
            if ready:
                try:
                    data = os.read(main, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif process.poll() is not None:
                break
        code = process.wait(10)
    finally:
        os.close(main)
        if process.poll() is None:
            process.kill()
    return code, _ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))


def test_progress_bars_on_a_terminal_only() -> None:
    code, screen = _in_pty([*SFBULK, "demo", "--accounts", "3000", "--contacts", "6000"])
    assert code == 0, screen
    assert "insert Account" in screen and "insert Contact" in screen
    assert "rec/s" in screen and "ETA" in screen  # records per second and time left
    assert re.search(r"3,?000/3,?000", screen) or "3000/3000" in screen
    piped = subprocess.run(
        [*SFBULK, "demo", "--accounts", "300", "--contacts", "600"],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert piped.returncode == 0
    assert "rec/s" not in piped.stderr and "ETA" not in piped.stderr  # not a terminal
    code, quiet = _in_pty([*SFBULK, "demo", "-q", "--accounts", "300", "--contacts", "600"])
    assert code == 0 and "rec/s" not in quiet and quiet.strip() == ""


def test_fake_org_with_a_missing_certificate_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(["fake-org", "--certfile", "missing.pem", "--keyfile", "missing.key"]) == 2
    assert capsys.readouterr().err == (
        "sfbulk: error: no such file: missing.pem (hint: give a PEM file made e.g. by trustme)\n"
    )
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    done = subprocess.run(
        [*SFBULK, "fake-org", "--certfile", str(bad), "--keyfile", str(bad)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.startswith("sfbulk: error: cannot serve")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stdout == ""  # refused before the server is announced
    for option, value, words in [
        ("--query-result-file-rows", "0", "--query-result-file-rows must be at least 1"),
        ("--session-timeout", "0", "--session-timeout must be at least 1"),
        ("--log-level", "loud", "--log-level must be one of"),
    ]:
        assert run(["fake-org", option, value]) == 2
        shown = capsys.readouterr()
        assert shown.out == "" and shown.err.startswith(f"sfbulk: error: {words}")
    assert run(["fake-org", "--certfile", str(bad)]) == 2
    assert "go together" in capsys.readouterr().err


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--version"]) == 0 and capsys.readouterr().out == f"sfbulk {__version__}\n"
    assert run([]) == 2  # a bare 'sfbulk': its help as help, not one long error line
    bare = capsys.readouterr()
    assert bare.err.startswith("Usage: sfbulk") and "\n  insert" in bare.err
    assert "sfbulk: error:" not in bare.err and bare.out == ""
    done = subprocess.run([*SFBULK, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for command in ("login", "logout", "insert", "hard-delete", "query", "job", "fake-org", "demo"):
        assert command in done.stdout
    assert "Exit codes: 0" in done.stdout


def test_password_prompt_is_hidden(served: Served, cli: Cli) -> None:
    """No SFBULK_PASSWORD: on a terminal sfbulk asks, without echoing what is typed."""
    main, child = pty.openpty()
    env = {**cli.env, "SFBULK_PASSWORD": "", "TERM": "xterm"}
    process = subprocess.Popen(
        [*SFBULK, "login"], stdin=child, stdout=child, stderr=child, env=env, cwd=cli.home
    )
    os.close(child)
    screen = b""
    try:
        deadline = time.monotonic() + 60
        while b"Password" not in screen and time.monotonic() < deadline:
            if select.select([main], [], [], 0.5)[0]:
                screen += os.read(main, 4096)
        assert b"Password" in screen, screen
        # getpass turns echo off with TCSAFLUSH, dropping what was typed before: wait for it
        while termios.tcgetattr(main)[3] & termios.ECHO and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        os.write(main, DEFAULT_PASSWORD.encode() + b"\n")
        while process.poll() is None and time.monotonic() < deadline:
            if select.select([main], [], [], 0.5)[0]:
                try:
                    screen += os.read(main, 4096)
                except OSError:
                    break
        assert process.wait(30) == 0, screen
    finally:
        os.close(main)
        if process.poll() is None:
            process.kill()
    text = screen.decode("utf-8", "replace")
    assert "Logged in" in text and DEFAULT_PASSWORD not in text
