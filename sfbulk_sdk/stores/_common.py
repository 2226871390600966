"""What every store backend shares: the JSON payload, argument checks, the
token-owned polling lock and error wrapping that never leaks a session id."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from datetime import datetime, timezone
from types import TracebackType
from typing import Any, NoReturn

import anyio
from pydantic import ValidationError

from ..errors import InvalidInputError, LockTimeoutError, SessionStoreError
from ..models.session import Session

logger = logging.getLogger("sfbulk_sdk.stores")

#: Version of the stored JSON document; bumped on incompatible changes.
PAYLOAD_VERSION = 1


def check_ttl(ttl: float) -> float:
    """``ttl`` as a float, or :class:`InvalidInputError` when not a positive finite number."""
    value = float(ttl)
    if not math.isfinite(value) or value <= 0:
        raise InvalidInputError(f"a store ttl must be a positive number of seconds, not {ttl!r}")
    return value


def check_lock_args(ttl: float, wait: float) -> tuple[float, float]:
    """Validated ``(ttl, wait)`` of a lock request."""
    lock_ttl = check_ttl(ttl)
    lock_wait = float(wait)
    if not math.isfinite(lock_wait) or lock_wait < 0:
        raise InvalidInputError(
            f"a lock wait must be a non-negative number of seconds, not {wait!r}"
        )
    return lock_ttl, lock_wait


def new_token() -> str:
    """A random lock owner token."""
    return secrets.token_hex(16)


def epoch(moment: datetime) -> float:
    """Seconds since the Unix epoch of an aware (or UTC-naive) datetime."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def session_digest(session_id: str) -> str:
    """SHA-256 of a session id: what conditional writes compare.

    Query filters and script arguments carry the digest, so the id itself
    only travels inside the stored document.
    """
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def encode_payload(session: Session, deadline: float) -> str:
    """The JSON document stored for ``session``, expiring at epoch ``deadline``.

    ``{"v": 1, "expires_at": <epoch seconds>, "sid": <sha256 of the id>,
    "session": {...}}``: with :func:`session_document` the only place the
    secret leaves the model.
    """
    return json.dumps(
        {
            "v": PAYLOAD_VERSION,
            "expires_at": deadline,
            "sid": session_digest(session.session_id.get_secret_value()),
            "session": session.to_store_dict(),
        },
        separators=(",", ":"),
    )


def session_document(session: Session) -> dict[str, Any]:
    """The session as a JSON-compatible dict (for document stores)."""
    return session.to_store_dict()


def session_from_document(data: object, *, where: str) -> Session:
    """Rebuild a stored session; a bad document is a :class:`SessionStoreError`.

    The pydantic error is not chained: its text would quote the stored values,
    the session id among them.
    """
    if not isinstance(data, dict):
        raise SessionStoreError(f"{where}: the stored session is not a JSON object")
    try:
        return Session.from_store_dict(data)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in err["loc"]) for err in exc.errors())
        raise SessionStoreError(
            f"{where}: the stored session is invalid (fields: {fields or 'unknown'})"
        ) from None


def decode_payload(raw: str | bytes | bytearray, *, where: str) -> tuple[Session, float]:
    """``(session, deadline)`` from a document written by :func:`encode_payload`."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise SessionStoreError(f"{where}: the stored session is not valid JSON") from None
    if not isinstance(doc, dict) or doc.get("v") != PAYLOAD_VERSION:
        raise SessionStoreError(f"{where}: unknown stored session format")
    deadline = doc.get("expires_at")
    if isinstance(deadline, bool) or not isinstance(deadline, (int, float)):
        raise SessionStoreError(f"{where}: the stored session has no expiry")
    return session_from_document(doc.get("session"), where=where), float(deadline)


def is_live(session: Session, deadline: float, now: datetime) -> bool:
    """True while neither the store entry nor the session itself has expired."""
    return epoch(now) < deadline and now < session.expires_at


def raise_store_error(what: str, exc: BaseException, *hidden: str) -> NoReturn:
    """Raise a :class:`SessionStoreError` for a backend failure.

    The backend's message is kept and the original exception chained, unless
    the message contains one of ``hidden`` (a session id): then neither is
    attached, so no traceback can print it.
    """
    detail = str(exc)
    leaked = any(secret and secret in detail for secret in hidden)
    text = f"{what}: {type(exc).__name__}"
    if detail and not leaked:
        text = f"{text}: {detail[:500]}"
    if leaked:
        raise SessionStoreError(text) from None
    raise SessionStoreError(text) from exc


class PollingLock(AbstractContextManager[None]):
    """A token-owned lock taken by polling ``try_acquire`` until ``wait`` passes.

    ``try_acquire(token)`` takes the lease (with the store's TTL) if it is free
    or expired; ``release(token)`` drops it if ``token`` still owns it and
    says whether it did.
    """

    def __init__(
        self,
        name: str,
        *,
        try_acquire: Callable[[str], bool],
        release: Callable[[str], bool],
        wait: float,
        poll: float,
    ) -> None:
        self._name = name
        self._try_acquire = try_acquire
        self._release = release
        self._wait = wait
        self._poll = poll
        self._token: str | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._name!r}, held={self._token is not None})"

    def __enter__(self) -> None:
        if self._token is not None:
            raise RuntimeError("this lock is already held; take a new one from store.lock()")
        token = new_token()
        deadline = time.monotonic() + self._wait
        while not self._try_acquire(token):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockTimeoutError(
                    f"refresh lock {self._name!r} not acquired within {self._wait:g}s"
                )
            time.sleep(min(self._poll, remaining))
        self._token = token

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        token, self._token = self._token, None
        if token is None:
            return
        try:
            owned = self._release(token)
        except SessionStoreError:
            if exc is None:
                raise
            logger.warning("could not release refresh lock %r (it expires by itself)", self._name)
            return
        if not owned:
            lost_lock_warning(self._name)


class AsyncPollingLock(AbstractAsyncContextManager[None]):
    """The async twin of :class:`PollingLock` (sleeps with :func:`anyio.sleep`)."""

    def __init__(
        self,
        name: str,
        *,
        try_acquire: Callable[[str], Awaitable[bool]],
        release: Callable[[str], Awaitable[bool]],
        wait: float,
        poll: float,
    ) -> None:
        self._name = name
        self._try_acquire = try_acquire
        self._release = release
        self._wait = wait
        self._poll = poll
        self._token: str | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._name!r}, held={self._token is not None})"

    async def __aenter__(self) -> None:
        if self._token is not None:
            raise RuntimeError("this lock is already held; take a new one from store.lock()")
        token = new_token()
        deadline = time.monotonic() + self._wait
        while not await self._try_acquire(token):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockTimeoutError(
                    f"refresh lock {self._name!r} not acquired within {self._wait:g}s"
                )
            await anyio.sleep(min(self._poll, remaining))
        self._token = token

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        token, self._token = self._token, None
        if token is None:
            return
        try:
            owned = await self._release(token)
        except SessionStoreError:
            if exc is None:
                raise
            logger.warning("could not release refresh lock %r (it expires by itself)", self._name)
            return
        if not owned:
            lost_lock_warning(self._name)


def lost_lock_warning(name: str) -> None:
    """Log that a lock expired before its holder released it."""
    logger.warning(
        "refresh lock %r expired before it was released: the holder took longer than "
        "the lock ttl, so another process may have logged in as well",
        name,
    )
