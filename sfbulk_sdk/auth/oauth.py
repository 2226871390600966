"""The OAuth 2.0 logins that outlive SOAP: client credentials, refresh token, username-password.

Each authenticator builds one token request and reads its reply into a
:class:`~sfbulk_sdk.models.Session` (sans-IO: it sends nothing itself, so the
same object serves the sync and the async client, and every session store):

* :class:`ClientCredentials`: a server-to-server login as the app's run-as
  user; must be sent to the org's My Domain;
* :class:`RefreshToken`: a user's grant, renewed with its refresh token; safe
  under refresh-token rotation when the session store is shared (see
  :mod:`sfbulk_sdk.sessions`);
* :class:`OAuthPassword`: the username-password flow, which Salesforce is
  deprecating (it warns once);
* the JWT bearer flow is :class:`~sfbulk_sdk.auth.jwt.JwtBearer`.

The token reply carries no expiry; ``session_seconds`` (default 7200, the
org's default session timeout) is how long a session lasts without use: set it
to the org's timeout when an admin changed it.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime

import httpx
from pydantic import SecretStr

from ..core import oauth
from ..core.session_state import credential_digest
from ..deprecations import warn_once
from ..errors import InvalidInputError
from ..models.session import DEFAULT_SESSION_SECONDS, MAX_SESSION_SECONDS, Session
from .base import fingerprint
from .hosts import is_login_host, resolve_login_url

__all__ = ["ClientCredentials", "OAuthFlow", "OAuthPassword", "RefreshToken", "secret"]


def secret(value: str | SecretStr, name: str, *, allow_empty: bool = False) -> SecretStr:
    """``value`` as a :class:`SecretStr`, refusing what cannot be one (without echoing it)."""
    if isinstance(value, SecretStr):
        text = value.get_secret_value()
    elif isinstance(value, str):
        text = value
    else:
        raise InvalidInputError(f"{name} must be a string, not {type(value).__name__}")
    if not text and not allow_empty:
        raise InvalidInputError(f"{name} must not be empty")
    return SecretStr(text)


def _client_id(value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError("client_id (the app's consumer key) must be a non-empty string")
    return value.strip()


def _seconds(value: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 0 < value <= MAX_SESSION_SECONDS
    ):
        raise InvalidInputError(
            f"session_seconds must be the org's session timeout in seconds, not {value!r}"
        )
    return value


class OAuthFlow:
    """What every OAuth authenticator shares: the token URL, the session it opens.

    ``fingerprint`` names the session in a store: a digest of the flow, the
    token host, the client id and the user (a :class:`RefreshToken`: its grant's
    identity), never of a secret.
    """

    grant_type = ""

    def __init__(
        self,
        client_id: str,
        *,
        login_url: str,
        identity: str,
        session_seconds: int = DEFAULT_SESSION_SECONDS,
    ) -> None:
        self._client_id = _client_id(client_id)
        self._login_url = login_url
        self._session_seconds = _seconds(session_seconds)
        self._fingerprint = fingerprint(
            self.grant_type, login_url.lower(), self._client_id, identity.strip().lower()
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(client_id={self._client_id!r}, login_url={self._login_url!r})"
        )

    @property
    def fingerprint(self) -> str:
        """A digest of flow, host and client/user ids (never of a secret)."""
        return self._fingerprint

    @property
    def can_refresh(self) -> bool:
        """Always ``True``: a rejected session is replaced by a new token request."""
        return True

    @property
    def client_id(self) -> str:
        """The app's consumer key (not a secret)."""
        return self._client_id

    @property
    def login_url(self) -> str:
        """Where the token request goes (``.../services/oauth2/token`` is appended)."""
        return self._login_url

    @property
    def token_url(self) -> str:
        """The token endpoint."""
        return self._login_url + oauth.TOKEN_PATH

    @property
    def session_seconds(self) -> int:
        """How long a session lasts unused (the org's session timeout)."""
        return self._session_seconds

    def _secrets(self) -> tuple[str, ...]:
        return ()

    def login_request(self, *, now: datetime | None = None) -> httpx.Request | None:
        raise NotImplementedError  # pragma: no cover - every flow defines it

    def parse_login_response(self, response: httpx.Response | None, *, now: datetime) -> Session:
        """The session the token reply opened (raises an :class:`~sfbulk_sdk.errors.OAuthError`)."""
        if response is None:
            raise InvalidInputError(f"{type(self).__name__} needs the token endpoint's reply")
        token = oauth.parse_token_response(response, secrets=self._secrets())
        session = oauth.token_session(
            token, now=now, fingerprint=self._fingerprint, seconds_valid=self._session_seconds
        )
        if token.refresh_token is not None:
            session = session.model_copy(update={"refresh_token": token.refresh_token})
        return session


class ClientCredentials(OAuthFlow):
    """The client-credentials flow: the app logs in as its run-as user.

    ``my_domain_url`` is the org's My Domain (``https://<name>.my.salesforce.com``):
    Salesforce refuses this flow on ``login.salesforce.com`` and
    ``test.salesforce.com``, so those are refused here before anything is sent.
    The secret goes in the form body (``basic_auth=True`` sends it as HTTP Basic).
    """

    grant_type = oauth.GRANT_CLIENT_CREDENTIALS

    def __init__(
        self,
        client_id: str,
        client_secret: str | SecretStr,
        my_domain_url: str,
        *,
        basic_auth: bool = False,
        session_seconds: int = DEFAULT_SESSION_SECONDS,
    ) -> None:
        url = resolve_login_url(login_url=my_domain_url)
        if is_login_host(url):
            raise InvalidInputError(
                f"the client-credentials flow must be sent to the org's My Domain "
                f"(https://<name>.my.salesforce.com), not {url}: Salesforce answers "
                "'request not supported on this domain' on login and test"
            )
        super().__init__(client_id, login_url=url, identity="", session_seconds=session_seconds)
        self._client_secret = secret(client_secret, "client_secret")
        self._basic = basic_auth

    def _secrets(self) -> tuple[str, ...]:
        return (self._client_secret.get_secret_value(),)

    def login_request(self, *, now: datetime | None = None) -> httpx.Request:
        """``grant_type=client_credentials`` with the client id and secret."""
        if self._basic:
            return oauth.token_request(
                self._login_url,
                {"grant_type": self.grant_type},
                basic=(self._client_id, self._client_secret),
            )
        form: dict[str, str | SecretStr] = {
            "grant_type": self.grant_type,
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }
        return oauth.token_request(self._login_url, form)


#: How a grant without a username or identity is told apart: a digest of its first token.
_TOKEN_IDENTITY = "token-sha256:"


def _grant_identity(token: SecretStr, username: str | None, identity: str | None) -> str:
    """What tells a refresh-token grant apart from the app's other users' grants."""
    if username is not None and identity is not None:
        raise InvalidInputError("give either username= or identity=, not both")
    for name, value in (("username", username), ("identity", identity)):
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise InvalidInputError(f"{name} must be a non-empty string")
        if value.strip() == token.get_secret_value().strip():
            raise InvalidInputError(f"{name} must name the grant, not be its refresh token")
        return value.strip().lower()
    return _TOKEN_IDENTITY + credential_digest(token.get_secret_value())


class RefreshToken(OAuthFlow):
    """A user's grant, renewed with its refresh token: **rotation-safe** with a shared store.

    With refresh-token rotation (mandatory for many apps) every refresh returns
    a new refresh token and kills the old one, and reusing an old one revokes
    the grant for every worker. The session manager therefore keeps the
    current refresh token in the session store beside the session, refreshes
    only under the store's lock, writes the new refresh token to the store
    before the new session is used, and never sends a token the store knows
    was rotated away: give every worker the same store (see
    :mod:`sfbulk_sdk.sessions`). ``refresh_token`` is the token you obtained
    when the user authorised the app; it seeds the store the first time, and a
    token the store has not seen (a new authorisation) replaces the stored one.

    **One store key per grant.** The store key (:attr:`fingerprint`) is a digest
    of the token host, the client id and the grant's :attr:`identity`:

    * ``username=`` (the Salesforce username that authorised the app, any case):
      the recommended form. Every worker of that user shares one session and one
      refresh token, and a re-authorisation by the same user (a new refresh
      token, same username) replaces the stored token under the same key;
    * ``identity=``: any other non-secret name of the grant (your app's id for
      the user), used the same way;
    * neither: a one-way digest of ``refresh_token`` (never the token). Two
      grants given different tokens never share a key; workers must then all be
      started with the same first token (the store's record then tells them the
      current one), and a re-authorisation, a new token, starts a new key.

    Different users of one app never share a session or a refresh token.

    A refresh token Salesforce refuses (expired, revoked) raises
    :class:`~sfbulk_sdk.errors.RefreshTokenRevokedError`: the user must
    authorise the app again.
    """

    grant_type = oauth.GRANT_REFRESH_TOKEN

    def __init__(
        self,
        client_id: str,
        refresh_token: str | SecretStr,
        *,
        client_secret: str | SecretStr | None = None,
        username: str | None = None,
        identity: str | None = None,
        login_url: str | None = None,
        sandbox: bool = False,
        domain: str | None = None,
        session_seconds: int = DEFAULT_SESSION_SECONDS,
    ) -> None:
        url = resolve_login_url(sandbox=sandbox, domain=domain, login_url=login_url)
        token = secret(refresh_token, "refresh_token")
        grant = _grant_identity(token, username, identity)
        super().__init__(client_id, login_url=url, identity=grant, session_seconds=session_seconds)
        self._identity = grant
        self._username = username.strip() if username is not None else None
        self._refresh_token = token
        self._sent: deque[str] = deque(maxlen=8)
        self._client_secret = (
            None if client_secret is None else secret(client_secret, "client_secret")
        )

    @property
    def identity(self) -> str:
        """What tells this grant apart in the store (no secret): the username or identity
        given, in lower case, else ``token-sha256:`` and the digest of the first token."""
        return self._identity

    @property
    def username(self) -> str | None:
        """The Salesforce username given (``None`` when the grant is keyed otherwise)."""
        return self._username

    @property
    def initial_token_digest(self) -> str:
        """SHA-256 of the refresh token given at construction (what the store compares)."""
        return credential_digest(self._refresh_token.get_secret_value())

    @property
    def initial_token(self) -> SecretStr:
        """The refresh token given at construction."""
        return self._refresh_token

    def _secrets(self) -> tuple[str, ...]:
        shown = [self._refresh_token.get_secret_value(), *self._sent]
        if self._client_secret is not None:
            shown.append(self._client_secret.get_secret_value())
        return tuple(shown)

    def refresh_request(self, refresh_token: SecretStr) -> httpx.Request:
        """``grant_type=refresh_token`` with ``refresh_token`` (the store's current one)."""
        # The tokens sent lately, masked out of the refusals (a rotated one is not ours).
        self._sent.append(refresh_token.get_secret_value())
        form: dict[str, str | SecretStr] = {
            "grant_type": self.grant_type,
            "refresh_token": refresh_token,
            "client_id": self._client_id,
        }
        if self._client_secret is not None:
            form["client_secret"] = self._client_secret
        return oauth.token_request(self._login_url, form)

    def login_request(self, *, now: datetime | None = None) -> httpx.Request:
        """A refresh with the token given at construction (the manager uses the store's)."""
        return self.refresh_request(self._refresh_token)


class OAuthPassword(OAuthFlow):
    """The OAuth username-password flow (``grant_type=password``).

    Salesforce is deprecating this flow (Help 000886201: migrate to client
    credentials); it works, and warns once per process. ``password`` is the
    password with the security token appended unless the caller's network is
    trusted (pass the token separately as ``security_token``).
    """

    grant_type = oauth.GRANT_PASSWORD

    def __init__(
        self,
        client_id: str,
        client_secret: str | SecretStr,
        username: str,
        password: str | SecretStr,
        security_token: str | SecretStr = "",
        *,
        login_url: str | None = None,
        sandbox: bool = False,
        domain: str | None = None,
        session_seconds: int = DEFAULT_SESSION_SECONDS,
    ) -> None:
        if not isinstance(username, str) or not username.strip():
            raise InvalidInputError("username must be a non-empty string")
        url = resolve_login_url(sandbox=sandbox, domain=domain, login_url=login_url)
        super().__init__(
            client_id, login_url=url, identity=username, session_seconds=session_seconds
        )
        self._username = username
        self._client_secret = secret(client_secret, "client_secret")
        self._password = secret(password, "password")
        self._security_token = secret(security_token, "security_token", allow_empty=True)
        warn_once(
            "oauth-password",
            "the OAuth username-password flow is being deprecated by Salesforce "
            "(Help 000886201): move to ClientCredentials, JwtBearer or RefreshToken",
        )

    @property
    def username(self) -> str:
        """The Salesforce username."""
        return self._username

    def _secrets(self) -> tuple[str, ...]:
        password = self._password.get_secret_value()
        token = self._security_token.get_secret_value()
        return (password + token, password, token, self._client_secret.get_secret_value())

    def login_request(self, *, now: datetime | None = None) -> httpx.Request:
        """``grant_type=password`` with the app's id and secret and the user's credentials."""
        full = self._password.get_secret_value() + self._security_token.get_secret_value()
        form: dict[str, str | SecretStr] = {
            "grant_type": self.grant_type,
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "username": self._username,
            "password": SecretStr(full),
        }
        return oauth.token_request(self._login_url, form)
