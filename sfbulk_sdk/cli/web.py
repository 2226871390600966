"""``sfbulk login --web``: the authorization-code flow with PKCE and a loopback redirect.

1. A verifier (random, 64 bytes of URL-safe text) and its S256 challenge, and a
   random ``state`` are made (RFC 7636, RFC 6749 §10.12).
2. A one-shot HTTP server listens on ``127.0.0.1:<callback_port>`` for
   ``/OauthRedirect`` (the callback the External Client App must allow).
3. The browser opens ``<login_url>/services/oauth2/authorize?...`` (through
   :mod:`webbrowser`, so ``BROWSER`` chooses it); the user approves, and the
   browser is sent back to the loopback server with ``code`` and ``state``.
4. The code and the verifier are exchanged at ``/services/oauth2/token``
   (``grant_type=authorization_code``); the refresh token of the answer then
   logs in as a :class:`~sfbulk_sdk.auth.RefreshToken` grant, kept in the store.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from .._redact import mask_secrets
from ..core.transport_errors import forget_request
from ..errors import TransportError
from .exits import CliError, ExitCode

__all__ = ["Pkce", "authorize_url", "run_web_login"]

CALLBACK_PATH = "/OauthRedirect"
_PAGE = b"<!doctype html><title>sfbulk</title><p>Logged in: you can close this window.</p>"


@dataclass(frozen=True)
class Pkce:
    """A PKCE verifier and its S256 challenge, and the request's ``state``."""

    verifier: str = field(repr=False, default_factory=lambda: secrets.token_urlsafe(64))
    state: str = field(default_factory=lambda: secrets.token_urlsafe(16))

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(login_url: str, client_id: str, redirect_uri: str, pkce: Pkce) -> str:
    """Where the browser goes: the authorize endpoint with the PKCE challenge."""
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "state": pkce.state,
        "scope": "api refresh_token",
    }
    return f"{login_url.rstrip('/')}/services/oauth2/authorize?{urlencode(query)}"


class _Callback(HTTPServer):
    query: dict[str, str]
    arrived: threading.Event


class _Handler(BaseHTTPRequestHandler):
    server: _Callback

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != CALLBACK_PATH:
            self.send_error(404)
            return
        self.server.query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(_PAGE)))
        self.end_headers()
        self.wfile.write(_PAGE)
        self.server.arrived.set()

    def log_message(self, format: str, *args: object) -> None:
        """Print nothing: the request line holds the code."""


def _wait_for_code(server: _Callback, pkce: Pkce, timeout: float) -> str:
    worker = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    worker.daemon = True
    worker.start()
    try:
        if not server.arrived.wait(timeout):
            raise CliError(
                f"no redirect came back within {timeout:.0f}s", code=ExitCode.AUTH,
                hint="approve the app in the browser, or give --timeout",
            )  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    query = server.query
    if query.get("state") != pkce.state:
        raise CliError("the redirect's state does not match: login abandoned", code=ExitCode.AUTH)
    if "error" in query or "code" not in query:
        reason = query.get("error_description") or query.get("error", "no code")
        raise CliError(f"authorization refused: {reason}", code=ExitCode.AUTH)
    return query["code"]


def run_web_login(
    login_url: str,
    client_id: str,
    http: httpx.Client,
    *,
    port: int,
    client_secret: str | None,
    timeout: float,
    say: Callable[[str], None],
) -> str:
    """The browser login; returns the refresh token of the grant (a secret)."""
    try:
        server = _Callback(("127.0.0.1", port), _Handler)
    except OSError as exc:
        raise CliError(
            f"cannot listen on 127.0.0.1:{port} for the redirect: {exc.strerror}",
            hint="give another --callback-port (one the app allows)",
        ) from None
    server.arrived = threading.Event()
    server.query = {}
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}{CALLBACK_PATH}"
    pkce = Pkce()
    url = authorize_url(login_url, client_id, redirect_uri, pkce)
    say(f"Opening the browser to log in; if it does not open, visit:\n  {url}")
    threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    code = _wait_for_code(server, pkce, timeout)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "code_verifier": pkce.verifier,
    }
    if client_secret:
        form["client_secret"] = client_secret
    try:
        reply = http.post(f"{login_url.rstrip('/')}/services/oauth2/token", data=form)
    except httpx.HTTPError as exc:
        forget_request(exc)  # it holds the code, the verifier and the client secret
        raise TransportError(f"{type(exc).__name__} on the code exchange") from exc
    try:
        body = reply.json()
    except ValueError:
        body = {}
    if reply.status_code != 200 or not isinstance(body, dict):
        error = body.get("error_description", "") if isinstance(body, dict) else ""
        error = mask_secrets(str(error)[:300], [client_secret or "", code, pkce.verifier])
        raise CliError(
            f"the code exchange failed: {error or reply.status_code}", code=ExitCode.AUTH
        )
    token = body.get("refresh_token")
    if not isinstance(token, str) or not token:
        raise CliError(
            "the app gave no refresh token", code=ExitCode.AUTH,
            hint="give the app the refresh_token (or offline_access) scope",
        )  # fmt: skip
    return token
