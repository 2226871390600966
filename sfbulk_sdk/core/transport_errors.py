"""httpx failures as the SDK's own errors (pure: no request is sent here).

Every exception httpx raises while sending a request or reading its body
becomes a :class:`~sfbulk_sdk.errors.TransportError` (a
:class:`~sfbulk_sdk.errors.RequestTimeoutError` for timeouts) whose ``sent``
flag says whether the request may have reached the server: only a failed
connect proves it did not, and only then may a non-idempotent request be sent
again. The httpx error stays chained as ``__cause__``.
"""

from __future__ import annotations

import httpx

from ..errors import RequestTimeoutError, TransportError, redacted_request

__all__ = ["HTTPX_ERRORS", "wrap_transport_error"]

#: Every httpx exception a send or a body read can raise; all are wrapped.
HTTPX_ERRORS = (httpx.HTTPError, httpx.StreamError, httpx.InvalidURL)


def wrap_transport_error(exc: Exception, request: httpx.Request) -> TransportError:
    """Our error for an httpx failure (never leak httpx types).

    The request both keep is a copy without credentials or body (the session
    id, a login's password).
    """
    if isinstance(exc, httpx.HTTPError):
        exc.request = redacted_request(request)
    where = f"{request.method} {request.url.copy_with(query=None)}"
    sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeoutError(
            f"{where} timed out ({type(exc).__name__})", request=request, sent=sent
        )
    if not isinstance(exc, httpx.TransportError):
        # decoding or stream misuse: the request reached the server
        return TransportError(f"{where} failed: {type(exc).__name__}", request=request, sent=True)
    return TransportError(f"{where} failed: {type(exc).__name__}", request=request, sent=sent)
