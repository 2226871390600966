"""MongoDB session stores: :class:`MongoStore` and :class:`AsyncMongoStore`.

Give them a collection of an already built client (``pymongo.MongoClient`` /
``pymongo.AsyncMongoClient``); the store never closes the client. Each session
is one document::

    {"_id": <key>, "kind": "session", "expires_at": <BSON date>,
     "sid": <sha256 of the session id>, "session": {<the session as JSON values>}}

A TTL index on ``expires_at`` (``expireAfterSeconds=0``, created on first use
unless ``create_index=False``) lets MongoDB delete dead entries; since its
monitor runs only about once a minute, every read also filters on
``expires_at``. Renewal and compare-and-delete are single conditional
writes that match the digest ``sid``, so no filter carries the session id
(pymongo's own DEBUG command log, logger ``pymongo.command``, still prints the
documents written and read, session id included: keep it off in production).

The refresh lock is a document ``{"_id": "lock:<key>", "token": ...,
"expires_at": ...}``: taken by an upsert that matches only an expired lock (a
held one makes the upsert collide on the unique ``_id``), so a lock is stolen
only after its expiry, and released by deleting it with the owner's token. Its
expiry is wall-clock time, never the store's injectable session clock; the
hosts sharing a lock must keep their clocks in sync (NTP) to well within the
lock TTL, as the TTL monitor, which also removes expired locks, uses the
server's clock.

A failed login (:class:`~sfbulk_sdk.stores.LoginFailureStore`) is a third
kind of document, expiring through the same TTL index and read filter::

    {"_id": "<key>:failed", "kind": "login_failure", "expires_at": <BSON date>,
     "failure": {"code": ..., "message": ..., "failed_at": ..., "expires_at": ...,
                 "status_code": ...}}

It holds no secret.

A session document this version cannot read (a missing or renamed field, a
``session`` that is not an object) counts as absent, with a warning, until a
login replaces it. Datetimes inside ``session`` stored as BSON dates (which
pymongo hands back naive) are read as UTC.

Requires the ``mongodb`` extra: ``pip install 'sfbulk-sdk[mongodb]'``.
"""

from __future__ import annotations

import threading
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

try:
    import pymongo
    from pymongo.asynchronous.collection import AsyncCollection
    from pymongo.collection import Collection
    from pymongo.errors import DuplicateKeyError, PyMongoError
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "sfbulk_sdk.stores.mongodb needs the 'pymongo' package: pip install 'sfbulk-sdk[mongodb]'"
    ) from exc

from ..core.session_rules import LoginFailure
from ..errors import SessionStoreError
from ..models.session import Session
from ._common import (
    FAILURE_KIND,
    AsyncPollingLock,
    PollingLock,
    check_lock_args,
    check_ttl,
    failure_from_document,
    raise_store_error,
    session_digest,
    session_document,
    session_from_document,
)
from .base import Clock, login_failure_key, utc_now

__all__ = ["AsyncMongoStore", "MongoStore"]

_KIND_SESSION = "session"
_KIND_LOCK = "lock"
_TTL_INDEX: list[tuple[str, int]] = [("expires_at", pymongo.ASCENDING)]


def _lock_id(key: str) -> str:
    return f"lock:{key}"


def _live_filter(key: str, now: datetime) -> dict[str, Any]:
    return {"_id": key, "kind": _KIND_SESSION, "expires_at": {"$gt": now}}


def _session_doc(key: str, session: Session, deadline: datetime) -> dict[str, Any]:
    return {
        "_id": key,
        "kind": _KIND_SESSION,
        "expires_at": deadline,
        "sid": session_digest(session.session_id.get_secret_value()),
        "session": session_document(session),
    }


def _lease_update(token: str, deadline: datetime) -> dict[str, Any]:
    return {"$set": {"kind": _KIND_LOCK, "token": token, "expires_at": deadline}}


def _failure_filter(key: str) -> dict[str, Any]:
    return {"_id": login_failure_key(key), "kind": FAILURE_KIND}


def _failure_doc(key: str, failure: LoginFailure, deadline: datetime) -> dict[str, Any]:
    return {
        **_failure_filter(key),
        "expires_at": deadline,
        "failure": failure.to_store_dict(),
    }


def _found_failure(doc: Any, key: str, now: datetime) -> LoginFailure | None:
    if doc is None:
        return None
    where = f"mongodb store ({login_failure_key(key)})"
    failure = failure_from_document(doc.get("failure"), where=where)
    return failure if failure is not None and failure.is_active(now) else None


def _found(doc: Any, key: str, now: datetime) -> Session | None:
    if doc is None:
        return None
    session = session_from_document(doc.get("session"), where=f"mongodb store ({key})")
    return session if session is not None and now < session.expires_at else None


class MongoStore:
    """Sessions in a MongoDB collection (``pymongo`` ``Collection``).

    ``clock`` decides session expiry (the session expiry dates are written
    from it; lock expiry dates come from the real wall clock),
    ``lock_poll`` is how often a waiter retries the lock, ``create_index``
    creates the TTL index on first use (turn it off when the application user
    may not create indexes and the index is made elsewhere).
    """

    def __init__(
        self,
        collection: Collection[Any],
        *,
        clock: Clock = utc_now,
        lock_poll: float = 0.05,
        create_index: bool = True,
    ) -> None:
        self._collection = collection
        self._clock = clock
        self._poll = lock_poll
        self._indexed = not create_index
        self._index_mutex = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._collection.full_name!r})"

    def _ready(self) -> Collection[Any]:
        if self._closed:
            raise SessionStoreError("the mongodb session store is closed")
        if not self._indexed:
            with self._index_mutex:
                if not self._indexed:
                    try:
                        self._collection.create_index(_TTL_INDEX, expireAfterSeconds=0)
                    except PyMongoError as exc:
                        raise_store_error("mongodb store: cannot create the TTL index", exc)
                    self._indexed = True
        return self._collection

    def get(self, key: str) -> Session | None:
        collection = self._ready()
        now = self._clock()
        try:
            doc = collection.find_one(_live_filter(key, now), {"session": 1})
        except PyMongoError as exc:
            raise_store_error("mongodb store: find failed", exc)
        return _found(doc, key, now)

    def set(self, key: str, session: Session, ttl: float) -> None:
        collection = self._ready()
        deadline = self._clock() + timedelta(seconds=check_ttl(ttl))
        doc = _session_doc(key, session, deadline)
        secret = session.session_id.get_secret_value()
        for attempt in (1, 2):
            try:
                collection.replace_one({"_id": key}, doc, upsert=True)
                return
            except DuplicateKeyError as exc:  # two concurrent upserts of one _id
                if attempt == 2:
                    raise_store_error("mongodb store: write failed", exc, secret)
            except PyMongoError as exc:
                raise_store_error("mongodb store: write failed", exc, secret)

    def renew(self, key: str, session: Session, ttl: float) -> bool:
        collection = self._ready()
        now = self._clock()
        deadline = now + timedelta(seconds=check_ttl(ttl))
        secret = session.session_id.get_secret_value()
        query = {**_live_filter(key, now), "sid": session_digest(secret)}
        try:
            result = collection.replace_one(query, _session_doc(key, session, deadline))
        except PyMongoError as exc:
            raise_store_error("mongodb store: renew failed", exc, secret)
        return result.matched_count == 1

    def compare_and_delete(self, key: str, session_id: str) -> bool:
        collection = self._ready()
        query = {"_id": key, "kind": _KIND_SESSION, "sid": session_digest(session_id)}
        try:
            result = collection.delete_one(query)
        except PyMongoError as exc:
            raise_store_error("mongodb store: compare-and-delete failed", exc, session_id)
        return result.deleted_count == 1

    def get_failure(self, key: str) -> LoginFailure | None:
        collection = self._ready()
        now = self._clock()
        query = {**_failure_filter(key), "expires_at": {"$gt": now}}
        try:
            doc = collection.find_one(query, {"failure": 1})
        except PyMongoError as exc:
            raise_store_error("mongodb store: find of the login failure failed", exc)
        return _found_failure(doc, key, now)

    def set_failure(self, key: str, failure: LoginFailure, ttl: float) -> None:
        collection = self._ready()
        doc = _failure_doc(key, failure, self._clock() + timedelta(seconds=check_ttl(ttl)))
        for attempt in (1, 2):
            try:
                collection.replace_one({"_id": doc["_id"]}, doc, upsert=True)
                return
            except DuplicateKeyError as exc:  # two concurrent upserts of one _id
                if attempt == 2:
                    raise_store_error("mongodb store: write of the login failure failed", exc)
            except PyMongoError as exc:
                raise_store_error("mongodb store: write of the login failure failed", exc)

    def clear_failure(self, key: str) -> None:
        collection = self._ready()
        try:
            collection.delete_one(_failure_filter(key))
        except PyMongoError as exc:
            raise_store_error("mongodb store: delete of the login failure failed", exc)

    def _try_lease(self, key: str, token: str, ttl: float) -> bool:
        collection = self._ready()
        now = utc_now()  # lock time is real time, whatever the session clock says
        try:
            collection.update_one(
                {"_id": _lock_id(key), "expires_at": {"$lte": now}},
                _lease_update(token, now + timedelta(seconds=ttl)),
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # held by someone else and not expired
        except PyMongoError as exc:
            raise_store_error("mongodb store: cannot take the lock", exc)
        return True

    def _release_lease(self, key: str, token: str) -> bool:
        collection = self._ready()
        try:
            result = collection.delete_one({"_id": _lock_id(key), "token": token})
        except PyMongoError as exc:
            raise_store_error("mongodb store: cannot release the lock", exc)
        return result.deleted_count == 1

    def lock(self, key: str, *, ttl: float, wait: float) -> AbstractContextManager[None]:
        lock_ttl, lock_wait = check_lock_args(ttl, wait)
        return PollingLock(
            _lock_id(key),
            try_acquire=lambda token: self._try_lease(key, token, lock_ttl),
            release=lambda token: self._release_lease(key, token),
            wait=lock_wait,
            poll=self._poll,
        )

    def close(self) -> None:
        """Mark the store closed; the client stays open (it is the caller's)."""
        self._closed = True


class AsyncMongoStore:
    """The async twin of :class:`MongoStore`, over a ``pymongo.AsyncMongoClient`` collection."""

    def __init__(
        self,
        collection: AsyncCollection[Any],
        *,
        clock: Clock = utc_now,
        lock_poll: float = 0.05,
        create_index: bool = True,
    ) -> None:
        self._collection = collection
        self._clock = clock
        self._poll = lock_poll
        self._indexed = not create_index
        self._closed = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._collection.full_name!r})"

    async def _ready(self) -> AsyncCollection[Any]:
        if self._closed:
            raise SessionStoreError("the mongodb session store is closed")
        if not self._indexed:
            try:
                await self._collection.create_index(_TTL_INDEX, expireAfterSeconds=0)
            except PyMongoError as exc:
                raise_store_error("mongodb store: cannot create the TTL index", exc)
            self._indexed = True
        return self._collection

    async def get(self, key: str) -> Session | None:
        collection = await self._ready()
        now = self._clock()
        try:
            doc = await collection.find_one(_live_filter(key, now), {"session": 1})
        except PyMongoError as exc:
            raise_store_error("mongodb store: find failed", exc)
        return _found(doc, key, now)

    async def set(self, key: str, session: Session, ttl: float) -> None:
        collection = await self._ready()
        deadline = self._clock() + timedelta(seconds=check_ttl(ttl))
        doc = _session_doc(key, session, deadline)
        secret = session.session_id.get_secret_value()
        for attempt in (1, 2):
            try:
                await collection.replace_one({"_id": key}, doc, upsert=True)
                return
            except DuplicateKeyError as exc:  # two concurrent upserts of one _id
                if attempt == 2:
                    raise_store_error("mongodb store: write failed", exc, secret)
            except PyMongoError as exc:
                raise_store_error("mongodb store: write failed", exc, secret)

    async def renew(self, key: str, session: Session, ttl: float) -> bool:
        collection = await self._ready()
        now = self._clock()
        deadline = now + timedelta(seconds=check_ttl(ttl))
        secret = session.session_id.get_secret_value()
        query = {**_live_filter(key, now), "sid": session_digest(secret)}
        try:
            result = await collection.replace_one(query, _session_doc(key, session, deadline))
        except PyMongoError as exc:
            raise_store_error("mongodb store: renew failed", exc, secret)
        return result.matched_count == 1

    async def compare_and_delete(self, key: str, session_id: str) -> bool:
        collection = await self._ready()
        query = {"_id": key, "kind": _KIND_SESSION, "sid": session_digest(session_id)}
        try:
            result = await collection.delete_one(query)
        except PyMongoError as exc:
            raise_store_error("mongodb store: compare-and-delete failed", exc, session_id)
        return result.deleted_count == 1

    async def get_failure(self, key: str) -> LoginFailure | None:
        collection = await self._ready()
        now = self._clock()
        query = {**_failure_filter(key), "expires_at": {"$gt": now}}
        try:
            doc = await collection.find_one(query, {"failure": 1})
        except PyMongoError as exc:
            raise_store_error("mongodb store: find of the login failure failed", exc)
        return _found_failure(doc, key, now)

    async def set_failure(self, key: str, failure: LoginFailure, ttl: float) -> None:
        collection = await self._ready()
        doc = _failure_doc(key, failure, self._clock() + timedelta(seconds=check_ttl(ttl)))
        for attempt in (1, 2):
            try:
                await collection.replace_one({"_id": doc["_id"]}, doc, upsert=True)
                return
            except DuplicateKeyError as exc:  # two concurrent upserts of one _id
                if attempt == 2:
                    raise_store_error("mongodb store: write of the login failure failed", exc)
            except PyMongoError as exc:
                raise_store_error("mongodb store: write of the login failure failed", exc)

    async def clear_failure(self, key: str) -> None:
        collection = await self._ready()
        try:
            await collection.delete_one(_failure_filter(key))
        except PyMongoError as exc:
            raise_store_error("mongodb store: delete of the login failure failed", exc)

    async def _try_lease(self, key: str, token: str, ttl: float) -> bool:
        collection = await self._ready()
        now = utc_now()  # lock time is real time, whatever the session clock says
        try:
            await collection.update_one(
                {"_id": _lock_id(key), "expires_at": {"$lte": now}},
                _lease_update(token, now + timedelta(seconds=ttl)),
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # held by someone else and not expired
        except PyMongoError as exc:
            raise_store_error("mongodb store: cannot take the lock", exc)
        return True

    async def _release_lease(self, key: str, token: str) -> bool:
        collection = await self._ready()
        try:
            result = await collection.delete_one({"_id": _lock_id(key), "token": token})
        except PyMongoError as exc:
            raise_store_error("mongodb store: cannot release the lock", exc)
        return result.deleted_count == 1

    def lock(self, key: str, *, ttl: float, wait: float) -> AbstractAsyncContextManager[None]:
        lock_ttl, lock_wait = check_lock_args(ttl, wait)

        async def try_acquire(token: str) -> bool:
            return await self._try_lease(key, token, lock_ttl)

        async def release(token: str) -> bool:
            return await self._release_lease(key, token)

        return AsyncPollingLock(
            _lock_id(key),
            try_acquire=try_acquire,
            release=release,
            wait=lock_wait,
            poll=self._poll,
            ttl=lock_ttl,
        )

    async def aclose(self) -> None:
        """Mark the store closed; the client stays open (it is the caller's)."""
        self._closed = True
