"""Refresh-token grants under rotation, sans-IO: which token to send, what to record.

With refresh-token rotation every refresh returns a new refresh token and kills
the old one, and **any reuse of a killed token revokes the whole grant**: the
current refresh token and every access token issued from it (spec §9). Two
workers refreshing with the same token do not race, they log everyone out. So
the session manager keeps one :class:`GrantRecord` per grant in the shared
session store, beside the session, and changes it only under the store's
refresh lock:

* the record holds the **current** refresh token and the digests of every
  token rotated away (never the old tokens themselves);
* :func:`choose_token` picks the token to send: the store's current one,
  never one the store knows was rotated away. A token the store has never seen
  (a new authorisation) starts a new current token;
* before the request goes out the record notes it (``pending``), so that a
  worker that dies after the token endpoint answered but before the new token
  reached the store leaves a trace: the next refresh says so if Salesforce
  then refuses the token;
* a refusal (``invalid_grant``) marks the record revoked; from then on no
  worker sends the token again, each raises
  :class:`~sfbulk_sdk.errors.RefreshTokenRevokedError` until a new refresh
  token (a new authorisation) is given.

Nothing here sends, stores or reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from pydantic import SecretStr

from ..errors import (
    InvalidInputError,
    LoginError,
    ProtocolError,
    RefreshTokenRevokedError,
    SessionError,
    SessionStoreError,
    SfBulkError,
    TransportError,
)
from ..models.base import JsonValue
from .session_state import credential_digest

__all__ = [
    "GRANT_PAYLOAD_VERSION",
    "MAX_HISTORY",
    "GrantRecord",
    "TokenChoice",
    "UnreadableGrantError",
    "choose_token",
    "lost_reply_error",
    "reply_may_be_lost",
    "revoked_error",
    "supersedes",
]

#: Version of a stored grant document.
GRANT_PAYLOAD_VERSION = 1
#: Digests of rotated-away tokens kept (a token older than these is still never sent
#: while the record's current token differs from it; see :func:`choose_token`).
MAX_HISTORY = 256


class UnreadableGrantError(SessionStoreError):
    """A grant record is stored but cannot be read (damaged, or written by a newer version).

    It is not absent: starting over from the token the app was given could send
    a refresh token rotated away long ago, which revokes the grant. So no
    refresh is sent until the record is replaced (a new authorisation) or deleted.
    """

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(
            f"{where}: the refresh-token grant record cannot be read ({reason}); no refresh "
            "is sent, as starting over from the refresh token the app was given could reuse "
            "a token rotated away, which revokes the grant. Re-authorise the app and give "
            "the SDK the new refresh token (RefreshToken(client_id, new_refresh_token)), or "
            "delete this record if the refresh token the SDK was given is still current"
        )
        self.where = where
        self.reason = reason

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.where, self.reason))


def _shown(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class GrantRecord:
    """One grant as the store keeps it. ``refresh_token`` is the only secret in it."""

    refresh_token: SecretStr
    updated_at: datetime
    #: SHA-256 digests of the tokens rotated away, newest last.
    history: tuple[str, ...] = ()
    rotations: int = 0
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    #: A refresh was sent with the current token at this time and no answer recorded.
    pending_since: datetime | None = None
    #: The reply to that refresh was lost (the token may have rotated): never sent again.
    reply_lost_at: datetime | None = None

    def __repr__(self) -> str:
        return (
            f"GrantRecord(rotations={self.rotations}, updated_at={self.updated_at.isoformat()}, "
            f"revoked={self.revoked_at is not None}, pending={self.pending_since is not None}, "
            f"reply_lost={self.reply_lost_at is not None})"
        )

    @property
    def digest(self) -> str:
        """SHA-256 of the current refresh token."""
        return credential_digest(self.refresh_token.get_secret_value())

    def knows(self, digest: str) -> bool:
        """True for the current token's digest and those of rotated-away tokens."""
        return digest == self.digest or digest in self.history

    def sending(self, now: datetime) -> GrantRecord:
        """The record noting that a refresh with the current token goes out at ``now``."""
        return replace(self, pending_since=now, updated_at=now)

    def rotated(self, new_token: SecretStr, now: datetime) -> GrantRecord:
        """The record after a refresh returned ``new_token`` (the old one is dead)."""
        if new_token.get_secret_value() == self.refresh_token.get_secret_value():
            return self.answered(now)
        history = (*self.history, self.digest)[-MAX_HISTORY:]
        return GrantRecord(
            refresh_token=new_token,
            updated_at=now,
            history=history,
            rotations=self.rotations + 1,
        )

    def answered(self, now: datetime) -> GrantRecord:
        """The record after a refresh that kept the same token (rotation off), or was
        refused without a verdict on the token (the org answered: nothing rotated)."""
        return replace(self, pending_since=None, updated_at=now)

    def lost(self, now: datetime) -> GrantRecord:
        """The record after the reply to the pending refresh was lost: it stays pending."""
        return replace(self, reply_lost_at=now, updated_at=now)

    def revoked(self, reason: str, now: datetime) -> GrantRecord:
        """The record after Salesforce refused the current token."""
        return replace(
            self, revoked_at=now, revoked_reason=reason[:300], pending_since=None, updated_at=now
        )

    # ------------------------------------------------------------------ storage

    def to_store_dict(self) -> dict[str, JsonValue]:
        """A JSON-ready dict *including the current refresh token*, for stores only."""
        return {
            "v": GRANT_PAYLOAD_VERSION,
            "refresh_token": self.refresh_token.get_secret_value(),
            "updated_at": self.updated_at.isoformat(),
            "history": list(self.history),
            "rotations": self.rotations,
            "revoked_at": None if self.revoked_at is None else self.revoked_at.isoformat(),
            "revoked_reason": self.revoked_reason,
            "pending_since": None if self.pending_since is None else self.pending_since.isoformat(),
            "reply_lost_at": None if self.reply_lost_at is None else self.reply_lost_at.isoformat(),
        }

    @classmethod
    def from_store_dict(cls, data: object) -> GrantRecord:
        """Rebuild a record written by :meth:`to_store_dict`.

        Raises :class:`~sfbulk_sdk.errors.InvalidInputError` naming what is
        wrong, never quoting a stored value.
        """
        if not isinstance(data, dict) or data.get("v") != GRANT_PAYLOAD_VERSION:
            raise InvalidInputError(f"not a version {GRANT_PAYLOAD_VERSION} grant record")
        token = data.get("refresh_token")
        history = data.get("history", [])
        rotations = data.get("rotations", 0)
        if not isinstance(token, str) or not token:
            raise InvalidInputError("the grant record has no refresh token")
        if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
            raise InvalidInputError("the grant record's history is not a list of digests")
        if isinstance(rotations, bool) or not isinstance(rotations, int):
            raise InvalidInputError("the grant record's rotation count is not a number")
        reason = data.get("revoked_reason")
        return cls(
            refresh_token=SecretStr(token),
            updated_at=_moment(data, "updated_at", required=True),  # type: ignore[arg-type]
            history=tuple(history),
            rotations=rotations,
            revoked_at=_moment(data, "revoked_at"),
            revoked_reason=reason if isinstance(reason, str) else None,
            pending_since=_moment(data, "pending_since"),
            reply_lost_at=_moment(data, "reply_lost_at"),
        )


def _moment(data: dict[str, object], name: str, *, required: bool = False) -> datetime | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise InvalidInputError(f"the grant record has no valid {name}")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(f"the grant record has an invalid {name}") from None


@dataclass(frozen=True)
class TokenChoice:
    """What :func:`choose_token` decided: the record to write, then the token to send."""

    record: GrantRecord
    #: True when the stored record was replaced by the token given to the authenticator.
    reset: bool = False
    #: When a worker sent the stored token without recording an answer (it may have died
    #: after Salesforce rotated it); ``None`` if no refresh was left unanswered.
    unanswered_since: datetime | None = None

    @property
    def token(self) -> SecretStr:
        """The refresh token to send."""
        return self.record.refresh_token


def revoked_error(
    record: GrantRecord, *, unanswered_since: datetime | None = None
) -> RefreshTokenRevokedError:
    """The error every worker raises for a grant Salesforce refused (no secret in it)."""
    when = "" if record.revoked_at is None else f" at {_shown(record.revoked_at)}"
    why = f" ({record.revoked_reason})" if record.revoked_reason else ""
    lost = ""
    if unanswered_since is not None:
        lost = (
            f"; a worker sent this refresh token at {_shown(unanswered_since)} and stopped "
            "before it could store the new one Salesforce returned, so the grant was lost "
            "with it"
        )
    return RefreshTokenRevokedError(
        "invalid_grant",
        f"the refresh token was refused{when}{why}{lost}: the grant is revoked and no "
        "worker will send it again. Re-authorise the app and give the SDK the new refresh "
        "token (RefreshToken(client_id, new_refresh_token))",
    )


def choose_token(stored: GrantRecord | None, given: SecretStr, *, now: datetime) -> TokenChoice:
    """The refresh token to send: the store's, unless ``given`` is one it has never seen.

    * no record: ``given`` seeds one;
    * ``given`` is the stored current token or one rotated away: send the stored
      current token (a worker holding an older token never sends it);
    * ``given`` is unknown to the record: a new authorisation; it replaces the
      record's token (the old digests are kept, so the old tokens stay refused);
    * the record is revoked and ``given`` is not new: raise
      :class:`~sfbulk_sdk.errors.RefreshTokenRevokedError` without sending;
    * the reply to the last refresh was lost and ``given`` is not new: raise
      :func:`lost_reply_error` without sending (the token may have rotated).
    """
    digest = credential_digest(given.get_secret_value())
    if stored is None:
        return TokenChoice(GrantRecord(refresh_token=given, updated_at=now), reset=True)
    if not stored.knows(digest):
        history = (*stored.history, stored.digest)[-MAX_HISTORY:]
        record = GrantRecord(refresh_token=given, updated_at=now, history=history)
        return TokenChoice(record, reset=True)
    if stored.revoked_at is not None:
        raise revoked_error(stored)
    if stored.reply_lost_at is not None:
        raise lost_reply_error(stored)
    return TokenChoice(stored, unanswered_since=stored.pending_since)


def lost_reply_error(record: GrantRecord) -> SessionError:
    """The error for a grant whose last refresh may have rotated the token unseen."""
    sent = record.pending_since or record.reply_lost_at or record.updated_at
    return SessionError(
        f"the reply to the refresh-token refresh sent at {_shown(sent)} was lost: Salesforce "
        "may have rotated the refresh token, and sending it again would then revoke the "
        "grant for every worker, so no worker sends it. The grant may need re-authorising: "
        "re-authorise the app and give the SDK the new refresh token "
        "(RefreshToken(client_id, new_refresh_token))"
    )


#: HTTP statuses of a gateway in front of the token endpoint that may have passed the
#: request on: the org may have rotated the token behind them.
_GATEWAY_STATUSES = frozenset({502, 504})


def reply_may_be_lost(error: SfBulkError) -> bool:
    """Whether a refresh that failed with ``error`` may have been carried out unseen.

    True for a transport failure once the request may have left (a reset, a
    timeout waiting for the reply), a 200 that could not be read, and a
    gateway's 502/504; false for a connection that never opened, an error
    raised before sending, and a refusal the token endpoint itself answered
    (a refusal carries no new token: nothing rotated).
    """
    if isinstance(error, TransportError):
        return error.sent is not False
    if isinstance(error, LoginError):
        return error.status_code in _GATEWAY_STATUSES
    return isinstance(error, ProtocolError)


def supersedes(local: GrantRecord, stored: GrantRecord | None) -> bool:
    """Whether the copy a process kept (its write failed) is newer than the store's.

    It is when the store holds nothing, or the very record it came from: the
    token the store holds was rotated into the copy's (the new token exists only
    in the copy), or the same token with an outcome recorded after the store's
    last write. Any other stored record (rotated further, a new authorisation)
    is newer: the store wins.
    """
    if stored is None:
        return True
    if local.digest != stored.digest:
        return stored.digest in local.history and local.digest not in stored.history
    return local.updated_at > stored.updated_at
