"""``POST /services/oauth2/introspect`` (RFC 7662): what a client reads to learn a token's expiry.

An active token of the asking app answers its user, scopes and type, and an
access token its expiry (``exp``, seconds); a token that is unknown, expired,
revoked, rotated away or another app's answers ``{"active": false}``. The app
authenticates with its client id and secret (form or HTTP Basic).
"""

from __future__ import annotations

import httpx
from oauth_support import client, token

from sfbulk_sdk.testing import DEFAULT_USERNAME, ExternalClientApp, FakeOrg, ManualClock

MY_DOMAIN = "https://fake-org.my.salesforce.com"


def _introspect(
    http: httpx.Client, app: ExternalClientApp, value: str, **auth: str
) -> httpx.Response:
    form = {"token": value, "client_id": app.client_id, "client_secret": app.client_secret}
    return http.post("/services/oauth2/introspect", data={**form, **auth})


def _refresh(http: httpx.Client, app: ExternalClientApp, refresh_token: str) -> dict[str, str]:
    reply = token(
        http,
        grant_type="refresh_token",
        refresh_token=refresh_token,
        client_id=app.client_id,
        client_secret=app.client_secret,
    )
    assert reply.status_code == 200, reply.text
    body: dict[str, str] = reply.json()
    return body


def test_an_access_token_is_described_with_its_expiry(clock: ManualClock) -> None:
    org = FakeOrg(clock=clock, session_timeout=900)
    app = org.oauth.add_app(rotate_refresh_tokens=True)
    with client(org, MY_DOMAIN) as http:
        body = _refresh(http, app, org.oauth.issue_refresh_token(app))
        reply = _introspect(http, app, body["access_token"])
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("application/json")
        seen = reply.json()
        assert seen["active"] is True and seen["token_type"] == "access_token"
        assert seen["client_id"] == app.client_id and seen["username"] == DEFAULT_USERNAME
        assert seen["sub"] == body["id"] and seen["scope"] == body["scope"]
        assert seen["exp"] == int(clock.now().timestamp()) + 900
        assert seen["iat"] == seen["nbf"] == seen["exp"] - 900
        clock.advance(901)  # idle past the session timeout
        assert _introspect(http, app, body["access_token"]).json() == {"active": False}


def test_refresh_tokens_rotated_or_revoked_are_no_longer_active(clock: ManualClock) -> None:
    org = FakeOrg(clock=clock)
    app = org.oauth.add_app(rotate_refresh_tokens=True)
    first = org.oauth.issue_refresh_token(app)
    with client(org, MY_DOMAIN) as http:
        assert _introspect(http, app, first).json()["token_type"] == "refresh_token"
        second = _refresh(http, app, first)["refresh_token"]
        assert _introspect(http, app, first).json() == {"active": False}  # rotated away
        live = _introspect(http, app, second).json()
        assert live["active"] is True and "exp" not in live
        assert http.post("/services/oauth2/revoke", data={"token": second}).status_code == 200
        assert _introspect(http, app, second).json() == {"active": False}


def test_only_the_app_that_holds_a_token_sees_it_active() -> None:
    org = FakeOrg()
    mine, other = org.oauth.add_app(), org.oauth.add_app()
    with client(org, MY_DOMAIN) as http:
        access = _refresh(http, mine, org.oauth.issue_refresh_token(mine))["access_token"]
        assert _introspect(http, other, access).json() == {"active": False}
        assert _introspect(http, mine, "not-a-token").json() == {"active": False}
        basic = http.post(
            "/services/oauth2/introspect",
            data={"token": access},
            auth=(mine.client_id, mine.client_secret),
        )
        assert basic.json()["active"] is True


def test_a_bad_client_or_request_is_an_oauth_error() -> None:
    org = FakeOrg()
    app = org.oauth.add_app()
    with client(org, MY_DOMAIN) as http:
        wrong = _introspect(http, app, "x", client_secret="not-the-secret")
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_client"
        unknown = _introspect(http, app, "x", client_id="3MVG9unknown")
        assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_client_id"
        missing = http.post("/services/oauth2/introspect", data={"client_id": app.client_id})
        assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
        assert http.get("/services/oauth2/introspect").json()["error"] == "invalid_request"


def test_a_client_credentials_token_holds_no_refresh_scope() -> None:
    org = FakeOrg()
    app = org.oauth.add_app(run_as=DEFAULT_USERNAME)
    with client(org, MY_DOMAIN) as http:
        reply = token(
            http,
            grant_type="client_credentials",
            client_id=app.client_id,
            client_secret=app.client_secret,
        )
        assert reply.status_code == 200, reply.text
        seen = _introspect(http, app, reply.json()["access_token"]).json()
    assert seen["active"] is True and seen["scope"] == reply.json()["scope"] == "api"
