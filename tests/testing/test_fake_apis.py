"""Routes and API-shaped errors: OAuth's routes, and faults shaped like each API's errors.

The OAuth endpoints (``tests/testing/test_fake_oauth_*.py`` test their flows) are
reached under any path prefix and shape faults as OAuth errors; the fault
injection shapes its errors for every API like the API would (Bulk API 2.0
itself is in ``test_fake_bulk2_*.py``).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import httpx
import pytest

from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport, ManualClock

OAUTH_REFUSAL = {"error": "unsupported_grant_type", "error_description": "grant type not supported"}
NOT_FOUND = [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]


def client(org: FakeOrg) -> httpx.Client:
    return httpx.Client(transport=FakeOrgTransport(org), base_url=org.instance_url)


NO_CLIENT = {
    "error": "invalid_request",
    "error_description": "missing required parameter: client_id",
}
UNKNOWN_CLIENT = {"error": "invalid_client_id", "error_description": "client identifier invalid"}
UNKNOWN_TOKEN = {
    "error": "unsupported_token_type",
    "error_description": "this token type is not supported",
}


@pytest.mark.parametrize(
    ("method", "path", "form", "expected"),
    [
        # the web-server flow: a code exchange without its client, an authorize without an app
        ("POST", "/services/oauth2/token", {"grant_type": "authorization_code"}, NO_CLIENT),
        ("POST", "/services/oauth2/token/", {"grant_type": "authorization_code"}, NO_CLIENT),
        ("POST", "/services/oauth2/revoke", {"token": "not-a-token"}, UNKNOWN_TOKEN),
        ("GET", "/services/oauth2/authorize", {}, UNKNOWN_CLIENT),
        # any prefix, as clients that build https://{domain}.salesforce.com URLs send
        ("POST", "/login.salesforce.com/services/oauth2/token", {}, OAUTH_REFUSAL),
    ],
)
def test_oauth_routes_answer_under_any_prefix(
    org: FakeOrg, method: str, path: str, form: dict[str, str], expected: dict[str, str]
) -> None:
    with client(org) as http:
        reply = http.request(method, path, data=form or None)
    assert reply.status_code == 400
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["cache-control"] == "no-store"
    assert reply.json() == expected
    assert org.requests["oauth"] == 1 and org.requests["other"] == 0


def test_other_paths_stay_plain_not_found(org: FakeOrg) -> None:
    with client(org) as http:
        for path in ("/services/data/v62.0/sobjects", "/services/oauth2/userinfo", "/nowhere"):
            reply = http.get(path)
            assert (reply.status_code, reply.json()) == (404, NOT_FOUND)
    assert org.requests["other"] == 3
    assert org.requests["oauth"] == org.requests["rest"] == 0


def test_faults_take_the_shape_of_the_api(org: FakeOrg) -> None:
    org.inject_fault(r"/oauth2/token$", status=503, exception_code="unavailable", message="later")
    org.inject_fault(r"/jobs/ingest$", status=503, exception_code="SERVER_UNAVAILABLE", message="x")
    with client(org) as http:
        oauth = http.post("/services/oauth2/token")
        rest = http.post("/services/data/v62.0/jobs/ingest")
    assert oauth.status_code == 503 and oauth.headers["cache-control"] == "no-store"
    assert oauth.json() == {"error": "unavailable", "error_description": "later"}
    assert rest.status_code == 503
    assert rest.json() == [{"errorCode": "SERVER_UNAVAILABLE", "message": "x"}]
    assert org.requests["fault"] == 2 and org.faults.fired == 2


def test_unreadable_bodies_get_the_api_error_shape(org: FakeOrg) -> None:
    broken = {"Content-Encoding": "gzip"}
    with client(org) as http:
        oauth = http.post("/services/oauth2/token", content=b"not gzip", headers=broken)
        rest = http.post("/services/data/v62.0/jobs/query", content=b"not gzip", headers=broken)
    assert oauth.status_code == 400
    assert oauth.json() == {
        "error": "invalid_request",
        "error_description": "Failed to read gzip request body",
    }
    assert rest.status_code == 400
    assert rest.json() == [
        {"errorCode": "JSON_PARSER_ERROR", "message": "Failed to read gzip request body"}
    ]


def test_the_org_takes_any_clock_callable() -> None:
    start = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    org = FakeOrg(clock=lambda: start)
    ids = org.insert("Account", [{"Name": "Frozen"}])
    record = org.record("Account", ids[0])
    assert record is not None and record["CreatedDate"] == start
    with pytest.raises(TypeError, match="ManualClock"):
        org.advance(1)
    manual = ManualClock(start)
    moving = FakeOrg(clock=manual)
    moving.advance(60)
    assert manual() == manual.now() == datetime(2030, 1, 2, 3, 5, 5, tzinfo=timezone.utc)
    with client(moving) as http:
        moved = http.post("/_fake/clock/advance", json={"seconds": 1}).json()
    assert moved == {"now": "2030-01-02T03:05:06+00:00"}
    assert json.loads(json.dumps(moving.stats()))["requests"]["control"] == 1
