"""The OAuth 2.0 endpoints of the fake org: the token endpoint and token revocation.

Routes: ``POST {any prefix}/services/oauth2/token`` and ``/revoke`` (any
prefix, as for SOAP, so that clients building ``https://{domain}.salesforce.com/...``
URLs reach a served org). ``/authorize`` (the browser's redirect of the
web-server flow) is not emulated and answers ``unsupported_grant_type``; a
refresh token that flow would give comes from ``org.oauth.issue_refresh_token()``
(:class:`~sfbulk_sdk.testing.oauth.OAuthRegistry`) or ``POST /_fake/oauth/refresh-tokens``.

The request is a form (``application/x-www-form-urlencoded``); the client may
authenticate with ``client_id`` / ``client_secret`` in it or with HTTP Basic.
The flows are in :mod:`sfbulk_sdk.testing.oauth_flows` (which also says where
every error string comes from): ``grant_type=password``,
``urn:ietf:params:oauth:grant-type:jwt-bearer``, ``client_credentials`` and
``refresh_token``.

Every answer has ``Content-Type: application/json`` and ``Cache-Control:
no-store``. Success is HTTP 200 with the token JSON (revocation: an empty
body). Errors are ``{"error": ..., "error_description": ...}`` with HTTP 400;
401 only for ``invalid_client`` when the client used HTTP Basic (RFC 6749
§5.2 requires it there; every Salesforce answer that clients report is a 400).
A missing library for the JWT flow answers 500 ``server_error`` saying what to
install.

Revocation: ``token=<access or refresh token>``; an unknown token answers 400
``unsupported_token_type`` / ``this token type is not supported``, the wording
a live org answered (omniphx/forrest #213, where the body was form-encoded; the
fake answers JSON like the token endpoint). Only ``POST`` is served, so that no
token travels in a URL (Salesforce also accepts ``GET ...?token=``).
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs

from ..http import JSON, FakeRequest, FakeResponse
from ..jwt_bearer import JwtUnavailable
from ..oauth import OAuthError
from ..oauth_flows import Attempt, TokenRequest, grant_label, host_of, parse_basic, run_grant
from ..state import OrgState

__all__ = ["BODY_ERROR_CODE", "FORM", "PATTERN", "error", "handle"]

#: The OAuth endpoints, under any path prefix.
PATTERN = re.compile(r"^(?:/.*)?/services/oauth2/(?P<endpoint>token|revoke|authorize)/?$")
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
    return error(request, 400, "unsupported_grant_type", "grant type not supported")


def _token(state: OrgState, request: FakeRequest) -> FakeResponse:
    params = _form(request) if request.method.upper() == "POST" else {}
    grant_type = params.get("grant_type", "")
    attempt = Attempt(grant_label(grant_type))
    token_request = TokenRequest(
        params=params,
        basic=parse_basic(request.header("authorization")),
        host=host_of(request.header("host"), request.base_url, request.path),
        instance_url=(request.base_url or state.settings.instance_url).rstrip("/"),
    )
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
