"""What every store backend shares: the JSON payload, argument checks, error
wrapping that never leaks a session id, the lock warnings, and the seams between
an async store and its generated sync twin.

An entry this version cannot read (a newer payload version, a missing or
renamed field, a foreign value) is *absent*: reads return ``None``,
conditional writes do not match, and a warning names the store and the reason
(never the session id). A login then replaces the entry. Raising instead would
make every worker fail on every request until the entry expired.

A refresh-token grant record (:data:`GRANTS`) has no expiry at all: its
"deadline" is :data:`NO_EXPIRY`, and each backend writes it without a TTL. Its
refresh token is a secret like the session id: never in a warning or an error.
An unreadable grant record is *not* absent: reading it raises
:class:`~sfbulk_sdk.core.grants.UnreadableGrantError`, as starting over from
the app's initial refresh token could reuse a rotated one (see
:func:`unreadable_grant`).

Refresh-lock TTLs run in real time: a lock's TTL bounds how long a dead holder
blocks the others, so it is measured with the wall clock (or a monotonic one
in process), never with a store's injectable session clock.

Async seams
-----------
The stores are written once, async, in :mod:`sfbulk_sdk.stores._async`;
``scripts/unasync.py`` renames what has no common spelling to its sync
counterpart defined next to it here:

* ``cancel_shield(ttl)`` becomes ``no_shield(ttl)``: a task can be cancelled
  mid-call, a thread cannot, so only the async lock needs a shield to finish
  an acquire the server granted, or a release, when its task is cancelled;
* ``async_mutex()`` becomes ``thread_mutex()``: one-time setup (MongoDB's TTL
  index) shared by the tasks, or the threads, of one store.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Generic, NoReturn, TypeVar

import anyio
from pydantic import ValidationError

from .._redact import mask_secrets
from ..core.grants import GrantRecord, UnreadableGrantError
from ..core.session_rules import LoginFailure
from ..core.session_state import credential_digest
from ..errors import InvalidInputError, SessionStoreError
from ..models.session import Session

logger = logging.getLogger("sfbulk_sdk.stores")

#: Version of the stored JSON document; bumped on incompatible changes.
PAYLOAD_VERSION = 1


@contextmanager
def missing_extra(module: str, package: str, extra: str) -> Iterator[None]:
    """Turn the failed import of a backend's optional dependency into an error naming its extra.

    ``package`` is the dependency (its distribution's name may follow in
    parentheses); an import that failed for another reason is raised as it is.
    """
    name, _, aka = package.partition(" ")
    try:
        yield
    except ImportError as exc:
        if (exc.name or "").split(".")[0] != name:
            raise
        raise ImportError(
            f"{module} needs the {name!r} package{' ' + aka if aka else ''}: "
            f"pip install 'sfbulk-sdk[{extra}]'"
        ) from exc


#: The least time a shielded lock call (an acquire attempt, a release) may take
#: before it is abandoned: the lock's TTL, but never less than this.
MIN_SHIELD_SECONDS = 1.0


def shield_bound(ttl: float) -> float:
    """How long a lock call may run shielded from cancellation."""
    return max(ttl, MIN_SHIELD_SECONDS)


def cancel_shield(ttl: float) -> anyio.CancelScope:
    """Run an async lock call to its end even when its task is cancelled meanwhile.

    Bounded by :func:`shield_bound` of ``ttl`` (the lease's own lifetime): a
    call still running then is abandoned, as the lease expires by itself.
    """
    return anyio.move_on_after(shield_bound(ttl), shield=True)


def no_shield(ttl: float) -> AbstractContextManager[None]:
    """The sync twin of :func:`cancel_shield`: a thread is never cancelled mid-call."""
    return nullcontext()


def async_mutex() -> anyio.Lock:
    """A lock for one-time setup shared by the tasks of one store."""
    return anyio.Lock()


def thread_mutex() -> threading.Lock:
    """The sync twin of :func:`async_mutex`: shared by the threads of one store."""
    return threading.Lock()


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


def deadline_after(now: datetime, ttl: float) -> float:
    """The epoch deadline of an entry written at ``now`` that lives ``ttl`` seconds
    (checked: a positive finite number, else :class:`InvalidInputError`)."""
    return epoch(now) + check_ttl(ttl)


def epoch(moment: datetime) -> float:
    """Seconds since the Unix epoch of an aware (or UTC-naive) datetime."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


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
            "sid": credential_digest(session.session_id.get_secret_value()),
            "session": session.to_store_dict(),
        },
        separators=(",", ":"),
    )


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


def json_object(
    raw: str | bytes | bytearray, where: str, complain: Callable[[str, str], None]
) -> dict[str, object] | None:
    """The stored JSON text as an object, or ``None`` after ``complain(where, reason)``."""
    try:
        doc = json.loads(raw)
    except ValueError:  # UnicodeDecodeError included
        complain(where, "not valid JSON")
        return None
    if not isinstance(doc, dict):
        complain(where, "not a JSON object")
        return None
    return doc


def decode_payload(raw: str | bytes | bytearray, where: str) -> tuple[Session, float] | None:
    """``(session, deadline)`` from a document written by :func:`encode_payload`.

    ``None`` (logged) when the document cannot be read: see the module docstring.
    """
    doc = json_object(raw, where, unreadable)
    if doc is None:
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


def decode_failure(raw: str | bytes | bytearray, where: str) -> tuple[LoginFailure, float] | None:
    """``(failure, deadline)`` from a document written by :func:`encode_failure`.

    ``None`` (logged) when the document cannot be read.
    """
    doc = json_object(raw, where, unreadable_failure)
    if doc is None:
        return None
    if doc.get("kind") != FAILURE_KIND:
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


#: The ``kind`` of a stored refresh-token grant record.
GRANT_KIND = "grant"
#: The "deadline" of a grant record: it never expires (a refresh token outlives
#: many sessions, and a lost grant makes workers fall back to an older token).
NO_EXPIRY = math.inf


def grant_document(grant: GrantRecord) -> dict[str, object]:
    """The stored form of a grant: ``{"v": 1, "kind": "grant", "grant": {...}}``.

    The only place, with :meth:`GrantRecord.to_store_dict`, where the refresh
    token leaves the record. There is no expiry in it, on purpose.
    """
    return {"v": PAYLOAD_VERSION, "kind": GRANT_KIND, "grant": grant.to_store_dict()}


def encode_grant(grant: GrantRecord, deadline: float = NO_EXPIRY) -> str:
    """The JSON text of :func:`grant_document`; ``deadline`` must be :data:`NO_EXPIRY`.

    (It is a parameter only so that grants are one more :class:`Records` kind.)
    """
    if deadline != NO_EXPIRY:
        raise InvalidInputError("a grant record never expires")
    return json.dumps(grant_document(grant), separators=(",", ":"))


def unreadable_grant(where: str, reason: str) -> NoReturn:
    """Refuse a grant record that cannot be read (never quoting it, nor its token).

    Unlike a session, an unreadable grant is not absent: treating it so would
    start over from the app's initial refresh token, rotated away long ago, and
    sending that revokes the grant (:class:`~sfbulk_sdk.core.grants.UnreadableGrantError`).
    """
    logger.error("%s: the refresh-token grant record cannot be read (%s)", where, reason)
    raise UnreadableGrantError(where, reason)


def grant_from_document(doc: Mapping[str, object], *, where: str) -> GrantRecord:
    """Rebuild a grant from a :func:`grant_document` (a decoded JSON text or a
    MongoDB document); :class:`~sfbulk_sdk.core.grants.UnreadableGrantError`
    (a :class:`~sfbulk_sdk.errors.SessionStoreError`) when it cannot be read.

    The reasons name what is wrong and never quote a stored value.
    """
    if doc.get("kind") != GRANT_KIND:
        unreadable_grant(where, "not a grant record")
    if doc.get("v") != PAYLOAD_VERSION:
        unreadable_grant(where, f"not payload version {PAYLOAD_VERSION}")
    try:
        return GrantRecord.from_store_dict(doc.get("grant"))
    except InvalidInputError as exc:
        unreadable_grant(where, str(exc))


def decode_grant(raw: str | bytes | bytearray, where: str) -> tuple[GrantRecord, float]:
    """``(grant, NO_EXPIRY)`` from a document written by :func:`encode_grant`.

    Raises :class:`~sfbulk_sdk.core.grants.UnreadableGrantError` when the
    document cannot be read: see :func:`unreadable_grant`.
    """
    doc = json_object(raw, where, unreadable_grant)
    if doc is None:  # pragma: no cover - unreadable_grant raised
        unreadable_grant(where, "not a JSON object")
    return grant_from_document(doc, where=where), NO_EXPIRY


def grant_is_live(grant: GrantRecord, deadline: float, now: datetime) -> bool:
    """Always true: a grant record does not expire (a revoked one says so itself)."""
    return True


_Record = TypeVar("_Record", Session, LoginFailure, GrantRecord)


@dataclass(frozen=True)
class Records(Generic[_Record]):
    """One kind of stored JSON record (:data:`SESSIONS`, :data:`FAILURES`,
    :data:`GRANTS`): its document, its reading and its expiry, for the stores
    that keep JSON text."""

    #: The document for a record expiring at an epoch deadline.
    encode: Callable[[_Record, float], str]
    #: ``(record, deadline)`` from a document, ``None`` (logged) when unreadable;
    #: the second argument names the store and key in the warning.
    decode: Callable[[str | bytes | bytearray, str], tuple[_Record, float] | None]
    #: Whether a record with its deadline is still live at a time.
    is_live: Callable[[_Record, float, datetime], bool]

    def read(
        self,
        raw: str | bytes | bytearray,
        now: datetime,
        *,
        where: str,
        deadline: float | None = None,
    ) -> tuple[_Record | None, bool]:
        """``(record, expired)`` of a stored document at ``now``.

        ``(None, False)`` when it cannot be read (it stays until replaced),
        ``(None, True)`` when it has expired (by ``deadline`` when given, else
        by the one inside the document), ``(record, False)`` when it is live.
        """
        decoded = self.decode(raw, where)
        if decoded is None:
            return None, False
        record, stored = decoded
        if self.is_live(record, stored if deadline is None else deadline, now):
            return record, False
        return None, True

    def encode_lasting(self, record: _Record) -> str:
        """The document for a record without an expiry (a grant: :data:`NO_EXPIRY`)."""
        return self.encode(record, NO_EXPIRY)


#: Sessions, as :func:`encode_payload` writes them.
SESSIONS: Records[Session] = Records(encode_payload, decode_payload, is_live)
#: Login failures, as :func:`encode_failure` writes them.
FAILURES: Records[LoginFailure] = Records(encode_failure, decode_failure, failure_is_live)
#: Refresh-token grants, as :func:`encode_grant` writes them; they never expire.
GRANTS: Records[GrantRecord] = Records(encode_grant, decode_grant, grant_is_live)


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
        # Python keeps the backend's exception as __context__ all the same: mask it there.
        with suppress(Exception):
            exc.args = tuple(mask_secrets(str(arg), hidden) for arg in exc.args)
        raise SessionStoreError(text) from None
    raise SessionStoreError(text) from exc


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
