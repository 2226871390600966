"""The token flows of the fake org's ``/services/oauth2/token``: one function per grant type.

:func:`run_grant` takes a parsed :class:`TokenRequest`, checks it as Salesforce
would and returns the JSON body of the answer, or raises
:class:`~sfbulk_sdk.testing.oauth.OAuthError`. What it identifies on the way
(the app, the user) goes into the :class:`Attempt`, which the counters read.

Where each ``error`` / ``error_description`` comes from ("spec" is the
project's wire-protocol reference, §1.3 and §9; "fixture" a recorded body):

* ``invalid_grant`` / ``authentication failure``: spec §1.3 (a wrong password;
  also what a username-password flow blocked in the org answers, as reported in
  kafka-docker-playground #4178);
* ``invalid_grant`` / ``Audience validation failed``: fixture (Salesforce Help
  "OAuth 2.0 Authorization Errors", the JWT example);
* ``invalid_grant`` / ``user hasn't approved this consumer``: spec §1.3;
* ``invalid_grant`` / ``no valid scopes defined``: spec §1.3 (client
  credentials for an app without scopes, from Winter '26);
* ``invalid_grant`` / ``request not supported on this domain``: spec §9
  (client credentials posted to login/test);
* ``invalid_grant`` / ``expired access/refresh token``: fixture (the refresh
  flow's example; also a revoked, rotated or unknown refresh token, spec §5.2);
* ``invalid_client_id`` / ``client identifier invalid``: spec §1.3;
* ``invalid_client`` / ``invalid client credentials``: spec §9 (wrong secret);
* ``unsupported_grant_type`` / ``grant type not supported``: spec §9;
* ``invalid_grant`` / ``invalid assertion``: client reports of a JWT signed
  with a key the app does not hold (salesforce-laravel-oauth2-rest #68).

Guesses, worth checking against a live org: ``invalid assertion`` also for a
malformed assertion, a missing or expired ``exp`` and one more than three
minutes ahead; ``user hasn't approved this consumer`` also for an unknown
``sub``; ``invalid_grant`` / ``no client credentials user enabled`` for an app
without a run-as user (the wording community answers quote, not verified
here); ``unsupported_grant_type`` for a flow the app does not allow (the
password flow answers ``authentication failure`` then, as reported);
``rate_limit_exceeded`` / ``login rate exceeded`` past the hourly login
allowance; ``invalid_request`` / ``missing required parameter: <name>`` for a
missing parameter and ``invalid_request`` / ``must use HTTP POST`` for another
method.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote_plus, urlsplit

from .accounts import FakeUser
from .jwt_bearer import AssertionRejected, unverified_claims, verify_signature
from .oauth import ExternalClientApp, OAuthError, OAuthFlow, OAuthRegistry
from .state import OrgState

__all__ = [
    "GRANT_TYPES",
    "JWT_AUDIENCES",
    "JWT_BEARER",
    "JWT_CLOCK_SKEW",
    "JWT_MAX_LIFETIME",
    "LOGIN_HOSTS",
    "Attempt",
    "TokenRequest",
    "grant_label",
    "host_of",
    "identity_url",
    "introspect",
    "parse_basic",
    "run_grant",
]

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: ``grant_type`` values and the flow each one is.
GRANT_TYPES: dict[str, OAuthFlow] = {
    "password": "password",
    JWT_BEARER: "jwt_bearer",
    "client_credentials": "client_credentials",
    "refresh_token": "refresh_token",
    "authorization_code": "authorization_code",
}
#: The shared login hosts: client credentials are refused there (spec §1.1, §9).
LOGIN_HOSTS = frozenset({"login.salesforce.com", "test.salesforce.com"})
#: The JWT audiences every org accepts, whatever host the token request went to.
JWT_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")
#: Seconds of clock skew allowed on ``exp``, both ways.
JWT_CLOCK_SKEW = 30
#: How far ahead ``exp`` may be: Salesforce asks for at most 3 minutes.
JWT_MAX_LIFETIME = 180
#: Scopes the client-credentials flow never grants (simple-salesforce PR #662).
_NOT_FOR_CLIENT_CREDENTIALS = frozenset({"full", "web", "refresh_token", "offline_access"})


@dataclass
class TokenRequest:
    """A token request as the flows see it: the form, the client's credentials, where it went.

    ``host`` is the host the client posted to (lower case, no port);
    ``instance_url`` is the org's base URL as that client reaches it.
    """

    params: Mapping[str, str] = field(repr=False)
    basic: tuple[str, str] | None = field(repr=False)
    host: str
    instance_url: str

    def param(self, name: str) -> str:
        """A required form parameter; ``invalid_request`` when it is missing or empty."""
        value = self.params.get(name, "")
        if not value:
            raise OAuthError("invalid_request", f"missing required parameter: {name}")
        return value


@dataclass
class Attempt:
    """What a token request identified, for the counters: its grant, app and user."""

    label: str
    app: ExternalClientApp | None = None
    user: FakeUser | None = None
    basic: bool = False


def grant_label(grant_type: str) -> str:
    """The counters' name for a ``grant_type`` (``unsupported`` for anything unknown)."""
    return GRANT_TYPES.get(grant_type, "unsupported")


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """``(client_id, client_secret)`` from ``Authorization: Basic ...``, or ``None``."""
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None
    return unquote_plus(client_id), unquote_plus(secret)


def host_of(host_header: str | None, base_url: str, path: str = "") -> str:
    """The host a request went to: its ``Host`` header, else the base URL's host.

    A login host named in the path prefix wins: clients that build
    ``https://{domain}.salesforce.com/...`` URLs reach a served org as
    ``https://127.0.0.1:<port>/login.salesforce.com/services/oauth2/token``.
    """
    prefix = path.split("/services/oauth2/", 1)[0]
    for segment in prefix.lower().split("/"):
        if segment in LOGIN_HOSTS:
            return segment
    if host_header:
        return (urlsplit(f"//{host_header}").hostname or "").lower()
    return (urlsplit(base_url).hostname or "").lower()


def run_grant(
    state: OrgState, grant_type: str, request: TokenRequest, attempt: Attempt
) -> dict[str, str]:
    """Answer one token request (the caller holds the org's lock and counts ``attempt``)."""
    flow = GRANT_TYPES.get(grant_type)
    if flow == "password":
        return _password(state, request, attempt)
    if flow == "jwt_bearer":
        return _jwt_bearer(state, request, attempt)
    if flow == "client_credentials":
        return _client_credentials(state, request, attempt)
    if flow == "refresh_token":
        return _refresh_token(state, request, attempt)
    if flow == "authorization_code":
        return _authorization_code(state, request, attempt)
    raise OAuthError("unsupported_grant_type", "grant type not supported")


# ---------------------------------------------------------------------------
# the client (the app) and what every answer holds


def _client(
    registry: OAuthRegistry,
    request: TokenRequest,
    attempt: Attempt,
    flow: OAuthFlow,
    *,
    secret_required: bool = True,
) -> ExternalClientApp:
    """The app the request authenticates as (body parameters or HTTP Basic).

    Status: 400 for every client error, as Salesforce answers in every client
    report we have (restforce #338 shows ``invalid_client`` that way); 401 only
    for ``invalid_client`` when the client sent HTTP Basic, which RFC 6749
    §5.2 requires (not observed on a live org).
    """
    if request.basic is not None:
        client_id, secret = request.basic
        attempt.basic = True
    else:
        client_id = request.param("client_id")
        secret = request.params.get("client_secret", "")
    app = registry.find_app(client_id)
    if app is None:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    attempt.app = app
    checked = bool(secret) or secret_required
    if checked and not hmac.compare_digest(secret.encode(), app.client_secret.encode()):
        status = 401 if attempt.basic else 400
        raise OAuthError("invalid_client", "invalid client credentials", status)
    if flow not in app.flows:
        if flow == "password":
            raise OAuthError("invalid_grant", "authentication failure")
        raise OAuthError("unsupported_grant_type", "grant type not supported")
    return app


def _login_host(state: OrgState, request: TokenRequest) -> str:
    if request.host in LOGIN_HOSTS:
        return request.host
    return "test.salesforce.com" if state.settings.sandbox else "login.salesforce.com"


def identity_url(state: OrgState, request: TokenRequest, user: FakeUser) -> str:
    """The user's identity URL (the token reply's ``id``, introspection's ``sub``)."""
    return f"https://{_login_host(state, request)}/id/{state.org_id}/{user.user_id}"


def introspect(state: OrgState, request: TokenRequest) -> dict[str, object]:
    """``POST /services/oauth2/introspect`` (RFC 7662): whether ``token`` is active and, if
    it is, whose, with which scopes and (access tokens) until when. The app authenticates
    as at the token endpoint; a token of another app is not active for it."""
    if request.basic is not None:
        client_id, secret = request.basic
    else:
        client_id, secret = request.param("client_id"), request.params.get("client_secret", "")
    app = state.oauth.find_app(client_id)
    if app is None:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    if secret and not hmac.compare_digest(secret.encode(), app.client_secret.encode()):
        raise OAuthError(
            "invalid_client", "invalid client credentials", 401 if request.basic else 400
        )
    found = state.oauth.introspect(app, request.param("token"))
    if found is None:
        return {"active": False}
    answer: dict[str, object] = {
        "active": True,
        "scope": " ".join(found.scopes),
        "client_id": app.client_id,
        "username": found.user.username,
        "sub": identity_url(state, request, found.user),
        "token_type": found.token_type,
    }
    if found.expires is not None:
        expires = int(found.expires.timestamp())
        answer["exp"] = expires
        answer["iat"] = answer["nbf"] = expires - state.settings.session_timeout
    return answer


def _answer(
    state: OrgState,
    request: TokenRequest,
    app: ExternalClientApp,
    user: FakeUser,
    access_token: str,
    *,
    scopes: tuple[str, ...] | None,
    signed: bool,
) -> dict[str, str]:
    identity = identity_url(state, request, user)
    body = {"access_token": access_token}
    issued_at = str(int(state.now().timestamp() * 1000))
    if signed:
        digest = hmac.new(
            app.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
        ).digest()
        body["signature"] = base64.b64encode(digest).decode("ascii")
    if scopes is not None:
        body["scope"] = " ".join(scopes)
    body["instance_url"] = request.instance_url
    body["id"] = identity
    body["token_type"] = "Bearer"
    if signed:
        body["issued_at"] = issued_at
    return body


# ---------------------------------------------------------------------------
# the flows


def _password(state: OrgState, request: TokenRequest, attempt: Attempt) -> dict[str, str]:
    """Username-password: the SOAP ``login()`` check, the same login allowance."""
    app = _client(state.oauth, request, attempt, "password")
    username = request.param("username")
    password = request.param("password")
    accounts = state.accounts
    user, problem = accounts.check_credentials(username, password)
    if user is None or problem is not None:
        raise OAuthError("invalid_grant", "authentication failure")
    attempt.user = user
    if not app.approves(user):
        raise OAuthError("invalid_grant", "user hasn't approved this consumer")
    if not accounts.check_login_rate(user):
        raise OAuthError("rate_limit_exceeded", "login rate exceeded")
    session = state.oauth.open_session(app, user)
    return _answer(state, request, app, user, session, scopes=None, signed=True)


def _jwt_bearer(state: OrgState, request: TokenRequest, attempt: Attempt) -> dict[str, str]:
    """JWT bearer: an RS256 assertion signed with the key of the app's certificate."""
    assertion = request.param("assertion")
    try:
        claims = unverified_claims(assertion)
    except AssertionRejected:
        raise OAuthError("invalid_grant", "invalid assertion") from None
    issuer = claims.get("iss")
    app = state.oauth.find_app(issuer) if isinstance(issuer, str) else None
    if app is None:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    attempt.app = app
    if "jwt_bearer" not in app.flows:
        raise OAuthError("unsupported_grant_type", "grant type not supported")
    if app.certificate is None:
        raise OAuthError("invalid_grant", "invalid assertion")
    try:
        verify_signature(assertion, app.certificate)
    except (AssertionRejected, ValueError):  # as clients report it (see the module docstring)
        raise OAuthError("invalid_grant", "invalid assertion") from None
    if not _audience_ok(claims.get("aud"), state.oauth.site_urls):  # the recorded body
        raise OAuthError("invalid_grant", "Audience validation failed")
    if not _expiry_ok(claims.get("exp"), state.now().timestamp()):  # a guess: same wording
        raise OAuthError("invalid_grant", "invalid assertion")
    subject = claims.get("sub")
    user = state.accounts.find(subject) if isinstance(subject, str) else None
    if user is None or not app.approves(user):
        raise OAuthError("invalid_grant", "user hasn't approved this consumer")
    attempt.user = user
    session = state.oauth.open_session(app, user)
    return _answer(state, request, app, user, session, scopes=_granted(app), signed=False)


def _audience_ok(audience: object, site_urls: list[str]) -> bool:
    allowed = {url.rstrip("/") for url in (*JWT_AUDIENCES, *site_urls)}
    values = audience if isinstance(audience, list) else [audience]
    return any(isinstance(v, str) and v.rstrip("/") in allowed for v in values)


def _expiry_ok(exp: object, now: float) -> bool:
    if isinstance(exp, bool):
        return False
    if isinstance(exp, str):
        try:
            exp = float(exp)
        except ValueError:
            return False
    if not isinstance(exp, (int, float)):
        return False
    return now - JWT_CLOCK_SKEW <= exp <= now + JWT_MAX_LIFETIME + JWT_CLOCK_SKEW


def _granted(app: ExternalClientApp) -> tuple[str, ...]:
    """The scopes a token without a refresh token carries: the app's, less the refresh ones."""
    return tuple(s for s in app.scopes if s not in ("refresh_token", "offline_access"))


def _client_credentials(state: OrgState, request: TokenRequest, attempt: Attempt) -> dict[str, str]:
    """Client credentials: My Domain only, as the app's run-as user."""
    if request.host in LOGIN_HOSTS:
        raise OAuthError("invalid_grant", "request not supported on this domain")
    app = _client(state.oauth, request, attempt, "client_credentials")
    user = state.accounts.find(app.run_as) if app.run_as else None
    if user is None:
        raise OAuthError("invalid_grant", "no client credentials user enabled")
    attempt.user = user
    scopes = tuple(s for s in app.scopes if s not in _NOT_FOR_CLIENT_CREDENTIALS)
    if not scopes:
        raise OAuthError("invalid_grant", "no valid scopes defined")
    session = state.oauth.open_session(app, user)
    body = _answer(state, request, app, user, session, scopes=scopes, signed=True)
    if "sfap_api" in scopes:
        body["api_instance_url"] = "https://api.salesforce.com"
    return body


def _refresh_token(state: OrgState, request: TokenRequest, attempt: Attempt) -> dict[str, str]:
    """Refresh token: a new access token, and with rotation a new refresh token too."""
    registry = state.oauth
    client_id = request.basic[0] if request.basic else request.params.get("client_id", "")
    known = registry.find_app(client_id) if client_id else None
    secret_required = known.require_secret_for_refresh if known is not None else True
    app = _client(registry, request, attempt, "refresh_token", secret_required=secret_required)
    token = request.param("refresh_token")
    family, rotated = registry.refresh(app, token)
    attempt.user = family.user
    session = registry.open_session(app, family.user, family)
    body = _answer(state, request, app, family.user, session, scopes=family.scopes, signed=True)
    if rotated is not None:
        return {"access_token": body.pop("access_token"), "refresh_token": rotated, **body}
    return body


def _authorization_code(state: OrgState, request: TokenRequest, attempt: Attempt) -> dict[str, str]:
    """Web server flow: a code from ``/authorize`` for tokens; PKCE lets a public client
    (no secret) redeem it, a secret is checked when sent."""
    app = _client(state.oauth, request, attempt, "authorization_code", secret_required=False)
    code = request.param("code")
    redirect_uri = request.param("redirect_uri")
    verifier = request.params.get("code_verifier", "")
    user, family = state.oauth.redeem_code(app, code, redirect_uri, verifier)
    attempt.user = user
    session = state.oauth.open_session(app, user, family)
    scopes = app.scopes if family is not None else _granted(app)
    body = _answer(state, request, app, user, session, scopes=scopes, signed=True)
    if family is not None:
        return {"access_token": body.pop("access_token"), "refresh_token": family.current, **body}
    return body
