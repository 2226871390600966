"""The fake org's ``/services/oauth2/authorize``: approve at once, redirect with a PKCE code."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport
from sfbulk_sdk.testing.oauth import pkce_challenge

REDIRECT = "http://127.0.0.1:1717/OauthRedirect"
VERIFIER = "v" * 43 + "-erifier_0123456789"


def _authorize(http: httpx.Client, client_id: str, **extra: str) -> dict[str, list[str]]:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "code_challenge": pkce_challenge(VERIFIER),
        "code_challenge_method": "S256",
        "state": "st4te",
        **extra,
    }
    reply = http.get("/services/oauth2/authorize", params=params)
    assert reply.status_code == 302
    location = reply.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return parse_qs(urlsplit(location).query)


def _exchange(http: httpx.Client, client_id: str, code: str, verifier: str) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": client_id,
        "code_verifier": verifier,
    }
    return http.post("/services/oauth2/token", data=form)


@pytest.fixture
def http() -> httpx.Client:
    org = FakeOrg()
    client = httpx.Client(transport=FakeOrgTransport(org), base_url=org.instance_url)
    client.org = org  # type: ignore[attr-defined]
    return client


def test_code_with_pkce_gives_tokens_once(http: httpx.Client) -> None:
    org: FakeOrg = http.org  # type: ignore[attr-defined]
    app = org.oauth.add_app("cli", rotate_refresh_tokens=True)
    query = _authorize(http, app.client_id)
    assert query["state"] == ["st4te"]
    code = query["code"][0]
    reply = _exchange(http, app.client_id, code, VERIFIER)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["refresh_token"] and body["access_token"]
    assert body["instance_url"] == org.instance_url
    # the refresh token is a live grant: refreshing it works (and rotates)
    refreshed = http.post(
        "/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": body["refresh_token"],
            "client_id": app.client_id,
            "client_secret": app.client_secret,
        },
    )
    assert (
        refreshed.status_code == 200 and refreshed.json()["refresh_token"] != body["refresh_token"]
    )
    # a code is good once
    again = _exchange(http, app.client_id, code, VERIFIER)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    grants = org.oauth.stats()["grants"]["authorization_code"]
    assert grants == {"requests": 2, "successes": 1, "failures": 1}


def test_wrong_verifier_or_redirect_is_refused(http: httpx.Client) -> None:
    org: FakeOrg = http.org  # type: ignore[attr-defined]
    app = org.oauth.add_app("cli")
    code = _authorize(http, app.client_id)["code"][0]
    wrong = _exchange(http, app.client_id, code, "another-verifier-" + "x" * 40)
    assert wrong.json() == {"error": "invalid_grant", "error_description": "invalid code verifier"}
    code = _authorize(http, app.client_id)["code"][0]
    moved = http.post(
        "/services/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://127.0.0.1:9/elsewhere",
            "client_id": app.client_id,
            "code_verifier": VERIFIER,
        },
    )
    assert moved.json()["error_description"] == "redirect_uri must match configuration"


def test_authorize_errors_go_back_to_the_redirect(http: httpx.Client) -> None:
    org: FakeOrg = http.org  # type: ignore[attr-defined]
    app = org.oauth.add_app("cli", approved_users=["someone.else@example.com"])
    assert _authorize(http, app.client_id)["error"] == ["access_denied"]
    other = org.oauth.add_app("token", flows=["refresh_token"])
    assert _authorize(http, other.client_id)["error"] == ["invalid_request"]
    assert _authorize(http, app.client_id, response_type="token")["error"] == [
        "unsupported_response_type"
    ]
    unknown = http.get("/services/oauth2/authorize", params={"client_id": "nope"})
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_client_id"
