"""``AsyncRedisStore``: sessions in Redis (see :mod:`sfbulk_sdk.stores.redis`).

Importing this module needs redis-py; the public module turns its absence into
an :class:`ImportError` naming the ``redis`` extra.
"""

from __future__ import annotations

import math
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import TypeVar

import redis
import redis.asyncio  # unasync: drop
from redis.exceptions import RedisError

from ...core.grants import GrantRecord
from ...core.session_rules import LoginFailure
from ...core.session_state import credential_digest
from ...errors import SessionStoreError
from ...models.session import Session
from .._common import (
    FAILURES,
    GRANTS,
    SESSIONS,
    Records,
    check_ttl,
    deadline_after,
    epoch,
    raise_store_error,
)
from ..base import Clock, grant_key, login_failure_key, utc_now
from .locks import AsyncPollingLock

__all__ = ["AsyncRedisStore"]

# The scripts treat a value they cannot read (not JSON, no sid) as "another
# session": no match, 0, exactly as get() treats it as absent.

# KEYS[1] session key; ARGV[1] sha256 of the session id, ARGV[2] now (epoch s),
# ARGV[3] new payload, ARGV[4] ttl in ms.
_RENEW = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local ok, doc = pcall(cjson.decode, raw)
if not ok or type(doc) ~= 'table' or type(doc['sid']) ~= 'string' then return 0 end
if doc['sid'] ~= ARGV[1] then return 0 end
local deadline = tonumber(doc['expires_at'])
if deadline == nil or deadline <= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
return 1
"""

# KEYS[1] session key; ARGV[1] sha256 of the rejected session id.
_COMPARE_AND_DELETE = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local ok, doc = pcall(cjson.decode, raw)
if not ok or type(doc) ~= 'table' or type(doc['sid']) ~= 'string' then return 0 end
if doc['sid'] ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
"""

# KEYS[1] lock key; ARGV[1] the owner's token. Deletes the lock only for its owner.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    redis.call('DEL', KEYS[1])
    return 1
end
return 0
"""


def _px(ttl: float) -> int:
    """``ttl`` in whole milliseconds, at least 1 (Redis refuses ``PX 0``)."""
    return max(1, math.ceil(check_ttl(ttl) * 1000))


def _lock_name(key: str) -> str:
    return f"{key}:lock"


_Record = TypeVar("_Record", Session, LoginFailure, GrantRecord)


def _live(raw: object, records: Records[_Record], name: str, now: datetime) -> _Record | None:
    """The live record in a GET reply (``None`` for none, an unreadable or an expired one)."""
    if raw is None:
        return None
    if not isinstance(raw, (str, bytes, bytearray)):
        raise SessionStoreError("redis store: GET returned an unexpected type")
    return records.read(raw, now, where=f"redis store ({name})")[0]


class AsyncRedisStore:
    """Sessions in Redis through an injected ``redis.asyncio.Redis`` client.

    ``clock`` is used for the expiry check on read (Redis itself expires keys
    by its own clock); ``lock_poll`` is how often a waiter retries the lock.
    """

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        clock: Clock = utc_now,
        lock_poll: float = 0.05,
    ) -> None:
        self._client = client
        self._clock = clock
        self._poll = lock_poll
        self._renew = client.register_script(_RENEW)
        self._compare_and_delete = client.register_script(_COMPARE_AND_DELETE)
        self._release = client.register_script(_RELEASE)
        self._closed = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _check_open(self) -> None:
        if self._closed:
            raise SessionStoreError("the redis session store is closed")

    async def get(self, key: str) -> Session | None:
        self._check_open()
        try:
            raw = await self._client.get(key)
        except RedisError as exc:
            raise_store_error("redis store: GET failed", exc)
        return _live(raw, SESSIONS, key, self._clock())

    async def set(self, key: str, session: Session, ttl: float) -> None:
        self._check_open()
        px = _px(ttl)
        payload = SESSIONS.encode(session, deadline_after(self._clock(), px / 1000))
        try:
            await self._client.set(key, payload, px=px)
        except RedisError as exc:
            raise_store_error("redis store: SET failed", exc, session.session_id.get_secret_value())

    async def renew(self, key: str, session: Session, ttl: float) -> bool:
        self._check_open()
        px = _px(ttl)
        now = epoch(self._clock())
        secret = session.session_id.get_secret_value()
        payload = SESSIONS.encode(session, now + px / 1000)
        try:
            done = await self._renew(
                keys=[key], args=[credential_digest(secret), repr(now), payload, px]
            )
        except RedisError as exc:
            raise_store_error("redis store: renew failed", exc, secret)
        return bool(done)

    async def compare_and_delete(self, key: str, session_id: str) -> bool:
        self._check_open()
        try:
            done = await self._compare_and_delete(keys=[key], args=[credential_digest(session_id)])
        except RedisError as exc:
            raise_store_error("redis store: compare-and-delete failed", exc, session_id)
        return bool(done)

    async def get_failure(self, key: str) -> LoginFailure | None:
        self._check_open()
        name = login_failure_key(key)
        try:
            raw = await self._client.get(name)
        except RedisError as exc:
            raise_store_error("redis store: GET of the login failure failed", exc)
        return _live(raw, FAILURES, name, self._clock())

    async def set_failure(self, key: str, failure: LoginFailure, ttl: float) -> None:
        self._check_open()
        px = _px(ttl)
        payload = FAILURES.encode(failure, deadline_after(self._clock(), px / 1000))
        try:
            await self._client.set(login_failure_key(key), payload, px=px)
        except RedisError as exc:
            raise_store_error("redis store: SET of the login failure failed", exc)

    async def clear_failure(self, key: str) -> None:
        self._check_open()
        try:
            await self._client.delete(login_failure_key(key))
        except RedisError as exc:
            raise_store_error("redis store: DEL of the login failure failed", exc)

    async def get_grant(self, key: str) -> GrantRecord | None:
        self._check_open()
        name = grant_key(key)
        try:
            raw = await self._client.get(name)
        except RedisError as exc:
            raise_store_error("redis store: GET of the grant failed", exc)
        return _live(raw, GRANTS, name, self._clock())

    async def set_grant(self, key: str, grant: GrantRecord) -> None:
        # A plain SET: no PX, and it drops any TTL the key had, so the grant never expires.
        self._check_open()
        payload = GRANTS.encode_lasting(grant)
        try:
            await self._client.set(grant_key(key), payload)
        except RedisError as exc:
            raise_store_error(
                "redis store: SET of the grant failed", exc, grant.refresh_token.get_secret_value()
            )

    async def _try_lease(self, key: str, token: str, ttl: float) -> bool:
        # SET NX PX: taken only when no unexpired lock exists; Redis expires it
        # by its own clock, which is real time whatever the session clock says.
        name = _lock_name(key)
        try:
            taken = await self._client.set(name, token, nx=True, px=_px(ttl))
        except RedisError as exc:
            raise_store_error(f"redis store: cannot take lock {name!r}", exc)
        return bool(taken)

    async def _release_lease(self, key: str, token: str) -> bool:
        name = _lock_name(key)
        try:
            done = await self._release(keys=[name], args=[token])
        except RedisError as exc:
            raise_store_error(f"redis store: cannot release lock {name!r}", exc)
        return bool(done)

    def lock(self, key: str, *, ttl: float, wait: float) -> AbstractAsyncContextManager[None]:
        self._check_open()
        return AsyncPollingLock(
            self, key, ttl=ttl, wait=wait, poll=self._poll, name=_lock_name(key)
        )

    async def aclose(self) -> None:
        """Mark the store closed; the injected client stays open (it is the caller's)."""
        self._closed = True
