"""``AsyncMongoStore``: sessions in a MongoDB collection (see :mod:`sfbulk_sdk.stores.mongodb`).

Importing this module needs pymongo; the public module turns its absence into
an :class:`ImportError` naming the ``mongodb`` extra.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Protocol

import pymongo
from pymongo.errors import DuplicateKeyError, PyMongoError
from pymongo.results import DeleteResult, UpdateResult

from ...core.grants import GrantRecord
from ...core.session_rules import LoginFailure
from ...core.session_state import credential_digest
from ...errors import SessionStoreError
from ...models.session import Session
from .._common import (
    FAILURE_KIND,
    async_mutex,
    check_ttl,
    failure_from_document,
    grant_document,
    grant_from_document,
    raise_store_error,
    session_from_document,
)
from ..base import Clock, grant_key, login_failure_key, utc_now
from .locks import AsyncPollingLock

__all__ = ["AsyncMongoCollection", "AsyncMongoStore"]

_KIND_SESSION = "session"
_KIND_LOCK = "lock"
_TTL_INDEX: list[tuple[str, int]] = [("expires_at", pymongo.ASCENDING)]

#: A filter, a projection or a document, as the store builds them.
_Doc = Mapping[str, object]


class AsyncMongoCollection(Protocol):
    """What the store calls on its collection: a ``pymongo`` ``AsyncCollection``
    of any document type (``client.db.sessions``) has all of it.
    """

    @property
    def full_name(self) -> str:
        """``<database>.<collection>``."""
        ...

    async def create_index(
        self, keys: Sequence[tuple[str, int]], *, expireAfterSeconds: int
    ) -> str:
        """Create an index (here: the TTL index on ``expires_at``)."""
        ...

    async def find_one(self, query: _Doc, projection: Mapping[str, int], /) -> _Doc | None:
        """The first document matching ``query``, with the fields of ``projection``."""
        ...

    async def replace_one(
        self, query: _Doc, replacement: _Doc, /, upsert: bool = ...
    ) -> UpdateResult:
        """Replace the document matching ``query`` (or insert it, with ``upsert``)."""
        ...

    async def update_one(self, query: _Doc, update: _Doc, /, upsert: bool = ...) -> UpdateResult:
        """Update the document matching ``query`` (or insert it, with ``upsert``)."""
        ...

    async def delete_one(self, query: _Doc, /) -> DeleteResult:
        """Delete the document matching ``query``."""
        ...


def _lock_id(key: str) -> str:
    return f"lock:{key}"


def _live_filter(key: str, now: datetime) -> dict[str, object]:
    return {"_id": key, "kind": _KIND_SESSION, "expires_at": {"$gt": now}}


def _session_doc(key: str, session: Session, deadline: datetime) -> dict[str, object]:
    return {
        "_id": key,
        "kind": _KIND_SESSION,
        "expires_at": deadline,
        "sid": credential_digest(session.session_id.get_secret_value()),
        "session": session.to_store_dict(),
    }


def _takeable_lease(key: str, now: datetime) -> dict[str, object]:
    """The lock document of ``key`` when it may be taken: expired, or carrying no
    date to expire by (a string, a number, ``null`` or no ``expires_at``: the TTL
    index never removes such a document, so it would block every worker for ever;
    it is taken over, as the file store replaces an unreadable lease file)."""
    return {
        "_id": _lock_id(key),
        "$or": [
            {"expires_at": {"$lte": now}},
            {"expires_at": {"$not": {"$type": "date"}}},
        ],
    }


def _lease_update(token: str, deadline: datetime) -> dict[str, object]:
    return {"$set": {"kind": _KIND_LOCK, "token": token, "expires_at": deadline}}


def _failure_filter(key: str) -> dict[str, object]:
    return {"_id": login_failure_key(key), "kind": FAILURE_KIND}


def _failure_doc(key: str, failure: LoginFailure, deadline: datetime) -> dict[str, object]:
    return {
        **_failure_filter(key),
        "expires_at": deadline,
        "failure": failure.to_store_dict(),
    }


def _found_failure(doc: _Doc | None, key: str, now: datetime) -> LoginFailure | None:
    if doc is None:
        return None
    where = f"mongodb store ({login_failure_key(key)})"
    failure = failure_from_document(doc.get("failure"), where=where)
    return failure if failure is not None and failure.is_active(now) else None


def _grant_doc(key: str, grant: GrantRecord) -> dict[str, object]:
    # No ``expires_at``: the TTL index never removes a grant.
    return {"_id": grant_key(key), **grant_document(grant)}


def _found(doc: _Doc | None, key: str, now: datetime) -> Session | None:
    if doc is None:
        return None
    session = session_from_document(doc.get("session"), where=f"mongodb store ({key})")
    return session if session is not None and now < session.expires_at else None


async def _upsert(
    collection: AsyncMongoCollection, doc: dict[str, object], what: str, *hidden: str
) -> None:
    """Replace or insert ``doc`` (by its ``_id``); one retry on a racing insert."""
    for attempt in (1, 2):
        try:
            await collection.replace_one({"_id": doc["_id"]}, doc, upsert=True)
            return
        except DuplicateKeyError as exc:  # two concurrent upserts of one _id
            if attempt == 2:
                raise_store_error(f"mongodb store: {what} failed", exc, *hidden)
        except PyMongoError as exc:
            raise_store_error(f"mongodb store: {what} failed", exc, *hidden)


class AsyncMongoStore:
    """Sessions in a MongoDB collection (a ``pymongo.AsyncMongoClient``'s collection).

    ``clock`` decides session expiry (the session expiry dates are written
    from it; lock expiry dates come from the real wall clock),
    ``lock_poll`` is how often a waiter retries the lock, ``create_index``
    creates the TTL index on first use (turn it off when the application user
    may not create indexes and the index is made elsewhere).
    """

    def __init__(
        self,
        collection: AsyncMongoCollection,
        *,
        clock: Clock = utc_now,
        lock_poll: float = 0.05,
        create_index: bool = True,
    ) -> None:
        self._collection = collection
        self._clock = clock
        self._poll = lock_poll
        self._indexed = not create_index
        self._index_mutex = async_mutex()
        self._closed = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._collection.full_name!r})"

    async def _ready(self) -> AsyncMongoCollection:
        if self._closed:
            raise SessionStoreError("the mongodb session store is closed")
        if not self._indexed:
            async with self._index_mutex:
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
        await _upsert(collection, doc, "write", session.session_id.get_secret_value())

    async def renew(self, key: str, session: Session, ttl: float) -> bool:
        collection = await self._ready()
        now = self._clock()
        deadline = now + timedelta(seconds=check_ttl(ttl))
        secret = session.session_id.get_secret_value()
        query = {**_live_filter(key, now), "sid": credential_digest(secret)}
        try:
            result = await collection.replace_one(query, _session_doc(key, session, deadline))
        except PyMongoError as exc:
            raise_store_error("mongodb store: renew failed", exc, secret)
        return result.matched_count == 1

    async def compare_and_delete(self, key: str, session_id: str) -> bool:
        collection = await self._ready()
        query = {"_id": key, "kind": _KIND_SESSION, "sid": credential_digest(session_id)}
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
        await _upsert(collection, doc, "write of the login failure")

    async def clear_failure(self, key: str) -> None:
        collection = await self._ready()
        try:
            await collection.delete_one(_failure_filter(key))
        except PyMongoError as exc:
            raise_store_error("mongodb store: delete of the login failure failed", exc)

    async def get_grant(self, key: str) -> GrantRecord | None:
        collection = await self._ready()
        name = grant_key(key)
        try:
            doc = await collection.find_one({"_id": name}, {"v": 1, "kind": 1, "grant": 1})
        except PyMongoError as exc:
            raise_store_error("mongodb store: find of the grant failed", exc)
        return None if doc is None else grant_from_document(doc, where=f"mongodb store ({name})")

    async def set_grant(self, key: str, grant: GrantRecord) -> None:
        collection = await self._ready()
        secret = grant.refresh_token.get_secret_value()
        await _upsert(collection, _grant_doc(key, grant), "write of the grant", secret)

    async def _try_lease(self, key: str, token: str, ttl: float) -> bool:
        collection = await self._ready()
        now = utc_now()  # lock time is real time, whatever the session clock says
        try:
            await collection.update_one(
                _takeable_lease(key, now),
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
        return AsyncPollingLock(self, key, ttl=ttl, wait=wait, poll=self._poll, name=_lock_id(key))

    async def aclose(self) -> None:
        """Mark the store closed; the client stays open (it is the caller's)."""
        self._closed = True
