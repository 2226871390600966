"""Settings: flags, then SFBULK_* variables, then the config file; secrets never settings."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from sfbulk_sdk.cli.exits import CliError
from sfbulk_sdk.cli.settings import config_file, home_dir, load_settings
from tests.cli.conftest import InProcess, Served


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_precedence_file_then_env_then_flag(tmp_path: Path) -> None:
    config = tmp_path / "sfbulk.toml"
    config.write_text('login_url = "https://file.example"\nusername = "file@example.com"\n'
                      "timeout = 30\n")  # fmt: skip
    env = {"SFBULK_CONFIG": str(config), "SFBULK_HOME": str(tmp_path)}
    from_file = load_settings(env)
    assert (from_file.login_url, from_file.username, from_file.timeout) == (
        "https://file.example", "file@example.com", 30.0,
    )  # fmt: skip
    from_env = load_settings({**env, "SFBULK_LOGIN_URL": "https://env.example"})
    assert (from_env.login_url, from_env.username) == ("https://env.example", "file@example.com")
    flagged = from_env.with_overrides(login_url="https://flag.example", username=None)
    assert (flagged.login_url, flagged.username) == ("https://flag.example", "file@example.com")


def test_where_the_files_are(tmp_path: Path) -> None:
    assert home_dir({"SFBULK_HOME": str(tmp_path)}) == tmp_path
    assert config_file({"SFBULK_HOME": str(tmp_path)}) == tmp_path / "config.toml"
    assert config_file({"SFBULK_CONFIG": str(tmp_path / "x.toml")}) == tmp_path / "x.toml"
    if sys.platform.startswith("linux"):
        assert home_dir({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "sfbulk"
    assert load_settings({"SFBULK_HOME": str(tmp_path)}).auth == "soap"  # no file: defaults


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('password = "hunter2"', "SFBULK_PASSWORD"),
        ('client_secret = "s"', "SFBULK_CLIENT_SECRET"),
        ('colour = "blue"', "unknown setting 'colour'"),
        ('auth = "magic"', "auth must be one of"),
        ('timeout = "soon"', "timeout must be a float"),
        ("login_url = ", "cannot read the config file"),
        ("timeout = -5", "timeout must be from"),
        ("timeout = 0", "timeout must be from"),
        ("timeout = nan", "timeout must be from"),
        ("timeout = inf", "timeout must be from"),
        ("timeout = true", "timeout must be a float"),
        ("callback_port = 1.5", "callback_port must be a int"),
        ("callback_port = 70000", "callback_port must be from 0 to 65535"),
    ],
)
def test_bad_config_files_are_refused(tmp_path: Path, text: str, words: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(text + "\n")
    with pytest.raises(CliError) as info:
        load_settings({"SFBULK_CONFIG": str(config)})
    assert words in info.value.message + " " + info.value.hint
    assert "hunter2" not in info.value.message


def test_precedence_through_the_command(served: Served, inproc: InProcess, tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{_closed_port()}"
    config = tmp_path / "config.toml"
    config.write_text(f'login_url = "{closed}"\n')
    env = {**inproc.env, "SFBULK_CONFIG": str(config), "SFBULK_LOGIN_URL": ""}
    done = inproc("login", env=env)  # the file's URL: nobody listens there
    error = done.stderr.splitlines()[-1]  # after the one-line SOAP deprecation warning
    assert done.returncode == 5 and error.startswith("sfbulk: error: ConnectError")
    assert closed in error and done.stderr.count("sfbulk: error") == 1
    env["SFBULK_LOGIN_URL"] = served.url  # the variable wins over the file
    assert inproc("login", env=env).returncode == 0
    done = inproc("login", "--login-url", closed, env=env)  # the flag wins over the variable
    assert done.returncode == 5
    done = inproc("--config", str(tmp_path / "missing.toml"), "login", env=env)
    assert done.returncode == 2  # a config file named but missing (a typo) is not ignored
    (tmp_path / "bad.toml").write_text('password = "x"\n')
    done = inproc("login", "--config", str(tmp_path / "bad.toml"), env=env)
    assert done.returncode == 2 and "secrets are never settings" in done.stderr


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "0", "1e999"])
def test_a_timeout_that_is_no_timeout_is_a_usage_error(inproc: InProcess, value: str) -> None:
    for done in (
        inproc("--timeout", value, "query", "SELECT Id FROM Account"),
        inproc("query", "SELECT Id FROM Account", env={"SFBULK_TIMEOUT": value}),
    ):
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("sfbulk: error:") and "timeout must be" in done.stderr


def test_a_named_config_file_that_is_missing_is_refused(inproc: InProcess, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    for done in (
        inproc("--config", str(missing), "query", "SELECT Id FROM Account"),
        inproc("query", "SELECT Id FROM Account", env={"SFBULK_CONFIG": str(missing)}),
    ):
        assert done.returncode == 2 and f"no such config file: {missing}" in done.stderr
    assert load_settings({"SFBULK_HOME": str(tmp_path)}).timeout == 120.0  # the default: none
