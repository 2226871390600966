"""The OAuth 2.0 endpoints of the fake org: the token endpoint, revocation and introspection.

Routes: ``POST {any prefix}/services/oauth2/token`` and ``/revoke`` (any
prefix, as for SOAP, so that clients building ``https://{domain}.salesforce.com/...``
URLs reach a served org), and ``GET /services/oauth2/authorize``: the browser
step of the web-server flow, which approves at once, as if the user (``login_hint``,
else the org's first user) had logged in and allowed the app, and redirects to
``redirect_uri`` with ``code`` and ``state``. With ``code_challenge`` (PKCE,
``S256`` only) the token request must bring the matching ``code_verifier``; the
code is then redeemed by ``grant_type=authorization_code``. A refresh token
can also come from ``org.oauth.issue_refresh_token()``
(:class:`~sfbulk_sdk.testing.oauth.OAuthRegistry`) or ``POST /_fake/oauth/refresh-tokens``.

The request is a form (``application/x-www-form-urlencoded``); the client may
authenticate with ``client_id`` / ``client_secret`` in it or with HTTP Basic.
The flows are in :mod:`sfbulk_sdk.testing.oauth_flows` (which also says where
every error string comes from): ``grant_type=password``,
``urn:ietf:params:oauth:grant-type:jwt-bearer``, ``client_credentials``,
``refresh_token`` and ``authorization_code``.

Every answer has ``Content-Type: application/json`` and ``Cache-Control:
no-store``. Success is HTTP 200 with the token JSON (revocation: an empty
body). Errors are ``{"error": ..., "error_description": ...}`` with HTTP 400;
401 only for ``invalid_client`` when the client used HTTP Basic (RFC 6749
§5.2 requires it there; every Salesforce answer that clients report is a 400).
A missing library for the JWT flow answers 500 ``server_error`` saying what to
install.

Introspection (``POST /services/oauth2/introspect``, RFC 7662): ``token=`` with the
app's ``client_id`` (and ``client_secret``, or HTTP Basic); an active token of that app
answers ``active``, ``scope``, ``client_id``, ``username``, ``sub`` (the identity URL),
``token_type`` and, for an access token, ``exp`` / ``iat`` / ``nbf`` (seconds); any
other token (unknown, expired, revoked, rotated away, another app's) ``{"active": false}``.

Revocation: ``token=<access or refresh token>``; an unknown token answers 400
``unsupported_token_type`` / ``this token type is not supported``, the wording
a live org answered (omniphx/forrest #213, where the body was form-encoded; the
fake answers JSON like the token endpoint). Only ``POST`` is served, so that no
token travels in a URL (Salesforce also accepts ``GET ...?token=``).
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlencode, urlsplit

from ..http import JSON, FakeRequest, FakeResponse
from ..jwt_bearer import JwtUnavailable
from ..oauth import OAuthError
from ..oauth_flows import (
    Attempt,
    TokenRequest,
    grant_label,
    host_of,
    introspect,
    parse_basic,
    run_grant,
)
from ..state import OrgState

__all__ = ["BODY_ERROR_CODE", "FORM", "PATTERN", "error", "handle"]

#: The OAuth endpoints, under any path prefix.
PATTERN = re.compile(
    r"^(?:/.*)?/services/oauth2/(?P<endpoint>token|revoke|authorize|introspect)/?$"
)
#: The OAuth error answering a request body that cannot be read.
BODY_ERROR_CODE = "invalid_request"
FORM = "application/x-www-form-urlencoded"
_HEADERS = [("Content-Type", JSON), ("Cache-Control", "no-store")]


def error(request: FakeRequest, status: int, code: str, message: str) -> FakeResponse:
    """An OAuth error document (``error`` / ``error_description``), never cached."""
    return _json(status, {"error": code, "error_description": message})


def _json(status: int, body: object, headers: list[tuple[str, str]] | None = None) -> FakeResponse:
    return FakeResponse(status, json.dumps(body).encode(), [*_HEADERS, *(headers or [])])


def _oauth_error(exc: OAuthError) -> FakeResponse:
    extra = [("WWW-Authenticate", 'Basic realm="Salesforce"')] if exc.status == 401 else []
    return _json(exc.status, {"error": exc.code, "error_description": exc.description}, extra)


def _form(request: FakeRequest) -> dict[str, str]:
    """The form parameters (the first of each name); none unless the body is a form."""
    if request.media_type not in (FORM, ""):
        return {}
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    return {name: values[0] for name, values in parse_qs(text, keep_blank_values=True).items()}


def handle(state: OrgState, request: FakeRequest, match: re.Match[str]) -> FakeResponse:
    """Answer one OAuth request (the caller holds the org's lock)."""
    state.requests["oauth"] += 1
    endpoint = match["endpoint"]
    if endpoint == "token":
        return _token(state, request)
    if endpoint == "revoke":
        return _revoke(state, request)
    if endpoint == "introspect":
        return _introspect(state, request)
    return _authorize(state, request)


def _redirect(redirect_uri: str, params: dict[str, str]) -> FakeResponse:
    joiner = "&" if urlsplit(redirect_uri).query else "?"
    location = redirect_uri + joiner + urlencode(params)
    return FakeResponse(302, b"", [("Location", location), ("Cache-Control", "no-store")])


def _authorize(state: OrgState, request: FakeRequest) -> FakeResponse:
    """The browser step of the web-server flow: approve at once, redirect with a code."""
    query = {name: values[0] for name, values in parse_qs(request.query).items()}
    if request.method.upper() == "POST":
        query = {**query, **_form(request)}
    app = state.oauth.find_app(query.get("client_id", ""))
    if app is None:
        return error(request, 400, "invalid_client_id", "client identifier invalid")
    redirect_uri = query.get("redirect_uri", "")
    if urlsplit(redirect_uri).scheme not in ("http", "https"):
        return error(request, 400, "redirect_uri_mismatch", "redirect_uri must match configuration")
    back = {"state": query["state"]} if "state" in query else {}
    if query.get("response_type") != "code":
        return _redirect(redirect_uri, {"error": "unsupported_response_type", **back})
    if "authorization_code" not in app.flows:
        return _redirect(redirect_uri, {"error": "invalid_request", **back})
    challenge = query.get("code_challenge", "")
    if challenge and query.get("code_challenge_method", "S256") != "S256":
        return _redirect(redirect_uri, {"error": "invalid_request", **back})
    hint = query.get("login_hint")
    user = state.accounts.find(hint) if hint else state.accounts.default
    if user is None or not app.approves(user):
        return _redirect(redirect_uri, {"error": "access_denied", **back})
    code = state.oauth.issue_code(app, user, redirect_uri, challenge)
    return _redirect(redirect_uri, {"code": code, **back})


def _token_request(state: OrgState, request: FakeRequest) -> TokenRequest:
    return TokenRequest(
        params=_form(request) if request.method.upper() == "POST" else {},
        basic=parse_basic(request.header("authorization")),
        host=host_of(request.header("host"), request.base_url, request.path),
        instance_url=(request.base_url or state.settings.instance_url).rstrip("/"),
    )


def _introspect(state: OrgState, request: FakeRequest) -> FakeResponse:
    try:
        if request.method.upper() != "POST":
            raise OAuthError("invalid_request", "must use HTTP POST")
        return _json(200, introspect(state, _token_request(state, request)))
    except OAuthError as exc:
        return _oauth_error(exc)


def _token(state: OrgState, request: FakeRequest) -> FakeResponse:
    token_request = _token_request(state, request)
    grant_type = token_request.params.get("grant_type", "")
    attempt = Attempt(grant_label(grant_type))
    try:
        if request.method.upper() != "POST":
            raise OAuthError("invalid_request", "must use HTTP POST")
        body = run_grant(state, grant_type, token_request, attempt)
    except OAuthError as exc:
        state.oauth.record(attempt.label, ok=False, app=attempt.app, user=attempt.user)
        return _oauth_error(exc)
    except JwtUnavailable as exc:
        state.oauth.record(attempt.label, ok=False, app=attempt.app, user=attempt.user)
        return _json(500, {"error": "server_error", "error_description": str(exc)})
    state.oauth.record(attempt.label, ok=True, app=attempt.app, user=attempt.user)
    return _json(200, body)


def _revoke(state: OrgState, request: FakeRequest) -> FakeResponse:
    if request.method.upper() != "POST":
        state.oauth.record_revoke(ok=False)
        return error(request, 400, "invalid_request", "must use HTTP POST")
    token = _form(request).get("token", "")
    if not token:
        state.oauth.record_revoke(ok=False)
        return error(request, 400, "invalid_request", "missing required parameter: token")
    if not state.oauth.revoke(token):
        state.oauth.record_revoke(ok=False)
        return error(request, 400, "unsupported_token_type", "this token type is not supported")
    state.oauth.record_revoke(ok=True)
    return FakeResponse(200, b"", list(_HEADERS))
