"""What every store backend shares: the JSON payload, argument checks, the
token-owned polling lock and error wrapping that never leaks a session id.

An entry this version cannot read (a newer payload version, a missing or
renamed field, a foreign value) is *absent*: reads return ``None``,
conditional writes do not match, and a warning names the store and the reason
(never the session id). A login then replaces the entry. Raising instead would
make every worker fail on every request until the entry expired.

Refresh-lock TTLs run in real time: a lock's TTL bounds how long a dead holder
blocks the others, so it is measured with the wall clock (or a monotonic one
in process), never with a store's injectable session clock.
"""

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

from ..core.session_rules import LoginFailure
from ..errors import InvalidInputError, LockTimeoutError, SessionStoreError
from ..models.session import Session

logger = logging.getLogger("sfbulk_sdk.stores")

#: Version of the stored JSON document; bumped on incompatible changes.
PAYLOAD_VERSION = 1


#: The least time a shielded lock call (an acquire attempt, a release) may take
#: before it is abandoned: the lock's TTL, but never less than this.
MIN_SHIELD_SECONDS = 1.0


def shield_bound(ttl: float) -> float:
    """How long a lock call may run shielded from cancellation."""
    return max(ttl, MIN_SHIELD_SECONDS)


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


def unreadable(where: str, reason: str) -> None:
    """Log that an entry cannot be read and is treated as absent."""
    logger.warning(
        "%s: ignoring an unreadable stored session (%s); it counts as absent "
        "until a login replaces it",
        where,
        reason,
    )


def as_utc(moment: datetime) -> datetime:
    """``moment`` with a timezone: naive datetimes are UTC (pymongo's convention)."""
    return moment.replace(tzinfo=timezone.utc) if moment.utcoffset() is None else moment


def session_from_document(data: object, *, where: str) -> Session | None:
    """Rebuild a stored session, or ``None`` (logged) when it cannot be read.

    Datetimes stored without a timezone (BSON dates come back from pymongo as
    naive UTC) are read as UTC. The pydantic error is dropped: its text would
    quote the stored values, the session id among them.
    """
    if not isinstance(data, dict):
        unreadable(where, "the stored session is not a JSON object")
        return None
    try:
        session = Session.from_store_dict(data)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in err["loc"]) for err in exc.errors())
        unreadable(where, f"invalid or missing fields: {fields or 'unknown'}")
        return None
    if session.issued_at.utcoffset() is None or session.last_used_at.utcoffset() is None:
        session = session.model_copy(
            update={
                "issued_at": as_utc(session.issued_at),
                "last_used_at": as_utc(session.last_used_at),
            }
        )
    return session


def decode_payload(raw: str | bytes | bytearray, *, where: str) -> tuple[Session, float] | None:
    """``(session, deadline)`` from a document written by :func:`encode_payload`.

    ``None`` (logged) when the document cannot be read: see the module docstring.
    """
    try:
        doc = json.loads(raw)
    except ValueError:  # UnicodeDecodeError included
        unreadable(where, "not valid JSON")
        return None
    if not isinstance(doc, dict):
        unreadable(where, "not a JSON object")
        return None
    version = doc.get("v")
    if version != PAYLOAD_VERSION:
        if version is None:
            shown = "missing"
        elif isinstance(version, int) and not isinstance(version, bool):
            shown = str(version)
        else:
            shown = "not a number"  # never echo a stored value
        unreadable(where, f"payload version {shown}, this version reads {PAYLOAD_VERSION}")
        return None
    deadline = doc.get("expires_at")
    if isinstance(deadline, bool) or not isinstance(deadline, (int, float)):
        unreadable(where, "no expiry")
        return None
    session = session_from_document(doc.get("session"), where=where)
    return None if session is None else (session, float(deadline))


#: The ``kind`` of a stored login-failure record.
FAILURE_KIND = "login_failure"


def encode_failure(failure: LoginFailure, deadline: float) -> str:
    """The JSON document stored for a login failure, expiring at epoch ``deadline``.

    ``{"v": 1, "kind": "login_failure", "expires_at": <epoch seconds>,
    "failure": {"code", "message", "failed_at", "expires_at", "status_code"}}``
    (no secret: the code and message of the refusal and when it happened).
    """
    return json.dumps(
        {
            "v": PAYLOAD_VERSION,
            "kind": FAILURE_KIND,
            "expires_at": deadline,
            "failure": failure.to_store_dict(),
        },
        separators=(",", ":"),
    )


def unreadable_failure(where: str, reason: str) -> None:
    """Log that a login-failure record cannot be read and is treated as absent."""
    logger.warning(
        "%s: ignoring an unreadable login-failure record (%s); it counts as absent",
        where,
        reason,
    )


def failure_from_document(data: object, *, where: str) -> LoginFailure | None:
    """Rebuild a stored login failure, or ``None`` (logged) when it cannot be read."""
    try:
        return LoginFailure.from_store_dict(data)
    except InvalidInputError as exc:
        unreadable_failure(where, str(exc))
        return None


def decode_failure(
    raw: str | bytes | bytearray, *, where: str
) -> tuple[LoginFailure, float] | None:
    """``(failure, deadline)`` from a document written by :func:`encode_failure`.

    ``None`` (logged) when the document cannot be read.
    """
    try:
        doc = json.loads(raw)
    except ValueError:
        unreadable_failure(where, "not valid JSON")
        return None
    if not isinstance(doc, dict) or doc.get("kind") != FAILURE_KIND:
        unreadable_failure(where, "not a login-failure record")
        return None
    if doc.get("v") != PAYLOAD_VERSION:
        unreadable_failure(where, f"not payload version {PAYLOAD_VERSION}")
        return None
    deadline = doc.get("expires_at")
    if isinstance(deadline, bool) or not isinstance(deadline, (int, float)):
        unreadable_failure(where, "no expiry")
        return None
    failure = failure_from_document(doc.get("failure"), where=where)
    return None if failure is None else (failure, float(deadline))


def failure_is_live(failure: LoginFailure, deadline: float, now: datetime) -> bool:
    """True while neither the stored record nor the failure itself has expired."""
    return epoch(now) < deadline and failure.is_active(now)


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
            release_failed_warning(self._name)
            return
        if not owned:
            lost_lock_warning(self._name)


class AsyncPollingLock(AbstractAsyncContextManager[None]):
    """The async twin of :class:`PollingLock` (sleeps with :func:`anyio.sleep`).

    Each acquire attempt and the release run shielded from cancellation (for
    at most :func:`shield_bound` of ``ttl``, the lease's own lifetime): a task
    cancelled while the server grants the lease, or on its way out of the
    locked region, still releases it instead of blocking everyone for ``ttl``.
    """

    def __init__(
        self,
        name: str,
        *,
        try_acquire: Callable[[str], Awaitable[bool]],
        release: Callable[[str], Awaitable[bool]],
        wait: float,
        poll: float,
        ttl: float,
    ) -> None:
        self._name = name
        self._try_acquire = try_acquire
        self._release = release
        self._wait = wait
        self._poll = poll
        self._ttl = ttl
        self._token: str | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._name!r}, held={self._token is not None})"

    async def __aenter__(self) -> None:
        if self._token is not None:
            raise RuntimeError("this lock is already held; take a new one from store.lock()")
        token = new_token()
        deadline = time.monotonic() + self._wait
        while True:
            acquired = False
            with anyio.move_on_after(shield_bound(self._ttl), shield=True):
                acquired = await self._try_acquire(token)
            if acquired:
                break
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
        owned: bool | None = None
        with anyio.move_on_after(shield_bound(self._ttl), shield=True):
            try:
                owned = await self._release(token)
            except SessionStoreError:
                if exc is None:
                    raise
        if owned is None:
            release_failed_warning(self._name)
        elif not owned:
            lost_lock_warning(self._name)


def lost_lock_warning(name: str) -> None:
    """Log that a lock expired before its holder released it."""
    logger.warning(
        "refresh lock %r expired before it was released: the holder took longer than "
        "the lock ttl, so another process may have logged in as well",
        name,
    )


def release_failed_warning(name: str) -> None:
    """Log that a lock could not be released (it expires after its TTL)."""
    logger.warning("could not release refresh lock %r (it expires by itself)", name)
