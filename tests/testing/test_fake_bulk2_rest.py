"""What every Bulk API 2.0 request goes through: versions, sessions, limits, encodings, faults."""

from __future__ import annotations

import gzip
import json

import httpx
import pytest
from bulk2_support import Bulk2Caller, errors, multipart

from sfbulk_sdk.models.bulk2 import Bulk2JobState
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport, ManualClock, create_app

SESSION_EXPIRED = [("INVALID_SESSION_ID", "Session expired or invalid")]
JOB = "7505j0000000001AAA"

#: One request per Bulk 2.0 and describe endpoint.
ENDPOINTS = [
    ("POST", "/jobs/ingest"),
    ("GET", "/jobs/ingest"),
    ("GET", f"/jobs/ingest/{JOB}"),
    ("PATCH", f"/jobs/ingest/{JOB}"),
    ("DELETE", f"/jobs/ingest/{JOB}"),
    ("PUT", f"/jobs/ingest/{JOB}/batches"),
    ("GET", f"/jobs/ingest/{JOB}/successfulResults/"),
    ("GET", f"/jobs/ingest/{JOB}/failedResults/"),
    ("GET", f"/jobs/ingest/{JOB}/unprocessedrecords/"),
    ("POST", "/jobs/query"),
    ("GET", "/jobs/query"),
    ("GET", f"/jobs/query/{JOB}"),
    ("PATCH", f"/jobs/query/{JOB}"),
    ("DELETE", f"/jobs/query/{JOB}"),
    ("GET", f"/jobs/query/{JOB}/results"),
    ("GET", f"/jobs/query/{JOB}/resultPages"),
    ("GET", "/sobjects/Account/describe"),
]


def with_jobs(org: FakeOrg) -> Bulk2Caller:
    """A caller whose org holds an ingest and a query job with the id :data:`JOB` (the first)."""
    bulk = Bulk2Caller(org)
    ingest = bulk.load("insert", "Account", "Name\nAcme\n")
    query = bulk.create_query("SELECT Id FROM Account")
    assert ingest.id == JOB and query.id != JOB
    return bulk


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_an_expired_session_gets_401_everywhere(clock: ManualClock, method: str, path: str) -> None:
    org = FakeOrg(clock=clock, session_timeout=600)
    bulk = with_jobs(org)
    clock.advance(601)
    reply = bulk.request(method, path, json={"state": "Aborted"})
    assert reply.status_code == 401
    assert reply.headers["www-authenticate"] == "Token"
    assert (
        reply.content
        == b'[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]'
    )
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}):
        anonymous = httpx.Client(transport=FakeOrgTransport(org), base_url=bulk.client.base_url)
        assert errors(anonymous.request(method, path, headers=headers)) == SESSION_EXPIRED


def test_sessions_are_the_ones_soap_login_and_oauth_hand_out(org: FakeOrg) -> None:
    session = org.issue_session()
    bulk = Bulk2Caller(org, session_id=session)
    assert bulk.request("GET", "/jobs/ingest").status_code == 200
    oauth_style = bulk.request("GET", "/jobs/ingest", headers={"Authorization": f"OAuth {session}"})
    assert oauth_style.status_code == 200
    org.end_session(session)
    assert errors(bulk.request("GET", "/jobs/ingest")) == SESSION_EXPIRED
    assert session not in repr(org) and session not in repr(org.state)


def test_an_expired_password_is_refused(org: FakeOrg) -> None:
    org.add_user("late@example.com", "pw", password_expired=True)
    bulk = Bulk2Caller(org, session_id=org.issue_session("late@example.com"))
    reply = bulk.request("GET", "/jobs/ingest")
    assert reply.status_code == 401
    assert errors(reply)[0][0] == "INVALID_OPERATION_WITH_EXPIRED_PASSWORD"


@pytest.mark.parametrize(
    ("version", "path", "status", "code"),
    [
        ("30.0", "/jobs/ingest", 410, "GONE"),  # retired (below oldest_api_version)
        ("99.0", "/jobs/ingest", 404, "NOT_FOUND"),  # not released yet
        ("40.0", "/jobs/ingest", 404, "NOT_FOUND"),  # ingest jobs came in 41.0
        ("46.0", "/jobs/query", 404, "NOT_FOUND"),  # query jobs came in 47.0
    ],
)
def test_api_versions(org: FakeOrg, version: str, path: str, status: int, code: str) -> None:
    reply = Bulk2Caller(org, version=version).request("GET", path)
    assert reply.status_code == status and errors(reply)[0][0] == code


def test_methods_not_allowed(org: FakeOrg) -> None:
    bulk = with_jobs(org)
    for method, path in [("PUT", f"/jobs/ingest/{JOB}"), ("POST", "/sobjects/Account/describe")]:
        reply = bulk.request(method, path)
        assert reply.status_code == 405
        assert errors(reply)[0][0] == "METHOD_NOT_ALLOWED"
        assert list(reply.json()[0]) == ["message", "errorCode"]


def test_the_daily_request_allowance_and_the_usage_header(clock: ManualClock) -> None:
    org = FakeOrg(clock=clock, max_api_requests_per_day=3)
    bulk = Bulk2Caller(org)
    usage = [bulk.request("GET", "/jobs/ingest").headers["sforce-limit-info"] for _ in range(3)]
    assert usage == ["api-usage=1/3", "api-usage=2/3", "api-usage=3/3"]
    refused = bulk.request("GET", "/jobs/query")
    assert refused.status_code == 403
    assert refused.json() == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert refused.headers["sforce-limit-info"] == "api-usage=3/3"
    clock.advance(24 * 3600)
    fresh = Bulk2Caller(org)
    assert fresh.request("GET", "/jobs/ingest").headers["sforce-limit-info"] == "api-usage=1/3"


def test_gzip_request_bodies_are_read_everywhere(org: FakeOrg) -> None:
    bulk = Bulk2Caller(org)
    zipped = {"Content-Encoding": "gzip", "Content-Type": "application/json"}

    def send(method: str, path: str, body: bytes, **headers: str) -> httpx.Response:
        return bulk.request(
            method, path, content=gzip.compress(body), headers={**zipped, **headers}
        )

    created = send(
        "POST", "/jobs/ingest", json.dumps({"object": "Account", "operation": "insert"}).encode()
    )
    assert created.status_code == 200
    job_id = created.json()["id"]
    uploaded = send(
        "PUT", f"/jobs/ingest/{job_id}/batches", b"Name\nZipped\n", **{"Content-Type": "text/csv"}
    )
    assert uploaded.status_code == 201
    closed = send("PATCH", f"/jobs/ingest/{job_id}", b'{"state": "UploadComplete"}')
    assert closed.json()["state"] == "UploadComplete"
    body, media = multipart({"object": "Account", "operation": "insert"}, "Name\nMulti\n")
    assert send("POST", "/jobs/ingest", body, **{"Content-Type": media}).status_code == 200
    query = send(
        "POST", "/jobs/query", b'{"operation": "query", "query": "SELECT Name FROM Account"}'
    )
    assert bulk.query(query.json()["id"]).state is Bulk2JobState.JOB_COMPLETE
    assert sorted(bulk.page(query.json()["id"]).rows[1:]) == [["Multi"], ["Zipped"]]
    brotli = bulk.request("POST", "/jobs/query", content=b"{}", headers={"Content-Encoding": "br"})
    assert brotli.status_code == 415
    broken = bulk.request(
        "POST", "/jobs/query", content=b"{}", headers={"Content-Encoding": "gzip"}
    )
    assert broken.status_code == 400 and errors(broken)[0][0] == "JSON_PARSER_ERROR"


def test_faults_on_bulk2_paths(org: FakeOrg) -> None:
    bulk = with_jobs(org)
    org.inject_fault(
        r"/jobs/query/\w+/results$",
        status=503,
        exception_code="SERVER_UNAVAILABLE",
        message="try later",
    )
    query = bulk.request("GET", "/jobs/query").json()["records"][0]["id"]
    reply = bulk.request("GET", f"/jobs/query/{query}/results")
    assert reply.status_code == 503 and errors(reply) == [("SERVER_UNAVAILABLE", "try later")]
    assert bulk.request("GET", f"/jobs/query/{query}/results").status_code == 200  # used up
    org.inject_fault(r"/jobs/ingest$", method="POST", drop_connection=True)
    with pytest.raises(httpx.RemoteProtocolError):
        bulk.request("POST", "/jobs/ingest", json={"object": "Account", "operation": "insert"})
    control = bulk.get_url("/_fake/faults")
    assert control.json() == []
    added = bulk.client.post(
        f"{org.instance_url}/_fake/faults", json={"path": "/batches$", "status": 500}
    )
    assert added.status_code == 201
    job = bulk.create_ingest("insert", "Account")
    failed = bulk.upload(str(job.id), "Name\nX\n")
    assert failed.status_code == 500 and errors(failed)[0][0] == "InternalServerError"
    assert org.faults.fired == 3


def test_requests_are_counted_per_kind(org: FakeOrg) -> None:
    bulk = with_jobs(org)
    bulk.request("GET", "/sobjects/Contact/describe")
    counted = org.stats()["requests"]
    assert counted["ingest_create"] == counted["ingest_upload"] == counted["ingest_update"] == 1
    assert counted["ingest_get"] == 1 and counted["query_create"] == counted["describe"] == 1
    assert org.stats()["bulk2_jobs"] == 2


@pytest.mark.anyio
async def test_the_asgi_app_keeps_the_headers() -> None:
    org = FakeOrg()
    session = org.issue_session()
    org.insert("Account", [{"Name": f"A{n}"} for n in range(3)])
    transport = httpx.ASGITransport(app=create_app(org))
    async with httpx.AsyncClient(
        transport=transport,
        base_url="https://fake.example/services/data/v62.0",
        headers={"Authorization": f"Bearer {session}"},
    ) as client:
        job = (
            await client.post(
                "/jobs/query", json={"operation": "query", "query": "SELECT Name FROM Account"}
            )
        ).json()
        page = await client.get(f"/jobs/query/{job['id']}/results", params={"maxRecords": 2})
    assert page.status_code == 200 and page.headers["content-type"] == "text/csv"
    assert (
        page.headers["sforce-numberofrecords"] == "2" and page.headers["sforce-locator"] != "null"
    )
    assert page.headers["sforce-limit-info"] == "api-usage=2/100000"
