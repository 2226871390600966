"""Each user's ``RefreshToken`` grant has its own store key, even for one app.

Two users authorise the same app (refresh-token rotation on) and their workers
share one store (a file store, real Redis): each client acts as its own user,
each refresh sends that user's refresh token, and no token is ever reused.
The key is a digest of the token host, the client id and the grant's identity:
the username given, or a one-way digest of the first refresh token (never the
token). A re-authorisation by the same user (same username, new token) replaces
the stored token under the same key.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import ServerProcess, sync_redis

from sfbulk_sdk import Bulk
from sfbulk_sdk.auth import RefreshToken
from sfbulk_sdk.errors import InvalidInputError
from sfbulk_sdk.stores import SessionStore, session_key
from sfbulk_sdk.stores.file import FileStore
from sfbulk_sdk.stores.redis import RedisStore
from sfbulk_sdk.testing import ExternalClientApp, FakeOrg, FakeOrgTransport

BOB = "bob@example.com"


@pytest.fixture
def org() -> FakeOrg:
    org = FakeOrg()
    org.add_user(BOB, "pw-bob")
    org.oauth.add_app("shared", client_id="shared-app", rotate_refresh_tokens=True)
    return org


@pytest.fixture
def app(org: FakeOrg) -> ExternalClientApp:
    return org.oauth.app("shared-app")


@pytest.fixture(params=["file", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SessionStore]:
    if request.param == "file":
        yield FileStore(tmp_path / "sessions")
        return
    server: ServerProcess = request.getfixturevalue("redis_server")
    client = sync_redis(server)
    try:
        yield RedisStore(client)
    finally:
        client.close()


def _alice(org: FakeOrg) -> str:
    return org.state.accounts.default.username


def _auth(
    org: FakeOrg, app: ExternalClientApp, token: str, username: str | None = None
) -> RefreshToken:
    keyed = {} if username is None else {"username": username}
    return RefreshToken(
        app.client_id, token, client_secret=app.client_secret, login_url=org.instance_url, **keyed
    )


def _job_owner(org: FakeOrg, store: SessionStore, auth: RefreshToken, prefix: str) -> str:
    """Who a job created through ``auth`` and ``store`` belongs to."""
    options = {"key_prefix": prefix}
    with Bulk(
        auth=auth, store=store, transport=FakeOrgTransport(org), session_options=options
    ) as bulk:
        job = bulk.create_job("insert", "Account")
    names = {user.user_id: user.username for user in org.state.accounts.users}
    return names.get(job.created_by_id or "", str(job.created_by_id))


def test_grants_of_different_users_never_share_a_key(org: FakeOrg, app: ExternalClientApp) -> None:
    alice_token = org.oauth.issue_refresh_token(app, _alice(org))
    bob_token = org.oauth.issue_refresh_token(app, BOB)
    # without a username: a digest of the first token tells the grants apart
    assert _auth(org, app, alice_token).fingerprint != _auth(org, app, bob_token).fingerprint
    assert _auth(org, app, alice_token).fingerprint == _auth(org, app, alice_token).fingerprint
    # with one: the username does (any case), whatever token the user holds now
    alice = _auth(org, app, alice_token, username=_alice(org))
    assert alice.fingerprint != _auth(org, app, bob_token, username=BOB).fingerprint
    again = _auth(org, app, "5Aep8-a-newer-token", username=_alice(org).upper())
    assert again.fingerprint == alice.fingerprint
    assert (alice.username, alice.identity) == (_alice(org), _alice(org).lower())


def test_two_users_sharing_a_store_each_act_as_themselves(
    org: FakeOrg, app: ExternalClientApp, store: SessionStore
) -> None:
    prefix = f"t-{uuid.uuid4().hex[:8]}:"
    alice_token = org.oauth.issue_refresh_token(app, _alice(org))
    bob_token = org.oauth.issue_refresh_token(app, BOB)
    for _ in range(2):  # a fresh login each, then (sessions expired) a refresh each
        assert _job_owner(org, store, _auth(org, app, alice_token), prefix) == _alice(org)
        assert _job_owner(org, store, _auth(org, app, bob_token), prefix) == BOB
        org.expire_sessions()
    assert _job_owner(org, store, _auth(org, app, alice_token), prefix) == _alice(org)
    stats = org.oauth.stats()
    assert stats["refresh_token_reuse"] == 0
    assert stats["users"] == {_alice(org): 3, BOB: 2}


def test_a_re_authorisation_by_the_same_user_replaces_the_stored_token(
    org: FakeOrg, app: ExternalClientApp, store: SessionStore
) -> None:
    prefix = f"t-{uuid.uuid4().hex[:8]}:"
    first = org.oauth.issue_refresh_token(app, BOB)
    assert _job_owner(org, store, _auth(org, app, first, username=BOB), prefix) == BOB
    org.expire_sessions()
    # the user authorises the app again: a new token under the same key replaces the old
    second = org.oauth.issue_refresh_token(app, BOB)
    auth = _auth(org, app, second, username=BOB)
    assert _job_owner(org, store, auth, prefix) == BOB
    grant = store.get_grant(session_key(auth.fingerprint, prefix=prefix))  # type: ignore[attr-defined]
    assert grant is not None and grant.revoked_at is None
    assert auth.initial_token_digest in grant.history  # rotated away from the new token
    # a worker still started with the first token uses the store's current one
    org.expire_sessions()
    assert _job_owner(org, store, _auth(org, app, first, username=BOB), prefix) == BOB
    assert org.oauth.stats()["refresh_token_reuse"] == 0


def test_the_identity_is_no_secret_and_is_checked(org: FakeOrg, app: ExternalClientApp) -> None:
    token = org.oauth.issue_refresh_token(app, BOB)
    auth = _auth(org, app, token)
    assert auth.identity.startswith("token-sha256:") and auth.username is None
    for shown in (auth.identity, auth.fingerprint, repr(auth)):
        assert token not in shown
    assert RefreshToken("c", token, identity="App-User-42").identity == "app-user-42"
    for bad in (
        {"username": BOB, "identity": "x"},
        {"username": " "},
        {"identity": ""},
        {"identity": token},
    ):
        with pytest.raises(InvalidInputError) as caught:
            RefreshToken("c", token, **bad)  # type: ignore[arg-type]
        assert token not in str(caught.value)
