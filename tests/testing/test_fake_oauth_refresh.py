"""The refresh-token flow: rotation, reuse detection revoking the family, revocation, counters.

With rotation on, a refresh token is good once: the refresh returns a new one
and the old one dies; reusing the dead one revokes the whole family, its
current refresh token and every access token it issued (Salesforce Help
005316711). With rotation off the same refresh token keeps working.
"""

from __future__ import annotations

import threading

import httpx
import pytest
from oauth_support import (
    assert_oauth_error,
    assert_token,
    client,
    expected_signature,
    open_job,
    session_works,
    token,
)

from sfbulk_sdk.testing import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    ExternalClientApp,
    FakeOrg,
    FakeOrgTransport,
    ManualClock,
)

MY_DOMAIN = "https://fake-org.my.salesforce.com"
EXPIRED = "expired access/refresh token"
SIGNED = ("access_token", "signature", "scope", "instance_url", "id", "token_type", "issued_at")


@pytest.fixture
def org(clock: ManualClock) -> FakeOrg:
    return FakeOrg(clock=clock, session_timeout=900)


def refresh(
    http: httpx.Client, app: ExternalClientApp, refresh_token: str, **changes: str
) -> httpx.Response:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
    }
    return token(http, **{**form, **changes})


def test_rotation_reuse_revokes_the_family(org: FakeOrg) -> None:
    app = org.oauth.add_app("Rotating", rotate_refresh_tokens=True)
    first = org.oauth.issue_refresh_token(app)
    with client(org, MY_DOMAIN) as http:
        body = assert_token(refresh(http, app, first), "refresh_token", *SIGNED)
        second, session = body["refresh_token"], body["access_token"]
        assert second != first and second.startswith("5Aep")
        assert body["scope"] == "api refresh_token"
        assert body["signature"] == expected_signature(
            app.client_secret, body["id"], body["issued_at"]
        )
        job_id = open_job(http, MY_DOMAIN, session)
        assert session_works(http, MY_DOMAIN, session, job_id)
        assert org.oauth.stats()["live_families"] == 1

        # the old token is dead, and using it kills the family: the current access token...
        assert_oauth_error(refresh(http, app, first), 400, "invalid_grant", EXPIRED)
        assert not session_works(http, MY_DOMAIN, session, job_id)
        # ...and the current refresh token
        assert_oauth_error(refresh(http, app, second), 400, "invalid_grant", EXPIRED)
    stats = org.oauth.stats()
    assert stats["refresh_token_reuse"] == 1
    assert stats["families_revoked"] == 1 and stats["live_families"] == 0
    assert stats["grants"]["refresh_token"] == {"requests": 3, "successes": 1, "failures": 2}
    assert stats["refresh_tokens_issued"] == 1 and stats["logins"] == 1


def test_rotation_keeps_every_new_token_good_once(org: FakeOrg) -> None:
    app = org.oauth.add_app(rotate_refresh_tokens=True)
    current = org.oauth.issue_refresh_token(app)
    sessions = []
    with client(org, MY_DOMAIN) as http:
        for _ in range(4):
            body = refresh(http, app, current).json()
            current = body["refresh_token"]
            sessions.append(body["access_token"])
        # access tokens of earlier refreshes stay valid until the family is revoked
        job_id = open_job(http, MY_DOMAIN, sessions[0])
        assert all(session_works(http, MY_DOMAIN, s, job_id) for s in sessions)
    stats = org.oauth.stats()
    assert stats["refresh_token_reuse"] == 0 and stats["live_families"] == 1
    assert stats["users"] == {DEFAULT_USERNAME: 4}


def test_without_rotation_the_same_token_keeps_working(org: FakeOrg) -> None:
    app = org.oauth.add_app()
    refresh_token = org.oauth.issue_refresh_token(app)
    with client(org, MY_DOMAIN) as http:
        sessions = [
            assert_token(refresh(http, app, refresh_token), *SIGNED)["access_token"]
            for _ in range(3)
        ]
        assert len(set(sessions)) == 3
        job_id = open_job(http, MY_DOMAIN, sessions[-1])
        assert all(session_works(http, MY_DOMAIN, s, job_id) for s in sessions)
    stats = org.oauth.stats()
    assert stats["refresh_token_reuse"] == 0 and stats["families_revoked"] == 0
    assert stats["grants"]["refresh_token"]["successes"] == 3


def test_turning_rotation_on_later_rotates_from_then_on(org: FakeOrg) -> None:
    app = org.oauth.add_app()
    first = org.oauth.issue_refresh_token(app)
    with client(org, MY_DOMAIN) as http:
        assert "refresh_token" not in refresh(http, app, first).json()
        app.rotate_refresh_tokens = True
        second = refresh(http, app, first).json()["refresh_token"]
        app.rotate_refresh_tokens = False  # a rotated token stays dead
        assert_oauth_error(refresh(http, app, first), 400, "invalid_grant", EXPIRED)
        assert_oauth_error(refresh(http, app, second), 400, "invalid_grant", EXPIRED)


def test_revoking_a_refresh_token_revokes_its_access_tokens(org: FakeOrg) -> None:
    app = org.oauth.add_app(rotate_refresh_tokens=True)
    refresh_token = org.oauth.issue_refresh_token(app)
    other = org.oauth.issue_refresh_token(app)  # another grant: untouched
    with client(org, MY_DOMAIN) as http:
        body = refresh(http, app, refresh_token).json()
        kept = refresh(http, app, other).json()["access_token"]
        job_id = open_job(http, MY_DOMAIN, body["access_token"])
        revoked = http.post("/services/oauth2/revoke", data={"token": body["refresh_token"]})
        assert revoked.status_code == 200 and revoked.content == b""
        assert not session_works(http, MY_DOMAIN, body["access_token"], job_id)
        assert session_works(http, MY_DOMAIN, kept, job_id)
        assert_oauth_error(refresh(http, app, body["refresh_token"]), 400, "invalid_grant", EXPIRED)
        again = http.post("/services/oauth2/revoke", data={"token": body["refresh_token"]})
        assert again.status_code == 400
    stats = org.oauth.stats()
    assert stats["families_revoked"] == 1 and stats["live_families"] == 1
    assert stats["refresh_token_reuse"] == 0 and stats["revocations"] == 1


def test_in_process_revocation_of_a_rotated_token_ends_the_family(org: FakeOrg) -> None:
    app = org.oauth.add_app(rotate_refresh_tokens=True)
    first = org.oauth.issue_refresh_token(app)
    with client(org, MY_DOMAIN) as http:
        second = refresh(http, app, first).json()["refresh_token"]
        assert org.oauth.revoke(first)  # a dead token of a live family: the family goes
        assert not org.oauth.revoke(first)
        assert_oauth_error(refresh(http, app, second), 400, "invalid_grant", EXPIRED)
    assert org.oauth.stats()["refresh_token_reuse"] == 0


def test_refresh_client_rules(org: FakeOrg) -> None:
    app = org.oauth.add_app()
    stranger = org.oauth.add_app("Another app")
    refresh_token = org.oauth.issue_refresh_token(app)
    with client(org, MY_DOMAIN) as http:
        form_without_secret = {
            "grant_type": "refresh_token", "refresh_token": refresh_token,
            "client_id": app.client_id,
        }  # fmt: skip
        assert_oauth_error(
            token(http, **form_without_secret),
            400, "invalid_client", "invalid client credentials",
        )  # fmt: skip
        app.require_secret_for_refresh = False
        assert token(http, **form_without_secret).status_code == 200
        assert_oauth_error(
            refresh(http, app, refresh_token, client_secret="wrong"),
            400, "invalid_client", "invalid client credentials",
        )  # fmt: skip
        # a token issued to another app, and an unknown one
        assert_oauth_error(refresh(http, stranger, refresh_token), 400, "invalid_grant", EXPIRED)
        assert_oauth_error(refresh(http, app, "5Aep861unknown"), 400, "invalid_grant", EXPIRED)
        assert_oauth_error(
            refresh(http, app, ""),
            400,
            "invalid_request",
            "missing required parameter: refresh_token",
        )
        # HTTP Basic works here too
        basic = http.post(
            "/services/oauth2/token",
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            auth=(app.client_id, app.client_secret),
        )
        assert basic.status_code == 200
        app.flows = frozenset({"password"})
        assert_oauth_error(
            refresh(http, app, refresh_token),
            400, "unsupported_grant_type", "grant type not supported",
        )  # fmt: skip
    assert org.oauth.stats()["refresh_token_reuse"] == 0


def test_counters_are_exact_under_concurrency(clock: ManualClock) -> None:
    org = FakeOrg(clock=clock)
    app = org.oauth.add_app(rotate_refresh_tokens=False)
    refresh_token = org.oauth.issue_refresh_token(app)
    password = DEFAULT_PASSWORD + DEFAULT_SECURITY_TOKEN
    rounds, workers = 15, 6
    errors: list[BaseException] = []

    def work(number: int) -> None:
        try:
            with httpx.Client(transport=FakeOrgTransport(org), base_url=MY_DOMAIN) as http:
                for i in range(rounds):
                    if (number + i) % 3 == 0:
                        refresh(http, app, refresh_token)
                    elif (number + i) % 3 == 1:
                        token(
                            http, grant_type="password", client_id=app.client_id,
                            client_secret=app.client_secret, username=DEFAULT_USERNAME,
                            password=password,
                        )  # fmt: skip
                    else:
                        token(http, grant_type="password", client_id=app.client_id)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    stats = org.oauth.stats()
    total = rounds * workers
    third = total // 3
    assert stats["grants"]["refresh_token"] == {
        "requests": third,
        "successes": third,
        "failures": 0,
    }
    assert stats["grants"]["password"] == {
        "requests": 2 * third, "successes": third, "failures": third,
    }  # fmt: skip
    assert stats["logins"] == 2 * third == org.stats()["all_logins"]
    assert stats["apps"][app.client_id] == {"successes": 2 * third, "failures": third}
    assert org.state.accounts.active_sessions == 2 * third
