"""How a session is obtained: the sans-IO :class:`Authenticator` protocol.

An authenticator builds the login request and parses the reply into a
:class:`~sfbulk_sdk.models.Session`; it never sends anything itself, so the
same object serves the sync and the async client. Keeping a session (stores,
expiry, refresh) is the job of :mod:`sfbulk_sdk.sessions`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Protocol, runtime_checkable

import httpx
from pydantic import SecretStr

from ..models.session import Session

__all__ = ["Authenticator", "RefreshTokenGrant", "StaticSession", "fingerprint"]


def fingerprint(*parts: str) -> str:
    """A stable, non-secret digest of what identifies a login (URL, user, ...)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:32]


@runtime_checkable
class Authenticator(Protocol):
    """Builds a login request and turns its response into a :class:`Session`."""

    @property
    def fingerprint(self) -> str:
        """A digest of login URL and user/client id: names the session in a store.

        It never contains a secret and is stable across processes.
        """
        ...

    @property
    def can_refresh(self) -> bool:
        """True when the authenticator can log in again once a session is rejected.

        A static session cannot: its rejection is final.
        """
        ...

    def login_request(self, *, now: datetime | None = None) -> httpx.Request | None:
        """The request to send at ``now``, or ``None`` when no request is needed.

        ``now`` is the session manager's clock (a JWT assertion is signed for it);
        ``None`` reads the system clock.
        """
        ...

    def parse_login_response(self, response: httpx.Response | None, *, now: datetime) -> Session:
        """The session the login opened (raises :class:`~sfbulk_sdk.errors.LoginError`)."""
        ...


@runtime_checkable
class RefreshTokenGrant(Protocol):
    """An authenticator that renews a session with a refresh token (possibly rotated).

    The session manager keeps the grant's current refresh token in the store
    and asks for the request to send with it; see :mod:`sfbulk_sdk.core.grants`.
    """

    @property
    def initial_token(self) -> SecretStr:
        """The refresh token the authenticator was given."""
        ...

    def refresh_request(self, refresh_token: SecretStr) -> httpx.Request:
        """The token request that spends ``refresh_token``."""
        ...


class StaticSession:
    """An already known session id and instance URL: no login is ever made.

    When Salesforce rejects the id there is nothing to refresh it with, so the
    rejection surfaces as :class:`~sfbulk_sdk.errors.InvalidSessionError`.
    """

    def __init__(self, instance_url: str, session_id: str) -> None:
        self._session = Session.static(instance_url, session_id)
        self._fingerprint = fingerprint("static", instance_url)

    def __repr__(self) -> str:
        return f"StaticSession(instance_url={self._session.instance_url!r})"

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    @property
    def can_refresh(self) -> bool:
        """Always ``False``: there is nothing to log in again with."""
        return False

    @property
    def session(self) -> Session:
        """The session (its id never shows in a repr)."""
        return self._session

    def login_request(self, *, now: datetime | None = None) -> httpx.Request | None:
        return None

    def parse_login_response(self, response: httpx.Response | None, *, now: datetime) -> Session:
        return self._session
