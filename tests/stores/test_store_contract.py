"""The session-store contract, run against every backend (memory, file, Redis,
MongoDB), sync and async: see ``store_case`` in ``conftest.py``."""

from __future__ import annotations

import hashlib
import logging
import math
import uuid
from datetime import timedelta
from typing import Any

import pytest
from session_fakes import SECRET_MARK, StoreCase, make_session

from sfbulk_sdk.errors import (
    InvalidInputError,
    LockTimeoutError,
    SessionError,
    SessionStoreError,
)
from sfbulk_sdk.models.session import Session
from sfbulk_sdk.stores import AsyncSessionStore, SessionStore

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
