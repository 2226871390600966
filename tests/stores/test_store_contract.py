"""The session-store contract, run against every backend (memory, file, Redis,
MongoDB), sync and async: see ``store_case`` in ``conftest.py``. The optional
refresh-token grant methods (``GrantStore``) are at the end."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import traceback
import uuid
from datetime import timedelta
from typing import Any

import anyio
import anyio.to_thread
import pytest
from pydantic import SecretStr
from pymongo.errors import PyMongoError
from redis.exceptions import RedisError
from session_fakes import (
    SECRET_MARK,
    StoreCase,
    grant_path,
    make_grant,
    make_session,
    new_refresh_token,
    put_raw_grant,
    settle,
    stored_grant,
)

from sfbulk_sdk.core.grants import MAX_HISTORY
from sfbulk_sdk.core.session_state import credential_digest
from sfbulk_sdk.errors import (
    InvalidInputError,
    LockTimeoutError,
    SessionError,
    SessionStoreError,
)
from sfbulk_sdk.models.session import Session
from sfbulk_sdk.stores import (
    AsyncGrantStore,
    AsyncSessionStore,
    GrantRecord,
    GrantStore,
    LoginFailure,
    SessionStore,
    grant_key,
)

pytestmark = pytest.mark.anyio

JSON_SCALARS = (str, int, float, bool, type(None))


def new_key() -> str:
    return f"sfbulk:session:test-{uuid.uuid4().hex}"


def is_json_value(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_json_value(v) for k, v in value.items())
    if isinstance(value, list):
        return all(is_json_value(v) for v in value)
    return isinstance(value, JSON_SCALARS)


def secret_of(session: Session) -> str:
    return session.session_id.get_secret_value()


async def test_store_implements_its_protocol(store_case: StoreCase) -> None:
    protocol = SessionStore if store_case.mode == "sync" else AsyncSessionStore
    assert isinstance(store_case.inner, protocol)


async def test_get_of_a_missing_key_is_none(store_case: StoreCase) -> None:
    assert await store_case.store.get(new_key()) is None


async def test_set_then_get_round_trips_every_field(store_case: StoreCase) -> None:
    key = new_key()
    session = make_session(store_case.clock(), seconds_valid=3600)
    await store_case.store.set(key, session, 600)
    found = await store_case.store.get(key)
    assert isinstance(found, Session)
    assert found == session
    assert secret_of(found) == secret_of(session)
    assert found.instance_url == "https://fake-org.my.salesforce.com"
    assert found.seconds_valid == 3600
    assert found.expires_at == session.expires_at


async def test_set_overwrites_and_keys_are_independent(store_case: StoreCase) -> None:
    key, other = new_key(), new_key()
    first = make_session(store_case.clock())
    second = make_session(store_case.clock())
    await store_case.store.set(key, first, 600)
    await store_case.store.set(other, first, 600)
    await store_case.store.set(key, second, 600)
    assert secret_of(await store_case.store.get(key)) == secret_of(second)
    assert secret_of(await store_case.store.get(other)) == secret_of(first)


async def test_an_entry_expires_after_its_ttl(store_case: StoreCase) -> None:
    key = new_key()
    await store_case.store.set(key, make_session(store_case.clock()), 600)
    store_case.clock.advance(590)
    assert await store_case.store.get(key) is not None
    store_case.clock.advance(11)
    assert await store_case.store.get(key) is None


async def test_a_session_past_its_own_expiry_is_never_returned(store_case: StoreCase) -> None:
    key = new_key()
    now = store_case.clock()
    # Last used 7100 s ago: 100 s of its 7200 s left, though stored for 600 s.
    session = make_session(now).touched(now - timedelta(seconds=7100))
    await store_case.store.set(key, session, 600)
    assert await store_case.store.get(key) is not None
    store_case.clock.advance(101)
    assert await store_case.store.get(key) is None


@pytest.mark.parametrize("ttl", [0, -5, math.nan, math.inf])
async def test_set_rejects_a_ttl_that_is_not_a_positive_number(
    store_case: StoreCase, ttl: float
) -> None:
    with pytest.raises(InvalidInputError):
        await store_case.store.set(new_key(), make_session(store_case.clock()), ttl)


async def test_compare_and_delete_deletes_only_the_rejected_id(store_case: StoreCase) -> None:
    key = new_key()
    stored = make_session(store_case.clock())
    await store_case.store.set(key, stored, 600)

    assert await store_case.store.compare_and_delete(key, f"{SECRET_MARK}-not-this-one") is False
    assert secret_of(await store_case.store.get(key)) == secret_of(stored)

    assert await store_case.store.compare_and_delete(key, secret_of(stored)) is True
    assert await store_case.store.get(key) is None
    assert await store_case.store.compare_and_delete(key, secret_of(stored)) is False


async def test_compare_and_delete_of_a_missing_key_is_false(store_case: StoreCase) -> None:
    assert await store_case.store.compare_and_delete(new_key(), "anything") is False


async def test_renew_rewrites_the_same_session_and_extends_its_ttl(store_case: StoreCase) -> None:
    key = new_key()
    session = make_session(store_case.clock())
    await store_case.store.set(key, session, 100)
    store_case.clock.advance(90)
    used = session.touched(store_case.clock())
    assert await store_case.store.renew(key, used, 100) is True
    store_case.clock.advance(50)  # past the first ttl, within the renewed one
    found = await store_case.store.get(key)
    assert found is not None
    assert found.last_used_at == used.last_used_at
    assert secret_of(found) == secret_of(session)


async def test_renew_never_replaces_another_session(store_case: StoreCase) -> None:
    key = new_key()
    current = make_session(store_case.clock())
    stale = make_session(store_case.clock())
    await store_case.store.set(key, current, 600)
    assert await store_case.store.renew(key, stale.touched(store_case.clock()), 600) is False
    assert secret_of(await store_case.store.get(key)) == secret_of(current)


async def test_renew_never_resurrects_a_deleted_or_expired_entry(store_case: StoreCase) -> None:
    key = new_key()
    session = make_session(store_case.clock())
    assert await store_case.store.renew(key, session, 600) is False
    assert await store_case.store.get(key) is None

    await store_case.store.set(key, session, 10)
    store_case.clock.advance(11)
    assert await store_case.store.renew(key, session.touched(store_case.clock()), 600) is False
    assert await store_case.store.get(key) is None


async def test_the_lock_is_exclusive_until_released(store_case: StoreCase) -> None:
    key = new_key()
    async with store_case.store.lock(key, ttl=30, wait=0):
        with pytest.raises(LockTimeoutError):
            async with store_case.store.lock(key, ttl=30, wait=0.2):
                pytest.fail("two holders of one lock")
        # Another key's lock is independent.
        async with store_case.store.lock(new_key(), ttl=30, wait=0):
            pass
    async with store_case.store.lock(key, ttl=30, wait=0):
        pass


async def test_the_lock_wait_timeout_is_a_lock_timeout_error(store_case: StoreCase) -> None:
    key = new_key()
    holder = store_case.store.lock(key, ttl=30, wait=0)
    await holder.__aenter__()
    try:
        with pytest.raises(LockTimeoutError) as caught:
            await store_case.store.lock(key, ttl=30, wait=0.3).__aenter__()
        assert isinstance(caught.value, SessionError)
        assert "not acquired within 0.3s" in str(caught.value)
    finally:
        await holder.__aexit__(None, None, None)


async def test_the_lock_is_released_when_the_body_raises(store_case: StoreCase) -> None:
    key = new_key()
    with pytest.raises(KeyError):
        async with store_case.store.lock(key, ttl=30, wait=0):
            raise KeyError("boom")
    async with store_case.store.lock(key, ttl=30, wait=0):
        pass


async def test_a_dead_holder_blocks_nobody_past_the_lock_ttl(
    store_case: StoreCase, caplog: pytest.LogCaptureFixture
) -> None:
    key = new_key()
    dead = store_case.store.lock(key, ttl=0.4, wait=0)
    await dead.__aenter__()  # never released: the holder "died"
    successor = store_case.store.lock(key, ttl=30, wait=5)
    await successor.__aenter__()  # succeeds once the dead holder's ttl passed
    try:
        # The dead holder's late release must not free the successor's lock.
        with caplog.at_level(logging.WARNING, logger="sfbulk_sdk"):
            await dead.__aexit__(None, None, None)
        assert "expired before it was released" in caplog.text
        with pytest.raises(LockTimeoutError):
            await store_case.store.lock(key, ttl=30, wait=0).__aenter__()
    finally:
        await successor.__aexit__(None, None, None)
    async with store_case.store.lock(key, ttl=30, wait=0):
        pass


@pytest.mark.parametrize(("ttl", "wait"), [(0, 1), (-1, 1), (1, -1), (math.nan, 1)])
async def test_lock_arguments_are_checked(store_case: StoreCase, ttl: float, wait: float) -> None:
    with pytest.raises(InvalidInputError):
        store_case.store.lock(new_key(), ttl=ttl, wait=wait)


async def test_the_payload_is_json_never_pickle(store_case: StoreCase) -> None:
    key = new_key()
    session = make_session(store_case.clock())
    await store_case.store.set(key, session, 600)
    text = store_case.raw_text(key)
    if text is not None:
        assert text.lstrip().startswith("{")
        assert "\x80" not in text  # no pickle protocol header
    doc = store_case.raw_doc(key)
    assert doc is not None
    assert is_json_value(doc["session"])
    assert doc["session"]["session_id"] == secret_of(session)
    assert doc["sid"] == hashlib.sha256(secret_of(session).encode()).hexdigest()
    assert Session.from_store_dict(doc["session"]) == session
    if store_case.backend == "mongodb":
        assert doc["kind"] == "session"
        assert doc["expires_at"].year == store_case.clock().year  # a BSON date
    else:
        assert doc["v"] == 1
        assert doc["expires_at"] == pytest.approx(store_case.clock().timestamp() + 600, abs=5)


async def test_the_secret_never_shows_in_reprs_or_logs(
    store_case: StoreCase, caplog: pytest.LogCaptureFixture
) -> None:
    key = new_key()
    session = make_session(store_case.clock())
    secret = secret_of(session)
    with caplog.at_level(logging.DEBUG):
        await store_case.store.set(key, session, 600)
        found = await store_case.store.get(key)
        await store_case.store.renew(key, session, 600)
        dead = store_case.store.lock(key, ttl=0.2, wait=0)
        await dead.__aenter__()
        async with store_case.store.lock(key, ttl=5, wait=3):
            await dead.__aexit__(None, None, None)  # logs the lost-lock warning
        await store_case.store.compare_and_delete(key, secret)
    assert found is not None
    for text in (repr(store_case.inner), str(store_case.inner), repr(found), str(found)):
        assert secret not in text
    assert "SecretStr('**********')" in repr(found)
    ours = [r for r in caplog.records if r.name.startswith("sfbulk_sdk")]
    assert any("expired before it was released" in r.getMessage() for r in ours)
    # Every library log except pymongo's command log, which prints the
    # documents it writes (see test_store_backends.py for what it may show).
    for record in caplog.records:
        if not record.name.startswith("pymongo"):
            assert secret not in record.getMessage(), record.name


async def test_an_invalid_stored_payload_counts_as_absent_without_the_secret(
    store_case: StoreCase, caplog: pytest.LogCaptureFixture
) -> None:
    # An entry this version cannot read must not fail every worker until it
    # expires: it reads as absent (with a warning) and a login replaces it.
    key = new_key()
    secret = f"{SECRET_MARK}-corrupt-{uuid.uuid4().hex}"
    # A JSON object that is not a valid session (no instance_url) but holds a secret.
    store_case.put_session_dict(
        key, {"session_id": secret, "issued_at": "not a date", "last_used_at": 12}
    )
    with caplog.at_level(logging.WARNING, logger="sfbulk_sdk"):
        assert await store_case.store.get(key) is None
    assert "unreadable stored session (invalid or missing fields: " in caplog.text
    assert "instance_url" in caplog.text
    assert secret not in caplog.text


async def test_a_closed_store_refuses_work(store_case: StoreCase) -> None:
    await store_case.store.aclose()
    with pytest.raises(SessionStoreError, match="closed"):
        await store_case.store.get(new_key())


# -- refresh-token grants (GrantStore / AsyncGrantStore) ---------------------------------


def token_of(grant: GrantRecord | None) -> str:
    assert grant is not None
    return grant.refresh_token.get_secret_value()


async def test_store_implements_the_grant_protocol(store_case: StoreCase) -> None:
    protocol = GrantStore if store_case.mode == "sync" else AsyncGrantStore
    assert isinstance(store_case.inner, protocol)


async def test_a_grant_round_trips_exactly(store_case: StoreCase) -> None:
    key = new_key()
    assert await store_case.store.get_grant(key) is None
    for grant in (make_grant(store_case.clock()), make_grant(store_case.clock(), full=True)):
        await store_case.store.set_grant(key, grant)
        found = await store_case.store.get_grant(key)
        assert isinstance(found, GrantRecord)
        assert found == grant
        assert token_of(found) == token_of(grant)
        assert found.to_store_dict() == grant.to_store_dict()


async def test_set_grant_replaces_the_earlier_grant(store_case: StoreCase) -> None:
    key = new_key()
    first = make_grant(store_case.clock(), full=True)
    await store_case.store.set_grant(key, first)
    store_case.clock.advance(30)
    second = first.rotated(SecretStr(new_refresh_token()), store_case.clock())
    await store_case.store.set_grant(key, second)
    found = await store_case.store.get_grant(key)
    assert found == second
    assert token_of(found) != token_of(first)
    assert found.history[-1] == first.digest
    assert found.revoked_at is None and found.pending_since is None


async def test_a_grant_outlives_the_session_ttl(store_case: StoreCase) -> None:
    key = new_key()
    grant = make_grant(store_case.clock())
    await store_case.store.set(key, make_session(store_case.clock()), 1)
    await store_case.store.set_grant(key, grant)
    if store_case.backend == "redis":  # Redis expires keys by its own (real) clock
        await anyio.sleep(1.1)
        assert store_case.raw_text(key) is None
    store_case.clock.advance(2)
    assert await store_case.store.get(key) is None
    store_case.clock.advance(400 * 24 * 3600)  # longer than any session, or refresh-lock ttl
    assert await store_case.store.get(key) is None
    assert await store_case.store.get_grant(key) == grant


async def test_a_grant_is_independent_of_other_keys_sessions_and_failures(
    store_case: StoreCase,
) -> None:
    key, other = new_key(), new_key()
    now = store_case.clock()
    session = make_session(now)
    failure = LoginFailure(
        code="INVALID_LOGIN", message="no", failed_at=now, expires_at=now + timedelta(seconds=60)
    )
    grant, others = make_grant(store_case.clock()), make_grant(store_case.clock())
    await store_case.store.set(key, session, 600)
    await store_case.store.set_failure(key, failure, 60)
    async with store_case.store.lock(key, ttl=30, wait=0):  # as the session manager writes it
        await store_case.store.set_grant(key, grant)
    await store_case.store.set_grant(other, others)
    assert await store_case.store.get(key) == session
    assert await store_case.store.get_failure(key) == failure
    assert await store_case.store.get(grant_key(key)) is None  # not a session entry
    assert await store_case.store.get_grant(other) == others
    assert await store_case.store.get_grant(new_key()) is None

    assert await store_case.store.compare_and_delete(key, secret_of(session))
    await store_case.store.clear_failure(key)
    assert await store_case.store.get_grant(key) == grant
    await store_case.store.set(key, make_session(now), 600)  # a new login
    assert await store_case.store.get_grant(key) == grant
    assert await store_case.store.get_grant(other) == others


async def test_the_stored_grant_is_json_without_an_expiry(store_case: StoreCase) -> None:
    key = new_key()
    grant = make_grant(store_case.clock(), full=True)
    await store_case.store.set_grant(key, grant)
    assert grant_key(key) == f"{key}:grant"
    doc = stored_grant(store_case, key)
    assert doc is not None
    expected: dict[str, Any] = {"v": 1, "kind": "grant", "grant": grant.to_store_dict()}
    if store_case.backend == "mongodb":
        expected["_id"] = grant_key(key)  # no expires_at: the TTL index never removes it
    assert doc == expected
    assert is_json_value(doc)
    inner = store_case.inner
    if store_case.backend == "file":
        path = grant_path(store_case, key)
        assert oct(path.stat().st_mode & 0o777) == oct(0o600)
        assert not list(path.parent.glob(".tmp-*"))  # written through a renamed temp file
    elif store_case.backend == "redis":
        assert await settle(inner._client.pttl(grant_key(key))) == -1  # no TTL at all
    elif store_case.backend == "memory":
        assert inner._grants[grant_key(key)][0] == math.inf


UNREADABLE_GRANTS = {
    "not-json": (None, "not valid JSON"),
    "not-a-grant": ({"v": 1, "kind": "session", "grant": {}}, "not a grant record"),
    "another-version": ({"v": 2, "kind": "grant"}, "not payload version 1"),
    "another-grant-version": ({"v": 1, "kind": "grant", "grant": {"v": 9}}, "not a version 1"),
    "bad-fields": (
        {"v": 1, "kind": "grant", "grant": {"v": 1, "updated_at": "yesterday"}},
        "invalid updated_at",
    ),
    "renamed-token": ({"v": 1, "kind": "grant", "grant": {"v": 1}}, "no refresh token"),
}


@pytest.mark.parametrize("case", sorted(UNREADABLE_GRANTS))
async def test_an_unreadable_grant_is_refused_not_absent_without_the_token(
    store_case: StoreCase, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    """Counting it as absent would start over from the app's first refresh token,
    rotated away long ago: sending that revokes the grant. So reading it raises."""
    key = new_key()
    token = new_refresh_token()
    shape, reason = UNREADABLE_GRANTS[case]
    text = None
    if shape is None and store_case.backend == "mongodb":  # no JSON text: a bare token
        shape, reason = {"v": 1, "kind": "grant", "grant": token}, "not a version 1 grant"
    elif shape is None:  # torn JSON text
        text = f'{{"v": 1, "kind": "grant", "grant": {{"refresh_token": "{token}"'
    else:
        shape = json.loads(json.dumps(shape))
        field = "refreshToken" if case == "renamed-token" else "refresh_token"
        shape.setdefault("grant", {})[field] = token
    await put_raw_grant(store_case, key, shape, text)
    with (
        caplog.at_level(logging.WARNING, logger="sfbulk_sdk.stores"),
        pytest.raises(SessionStoreError) as caught,
    ):
        await store_case.store.get_grant(key)
    message = str(caught.value)
    assert "grant record cannot be read" in message and "Re-authorise" in message
    for text_seen in (message, caplog.text):
        assert reason in text_seen
        assert store_case.backend in text_seen
        assert token not in text_seen
    grant = make_grant(store_case.clock())
    await store_case.store.set_grant(key, grant)  # the next write replaces it
    assert await store_case.store.get_grant(key) == grant


async def test_a_reader_never_sees_a_half_written_grant(
    store_case: StoreCase, caplog: pytest.LogCaptureFixture
) -> None:
    key = new_key()
    big = tuple(credential_digest(str(i)) for i in range(MAX_HISTORY))  # ~17 KB documents
    grants = [
        GrantRecord(SecretStr(new_refresh_token()), store_case.clock(), history=big, rotations=i)
        for i in range(3)
    ]
    await store_case.store.set_grant(key, grants[0])
    seen: list[GrantRecord | None] = []
    rounds = 30
    inner = store_case.inner

    def write() -> None:  # the sync store itself, in two threads
        for i in range(rounds):
            inner.set_grant(key, grants[i % 3])

    def read() -> None:
        seen.extend(inner.get_grant(key) for _ in range(rounds))

    async def awrite() -> None:
        for i in range(rounds):
            await store_case.store.set_grant(key, grants[i % 3])

    async def aread() -> None:
        for _ in range(rounds):
            seen.append(await store_case.store.get_grant(key))

    with caplog.at_level(logging.WARNING, logger="sfbulk_sdk.stores"):
        async with anyio.create_task_group() as group:
            if store_case.mode == "sync":
                group.start_soon(anyio.to_thread.run_sync, write)
                group.start_soon(anyio.to_thread.run_sync, read)
            else:
                group.start_soon(awrite)
                group.start_soon(aread)
    assert len(seen) == rounds
    assert all(grant in grants for grant in seen)
    assert "unreadable" not in caplog.text


async def test_a_closed_store_refuses_grant_calls(store_case: StoreCase) -> None:
    key = new_key()
    grant = make_grant(store_case.clock())
    await store_case.store.set_grant(key, grant)
    await store_case.store.aclose()
    with pytest.raises(SessionStoreError, match="closed") as caught:
        await store_case.store.get_grant(key)
    with pytest.raises(SessionStoreError, match="closed"):
        await store_case.store.set_grant(key, grant)
    assert token_of(grant) not in str(caught.value)


async def test_the_refresh_token_never_shows_in_reprs_or_logs(
    store_case: StoreCase, caplog: pytest.LogCaptureFixture
) -> None:
    key = new_key()
    grant = make_grant(store_case.clock(), full=True)
    token = token_of(grant)
    with caplog.at_level(logging.DEBUG):
        await store_case.store.set_grant(key, grant)
        found = await store_case.store.get_grant(key)
        await store_case.store.set_grant(key, grant.answered(store_case.clock()))
    assert found is not None
    for text in (repr(store_case.inner), str(store_case.inner), repr(found), str(found)):
        assert token not in text
    for record in caplog.records:  # pymongo's command log prints documents: see the docs
        if not record.name.startswith("pymongo"):
            assert token not in record.getMessage(), record.name


async def test_a_failed_grant_write_never_quotes_the_token(
    store_case: StoreCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    grant = make_grant(store_case.clock())
    token = token_of(grant)
    inner = store_case.inner
    if store_case.backend == "memory":
        pytest.skip("the memory store has no backend that can fail")
    elif store_case.backend == "file":

        def refuse(*args: object) -> None:
            raise OSError(28, f"No space left on device while writing {token}")

        monkeypatch.setattr(os, "replace", refuse)
    elif store_case.backend == "redis":

        def refuse_redis(*args: object, **kwargs: object) -> Any:
            raise RedisError(f"OOM command not allowed: SET ... {token}")

        async def arefuse_redis(*args: object, **kwargs: object) -> Any:
            refuse_redis()

        sync = store_case.mode == "sync"
        monkeypatch.setattr(inner._client, "set", refuse_redis if sync else arefuse_redis)
    else:

        def refuse_mongo(*args: object, **kwargs: object) -> Any:
            raise PyMongoError(f"not primary; document {{refresh_token: {token}}}")

        async def arefuse_mongo(*args: object, **kwargs: object) -> Any:
            refuse_mongo()

        sync = store_case.mode == "sync"
        monkeypatch.setattr(
            inner._collection, "replace_one", refuse_mongo if sync else arefuse_mongo
        )
    with pytest.raises(SessionStoreError) as caught:
        await store_case.store.set_grant(new_key(), grant)
    error = caught.value
    assert "grant" in str(error)
    assert token not in str(error) and token not in repr(error)
    assert error.__cause__ is None and error.__suppress_context__
    assert token not in "".join(traceback.format_exception(type(error), error, error.__traceback__))
