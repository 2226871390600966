"""The OAuth 2.0 endpoints of the fake org: for now, an org where no flow is set up.

Routes: ``{any prefix}/services/oauth2/token``, ``/revoke`` and ``/authorize``
(any prefix, as for SOAP, so that clients building
``https://{domain}.salesforce.com/...`` URLs reach a served org).

Today every request answers what a real org answers when the grant is not
available: HTTP 400 ``{"error": "unsupported_grant_type", "error_description":
"grant type not supported"}`` with ``Cache-Control: no-store``. Errors (an
injected fault, an unreadable body) use the same OAuth error shape.

What will go here: the token endpoint (``grant_type=password``,
``refresh_token``, ``client_credentials`` and the JWT bearer flow against
connected apps declared on the org, issuing sessions through
``state.accounts``), token revocation, and the ``authorize`` redirect of the
web-server flow.
"""

from __future__ import annotations

import json
import re

from ..http import JSON, FakeRequest, FakeResponse
from ..state import OrgState

__all__ = ["BODY_ERROR_CODE", "PATTERN", "error", "handle"]

#: The OAuth endpoints, under any path prefix.
PATTERN = re.compile(r"^(?:/.*)?/services/oauth2/(?P<endpoint>token|revoke|authorize)/?$")
#: The OAuth error answering a request body that cannot be read.
BODY_ERROR_CODE = "invalid_request"


def error(request: FakeRequest, status: int, code: str, message: str) -> FakeResponse:
    """An OAuth error document (``error`` / ``error_description``), never cached."""
    body = json.dumps({"error": code, "error_description": message})
    return FakeResponse(
        status, body.encode(), [("Content-Type", JSON), ("Cache-Control", "no-store")]
    )


def handle(state: OrgState, request: FakeRequest, match: re.Match[str]) -> FakeResponse:
    """Answer as an org without any OAuth flow set up (the caller holds the org's lock)."""
    state.requests["oauth"] += 1
    return error(request, 400, "unsupported_grant_type", "grant type not supported")
