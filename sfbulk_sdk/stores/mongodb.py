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

A refresh-token grant (:class:`~sfbulk_sdk.stores.GrantStore`) is a fourth
kind, replaced whole (never half-written) on every change::

    {"_id": "<key>:grant", "kind": "grant", "v": 1,
     "grant": {"v": 1, "refresh_token": ..., "updated_at": ..., "history": [...], ...}}

It has **no** ``expires_at``, so the TTL index never removes it: a grant
outlives the session, and losing it would make workers fall back to an older
refresh token, which under rotation revokes the grant. It holds the current
refresh token, a secret; it is as durable as the collection's write concern
makes it (use a majority, journaled write concern for a replica set).

A session document this version cannot read (a missing or renamed field, a
``session`` that is not an object) counts as absent, with a warning, until a
login replaces it. Datetimes inside ``session`` stored as BSON dates (which
pymongo hands back naive) are read as UTC.

The stores take any object with the collection methods they call
(:class:`MongoCollection`, :class:`AsyncMongoCollection`): a pymongo
``Collection`` / ``AsyncCollection`` of any document type has them.

Requires the ``mongodb`` extra: ``pip install 'sfbulk-sdk[mongodb]'``.
"""

from __future__ import annotations

from ._common import missing_extra

with missing_extra(__name__, "pymongo", "mongodb"):
    from ._async.mongodb import AsyncMongoCollection, AsyncMongoStore
    from ._sync.mongodb import MongoCollection, MongoStore

__all__ = ["AsyncMongoCollection", "AsyncMongoStore", "MongoCollection", "MongoStore"]
