"""Redis session stores: :class:`RedisStore` and :class:`AsyncRedisStore`.

Give them an already built client (``redis.Redis`` / ``redis.asyncio.Redis``,
with ``decode_responses`` on or off): the store never creates, configures or
closes it. Sessions are JSON strings written with ``SET key value PX ttl``, so
Redis expires them natively; the stored expiry is checked again on read.
Renewal and compare-and-delete are single Lua scripts (atomic on the server),
and the refresh lock is redis-py's :class:`redis.lock.Lock` with our own owner
token and a timeout (at least 1 ms: redis-py truncates to whole milliseconds and
Redis refuses ``PX 0``), released only by its owner. The async lock shields each
acquire attempt and its release from cancellation, so a cancelled task never
leaves it held until its TTL.

A failed login (:class:`~sfbulk_sdk.stores.LoginFailureStore`) is a second
JSON string, ``<key>:failed``, also written with ``SET … PX`` (no secret in it).

A value this version cannot read (not JSON, a newer payload version, a missing
field) counts as absent, with a warning: ``get`` returns ``None`` and the
scripts do not match it, until a login replaces it.

Requires the ``redis`` extra: ``pip install 'sfbulk-sdk[redis]'``.
"""

from __future__ import annotations

import math
import time
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from datetime import datetime
from types import TracebackType

try:
    import redis
    import redis.asyncio
    from redis.asyncio.lock import Lock as _AsyncRedisLock
    from redis.exceptions import LockError, RedisError
    from redis.lock import Lock as _RedisLock
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "sfbulk_sdk.stores.redis needs the 'redis' package (redis-py): "
        "pip install 'sfbulk-sdk[redis]'"
    ) from exc

import anyio

from ..core.session_rules import LoginFailure
from ..errors import LockTimeoutError, SessionStoreError
from ..models.session import Session
from ._common import (
    check_lock_args,
    check_ttl,
    decode_failure,
    decode_payload,
    encode_failure,
    encode_payload,
    epoch,
    failure_is_live,
    is_live,
    lost_lock_warning,
    new_token,
    raise_store_error,
    release_failed_warning,
    session_digest,
    shield_bound,
)
from .base import Clock, login_failure_key, utc_now

__all__ = ["AsyncRedisStore", "RedisStore"]

# Both scripts treat a value they cannot read (not JSON, no sid) as "another
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


#: redis-py sends a lock timeout as ``PX int(timeout * 1000)``: below 1 ms that
#: is ``PX 0``, which Redis refuses.
_MIN_LOCK_TTL = 0.001


def _px(ttl: float) -> int:
    return max(1, math.ceil(check_ttl(ttl) * 1000))


def _lock_name(key: str) -> str:
    return f"{key}:lock"


def _decode(raw: object, key: str, now: datetime) -> Session | None:
    if raw is None:
        return None
    if not isinstance(raw, (str, bytes, bytearray)):
        raise SessionStoreError("redis store: GET returned an unexpected type")
    decoded = decode_payload(raw, where=f"redis store ({key})")
    if decoded is None:
        return None
    session, deadline = decoded
    return session if is_live(session, deadline, now) else None


def _decode_failure(raw: object, name: str, now: datetime) -> LoginFailure | None:
    if raw is None:
        return None
    if not isinstance(raw, (str, bytes, bytearray)):
        raise SessionStoreError("redis store: GET returned an unexpected type")
    decoded = decode_failure(raw, where=f"redis store ({name})")
    if decoded is None:
        return None
    failure, deadline = decoded
    return failure if failure_is_live(failure, deadline, now) else None


class RedisStore:
    """Sessions in Redis through an injected ``redis.Redis`` client.

    ``clock`` is used for the expiry check on read (Redis itself expires keys
    by its own clock); ``lock_poll`` is how often a waiter retries the lock.
    """

    def __init__(
        self, client: redis.Redis, *, clock: Clock = utc_now, lock_poll: float = 0.05
    ) -> None:
        self._client = client
        self._clock = clock
        self._poll = lock_poll
        self._renew = client.register_script(_RENEW)
        self._compare_and_delete = client.register_script(_COMPARE_AND_DELETE)
        self._closed = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _check_open(self) -> None:
        if self._closed:
            raise SessionStoreError("the redis session store is closed")

    def get(self, key: str) -> Session | None:
        self._check_open()
        try:
            raw = self._client.get(key)
        except RedisError as exc:
            raise_store_error("redis store: GET failed", exc)
        return _decode(raw, key, self._clock())

    def set(self, key: str, session: Session, ttl: float) -> None:
        self._check_open()
        px = _px(ttl)
        payload = encode_payload(session, epoch(self._clock()) + px / 1000)
        try:
            self._client.set(key, payload, px=px)
        except RedisError as exc:
            raise_store_error("redis store: SET failed", exc, session.session_id.get_secret_value())

    def renew(self, key: str, session: Session, ttl: float) -> bool:
        self._check_open()
        px = _px(ttl)
        now = epoch(self._clock())
        secret = session.session_id.get_secret_value()
        payload = encode_payload(session, now + px / 1000)
        try:
            done = self._renew(keys=[key], args=[session_digest(secret), repr(now), payload, px])
        except RedisError as exc:
            raise_store_error("redis store: renew failed", exc, secret)
        return bool(done)

    def compare_and_delete(self, key: str, session_id: str) -> bool:
        self._check_open()
        try:
            done = self._compare_and_delete(keys=[key], args=[session_digest(session_id)])
        except RedisError as exc:
            raise_store_error("redis store: compare-and-delete failed", exc, session_id)
        return bool(done)

    def get_failure(self, key: str) -> LoginFailure | None:
        self._check_open()
        name = login_failure_key(key)
        try:
            raw = self._client.get(name)
        except RedisError as exc:
            raise_store_error("redis store: GET of the login failure failed", exc)
        return _decode_failure(raw, name, self._clock())

    def set_failure(self, key: str, failure: LoginFailure, ttl: float) -> None:
        self._check_open()
        px = _px(ttl)
        payload = encode_failure(failure, epoch(self._clock()) + px / 1000)
        try:
            self._client.set(login_failure_key(key), payload, px=px)
        except RedisError as exc:
            raise_store_error("redis store: SET of the login failure failed", exc)

    def clear_failure(self, key: str) -> None:
        self._check_open()
        try:
            self._client.delete(login_failure_key(key))
        except RedisError as exc:
            raise_store_error("redis store: DEL of the login failure failed", exc)

    def lock(self, key: str, *, ttl: float, wait: float) -> AbstractContextManager[None]:
        self._check_open()
        lock_ttl, lock_wait = check_lock_args(ttl, wait)
        return _Lock(
            _RedisLock(
                self._client,
                _lock_name(key),
                timeout=max(lock_ttl, _MIN_LOCK_TTL),
                sleep=self._poll,
                blocking=True,
                blocking_timeout=lock_wait,
                thread_local=False,
            ),
            _lock_name(key),
            lock_wait,
        )

    def close(self) -> None:
        """Mark the store closed; the injected client stays open (it is the caller's)."""
        self._closed = True


class _Lock(AbstractContextManager[None]):
    def __init__(self, lock: _RedisLock, name: str, wait: float) -> None:
        self._lock = lock
        self._name = name
        self._wait = wait

    def __enter__(self) -> None:
        try:
            acquired = self._lock.acquire(token=new_token())
        except RedisError as exc:
            raise_store_error(f"redis store: cannot take lock {self._name!r}", exc)
        if not acquired:
            raise LockTimeoutError(
                f"refresh lock {self._name!r} not acquired within {self._wait:g}s"
            )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._lock.release()
        except LockError:
            lost_lock_warning(self._name)
        except RedisError as error:
            if exc is None:
                raise_store_error(f"redis store: cannot release lock {self._name!r}", error)
            release_failed_warning(self._name)


class AsyncRedisStore:
    """The async twin of :class:`RedisStore`, over an injected ``redis.asyncio.Redis``."""

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
        return _decode(raw, key, self._clock())

    async def set(self, key: str, session: Session, ttl: float) -> None:
        self._check_open()
        px = _px(ttl)
        payload = encode_payload(session, epoch(self._clock()) + px / 1000)
        try:
            await self._client.set(key, payload, px=px)
        except RedisError as exc:
            raise_store_error("redis store: SET failed", exc, session.session_id.get_secret_value())

    async def renew(self, key: str, session: Session, ttl: float) -> bool:
        self._check_open()
        px = _px(ttl)
        now = epoch(self._clock())
        secret = session.session_id.get_secret_value()
        payload = encode_payload(session, now + px / 1000)
        try:
            done = await self._renew(
                keys=[key], args=[session_digest(secret), repr(now), payload, px]
            )
        except RedisError as exc:
            raise_store_error("redis store: renew failed", exc, secret)
        return bool(done)

    async def compare_and_delete(self, key: str, session_id: str) -> bool:
        self._check_open()
        try:
            done = await self._compare_and_delete(keys=[key], args=[session_digest(session_id)])
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
        return _decode_failure(raw, name, self._clock())

    async def set_failure(self, key: str, failure: LoginFailure, ttl: float) -> None:
        self._check_open()
        px = _px(ttl)
        payload = encode_failure(failure, epoch(self._clock()) + px / 1000)
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

    def lock(self, key: str, *, ttl: float, wait: float) -> AbstractAsyncContextManager[None]:
        self._check_open()
        lock_ttl, lock_wait = check_lock_args(ttl, wait)
        timeout = max(lock_ttl, _MIN_LOCK_TTL)
        return _AsyncLock(
            _AsyncRedisLock(
                self._client,
                _lock_name(key),
                timeout=timeout,
                sleep=self._poll,
                blocking=False,  # _AsyncLock polls, one shielded attempt at a time
                thread_local=False,
            ),
            _lock_name(key),
            wait=lock_wait,
            poll=self._poll,
            ttl=timeout,
        )

    async def aclose(self) -> None:
        """Mark the store closed; the injected client stays open (it is the caller's)."""
        self._closed = True


class _AsyncLock(AbstractAsyncContextManager[None]):
    """redis-py's async lock, polled here so that each attempt can be shielded.

    An attempt the server granted is always seen, even when the task is
    cancelled meanwhile (the cancellation then lands in the locked region, whose
    exit releases the lock), and the release runs shielded too. Both are bounded
    by :func:`~sfbulk_sdk.stores._common.shield_bound` of the lock's TTL.
    """

    def __init__(
        self, lock: _AsyncRedisLock, name: str, *, wait: float, poll: float, ttl: float
    ) -> None:
        self._lock = lock
        self._name = name
        self._wait = wait
        self._poll = poll
        self._ttl = ttl

    async def __aenter__(self) -> None:
        token = new_token()
        deadline = time.monotonic() + self._wait
        while True:
            acquired = False
            with anyio.move_on_after(shield_bound(self._ttl), shield=True):
                try:
                    acquired = await self._lock.acquire(blocking=False, token=token)
                except RedisError as exc:
                    raise_store_error(f"redis store: cannot take lock {self._name!r}", exc)
            if acquired:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockTimeoutError(
                    f"refresh lock {self._name!r} not acquired within {self._wait:g}s"
                )
            await anyio.sleep(min(self._poll, remaining))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        finished = False
        with anyio.move_on_after(shield_bound(self._ttl), shield=True):
            try:
                await self._lock.release()
            except LockError:
                lost_lock_warning(self._name)
            except RedisError as error:
                if exc is None:
                    raise_store_error(f"redis store: cannot release lock {self._name!r}", error)
                release_failed_warning(self._name)
            finished = True
        if not finished:
            release_failed_warning(self._name)
