"""Which API answers a request: the route table of the fake org, and :func:`dispatch`.

Routes, tried in order on the request path:

* ``/_fake/...``: the controls (:mod:`.api.control`), answered before anything else;
* ``/services/async/{version}/...``: Bulk API 1.0 (:mod:`.api.bulk1`);
* ``{any prefix}/services/Soap/u/{version}[/{orgId}]``: SOAP (:mod:`.api.soap`);
* ``{any prefix}/services/oauth2/token|revoke|authorize|introspect``: OAuth (:mod:`.api.oauth`);
* ``/services/data/v{version}/jobs/ingest|query...``, ``.../query|queryAll[/...]``,
  ``.../sobjects/{sObject}/describe``: Bulk API 2.0 and REST (:mod:`.api.bulk2`).

Anything else is a REST-style 404. Before routing, batches progress to the
clock's current time and an injected fault may answer instead (shaped like the
route's API); a gzip request body is inflated; afterwards a large enough reply
is gzipped when the client accepts it.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from typing import TypeAlias

from .api import bulk1, bulk2, control, oauth, soap
from .faults import Fault
from .http import FakeRequest, FakeResponse
from .settings import OrgSettings
from .state import OrgState

__all__ = ["ROUTES", "Route", "dispatch", "find_route"]

#: Answers one request routed to an API (the org's lock is held).
Handler: TypeAlias = Callable[[OrgState, FakeRequest, re.Match[str]], FakeResponse]
#: Renders an API's error document: ``(request, status, code, message)``.
ErrorRenderer: TypeAlias = Callable[[FakeRequest, int, str, str], FakeResponse]

_GZIP_MIN = 1024


@dataclass(frozen=True)
class Route:
    """One API's paths, its handler and how it reports errors."""

    name: str
    pattern: re.Pattern[str]
    handle: Handler
    error: ErrorRenderer
    body_error_code: str


ROUTES: tuple[Route, ...] = (
    Route("bulk1", bulk1.PATTERN, bulk1.handle, bulk1.error, bulk1.BODY_ERROR_CODE),
    Route("soap", soap.PATTERN, soap.handle, soap.error, soap.BODY_ERROR_CODE),
    Route("oauth", oauth.PATTERN, oauth.handle, oauth.error, oauth.BODY_ERROR_CODE),
    Route("bulk2", bulk2.PATTERN, bulk2.handle, bulk2.error, bulk2.BODY_ERROR_CODE),
)


def find_route(path: str) -> tuple[Route, re.Match[str]] | None:
    """The first route matching ``path``, with its match, or ``None``."""
    for route in ROUTES:
        match = route.pattern.match(path)
        if match is not None:
            return route, match
    return None


def dispatch(state: OrgState, request: FakeRequest) -> FakeResponse:
    """Answer one request from ``state``."""
    controls = control.PATTERN.match(request.path)
    if controls is not None:
        with state.lock:
            return control.handle(state, request, controls)
    with state.lock:
        state.tick()
        found = find_route(request.path)
        fault, expire = state.faults.strike(request.method, request.path)
        if expire:
            state.accounts.expire_sessions()
        if fault is not None and fault.after:
            _route(state, request, found)  # the org acts; then its reply is lost
        if fault is not None:
            state.requests["fault"] += 1
            response = _fault_response(request, fault, found, state)
        else:
            response = _route(state, request, found)
    return _maybe_gzip(state.settings, request, response)


def _route(
    state: OrgState, request: FakeRequest, found: tuple[Route, re.Match[str]] | None
) -> FakeResponse:
    problem = _decode_body(request)
    if problem is not None:
        status, message = problem
        state.requests["other"] += 1
        if found is None:  # outside every API an unreadable body gets a Bulk <error>, as before
            return bulk1.error(request, status, bulk1.BODY_ERROR_CODE, message)
        route = found[0]
        return route.error(request, status, route.body_error_code, message)
    if found is None:
        state.requests["other"] += 1
        return _rest_error("NOT_FOUND", "The requested resource does not exist", 404)
    route, match = found
    return route.handle(state, request, match)


def _rest_error(code: str, message: str, status: int) -> FakeResponse:
    return FakeResponse.json(status, [{"errorCode": code, "message": message}])


def _fault_response(
    request: FakeRequest, fault: Fault, found: tuple[Route, re.Match[str]] | None, state: OrgState
) -> FakeResponse:
    if fault.drop_connection:
        return FakeResponse(fault.status, drop_connection=True)
    if found is None:
        response = _rest_error(fault.exception_code, fault.message, fault.status)
    else:
        response = found[0].error(request, fault.status, fault.exception_code, fault.message)
    if fault.retry_after is not None:
        response.headers.append(("Retry-After", fault.retry_after))
        response.headers.append(("Date", formatdate(state.now().timestamp(), usegmt=True)))
    return response


def _decode_body(request: FakeRequest) -> tuple[int, str] | None:
    """Undo ``Content-Encoding: gzip`` in place; (status, message) when that is impossible."""
    encoding = (request.header("content-encoding") or "").strip().lower()
    if not encoding or encoding == "identity":
        return None
    if encoding != "gzip":
        return 415, f"Unsupported Content-Encoding: {encoding}"
    try:
        request.body = gzip.decompress(request.body)
    except (OSError, EOFError, zlib.error):
        return 400, "Failed to read gzip request body"
    return None


def _maybe_gzip(
    settings: OrgSettings, request: FakeRequest, response: FakeResponse
) -> FakeResponse:
    accept = (request.header("accept-encoding") or "").lower()
    if (
        settings.gzip_responses
        and not response.drop_connection
        and len(response.body) >= _GZIP_MIN
        and "gzip" in accept
    ):
        response.body = gzip.compress(response.body, compresslevel=1)
        response.headers.append(("Content-Encoding", "gzip"))
    return response
