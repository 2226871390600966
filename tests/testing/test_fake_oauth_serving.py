"""OAuth over HTTPS with the real server, set up and watched through ``/_fake/oauth`` controls."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from fakeorg_support import Tls
from oauth_support import (
    JWT_BEARER,
    LOGIN,
    assert_oauth_error,
    assert_token,
    assertion,
    open_job,
    session_works,
)

from sfbulk_sdk.testing import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    FakeOrg,
    ManualClock,
)
from tests.keys import KeyPair

pytest.importorskip("uvicorn")
pytest.importorskip("starlette")

from sfbulk_sdk.testing.server import serve_in_thread


@pytest.fixture
def served(clock: ManualClock, tls: Tls) -> Iterator[tuple[FakeOrg, httpx.Client, str]]:
    org = FakeOrg(clock=clock)
    with serve_in_thread(org, certfile=tls.cert_file, keyfile=tls.key_file) as url:
        trust = ssl.create_default_context(cafile=str(tls.ca_file))
        with httpx.Client(base_url=url, verify=trust) as http:
            yield org, http, url


def test_refresh_and_jwt_over_https(
    served: tuple[FakeOrg, httpx.Client, str], keys: KeyPair
) -> None:
    org, http, url = served
    created = http.post(
        "/_fake/oauth/apps",
        json={"name": "Served", "certificate": keys.certificate, "rotate_refresh_tokens": True},
    )
    assert created.status_code == 201, created.text
    app = created.json()
    assert app["client_secret"] and app["has_certificate"] and app["rotate_refresh_tokens"]
    issued = http.post("/_fake/oauth/refresh-tokens", json={"client_id": app["client_id"]})
    assert issued.status_code == 201
    assert issued.json()["username"] == DEFAULT_USERNAME
    assert issued.json()["scope"] == "api refresh_token"

    refreshed = assert_token(
        http.post(
            "/services/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": issued.json()["refresh_token"],
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
            },
        ),
        "access_token", "refresh_token", "signature", "scope", "instance_url", "id",
        "token_type", "issued_at",
    )  # fmt: skip
    assert refreshed["instance_url"] == url  # the served org, as the client reached it

    signed = assertion(
        keys.private_key, iss=app["client_id"], sub=DEFAULT_USERNAME, aud=LOGIN,
        exp=org.clock().timestamp() + 60,
    )  # fmt: skip
    login = http.post(
        "/services/oauth2/token", data={"grant_type": JWT_BEARER, "assertion": signed}
    )
    jwt_session = assert_token(login, "access_token", "scope", "instance_url", "id", "token_type")
    job_id = open_job(http, url, jwt_session["access_token"])
    assert session_works(http, url, refreshed["access_token"], job_id)

    oauth = http.get("/_fake/oauth/stats").json()
    assert oauth["grants"]["refresh_token"] == {"requests": 1, "successes": 1, "failures": 0}
    assert oauth["grants"]["jwt_bearer"] == {"requests": 1, "successes": 1, "failures": 0}
    assert oauth["logins"] == 2 and oauth["live_families"] == 1
    assert oauth["users"] == {DEFAULT_USERNAME: 2}
    stats = http.get("/_fake/stats").json()
    assert stats["all_logins"] == 2 and stats["logins"] == 0 and stats["oauth"] == oauth
    assert app["client_secret"] not in http.get("/_fake/oauth/apps").text


def test_client_credentials_on_the_served_host(served: tuple[FakeOrg, httpx.Client, str]) -> None:
    _, http, url = served
    app = http.post("/_fake/oauth/apps", json={"run_as": DEFAULT_USERNAME, "scopes": "api"}).json()
    reply = http.post(
        "/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(app["client_id"], app["client_secret"]),
    )  # the served host is the org's own domain: accepted
    body = assert_token(
        reply, "access_token", "signature", "scope", "instance_url", "id", "token_type",
        "issued_at",
    )  # fmt: skip
    assert body["scope"] == "api" and body["instance_url"] == url
    # a client that says it is posting to login.salesforce.com is refused
    refused = http.post(
        "/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(app["client_id"], app["client_secret"]),
        headers={"Host": "login.salesforce.com"},
    )
    assert_oauth_error(refused, 400, "invalid_grant", "request not supported on this domain")


def test_oauth_controls(served: tuple[FakeOrg, httpx.Client, str]) -> None:
    org, http, _ = served
    created = http.post(
        "/_fake/oauth/apps",
        json={
            "name": "Configured",
            "client_id": "3MVG9configured",
            "client_secret": "s3cret",
            "scopes": ["api", "refresh_token"],
            "flows": ["refresh_token", "password"],
            "approved_users": [DEFAULT_USERNAME],
            "require_secret_for_refresh": False,
        },
    )
    assert created.status_code == 201
    assert created.json() == {
        "name": "Configured",
        "client_id": "3MVG9configured",
        "client_secret": "s3cret",
        "has_certificate": False,
        "rotate_refresh_tokens": False,
        "run_as": None,
        "scopes": ["api", "refresh_token"],
        "flows": ["password", "refresh_token"],
        "approved_users": [DEFAULT_USERNAME],
        "require_secret_for_refresh": False,
    }
    patched = http.patch(
        "/_fake/oauth/apps/3MVG9configured",
        json={"rotate_refresh_tokens": True, "approved_users": None},
    )
    assert patched.status_code == 200 and patched.json()["rotate_refresh_tokens"] is True
    assert "client_secret" not in patched.json()
    assert org.oauth.app("3MVG9configured").approved_users is None
    listed = http.get("/_fake/oauth/apps").json()
    assert [a["client_id"] for a in listed] == ["3MVG9configured"]

    sites = http.post("/_fake/oauth/site-urls", json={"url": "https://org.my.site.com/s"})
    assert sites.status_code == 201 and sites.json() == {"site_urls": ["https://org.my.site.com/s"]}
    narrowed = http.post(
        "/_fake/oauth/refresh-tokens", json={"client_id": "3MVG9configured", "scopes": ["api"]}
    )
    assert narrowed.status_code == 201 and narrowed.json()["scope"] == "api"

    bad = [
        http.post("/_fake/oauth/apps", json={"colour": "red"}),
        http.post("/_fake/oauth/apps", json={"flows": ["device"]}),
        http.post("/_fake/oauth/apps", json={"rotate_refresh_tokens": "yes"}),
        http.post("/_fake/oauth/apps", json={"client_id": "3MVG9configured"}),
        http.post("/_fake/oauth/apps", json=["not", "an", "object"]),
        http.patch("/_fake/oauth/apps/3MVG9configured", json={"client_secret": "x"}),
        http.patch("/_fake/oauth/apps/3MVG9configured", json={"name": "Renamed"}),
        http.post("/_fake/oauth/site-urls", json={"url": "ftp://nope"}),
        http.post("/_fake/oauth/refresh-tokens", json={"client_id": 7}),
    ]
    assert [r.status_code for r in bad] == [400] * len(bad)
    missing = [
        http.patch("/_fake/oauth/apps/3MVG9nobody", json={}),
        http.post("/_fake/oauth/refresh-tokens", json={"client_id": "3MVG9nobody"}),
        http.post(
            "/_fake/oauth/refresh-tokens",
            json={"client_id": "3MVG9configured", "username": "ghost@example.com"},
        ),
        http.post("/_fake/oauth/apps", json={"run_as": "ghost@example.com"}),
        http.get("/_fake/oauth/nothing"),
    ]
    assert [r.status_code for r in missing] == [404] * len(missing)
    assert org.oauth.stats()["refresh_tokens_issued"] == 1


def test_sfbulk_fake_org_serves_oauth(tls: Tls) -> None:
    pytest.importorskip("typer")
    command = [
        sys.executable, "-c", "from sfbulk_sdk.cli import main; main()", "fake-org",
        "--port", "0", "--certfile", str(tls.cert_file), "--keyfile", str(tls.key_file),
        "--username", "cli@example.com", "--password", "pw", "--security-token", "TOK",
        "--log-level", "warning",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    ) as process:
        try:
            assert process.stdout is not None
            banner = [process.stdout.readline() for _ in range(9)]
            url = banner[0].split()[-1]
            assert any("/services/oauth2/token" in line for line in banner)
            trust = ssl.create_default_context(cafile=str(tls.ca_file))
            with httpx.Client(base_url=url, verify=trust) as http:
                app = http.post("/_fake/oauth/apps", json={"name": "CLI"}).json()
                login = http.post(
                    "/services/oauth2/token",
                    data={
                        "grant_type": "password", "client_id": app["client_id"],
                        "client_secret": app["client_secret"], "username": "cli@example.com",
                        "password": "pwTOK",
                    },
                )  # fmt: skip
                assert login.status_code == 200 and login.json()["instance_url"] == url
                stats = http.get("/_fake/stats").json()
                assert stats["all_logins"] == 1 and stats["oauth"]["users"] == {
                    "cli@example.com": 1
                }
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_simple_salesforce_oauth_logins(
    tls: Tls, keys: KeyPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """simple-salesforce, unchanged: password, JWT bearer and client credentials."""
    requests = pytest.importorskip("requests")
    simple_salesforce = pytest.importorskip("simple_salesforce")
    from cryptography.hazmat.primitives import serialization

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_file))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(tls.ca_file))
    org = FakeOrg()  # simple-salesforce signs its assertions with the system clock
    app = org.oauth.add_app(
        "simple-salesforce", certificate=keys.certificate, run_as=DEFAULT_USERNAME
    )
    private_pem = keys.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    with serve_in_thread(org, certfile=tls.cert_file, keyfile=tls.key_file) as url:
        host = url.removeprefix("https://")
        with requests.Session() as session:
            password = simple_salesforce.Salesforce(
                # with security_token= it would log in through SOAP: append the token here
                username=DEFAULT_USERNAME, password=DEFAULT_PASSWORD + DEFAULT_SECURITY_TOKEN,
                consumer_key=app.client_id,
                consumer_secret=app.client_secret, domain=f"{host}/login", session=session,
            )  # fmt: skip
            jwt_login = simple_salesforce.Salesforce(
                username=DEFAULT_USERNAME, consumer_key=app.client_id, privatekey=private_pem,
                domain="login", instance_url=f"{host}/my", session=session,
            )  # fmt: skip
            client_credentials = simple_salesforce.Salesforce(
                consumer_key=app.client_id, consumer_secret=app.client_secret,
                domain=f"{host}/my", session=session,
            )  # fmt: skip
            for sf in (password, jwt_login, client_credentials):
                assert sf.bulk_url.startswith(f"{url}/services/async/")
                assert org.state.accounts.authenticate(sf.session_id) is not None
            with pytest.raises(simple_salesforce.SalesforceAuthenticationFailed):
                simple_salesforce.Salesforce(  # client credentials at login.salesforce.com
                    consumer_key=app.client_id, consumer_secret=app.client_secret,
                    domain=f"{host}/login", session=session,
                )  # fmt: skip
    grants = org.oauth.stats()["grants"]
    assert [grants[g]["successes"] for g in ("password", "jwt_bearer", "client_credentials")] == [
        1, 1, 1,
    ]  # fmt: skip
    assert grants["client_credentials"]["failures"] == 1 and org.login_count == 0
