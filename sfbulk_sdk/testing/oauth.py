"""External client apps and OAuth tokens of the fake org: :class:`OAuthRegistry` (``org.oauth``).

An :class:`ExternalClientApp` is what an admin sets up in Salesforce (the newer
name for a Connected App): its client id (consumer key) and secret, the
certificate that checks JWT assertions, whether refresh tokens rotate, the
run-as user of the client-credentials flow, the scopes it grants, the flows it
allows and the users pre-authorised for it.

Every access token the OAuth endpoints hand out is an ordinary session of
:class:`~sfbulk_sdk.testing.accounts.Accounts`, exactly like a SOAP session id:
usable as ``X-SFDC-Session`` on Bulk 1.0 and as ``Authorization: Bearer`` on
REST, and expiring after the org's session timeout of inactivity.

A refresh token belongs to a *family*: the grant a user gave an app once, with
every refresh token and access token issued from it. With rotation on, each
refresh replaces the family's refresh token and the old one dies; reusing a dead
one revokes the whole family at once, its current refresh token and every access
token it issued (Salesforce Help 005316711, "Force one-time-use Refresh Tokens").

No token or secret shows in a ``repr``, a counter or an error description.
All state is guarded by the org's lock, so the counters are exact under
concurrency.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypedDict, get_args

from typing_extensions import Unpack

from .accounts import Accounts, FakeUser
from .jwt_bearer import load_public_key

__all__ = [
    "ALL_FLOWS",
    "CODE_SECONDS",
    "DEFAULT_SCOPES",
    "GRANT_LABELS",
    "AppOptions",
    "ExternalClientApp",
    "GrantCounts",
    "Introspection",
    "OAuthError",
    "OAuthFlow",
    "OAuthRegistry",
    "OAuthStats",
    "TokenFamily",
    "pkce_challenge",
]

#: The flows an app can allow (the ``jwt_bearer`` flow is grant type
#: ``urn:ietf:params:oauth:grant-type:jwt-bearer``).
OAuthFlow = Literal[
    "password", "jwt_bearer", "client_credentials", "refresh_token", "authorization_code"
]
ALL_FLOWS: frozenset[OAuthFlow] = frozenset(get_args(OAuthFlow))
#: How the counters name token requests: one per flow, and ``unsupported`` for the rest.
GRANT_LABELS: tuple[str, ...] = (*get_args(OAuthFlow), "unsupported")
DEFAULT_SCOPES: tuple[str, ...] = ("api", "refresh_token")
#: The scopes that let an app hold a refresh token (``offline_access`` is the OpenID name).
REFRESH_SCOPES = frozenset({"refresh_token", "offline_access"})
#: How long an authorization code of ``/authorize`` stays redeemable (Salesforce: 15 min).
CODE_SECONDS = 900.0

_TOKEN_ALPHABET = string.ascii_letters + string.digits + "._"
_HEX = "0123456789ABCDEF"


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


class OAuthError(Exception):
    """An OAuth error answer: ``code`` (``error``), ``description`` and the HTTP status.

    The description is what the client reads in ``error_description``; it never
    holds a secret or a token.
    """

    def __init__(self, code: str, description: str, status: int = 400) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.status = status


class AppOptions(TypedDict, total=False):
    """The settings of an app (``org.oauth.add_app(name, **options)``); each is optional.

    ``client_id`` / ``client_secret``
        Generated when left out (a ``3MVG9...`` consumer key, a 64-character hex secret).
    ``certificate``
        The PEM X.509 certificate (or RSA public key) that JWT assertions are checked against.
    ``rotate_refresh_tokens``
        One-time-use refresh tokens: every refresh returns a new one (default off).
    ``run_as``
        The username the client-credentials flow runs as (none by default: that flow fails).
    ``scopes``
        The OAuth scopes the app grants (default ``api refresh_token``).
    ``flows``
        The flows the app allows (default all of :data:`ALL_FLOWS`).
    ``approved_users``
        Usernames pre-authorised for the app; ``None`` (the default) approves every user.
    ``require_secret_for_refresh``
        Whether the refresh-token flow needs ``client_secret`` (default on, as in Salesforce).
    """

    client_id: str
    client_secret: str
    certificate: str | None
    rotate_refresh_tokens: bool
    run_as: str | None
    scopes: Iterable[str]
    flows: Iterable[OAuthFlow]
    approved_users: Iterable[str] | None
    require_secret_for_refresh: bool


@dataclass(eq=False)
class ExternalClientApp:
    """An External Client App (formerly Connected App) configured on the fake org.

    The fields stay changeable (``app.rotate_refresh_tokens = True``,
    ``app.approved_users = {"a@example.com"}``), as an admin would edit the app;
    usernames compare without case. The secret and the certificate never show
    in ``repr``.
    """

    name: str
    client_id: str
    client_secret: str = field(repr=False)
    certificate: str | None = field(default=None, repr=False)
    rotate_refresh_tokens: bool = False
    run_as: str | None = None
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    flows: frozenset[OAuthFlow] = ALL_FLOWS
    approved_users: set[str] | None = None
    require_secret_for_refresh: bool = True

    def approves(self, user: FakeUser) -> bool:
        """Whether ``user`` is pre-authorised for this app."""
        if self.approved_users is None:
            return True
        name = user.username.lower()
        return any(approved.lower() == name for approved in self.approved_users)

    def to_json(self, *, secret: bool = False) -> dict[str, object]:
        """The app as the ``/_fake/oauth/apps`` controls show it (the secret only if asked)."""
        shown: dict[str, object] = {
            "name": self.name,
            "client_id": self.client_id,
            "has_certificate": self.certificate is not None,
            "rotate_refresh_tokens": self.rotate_refresh_tokens,
            "run_as": self.run_as,
            "scopes": list(self.scopes),
            "flows": sorted(self.flows),
            "approved_users": None if self.approved_users is None else sorted(self.approved_users),
            "require_secret_for_refresh": self.require_secret_for_refresh,
        }
        if secret:
            shown["client_secret"] = self.client_secret
        return shown


class TokenFamily:
    """One grant of an app by a user: its refresh tokens and the access tokens issued from it.

    ``current`` is the live refresh token; ``rotated`` holds the ones rotation
    replaced (dead: reusing one revokes the family); ``sessions`` the access
    tokens issued from the family.
    """

    __slots__ = ("app", "current", "revoked", "rotated", "scopes", "sessions", "user")

    def __init__(
        self, app: ExternalClientApp, user: FakeUser, scopes: tuple[str, ...], token: str
    ) -> None:
        self.app = app
        self.user = user
        self.scopes = scopes
        self.current = token
        self.rotated: set[str] = set()
        self.sessions: set[str] = set()
        self.revoked = False

    def __repr__(self) -> str:
        return (
            f"TokenFamily(app={self.app.name!r}, user={self.user.username!r}, "
            f"rotations={len(self.rotated)}, revoked={self.revoked})"
        )


class GrantCounts(TypedDict):
    """Token requests of one grant type: how many, and how they ended."""

    requests: int
    successes: int
    failures: int


class OAuthStats(TypedDict):
    """What :meth:`OAuthRegistry.stats` counts (no secrets, no tokens).

    ``logins`` is every successful token request (each opens a session),
    refreshes included; ``grants`` splits requests per grant type
    (:data:`GRANT_LABELS`). ``refresh_token_reuse`` counts reuses of a rotated
    refresh token, ``families_revoked`` the families revoked (by reuse or by
    ``/revoke``), ``live_families`` those still usable. ``apps`` counts
    successes and failures per client id, ``users`` successful token requests
    per username.
    """

    logins: int
    grants: dict[str, GrantCounts]
    refresh_tokens_issued: int
    refresh_token_reuse: int
    families_revoked: int
    live_families: int
    revocations: int
    revoke_failures: int
    apps: dict[str, dict[str, int]]
    users: dict[str, int]


@dataclass(frozen=True)
class Introspection:
    """An active token as introspection describes it (``expires``: access tokens only)."""

    user: FakeUser
    scopes: tuple[str, ...]
    token_type: Literal["access_token", "refresh_token"]
    expires: datetime | None


class OAuthRegistry:
    """The OAuth side of the org: its apps, token families and counters (``org.oauth``).

    ``site_urls`` lists Experience Cloud site URLs accepted as a JWT ``aud``
    besides ``https://login.salesforce.com`` and ``https://test.salesforce.com``.
    """

    def __init__(self, *, accounts: Accounts, lock: threading.RLock) -> None:
        self._accounts = accounts
        self._lock = lock
        self._apps: dict[str, ExternalClientApp] = {}
        self._families: list[TokenFamily] = []
        self._by_refresh: dict[str, TokenFamily] = {}
        self._by_session: dict[str, TokenFamily] = {}
        #: The app that opened each OAuth session (for token introspection).
        self._session_apps: dict[str, ExternalClientApp] = {}
        self.site_urls: list[str] = []
        self._requests: Counter[str] = Counter()
        self._successes: Counter[str] = Counter()
        self._failures: Counter[str] = Counter()
        self._app_counts: dict[str, Counter[str]] = {}
        self._user_counts: Counter[str] = Counter()
        self._issued = 0
        self._reuse = 0
        self._revoked_families = 0
        self._revocations = 0
        self._revoke_failures = 0
        #: Authorization codes not yet redeemed: code -> (app, user, redirect, challenge, expiry).
        self._codes: dict[str, tuple[ExternalClientApp, FakeUser, str, str, float]] = {}

    def __repr__(self) -> str:
        return f"OAuthRegistry(apps={len(self._apps)}, families={len(self._families)})"

    # -- apps ------------------------------------------------------------------

    def add_app(
        self, name: str = "Fake External Client App", **options: Unpack[AppOptions]
    ) -> ExternalClientApp:
        """Configure an External Client App; returns it with its client id and secret.

        See :class:`AppOptions` for the settings. A certificate is read at once
        (this needs ``cryptography``, part of the ``fake-org`` extra).
        """
        client_id = options.get("client_id") or "3MVG9" + _random(_TOKEN_ALPHABET[:62], 80)
        secret = options.get("client_secret") or _random(_HEX, 64)
        with self._lock:
            if client_id in self._apps:
                raise ValueError(f"an app with client id {client_id} already exists")
            app = ExternalClientApp(name, client_id, secret)
            self._configure(app, options)
            self._apps[client_id] = app
            return app

    def update_app(
        self, app: ExternalClientApp | str, **options: Unpack[AppOptions]
    ) -> ExternalClientApp:
        """Change an app's settings (not its client id or secret)."""
        if "client_id" in options or "client_secret" in options:
            raise ValueError("an app's client id and secret cannot be changed")
        with self._lock:
            found = self.app(app if isinstance(app, str) else app.client_id)
            self._configure(found, options)
            return found

    def _configure(self, app: ExternalClientApp, options: AppOptions) -> None:
        if "certificate" in options:
            certificate = options["certificate"]
            if certificate is not None:
                load_public_key(certificate)  # fails now rather than at the first assertion
            app.certificate = certificate
        if "rotate_refresh_tokens" in options:
            app.rotate_refresh_tokens = bool(options["rotate_refresh_tokens"])
        if "run_as" in options:
            run_as = options["run_as"]
            if run_as is not None:
                self._accounts.user(run_as)  # KeyError for an unknown user
            app.run_as = run_as
        if "scopes" in options:
            scopes = options["scopes"]
            app.scopes = tuple(scopes.split() if isinstance(scopes, str) else scopes)
        if "flows" in options:
            flows = frozenset(options["flows"])
            unknown = flows - ALL_FLOWS
            if unknown:
                raise ValueError(f"unknown OAuth flows: {sorted(unknown)}")
            app.flows = flows
        if "approved_users" in options:
            approved = options["approved_users"]
            app.approved_users = None if approved is None else set(approved)
        if "require_secret_for_refresh" in options:
            app.require_secret_for_refresh = bool(options["require_secret_for_refresh"])

    def app(self, client_id: str) -> ExternalClientApp:
        """The app with this client id; ``KeyError`` if there is none."""
        found = self.find_app(client_id)
        if found is None:
            raise KeyError(f"no app with client id {client_id!r}")
        return found

    def find_app(self, client_id: str) -> ExternalClientApp | None:
        """The app with this client id, or ``None``."""
        with self._lock:
            return self._apps.get(client_id)

    @property
    def apps(self) -> list[ExternalClientApp]:
        """Every app, in the order they were added."""
        with self._lock:
            return list(self._apps.values())

    # -- refresh tokens and their families ---------------------------------------

    def issue_refresh_token(
        self,
        app: ExternalClientApp | str,
        username: str | None = None,
        *,
        scopes: Iterable[str] | None = None,
    ) -> str:
        """A refresh token for ``username`` (default: the first user) and ``app``.

        It stands in for the web-server flow a user went through once: the app
        must allow the refresh-token flow and grant ``refresh_token`` (or
        ``offline_access``). ``scopes`` narrows the grant to some of the app's
        scopes.
        """
        with self._lock:
            found = self.app(app if isinstance(app, str) else app.client_id)
            user = self._accounts.user(username)
            granted = tuple(found.scopes if scopes is None else scopes)
            if "refresh_token" not in found.flows:
                raise ValueError(f"app {found.name} does not allow the refresh-token flow")
            if not REFRESH_SCOPES & set(found.scopes):
                raise ValueError(f"app {found.name} does not grant the refresh_token scope")
            extra = set(granted) - set(found.scopes)
            if extra:
                raise ValueError(f"app {found.name} does not grant {sorted(extra)}")
            token = self._new_refresh_token()
            family = TokenFamily(found, user, granted, token)
            self._families.append(family)
            self._by_refresh[token] = family
            self._issued += 1
            return token

    def issue_code(
        self, app: ExternalClientApp, user: FakeUser, redirect_uri: str, challenge: str
    ) -> str:
        """An authorization code (``/authorize``), valid once for :data:`CODE_SECONDS`."""
        with self._lock:
            code = "aPrx" + _random(_TOKEN_ALPHABET[:62], 60)
            deadline = time.monotonic() + CODE_SECONDS
            self._codes[code] = (app, user, redirect_uri, challenge, deadline)
            return code

    def redeem_code(
        self, app: ExternalClientApp, code: str, redirect_uri: str, verifier: str
    ) -> tuple[FakeUser, TokenFamily | None]:
        """Exchange a code: its user and, if the app grants refresh tokens, a new family.

        A code is used once; an unknown, expired or reused code, another app's,
        another ``redirect_uri`` or a PKCE verifier that does not match the
        challenge (S256) all answer ``invalid_grant`` as Salesforce does.
        """
        with self._lock:
            found = self._codes.pop(code, None)
            if found is None or found[0] is not app or found[4] < time.monotonic():
                raise OAuthError("invalid_grant", "invalid authorization code")
            _, user, redirect, challenge, _ = found
            if redirect != redirect_uri:
                raise OAuthError("invalid_grant", "redirect_uri must match configuration")
            if challenge and not hmac.compare_digest(pkce_challenge(verifier), challenge):
                raise OAuthError("invalid_grant", "invalid code verifier")
            if "refresh_token" not in app.flows or not REFRESH_SCOPES & set(app.scopes):
                return user, None
            token = self._new_refresh_token()
            family = TokenFamily(app, user, app.scopes, token)
            self._families.append(family)
            self._by_refresh[token] = family
            self._issued += 1
            return user, family

    @staticmethod
    def _new_refresh_token() -> str:
        return "5Aep861" + _random(_TOKEN_ALPHABET, 80)

    def open_session(
        self, app: ExternalClientApp, user: FakeUser, family: TokenFamily | None = None
    ) -> str:
        """Open a session (an access token) for ``user`` through ``app``."""
        with self._lock:
            session_id = self._accounts.new_session(user)
            self._session_apps[session_id] = app
            if family is not None:
                family.sessions.add(session_id)
                self._by_session[session_id] = family
            return session_id

    def refresh(self, app: ExternalClientApp, token: str) -> tuple[TokenFamily, str | None]:
        """Use a refresh token of ``app``: its family, and the new refresh token if it rotated.

        An unknown or revoked token, or one issued to another app, fails with
        ``invalid_grant`` / ``expired access/refresh token`` (the wording of the
        refresh-flow example in Salesforce Help "OAuth 2.0 Authorization
        Errors"). A rotated token revokes its family first: a reuse event.
        """
        with self._lock:
            family = self._by_refresh.get(token)
            if family is None or family.revoked or family.app is not app:
                raise _expired()
            if token != family.current:
                self._reuse += 1
                self._revoke_family(family)
                raise _expired()
            if not app.rotate_refresh_tokens:
                return family, None
            family.rotated.add(token)
            family.current = self._new_refresh_token()
            self._by_refresh[family.current] = family
            return family, family.current

    def introspect(self, app: ExternalClientApp, token: str) -> Introspection | None:
        """What ``/services/oauth2/introspect`` tells ``app`` of ``token``; ``None`` when it
        is not an active token of ``app`` (unknown, expired, revoked, rotated away, or
        another app's)."""
        with self._lock:
            family = self._by_refresh.get(token)
            if family is not None:
                if family.revoked or token != family.current or family.app is not app:
                    return None
                return Introspection(family.user, family.scopes, "refresh_token", None)
            found = self._accounts.session_expiry(token)
            owner = self._session_apps.get(token)
            if found is None or (owner is not None and owner is not app):
                return None
            family = self._by_session.get(token)
            scopes = (  # a session of no grant (client credentials, JWT) holds no refresh scope
                family.scopes
                if family is not None
                else tuple(x for x in app.scopes if x not in REFRESH_SCOPES)
            )
            return Introspection(found[0], scopes, "access_token", found[1])

    def revoke(self, token: str) -> bool:
        """Revoke an access or refresh token (``/services/oauth2/revoke``); ``False`` if unknown.

        A refresh token takes its whole family with it, every access token
        issued from it included; so does a rotated one of a live family. An
        access token ends that session only.
        """
        with self._lock:
            family = self._by_refresh.get(token)
            if family is not None and not family.revoked:
                self._revoke_family(family)
                return True
            ended = self._accounts.end_session(token)
            self._session_apps.pop(token, None)
            owner = self._by_session.pop(token, None)
            if owner is not None:
                owner.sessions.discard(token)
            return ended

    def _revoke_family(self, family: TokenFamily) -> None:
        family.revoked = True
        self._revoked_families += 1
        for session_id in family.sessions:
            self._accounts.end_session(session_id)
            self._session_apps.pop(session_id, None)
            self._by_session.pop(session_id, None)
        family.sessions.clear()

    # -- counters ----------------------------------------------------------------

    def record(
        self,
        grant: str,
        *,
        ok: bool,
        app: ExternalClientApp | None = None,
        user: FakeUser | None = None,
    ) -> None:
        """Count one token request of ``grant`` (a :data:`GRANT_LABELS` name)."""
        with self._lock:
            self._requests[grant] += 1
            (self._successes if ok else self._failures)[grant] += 1
            if app is not None:
                counts = self._app_counts.setdefault(app.client_id, Counter())
                counts["successes" if ok else "failures"] += 1
            if ok and user is not None:
                self._user_counts[user.username] += 1

    def record_revoke(self, *, ok: bool) -> None:
        """Count one ``/revoke`` request."""
        with self._lock:
            if ok:
                self._revocations += 1
            else:
                self._revoke_failures += 1

    @property
    def logins(self) -> int:
        """Successful token requests so far, of every grant type (each opened a session)."""
        with self._lock:
            return sum(self._successes.values())

    def stats(self) -> OAuthStats:
        """The OAuth counters (see :class:`OAuthStats`)."""
        with self._lock:
            grants: dict[str, GrantCounts] = {
                label: {
                    "requests": self._requests[label],
                    "successes": self._successes[label],
                    "failures": self._failures[label],
                }
                for label in GRANT_LABELS
            }
            return {
                "logins": sum(self._successes.values()),
                "grants": grants,
                "refresh_tokens_issued": self._issued,
                "refresh_token_reuse": self._reuse,
                "families_revoked": self._revoked_families,
                "live_families": sum(1 for f in self._families if not f.revoked),
                "revocations": self._revocations,
                "revoke_failures": self._revoke_failures,
                "apps": {
                    client_id: {
                        "successes": counts["successes"],
                        "failures": counts["failures"],
                    }
                    for client_id, counts in self._app_counts.items()
                },
                "users": dict(sorted(self._user_counts.items())),
            }


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE verifier (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _expired() -> OAuthError:
    return OAuthError("invalid_grant", "expired access/refresh token")
