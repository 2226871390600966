"""Every ``sfbulk login`` flow against the served fake org, then a query on its session."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from sfbulk_sdk.auth import RefreshToken
from sfbulk_sdk.stores import session_key
from sfbulk_sdk.stores.file import FileStore
from sfbulk_sdk.testing import DEFAULT_USERNAME
from tests.cli.conftest import Cli, InProcess, Served
from tests.keys import make_key_pair

BROWSER = Path(__file__).with_name("browser.py")


def _no_soap(cli: Cli | InProcess) -> dict[str, str]:
    """The SOAP secrets off: each test gives only what its flow needs."""
    return {"SFBULK_PASSWORD": "", "SFBULK_SECURITY_TOKEN": ""}


def _query_works(cli: Cli | InProcess, env: dict[str, str]) -> None:
    done = cli("query", "SELECT Id FROM Account", "-o", "-", env=env)
    assert done.returncode == 0, done.stderr


def test_jwt_bearer_login(served: Served, inproc: InProcess, tmp_path: Path) -> None:
    keys = make_key_pair()
    app = served.control("POST", "oauth/apps", {"name": "jwt", "certificate": keys.certificate})
    key_file = tmp_path / "server.key"
    key_file.write_text(keys.private_pem)
    env = {**_no_soap(inproc), "SFBULK_AUTH": "jwt", "SFBULK_CLIENT_ID": app["client_id"]}  # type: ignore[index]
    done = inproc("login", "--key-file", str(key_file), "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert '"auth": "jwt"' in done.stdout and DEFAULT_USERNAME in done.stdout
    _query_works(inproc, env)
    # the key may instead come from SFBULK_PRIVATE_KEY (never a flag)
    done = inproc("login", env={**env, "SFBULK_PRIVATE_KEY": keys.private_pem})
    assert done.returncode == 0, done.stderr
    assert keys.private_pem.splitlines()[1] not in "".join(inproc.seen)


def test_client_credentials_login_and_wrong_secret(served: Served, inproc: InProcess) -> None:
    app = served.control(
        "POST", "oauth/apps", {"name": "cc", "run_as": DEFAULT_USERNAME, "scopes": ["api"]}
    )
    env = {
        **_no_soap(inproc),
        "SFBULK_AUTH": "client-credentials",
        "SFBULK_CLIENT_ID": app["client_id"],  # type: ignore[index]
        "SFBULK_CLIENT_SECRET": app["client_secret"],  # type: ignore[index]
    }
    assert inproc("login", env=env).returncode == 0
    _query_works(inproc, env)
    wrong = inproc("login", env={**env, "SFBULK_CLIENT_SECRET": "not-the-secret"})
    assert wrong.returncode == 3 and wrong.stderr.count("\n") == 1
    assert "invalid_client" in wrong.stderr and "not-the-secret" not in wrong.stderr
    missing = inproc("login", env={**env, "SFBULK_CLIENT_SECRET": ""})
    assert missing.returncode == 3 and "SFBULK_CLIENT_SECRET" in missing.stderr


def test_refresh_token_login_and_logout_revokes(served: Served, inproc: InProcess) -> None:
    app = served.control("POST", "oauth/apps", {"name": "rt", "rotate_refresh_tokens": True})
    issued = served.control("POST", "oauth/refresh-tokens", {"client_id": app["client_id"]})  # type: ignore[index]
    token = issued["refresh_token"]  # type: ignore[index]
    env = {
        **_no_soap(inproc),
        "SFBULK_AUTH": "refresh-token",
        "SFBULK_CLIENT_ID": app["client_id"],  # type: ignore[index]
        "SFBULK_CLIENT_SECRET": app["client_secret"],  # type: ignore[index]
        "SFBULK_REFRESH_TOKEN": token,
    }
    assert inproc("login", env=env).returncode == 0
    # later commands need no refresh token: the store's grant (rotated) serves
    _query_works(inproc, {**env, "SFBULK_REFRESH_TOKEN": ""})
    before = served.control("GET", "oauth/stats")["families_revoked"]  # type: ignore[index]
    done = inproc("logout", "--json", env=env)
    assert done.returncode == 0 and '"revoked": true' in done.stdout
    assert served.control("GET", "oauth/stats")["families_revoked"] == before + 1  # type: ignore[index]
    assert token not in "".join(inproc.seen)
    # a damaged grant record: the SDK logs it at ERROR and raises; the CLI says it once
    again = served.control("POST", "oauth/refresh-tokens", {"client_id": app["client_id"]})  # type: ignore[index]
    env["SFBULK_REFRESH_TOKEN"] = again["refresh_token"]  # type: ignore[index]
    assert inproc("login", env=env).returncode == 0
    for grant in (inproc.home / "sessions").glob("*.grant"):
        grant.write_text("{torn")
    damaged = inproc("login", env=env)
    assert damaged.returncode == 3, damaged.stderr
    assert damaged.stderr.startswith("sfbulk: error:") and damaged.stderr.count("\n") == 1


def test_a_refresh_token_login_keeps_its_grant_key_across_rotations(
    served: Served, inproc: InProcess
) -> None:
    """The grant's key is a digest of its first token, kept in the profile: each later
    command finds the grant (rotated each time) under the key the login made."""
    app = served.control("POST", "oauth/apps", {"name": "rt2", "rotate_refresh_tokens": True})
    issued = served.control("POST", "oauth/refresh-tokens", {"client_id": app["client_id"]})  # type: ignore[index]
    env = {
        **_no_soap(inproc),
        "SFBULK_AUTH": "refresh-token",
        "SFBULK_CLIENT_ID": app["client_id"],  # type: ignore[index]
        "SFBULK_CLIENT_SECRET": app["client_secret"],  # type: ignore[index]
        "SFBULK_REFRESH_TOKEN": issued["refresh_token"],  # type: ignore[index]
    }
    assert inproc("login", env=env).returncode == 0
    profile = json.loads((inproc.home / "profile.json").read_text())
    assert profile["grant_identity"].startswith("token-sha256:")
    assert issued["refresh_token"] not in json.dumps(profile)  # type: ignore[index]
    before = served.control("GET", "oauth/stats")
    for _ in range(3):  # each command after a refresh that rotated the token
        served.control("POST", "expire-sessions", {})
        _query_works(inproc, {**env, "SFBULK_REFRESH_TOKEN": ""})
    after = served.control("GET", "oauth/stats")
    assert after["refresh_token_reuse"] == before["refresh_token_reuse"]  # type: ignore[index]
    assert after["families_revoked"] == before["families_revoked"]  # type: ignore[index]


def test_a_profile_from_before_grant_keys_still_finds_its_grant(
    served: Served, inproc: InProcess
) -> None:
    """Older profiles have no ``grant_identity``: their key was made with ``"grant"``."""
    app = served.control("POST", "oauth/apps", {"name": "rt3", "rotate_refresh_tokens": True})
    issued = served.control("POST", "oauth/refresh-tokens", {"client_id": app["client_id"]})  # type: ignore[index]
    env = {
        **_no_soap(inproc),
        "SFBULK_AUTH": "refresh-token",
        "SFBULK_CLIENT_ID": app["client_id"],  # type: ignore[index]
        "SFBULK_CLIENT_SECRET": app["client_secret"],  # type: ignore[index]
        "SFBULK_REFRESH_TOKEN": issued["refresh_token"],  # type: ignore[index]
    }
    assert inproc("login", env=env).returncode == 0
    path = inproc.home / "profile.json"
    profile = json.loads(path.read_text())
    store = FileStore(inproc.home / "sessions")
    grant = store.get_grant(profile["store_key"])
    assert grant is not None
    legacy = RefreshToken(
        profile["client_id"], "unused", identity="grant", login_url=profile["login_url"]
    )
    store.set_grant(session_key(legacy.fingerprint), grant)
    del profile["grant_identity"]
    path.write_text(json.dumps({**profile, "store_key": session_key(legacy.fingerprint)}))
    before = served.control("GET", "oauth/stats")
    for _ in range(2):
        served.control("POST", "expire-sessions", {})
        _query_works(inproc, {**env, "SFBULK_REFRESH_TOKEN": ""})
    after = served.control("GET", "oauth/stats")
    assert after["refresh_token_reuse"] == before["refresh_token_reuse"]  # type: ignore[index]
    assert store.get_grant(session_key(legacy.fingerprint)) != grant  # rotated in place


def test_soap_login_wrong_password_is_one_line(inproc: InProcess) -> None:
    done = inproc("login", env={"SFBULK_PASSWORD": "wrong-password-123"})
    assert done.returncode == 3
    lines = done.stderr.splitlines()  # a one-line deprecation warning, then the error
    assert lines[-1].startswith("sfbulk: error: INVALID_LOGIN")
    assert all(line.startswith("sfbulk: ") for line in lines) and len(lines) <= 2
    assert "wrong-password-123" not in done.stderr
    assert inproc("login").returncode == 0  # the refusal recorded in the store is cleared


def test_web_login_with_pkce_end_to_end(served: Served, cli: Cli) -> None:
    """``login --web`` as a process; the browser is an HTTP client following the redirects."""
    app = served.control("POST", "oauth/apps", {"name": "web", "require_secret_for_refresh": False})
    env = {
        **_no_soap(cli),
        "SFBULK_CLIENT_ID": app["client_id"],  # type: ignore[index]
        "BROWSER": f"{sys.executable} {BROWSER} %s",
        "SFBULK_TEST_BROWSER_CA": str(served.ca_file),
    }
    before = served.control("GET", "oauth/stats")
    code, shown = cli.json("login", "--web", "--callback-port", "0", env=env)
    assert code == 0, cli.seen[-2]
    shown_url = f"{served.url}/services/oauth2/authorize?response_type=code"
    assert shown_url in cli.seen[-2]  # stderr: the URL to visit, for when no browser opens
    assert "code_challenge_method=S256" in cli.seen[-2]
    assert shown["auth"] == "web" and shown["username"] == DEFAULT_USERNAME
    after = served.control("GET", "oauth/stats")
    grants = after["grants"]["authorization_code"]  # type: ignore[index]
    assert grants["successes"] == before["grants"]["authorization_code"]["successes"] + 1  # type: ignore[index]
    _query_works(cli, env)  # the grant in the store logs in again when needed
    code, out = cli.json("logout", env=env)
    assert code == 0 and out["revoked"] is True


def test_web_login_refused_when_the_user_is_not_approved(served: Served, inproc: InProcess) -> None:
    app = served.control(
        "POST", "oauth/apps", {"name": "closed", "approved_users": ["nobody@example.com"]}
    )
    env = {
        "SFBULK_CLIENT_ID": app["client_id"],  # type: ignore[index]
        "BROWSER": f"{sys.executable} {BROWSER} %s",
        "SFBULK_TEST_BROWSER_CA": str(served.ca_file),
    }
    done = inproc("login", "--web", "--callback-port", "0", env=env)
    assert done.returncode == 3 and "authorization refused: access_denied" in done.stderr


@pytest.mark.parametrize("flag", ["--password", "--client-secret", "--refresh-token", "--token"])
def test_no_secret_flag_exists(inproc: InProcess, flag: str) -> None:
    done = inproc("login", flag, "x")
    assert done.returncode == 2 and "No such option" in done.stderr


def test_a_failed_login_keeps_the_session_a_good_one_stored(inproc: InProcess) -> None:
    assert inproc("login").returncode == 0
    no_secrets = _no_soap(inproc)
    _query_works(inproc, no_secrets)
    wrong = inproc("login", env={"SFBULK_PASSWORD": "mistyped-password"})
    assert wrong.returncode == 3
    _query_works(inproc, no_secrets)  # the stored session still serves, though no secret is at hand


def test_later_commands_use_the_store_the_login_went_through(
    inproc: InProcess, tmp_path: Path
) -> None:
    store = tmp_path / "elsewhere"
    assert inproc("--store", str(store), "login").returncode == 0
    assert [p.suffix for p in store.iterdir()].count(".json") == 1  # the session, there
    _query_works(inproc, _no_soap(inproc))  # no --store: the profile's store serves
    done = inproc("logout", "--json", env=_no_soap(inproc))
    assert done.returncode == 0, done.stderr
    assert '"revoked": true' in done.stdout and '"forgotten": true' in done.stdout
    assert [p.suffix for p in store.iterdir()].count(".json") == 0
