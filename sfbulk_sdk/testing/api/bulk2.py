"""Bulk API 2.0 and the REST resources beside it: ``/services/data/v{version}/...``.

Routes: ``jobs/ingest[/...]`` (:mod:`.bulk2_ingest`), ``jobs/query[/...]``
(:mod:`.bulk2_query`), ``query`` / ``queryAll`` with their continuations
(:mod:`.rest_query`) and ``sobjects/{sObject}/describe`` (the describe
document of an object of the fake, :mod:`~sfbulk_sdk.testing.describe`).

Every request goes through the same REST steps first, in this order:

1. the API version: below the org's ``oldest_api_version`` it is retired
   (HTTP 410 ``GONE``), above ``latest_api_version`` it does not exist yet
   (HTTP 404 ``NOT_FOUND``);
2. the session, from ``Authorization: Bearer <session id>`` (or ``OAuth``):
   missing, unknown or expired gives HTTP 401 ``[{"message":"Session expired or
   invalid","errorCode":"INVALID_SESSION_ID"}]`` with ``WWW-Authenticate:
   Token`` (spec §3.5);
3. the daily API request allowance (``max_api_requests_per_day``): used up, it
   gives HTTP 403 ``REQUEST_LIMIT_EXCEEDED`` (``TotalRequests Limit exceeded.``).

Every reply carries ``Sforce-Limit-Info: api-usage=N/M`` (the REST requests
counted in the rolling 24 hours, and the allowance). Errors (an injected fault,
an unreadable body) use the same REST error array.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from ..accounts import EXPIRED_PASSWORD
from ..describe import describe_document
from ..http import FakeRequest, FakeResponse
from ..state import OrgState
from . import bulk2_ingest, bulk2_query, rest_query
from .rest import NOT_FOUND, RestCall, RestFailure, rest_error, route_jobs

__all__ = ["BODY_ERROR_CODE", "PATTERN", "SESSION_EXPIRED", "error", "handle"]

#: The Bulk 2.0, query and describe resources of the REST API.
PATTERN = re.compile(
    r"^/services/data/v(?P<version>\d{1,3}\.\d)/"
    r"(?P<resource>jobs/(?:ingest|query)(?:/.*)?|(?:query|queryAll)(?:/.*)?"
    r"|sobjects/[^/]+/describe/?)$"
)
#: The REST errorCode answering a request body that cannot be read.
BODY_ERROR_CODE = "JSON_PARSER_ERROR"
#: What an expired or unknown session gets (spec §3.5).
SESSION_EXPIRED = "Session expired or invalid"
_AUTH = re.compile(r"^\s*(?:Bearer|OAuth)\s+(\S+)\s*$", re.IGNORECASE)


def error(request: FakeRequest, status: int, code: str, message: str) -> FakeResponse:
    """A REST error: a JSON array of ``{"errorCode", "message"}``."""
    return rest_error(status, code, message)


def handle(state: OrgState, request: FakeRequest, match: re.Match[str]) -> FakeResponse:
    """Answer one REST request (the caller holds the org's lock)."""
    allowance = state.api_requests
    response = _answer(state, request, match)
    response.headers.append(("Sforce-Limit-Info", f"api-usage={allowance.used}/{allowance.limit}"))
    return response


def _answer(state: OrgState, request: FakeRequest, match: re.Match[str]) -> FakeResponse:
    version = match["version"]
    settings = state.settings
    if float(version) < settings.oldest_api_version:
        state.requests["rest"] += 1
        return rest_error(410, "GONE", f"API version {version} has been retired", platform=True)
    if float(version) > settings.latest_api_version:
        state.requests["rest"] += 1
        return rest_error(404, "NOT_FOUND", NOT_FOUND, platform=True)
    token = _AUTH.match(request.header("authorization") or "")
    user = state.accounts.authenticate(token[1] if token else None)
    if user is None or user.password_expired:
        state.requests["rest"] += 1
        if user is None:
            code, message = "INVALID_SESSION_ID", SESSION_EXPIRED
        else:  # the session only allows setPassword() (spec §1.2)
            code, message = "INVALID_OPERATION_WITH_EXPIRED_PASSWORD", EXPIRED_PASSWORD
        return rest_error(
            401, code, message, platform=True, headers=(("WWW-Authenticate", "Token"),)
        )
    if not state.api_requests.left():
        state.requests["rest"] += 1
        return rest_error(
            403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", platform=True
        )
    state.api_requests.take()
    resource, _, rest = match["resource"].partition("/")
    kind, _, tail = rest.partition("/")  # sobjects/{name}/describe, jobs/{kind}/...
    if resource == "sobjects":
        parts = [unquote(kind)]
    else:
        path = rest if resource in rest_query.RESOURCES else tail  # query/{locator}
        parts = [unquote(p) for p in path.split("/")]
    call = RestCall(state, request, version, [p for p in parts if p], user)
    try:
        if resource == "sobjects":
            response = _describe(call)
        elif resource in rest_query.RESOURCES:
            response = rest_query.handle(call, resource)
        else:
            response = _jobs(call, kind)
    except RestFailure as failure:
        response = failure.response()
    state.requests[call.kind] += 1
    return response


def _jobs(call: RestCall, kind: str) -> FakeResponse:
    if kind == "ingest":
        return route_jobs(call, bulk2_ingest.ROUTES)
    return route_jobs(call, bulk2_query.ROUTES)


def _describe(call: RestCall) -> FakeResponse:
    call.kind = "describe"
    call.allow("GET")
    table = call.state.db.table(call.parts[0])
    if table is None:
        raise RestFailure(404, "NOT_FOUND", NOT_FOUND, platform=True)
    return call.json_reply(200, describe_document(table.spec))
