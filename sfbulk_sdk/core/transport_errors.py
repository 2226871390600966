"""httpx failures as the SDK's own errors (pure: no request is sent here).

Every exception httpx raises while sending a request or reading its body
becomes a :class:`~sfbulk_sdk.errors.TransportError` (a
:class:`~sfbulk_sdk.errors.RequestTimeoutError` for timeouts) whose ``sent``
flag says whether the request may have reached the server: only a failed
connect proves it did not, and only then may a non-idempotent request be sent
again. A body that cannot be decoded by its own ``Content-Encoding`` is the
server's fault, not the network's: a :class:`~sfbulk_sdk.errors.MalformedReplyError`,
not retried. The httpx error stays chained as ``__cause__``.

TLS certificates and host names are verified unless the caller passes
``verify=False``, which warns with :class:`InsecureTLSWarning`.
"""

from __future__ import annotations

import contextlib
import ssl
import warnings

import httpx

from .._redact import redacted_request
from ..errors import (
    InvalidInputError,
    MalformedReplyError,
    ProtocolError,
    RequestTimeoutError,
    TransportError,
)

__all__ = [
    "HTTPX_ERRORS",
    "InsecureTLSWarning",
    "check_verify",
    "forget_request",
    "redirected",
    "wrap_transport_error",
]


class InsecureTLSWarning(UserWarning):
    """A client was built with TLS verification turned off (``verify=False``)."""


#: Every httpx exception a send or a body read can raise; all are wrapped.
HTTPX_ERRORS = (httpx.HTTPError, httpx.StreamError, httpx.InvalidURL)


def forget_request(exc: httpx.HTTPError) -> None:
    """Replace the request an httpx error keeps by a copy without credentials or body
    (before it is chained to one of ours)."""
    with contextlib.suppress(RuntimeError):  # (one that keeps none)
        exc.request = redacted_request(exc.request)


def wrap_transport_error(
    exc: Exception, request: httpx.Request
) -> TransportError | MalformedReplyError:
    """Our error for an httpx failure (never leak httpx types).

    The request both keep is a copy without credentials or body (the session
    id, a login's password).
    """
    if isinstance(exc, httpx.HTTPError):
        exc.request = redacted_request(request)
    where = f"{request.method} {request.url.copy_with(query=None)}"
    if isinstance(exc, httpx.DecodingError):
        # the reply came whole, but its body is not in the coding its headers name
        return MalformedReplyError(
            f"{where}: the reply's body is not in the Content-Encoding it names"
        )
    sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeoutError(
            f"{where} timed out ({type(exc).__name__})", request=request, sent=sent
        )
    if not isinstance(exc, httpx.TransportError):
        # decoding or stream misuse: the request reached the server
        return TransportError(f"{where} failed: {type(exc).__name__}", request=request, sent=True)
    return TransportError(f"{where} failed: {type(exc).__name__}", request=request, sent=sent)


def redirected(response: httpx.Response) -> ProtocolError:
    """Our error for a 3xx reply: never followed (the session id would go wherever it
    points), never taken as a success (an upload answered 302 stored nothing)."""
    try:
        host = httpx.URL(response.headers.get("location", "")).host
    except httpx.InvalidURL:
        host = ""
    target = f" to {host}" if host else ""
    return ProtocolError(
        f"{response.request.method} {response.request.url.path} was redirected"
        f" (HTTP {response.status_code}{target}) and redirects are not followed: check the"
        " instance URL (a My Domain change moves it)",
        response=response,
    )


def check_verify(verify: object, http_client: object) -> None:
    """Check a client's ``verify=`` (``True``, ``False`` or an :class:`ssl.SSLContext`).

    TLS is verified unless the caller turns it off, and turning it off warns
    (:class:`InsecureTLSWarning`); with an ``http_client`` of the caller's, that
    client's own setting rules and ``verify=`` is refused.
    """
    if not isinstance(verify, (bool, ssl.SSLContext)):
        raise InvalidInputError("verify must be True, False or an ssl.SSLContext")
    if verify is not True and http_client is not None:
        raise InvalidInputError("give verify= or http_client=, not both (configure the client)")
    if verify is False:
        warnings.warn(
            "TLS certificate verification is turned off (verify=False): anyone on the "
            "network path can read and change the traffic, session ids included",
            InsecureTLSWarning,
            stacklevel=4,
        )
