"""The OAuth 2.0 token endpoint, sans-IO: build the request, read the reply (spec §1.3, §9).

* request: ``POST {host}/services/oauth2/token`` with the flow's parameters
  form-encoded (``application/x-www-form-urlencoded``); client credentials may
  also go as HTTP Basic;
* success: HTTP 200, JSON with ``access_token`` and ``instance_url``
  (:class:`~sfbulk_sdk.models.oauth.TokenResponse`); the access token is the
  session id for every API (``X-SFDC-Session`` on Bulk 1.0, ``Authorization:
  Bearer`` on REST and Bulk 2.0). The reply has no expiry: the session lasts
  while it is used, for the org's session timeout;
* refusal: HTTP 400 (or 401) with ``{"error", "error_description"}``, mapped to
  the :class:`~sfbulk_sdk.errors.OAuthError` classes keeping both.

Nothing here sends, reads a clock or logs; no token, secret or assertion is
ever put into an error message.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlencode

import httpx
from pydantic import SecretStr, ValidationError

from .._redact import body_excerpt, mask_secrets
from ..errors import (
    LoginError,
    LoginUnavailableError,
    MalformedReplyError,
    OAuthError,
    login_error_class,
)
from ..models.base import load_json
from ..models.oauth import OAuthErrorBody, TokenResponse
from ..models.session import DEFAULT_SESSION_SECONDS, Session

__all__ = [
    "FORM_MEDIA",
    "GRANT_CLIENT_CREDENTIALS",
    "GRANT_JWT_BEARER",
    "GRANT_PASSWORD",
    "GRANT_REFRESH_TOKEN",
    "TOKEN_PATH",
    "parse_token_response",
    "token_request",
    "token_session",
]

TOKEN_PATH = "/services/oauth2/token"
REVOKE_PATH = "/services/oauth2/revoke"
FORM_MEDIA = "application/x-www-form-urlencoded"

GRANT_PASSWORD = "password"
GRANT_JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GRANT_CLIENT_CREDENTIALS = "client_credentials"
GRANT_REFRESH_TOKEN = "refresh_token"

#: Longest error text kept from a refusal (descriptions are short sentences).
_MAX_DESCRIPTION = 500


def token_request(
    base_url: str,
    form: Mapping[str, str | SecretStr],
    *,
    basic: tuple[str, SecretStr] | None = None,
) -> httpx.Request:
    """The ``POST .../services/oauth2/token`` request carrying ``form``.

    Secret values are revealed only into the body (and the ``Authorization``
    header for ``basic`` client credentials).
    """
    fields = {
        name: value.get_secret_value() if isinstance(value, SecretStr) else value
        for name, value in form.items()
    }
    headers = {"Content-Type": FORM_MEDIA, "Accept": "application/json"}
    if basic is not None:
        client_id, secret = basic
        pair = f"{client_id}:{secret.get_secret_value()}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    body = urlencode(fields).encode("ascii")
    return httpx.Request("POST", base_url.rstrip("/") + TOKEN_PATH, headers=headers, content=body)


def _content(response: httpx.Response) -> bytes:
    try:
        return response.content
    except httpx.ResponseNotRead:
        return b""


def _error(response: httpx.Response, secrets: tuple[str, ...]) -> LoginError:
    status = response.status_code
    excerpt = body_excerpt(_content(response), secrets)
    body: OAuthErrorBody | None = None
    try:
        document = load_json(_content(response), "the token endpoint's refusal")
        if isinstance(document, dict):
            body = OAuthErrorBody.model_validate(document)
    except (MalformedReplyError, ValidationError):
        body = None
    if body is None or not body.error.strip():
        kind = response.headers.get("content-type", "no content type")
        if status >= 500:  # a proxy's page or an empty body: the server failed, retry
            return LoginUnavailableError(
                f"HTTP{status}",
                f"the token endpoint failed: HTTP {status} with a body that is not an OAuth "
                f"error ({kind.split(';')[0][:60]})",
                status_code=status,
                excerpt=excerpt,
            )
        return OAuthError(
            f"HTTP{status}",
            f"the token endpoint answered HTTP {status} with a body that is not an OAuth "
            f"error ({kind.split(';')[0][:60]})",
            status_code=status,
            excerpt=excerpt,
        )
    # Masked like an excerpt: the values sent, and whatever looks like a credential
    # (an echoed assertion, a Basic header, another refresh token).
    description = mask_secrets(body.error_description[:_MAX_DESCRIPTION], secrets)
    code = body.error[:100]
    cls = login_error_class(code)
    if not issubclass(cls, (OAuthError, LoginUnavailableError)):
        cls = OAuthError
    return cls(code, description, status_code=status, excerpt=excerpt)


def parse_token_response(
    response: httpx.Response, *, secrets: tuple[str, ...] = ()
) -> TokenResponse:
    """The token reply, or the typed refusal (an :class:`~sfbulk_sdk.errors.OAuthError`).

    ``secrets`` are values the request carried (password, client secret,
    token): a refusal that echoes one has it masked. A 200 that is not a JSON
    object holding a usable ``access_token`` and ``instance_url`` raises
    :class:`~sfbulk_sdk.errors.MalformedReplyError` with the status and a
    masked excerpt of the body (no token, secret or pydantic text in it).
    """
    if response.status_code != 200:
        raise _error(response, secrets)
    content = _content(response)
    media = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media and not media.endswith("json"):
        raise MalformedReplyError(
            f"the token endpoint answered HTTP 200 with {media[:60]}, not JSON",
            status_code=response.status_code,
            excerpt=body_excerpt(content, secrets),
        )
    problem = ""
    try:
        return TokenResponse.from_json(content)
    except MalformedReplyError as exc:
        problem = str(exc)
    # Without the response: its body would be the token reply itself.
    raise MalformedReplyError(
        problem, status_code=response.status_code, excerpt=body_excerpt(content, secrets)
    )


def token_session(
    token: TokenResponse,
    *,
    now: datetime,
    fingerprint: str,
    seconds_valid: int = DEFAULT_SESSION_SECONDS,
) -> Session:
    """The :class:`Session` a token reply opened.

    The reply carries no expiry; ``seconds_valid`` is the org's session timeout
    (2 hours unless an admin changed it), measured from the last use.
    """
    return Session(
        instance_url=token.instance_url,
        session_id=token.access_token,
        user_id=token.user_id,
        org_id=token.org_id,
        auth_fingerprint=fingerprint,
        issued_at=now,
        last_used_at=now,
        seconds_valid=seconds_valid,
    )
