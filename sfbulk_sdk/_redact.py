"""Masking credentials out of text an error keeps: messages, bodies and excerpts.

The errors layer's own helper (:mod:`sfbulk_sdk.errors` uses it, so it imports
nothing of the package). A reply the SDK refuses is kept as a short excerpt so
that its error says what came back (an HTML page from a proxy, a truncated
document); anything in it that looks like a credential is masked first. The
requests and responses an error keeps lose their credential headers and body.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import httpx

__all__ = [
    "EXCERPT_CHARS",
    "body_excerpt",
    "mask_secrets",
    "redacted_request",
    "redacted_response",
    "response_excerpt",
]

#: Longest excerpt of a reply body an error keeps (:func:`body_excerpt`).
EXCERPT_CHARS = 200
#: How much of a body is masked before the excerpt is cut from it: any secret
#: that starts inside the excerpt ends well inside this window.
_MASK_WINDOW = 4 * EXCERPT_CHARS
_MASK = "***"
_CREDENTIAL_NAMES = (
    r"session_?id|sid|access_?token|refresh_?token|id_?token|password|client_?secret"
    r"|assertion|x-sfdc-session|authorization"
)
_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # A session id or OAuth access token: the 15-character org id, "!", the token.
    (re.compile(r"00D[0-9A-Za-z]{12,15}![0-9A-Za-z._\-]*"), _MASK),
    # A Salesforce refresh token (they start 5Aep8), and a JWT (a signed assertion).
    (re.compile(r"5Aep8[0-9A-Za-z._\-]{16,}"), _MASK),
    (re.compile(r"eyJ[0-9A-Za-z_\-]{4,}\.[0-9A-Za-z_\-]{4,}\.[0-9A-Za-z_\-]*"), _MASK),
    (re.compile(r"(?i)\b(bearer|basic|oauth)(\s+)[^\s\"'<>,;]+"), rf"\1\2{_MASK}"),
    # <sessionId>...</sessionId> (any prefix), also cut short.
    (re.compile(rf"(?i)(<(?:[\w.-]+:)?(?:{_CREDENTIAL_NAMES})(?:\s[^>]*)?>)[^<]*"), rf"\1{_MASK}"),
    # "access_token": "...", in JSON (escaped quotes included).
    (
        re.compile(rf'(?i)("(?:{_CREDENTIAL_NAMES})"\s*:\s*")(?:[^"\\]|\\.)*'),
        rf"\1{_MASK}",
    ),
    # access_token=... in a form or a query; Authorization: ... in echoed headers.
    (re.compile(rf"(?i)\b((?:{_CREDENTIAL_NAMES})\s*[=:]\s*)[^\s&\"'<>,;]+"), rf"\1{_MASK}"),
)


def mask_secrets(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with anything that looks like a credential replaced by ``***``.

    Masked: session ids and access tokens (``00D...!...``), refresh tokens
    (``5Aep8...``), JWTs (``eyJ...``), ``Bearer ...`` and ``Basic ...``,
    ``<sessionId>...``, JSON ``"access_token": "..."`` and form or header
    ``name=value`` pairs of credential names, and each of ``secrets`` (values
    the caller knows it sent, at least 6 characters long).
    """
    for secret in sorted((s for s in secrets if len(s) >= 6), key=len, reverse=True):
        text = text.replace(secret, _MASK)
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def body_excerpt(
    body: str | bytes | bytearray | memoryview | None, secrets: Iterable[str] = ()
) -> str | None:
    """A short, printable, secret-free excerpt of a reply body (``None`` for no body).

    At most :data:`EXCERPT_CHARS` characters from the start of the body, on one
    line, with control characters and undecodable bytes shown as ``?`` and
    credentials masked (:func:`mask_secrets`).
    """
    if body is None:
        return None
    if isinstance(body, (bytes, bytearray, memoryview)):
        text = bytes(body[:_MASK_WINDOW]).decode("utf-8", errors="replace")
    else:
        text = str(body)[:_MASK_WINDOW]
    text = " ".join(
        "".join(c if c.isprintable() and c != "\ufffd" else "?" for c in part)
        for part in text.split()
    )
    text = mask_secrets(text, secrets)
    if len(text) > EXCERPT_CHARS:
        text = text[: EXCERPT_CHARS - 3] + "..."
    return text


#: Request headers that carry a credential (compared lower-cased).
_SECRET_HEADERS = frozenset({"x-sfdc-session", "authorization", "proxy-authorization", "cookie"})
_REDACTED = "[redacted]"


def redacted_request(request: httpx.Request) -> httpx.Request:
    """A copy of ``request`` safe to keep on an exception.

    Same method and URL; credential headers (``X-SFDC-Session``,
    ``Authorization``, ...) are masked and the body is dropped: a SOAP login
    body holds the password, and a batch body can be 10 MB of the caller's data.
    """
    headers = [
        (name, _REDACTED if name.lower() in _SECRET_HEADERS else value)
        for name, value in request.headers.multi_items()
        if name.lower() not in ("content-length", "transfer-encoding")
    ]
    return httpx.Request(request.method, request.url, headers=headers)


class _Unread(httpx.SyncByteStream):
    """The body of a kept copy of a reply that was streamed, not read: none."""

    def __iter__(self) -> Iterator[bytes]:
        yield b""


#: The longest body a kept reply holds (masked): an error reply is short.
_KEPT_BODY = 64 * 1024
#: Reply headers a kept copy drops: they describe the original bytes, or carry a credential.
_DROPPED_HEADERS = frozenset(
    {"content-length", "content-encoding", "transfer-encoding", "set-cookie"}
)


def redacted_response(response: httpx.Response | None) -> httpx.Response | None:
    """A copy of ``response`` safe to keep on an exception (or pickle): the same status and
    headers (less ``Set-Cookie``), its body masked (:func:`mask_secrets`; a body that was
    not read stays unread) and a :func:`redacted_request` copy of its request."""
    if response is None:
        return None
    try:
        request: httpx.Request | None = redacted_request(response.request)
    except RuntimeError:  # a response built by hand has no request
        request = None
    headers = [
        (name, value)
        for name, value in response.headers.multi_items()
        if name.lower() not in _DROPPED_HEADERS
    ]
    try:
        body = response.content
    except httpx.ResponseNotRead:  # streamed: the decoder's error has the excerpt
        return httpx.Response(
            response.status_code, headers=headers, stream=_Unread(), request=request
        )
    text = mask_secrets(body[:_KEPT_BODY].decode("utf-8", errors="replace"))
    return httpx.Response(
        response.status_code, headers=headers, content=text.encode("utf-8"), request=request
    )


def response_excerpt(response: httpx.Response | None) -> str | None:
    """:func:`body_excerpt` of ``response``'s body (``None`` without one, or while streaming)."""
    if response is None:
        return None
    try:
        return body_excerpt(response.content)
    except httpx.ResponseNotRead:  # a streamed body: the decoder's error has the excerpt
        return None
