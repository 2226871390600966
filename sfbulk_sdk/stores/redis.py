"""Redis session stores: :class:`RedisStore` and :class:`AsyncRedisStore`.

Give them an already built client (``redis.Redis`` / ``redis.asyncio.Redis``,
with ``decode_responses`` on or off): the store never creates, configures or
closes it. Sessions are JSON strings written with ``SET key value PX ttl``, so
Redis expires them natively; the stored expiry is checked again on read.
Renewal and compare-and-delete are single Lua scripts (atomic on the server).
The refresh lock is the key ``<key>:lock``, taken with ``SET NX PX`` and a
random owner token (its TTL in whole milliseconds, at least 1: Redis refuses
``PX 0``), retried every ``lock_poll`` seconds, and released by a Lua script
only while it still holds its owner's token. The async lock shields each
acquire attempt and its release from cancellation, so a cancelled task never
leaves it held until its TTL.

A failed login (:class:`~sfbulk_sdk.stores.LoginFailureStore`) is a second
JSON string, ``<key>:failed``, also written with ``SET … PX`` (no secret in it).

A refresh-token grant (:class:`~sfbulk_sdk.stores.GrantStore`) is a third JSON
string, ``<key>:grant``, written with a plain ``SET`` and **no expiry**: a
grant outlives the session, and losing it would make workers fall back to an
older refresh token, which under rotation revokes the grant. It holds the
current refresh token, a secret. It is as durable as the server makes it:
enable persistence (AOF) and use a ``maxmemory-policy`` that evicts only keys
with a TTL (``volatile-*`` or ``noeviction``), never ``allkeys-*``.

A value this version cannot read (not JSON, a newer payload version, a missing
field) counts as absent, with a warning: ``get`` returns ``None`` and the
scripts do not match it, until a login replaces it.

Requires the ``redis`` extra: ``pip install 'sfbulk-sdk[redis]'``.
"""

from __future__ import annotations

from ._common import missing_extra

with missing_extra(__name__, "redis (redis-py)", "redis"):
    from ._async.redis import AsyncRedisStore
    from ._sync.redis import RedisStore

__all__ = ["AsyncRedisStore", "RedisStore"]
