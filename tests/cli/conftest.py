"""``sfbulk`` as a user runs it: a separate process, against ``sfbulk fake-org`` over HTTPS."""

from __future__ import annotations

import io
import json
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from sfbulk_sdk.testing import DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, DEFAULT_USERNAME
from tests.servers import stop_process
from tests.tls import Tls

#: The console script next to this interpreter, else the module.
_SCRIPT = Path(sys.executable).with_name("sfbulk")
SFBULK: list[str] = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "sfbulk_sdk.cli"]


@dataclass
class Served:
    """A running ``sfbulk fake-org``: its URL, CA and control helpers."""

    url: str
    ca_file: Path
    process: subprocess.Popen[str]

    def control(self, method: str, path: str, body: object = None) -> object:
        verify = ssl.create_default_context(cafile=str(self.ca_file))
        with httpx.Client(verify=verify, base_url=self.url) as http:
            reply = http.request(method, f"/_fake/{path}", json=body)
        assert reply.status_code < 300, reply.text
        return reply.json() if reply.content else None


@dataclass
class Cli:
    """Runs ``sfbulk`` in its own home, configured through ``SFBULK_*`` variables only."""

    home: Path
    env: dict[str, str]
    seen: list[str] = field(default_factory=list)

    def __call__(
        self, *args: str, input: str | None = None, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*SFBULK, *args],
            input=input,
            capture_output=True,
            text=True,
            env={**self.env, **(env or {})},
            cwd=self.home,
            timeout=120,
        )
        self.seen.extend([done.stdout, done.stderr, " ".join(args)])
        return done

    def json(self, *args: str, **options: object) -> tuple[int, dict[str, object]]:
        done = self(*args, "--json", **options)  # type: ignore[arg-type]
        assert "Traceback" not in done.stderr, done.stderr
        return done.returncode, json.loads(done.stdout) if done.stdout.strip() else {}


def base_env(home: Path) -> dict[str, str]:
    """A clean environment: no secret and no SFBULK_* setting of the machine's own."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith("SFBULK_")}
    return {**keep, "SFBULK_HOME": str(home), "PYTHONUNBUFFERED": "1", "COLUMNS": "120"}


@pytest.fixture(scope="module")
def served(tls: Tls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``sfbulk fake-org`` over HTTPS in its own process, stopped after the module."""
    home = tmp_path_factory.mktemp("fake-org")
    process = subprocess.Popen(
        [*SFBULK, "fake-org", "--port", "0", "--log-level", "warning",
         "--certfile", str(tls.cert_file), "--keyfile", str(tls.key_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=base_env(home),
    )  # fmt: skip
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    url = ""
    while time.monotonic() < deadline and not url:
        line = process.stdout.readline()
        if not line:
            break
        if "listening on" in line:
            url = line.rsplit(" ", 1)[-1].strip()
    assert url.startswith("https://127.0.0.1:"), process.stderr.read() if process.stderr else ""
    try:
        yield Served(url, tls.ca_file, process)
    finally:
        stop_process(process)


@pytest.fixture
def cli(served: Served, tmp_path: Path) -> Cli:
    """``sfbulk`` pointed at the served org, with the SOAP user's secrets in the environment."""
    env = base_env(tmp_path / "home")
    env.update(
        SFBULK_LOGIN_URL=served.url,
        SFBULK_CA_FILE=str(served.ca_file),
        SFBULK_USERNAME=DEFAULT_USERNAME,
        SFBULK_PASSWORD=DEFAULT_PASSWORD,
        SFBULK_SECURITY_TOKEN=DEFAULT_SECURITY_TOKEN,
    )
    (tmp_path / "home").mkdir()
    return Cli(tmp_path / "home", env)


@dataclass
class InProcess:
    """Runs ``sfbulk`` in this process (``sfbulk_sdk.cli.app.run``): the same code, no spawn."""

    home: Path
    env: dict[str, str]
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]
    seen: list[str] = field(default_factory=list)

    def __call__(
        self, *args: str, input: str | None = None, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        from sfbulk_sdk.cli.commands import run

        with self.monkeypatch.context() as patch:
            patch.chdir(self.home)
            for name, value in {**self.env, **(env or {})}.items():
                patch.setenv(name, value)
            if input is not None:
                patch.setattr(sys, "stdin", _Stdin(input))
            code = run(list(args))
        out, err = self.capsys.readouterr()
        self.seen.extend([out, err])
        return subprocess.CompletedProcess(list(args), code, out, err)


class _Stdin(io.TextIOWrapper):
    def __init__(self, text: str) -> None:
        super().__init__(io.BytesIO(text.encode()), encoding="utf-8")


@pytest.fixture
def inproc(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> InProcess:
    """``cli``'s settings, run in this process."""
    for name in [k for k in os.environ if k.startswith("SFBULK_")]:
        monkeypatch.delenv(name)
    return InProcess(cli.home, dict(cli.env), monkeypatch, capsys)
