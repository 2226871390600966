"""Bulk API 2.0 and the REST resources it needs: for now, an org without them.

Routes: ``/services/data/v{version}/jobs/ingest[/...]``,
``/services/data/v{version}/jobs/query[/...]`` and
``/services/data/v{version}/sobjects/{sObject}/describe``.

Today every request answers what a real org answers for a resource that does
not exist: HTTP 404 ``[{"errorCode": "NOT_FOUND", "message": "The requested
resource does not exist"}]``. Errors (an injected fault, an unreadable body) use
the same REST error shape.

What will go here: Bulk 2.0 ingest jobs (create, upload the CSV, close, abort,
``successfulResults`` / ``failedResults`` / ``unprocessedrecords``) and query
jobs (create, poll, ``results`` with ``Sforce-Locator`` paging), authenticated
with ``Authorization: Bearer`` sessions from ``state.accounts`` and processed
against the same tables as Bulk 1.0; and ``describe`` from the org's schema
(``state.describe``).
"""

from __future__ import annotations

import re

from ..http import FakeRequest, FakeResponse
from ..state import OrgState

__all__ = ["BODY_ERROR_CODE", "PATTERN", "error", "handle"]

#: The Bulk 2.0 and describe resources of the REST API.
PATTERN = re.compile(
    r"^/services/data/v(?P<version>\d{1,3}\.\d)/"
    r"(?P<resource>jobs/(?:ingest|query)(?:/.*)?|sobjects/[^/]+/describe/?)$"
)
#: The REST errorCode answering a request body that cannot be read.
BODY_ERROR_CODE = "JSON_PARSER_ERROR"


def error(request: FakeRequest, status: int, code: str, message: str) -> FakeResponse:
    """A REST error: a JSON array of ``{"errorCode", "message"}``."""
    return FakeResponse.json(status, [{"errorCode": code, "message": message}])


def handle(state: OrgState, request: FakeRequest, match: re.Match[str]) -> FakeResponse:
    """Answer as an org without these resources (the caller holds the org's lock)."""
    state.requests["rest"] += 1
    return error(request, 404, "NOT_FOUND", "The requested resource does not exist")
