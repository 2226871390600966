"""The fake's OAuth answers have the shape of every recorded OAuth body.

For each body under ``../shared/fixtures/oauth`` (``SOURCES.md`` there says
which request produced it) the same kind of request is sent to the fake; its
answer must have the recorded status, the same keys with the same kinds of
values (an ``issued_at`` of digits, a session id, URLs with the same path
pattern) and, for errors, exactly the two keys ``error`` and
``error_description`` with the recorded code. Every answer is JSON with
``Cache-Control: no-store``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fakeorg_support import value_kind
from oauth_support import JWT_BEARER, KeyPair, assertion, client, token

from sfbulk_sdk.testing import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    FakeOrg,
    ManualClock,
)

MY_DOMAIN = "https://fake-org.my.salesforce.com"
#: ``token_type`` is absent from the REST guide's old example but listed by the
#: spec (§1.3) as one of the three fields every answer has.
SUCCESS_EXTRAS = frozenset({"token_type"})

Ask = Callable[[FakeOrg, httpx.Client, KeyPair], httpx.Response]


def _password(org: FakeOrg, http: httpx.Client, keys: KeyPair, *, password: str) -> httpx.Response:
    app = org.oauth.add_app()
    return token(
        http, grant_type="password", client_id=app.client_id, client_secret=app.client_secret,
        username=DEFAULT_USERNAME, password=password,
    )  # fmt: skip


def password_success(org: FakeOrg, http: httpx.Client, keys: KeyPair) -> httpx.Response:
    return _password(org, http, keys, password=DEFAULT_PASSWORD + DEFAULT_SECURITY_TOKEN)


def password_wrong(org: FakeOrg, http: httpx.Client, keys: KeyPair) -> httpx.Response:
    return _password(org, http, keys, password="wrong")


def jwt_my_domain_audience(org: FakeOrg, http: httpx.Client, keys: KeyPair) -> httpx.Response:
    app = org.oauth.add_app(certificate=keys.certificate)
    signed = assertion(
        keys.private_key, iss=app.client_id, sub=DEFAULT_USERNAME, aud=MY_DOMAIN,
        exp=org.clock().timestamp() + 60,
    )  # fmt: skip
    return token(http, grant_type=JWT_BEARER, assertion=signed)


def refresh_revoked(org: FakeOrg, http: httpx.Client, keys: KeyPair) -> httpx.Response:
    app = org.oauth.add_app()
    refresh_token = org.oauth.issue_refresh_token(app)
    assert org.oauth.revoke(refresh_token)
    return token(
        http, grant_type="refresh_token", refresh_token=refresh_token,
        client_id=app.client_id, client_secret=app.client_secret,
    )  # fmt: skip


#: fixture path -> (HTTP status it was answered with, the same kind of request to the fake)
CASES: dict[str, tuple[int, Ask]] = {
    "oauth/token_success_password_flow_docs_example_restforce.json": (200, password_success),
    "oauth/token_error_invalid_grant_invalid_password_restforce.json": (400, password_wrong),
    "oauth/docs/token_error_jwt_invalid_grant_audience.json": (400, jwt_my_domain_audience),
    "oauth/docs/token_error_refresh_invalid_grant_expired.json": (400, refresh_revoked),
}


def test_every_oauth_fixture_is_covered(shared_fixtures: Path) -> None:
    present = {
        str(p.relative_to(shared_fixtures).as_posix())
        for p in (shared_fixtures / "oauth").rglob("*")
        if p.is_file() and p.name != "SOURCES.md"
    }
    assert present == set(CASES)


def kinds(body: dict[str, object]) -> dict[str, str]:
    return {
        key: value_kind(value) if isinstance(value, str) else type(value).__name__
        for key, value in body.items()
    }


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_fake_answers_in_the_recorded_shape(
    shared_fixtures: Path, clock: ManualClock, keys: KeyPair, name: str
) -> None:
    recorded = json.loads((shared_fixtures / name).read_text(encoding="utf-8"))
    status, ask = CASES[name]
    org = FakeOrg(clock=clock)
    with client(org, MY_DOMAIN) as http:
        reply = ask(org, http, keys)
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["cache-control"] == "no-store"
    answer = reply.json()
    if status != 200:
        assert list(answer) == ["error", "error_description"] == list(recorded)
        assert answer["error"] == recorded["error"]
        if name.startswith("oauth/docs/"):  # the documented bodies, word for word
            assert answer == recorded
        else:  # the 2012 wording extends today's (spec §1.3)
            assert recorded["error_description"].startswith(answer["error_description"] + " - ")
        return
    assert set(answer) - set(recorded) == SUCCESS_EXTRAS
    assert kinds({k: v for k, v in answer.items() if k in recorded}) == kinds(recorded)
    assert answer["issued_at"].isdigit() and answer["token_type"] == "Bearer"
