"""Which session each request carries: a session Salesforce rejects is replaced once,
on every kind of call and partway through polls and downloads; a session obtained
elsewhere is used as it is.

Peer complaints 5 (bulk calls don't re-login when the session dies) and 6
(long-running downloads outlive the token) of spec/peers.md §3, plus its
"Also telling" paragraph on sessions from OAuth.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from sfbulk_sdk import (
    AsyncBulk,
    BatchState,
    Bulk,
    InvalidSessionError,
    LoginError,
    PkChunking,
    errors,
)
from sfbulk_sdk.core import bulk1
from sfbulk_sdk.models.xml import NS
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport, ManualClock
from tests.client.mock_replies import JOB, SECRET
from tests.org_clients import org_bulk, soap_auth
from tests.timing import FakeTime


class Recorder(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Passes requests to the fake org; notes logins, rejected sessions and session ids used."""

    def __init__(self, org: FakeOrg) -> None:
        self.inner = FakeOrgTransport(org)
        self.logins = 0
        self.rejected: list[tuple[str, int]] = []
        self.sessions: list[tuple[str, str, int]] = []

    def _note(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if "/services/Soap/" in request.url.path:
            self.logins += 1
        else:
            session = request.headers["x-sfdc-session"]
            self.sessions.append((request.url.path, session, response.status_code))
            if bulk1.is_invalid_session(response):
                self.rejected.append((request.url.path, response.status_code))
        return response

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._note(request, self.inner.handle_request(request))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self._note(request, await self.inner.handle_async_request(request))


@dataclass
class Ctx:
    job: str  # an Open ingest job (the seed facade's current job) with one completed batch
    batch: str
    query_job: str  # a query job with one completed batch of two records
    query_batch: str


def _setup(bulk: Bulk) -> Ctx:
    job = bulk.job_create("insert", "Contact")
    batch = bulk.batch_create("LastName\nA\nB\n")
    assert job.id is not None
    bulk.wait_for_batch(job.id, batch.id)
    query = bulk.create_job("query", "Contact")
    assert query.id is not None
    query_batch = bulk.add_batch(query.id, "SELECT Id, LastName FROM Contact")
    bulk.wait_for_batch(query.id, query_batch.id)
    return Ctx(job.id, batch.id, query.id, query_batch.id)


async def _setup_async(bulk: AsyncBulk) -> Ctx:
    job = await bulk.job_create("insert", "Contact")
    batch = await bulk.batch_create("LastName\nA\nB\n")
    assert job.id is not None
    await bulk.wait_for_batch(job.id, batch.id)
    query = await bulk.create_job("query", "Contact")
    assert query.id is not None
    query_batch = await bulk.add_batch(query.id, "SELECT Id, LastName FROM Contact")
    await bulk.wait_for_batch(query.id, query_batch.id)
    return Ctx(job.id, batch.id, query.id, query_batch.id)


# Every kind of call, through the same method names on both clients.
CALLS: dict[str, Callable[[Any, Ctx], Any]] = {
    "create_job": lambda b, c: b.create_job("insert", "Contact"),
    "get_job": lambda b, c: b.get_job(c.job),
    "close_job": lambda b, c: b.close_job(c.job),
    "abort_job": lambda b, c: b.abort_job(c.job),
    "add_batch": lambda b, c: b.add_batch(c.job, "LastName\nLate\n"),
    "get_batch": lambda b, c: b.get_batch(c.job, c.batch),
    "list_batches": lambda b, c: b.list_batches(c.job),
    "get_batch_request": lambda b, c: b.get_batch_request(c.job, c.batch),
    "get_batch_results": lambda b, c: b.get_batch_results(c.job, c.batch),
    "get_query_result_ids": lambda b, c: b.get_query_result_ids(c.query_job, c.query_batch),
    "iter_query_results": lambda b, c: b.iter_query_results(c.query_job, c.query_batch),
    "wait_for_batch": lambda b, c: b.wait_for_batch(c.job, c.batch),
    "wait_for_job": lambda b, c: b.wait_for_job(c.query_job),
    "job_is_completed": lambda b, c: b.job_is_completed(),
    "batch_status": lambda b, c: b.batch_status(),
    "batch_result": lambda b, c: b.batch_result(),
    "batch_create": lambda b, c: b.batch_create("LastName\nLate\n"),
    "job_close": lambda b, c: b.job_close(),
}


def _check_call(name: str, value: Any, org: FakeOrg, ctx: Ctx) -> None:
    if name in ("add_batch", "batch_create"):
        assert len(org.batches(ctx.job)) == 2  # sent once, not twice
    elif name == "iter_query_results":
        assert sorted(r["LastName"] for r in value) == ["A", "B"]
    elif name == "job_is_completed":
        assert value is True
    elif name == "batch_result":
        assert [len(r) for r in value.values()] == [2]
    else:
        assert value is not None


@pytest.mark.peer("simple-salesforce#619", "apache/camel#826", complaint=5)
@pytest.mark.parametrize("how", ["expired", "logged-out-elsewhere"])
@pytest.mark.parametrize("name", list(CALLS))
def test_c5_every_call_logs_in_again_when_salesforce_says_invalid_session_id(
    name: str, how: str
) -> None:
    """Complaint 5 (simple-salesforce #619: another process logged out and bulk failed
    with InvalidSessionId, re-login "was just missed"; apache/camel PR #826: Bulk
    reports it as HTTP 400, not 401).

    For every kind of call, seed API included: the session dies (expired, or
    ended by another process's logout), the call is rejected once with 400
    ``InvalidSessionId``, the client logs in once and the call succeeds."""
    org = FakeOrg()
    recorder = Recorder(org)
    with org_bulk(org, recorder) as bulk:
        ctx = _setup(bulk)
        if how == "expired":
            assert org.expire_sessions() == 1
        else:
            assert bulk.sessionid is not None and org.end_session(bulk.sessionid)
        value = CALLS[name](bulk, ctx)
        if isinstance(value, Iterator):
            value = list(value)
        _check_call(name, value, org, ctx)
    assert recorder.logins == org.login_count == 2
    assert [status for _path, status in recorder.rejected] == [400]


@pytest.mark.peer("simple-salesforce#619", complaint=5)
@pytest.mark.anyio
@pytest.mark.parametrize("name", list(CALLS))
async def test_c5_every_async_call_logs_in_again_when_the_session_expired(name: str) -> None:
    """Complaint 5 (simple-salesforce #619), on ``AsyncBulk``."""
    org = FakeOrg()
    recorder = Recorder(org)
    async with AsyncBulk(auth=soap_auth(), transport=recorder, **FakeTime().async_()) as bulk:
        ctx = await _setup_async(bulk)
        assert org.expire_sessions() == 1
        value = CALLS[name](bulk, ctx)
        if inspect.isawaitable(value):
            value = await value
        elif hasattr(value, "__aiter__"):
            value = [record async for record in value]
        _check_call(name, value, org, ctx)
    assert recorder.logins == org.login_count == 2
    assert [status for _path, status in recorder.rejected] == [400]


@pytest.mark.peer("jsforce#141", complaint=5)
@pytest.mark.parametrize("waiter", ["wait_for_batch", "wait_for_job"])
def test_c5_a_session_that_dies_while_polling_is_renewed_and_polling_goes_on(
    waiter: str,
) -> None:
    """Complaint 5 (jsforce #141: InvalidSessionId swallowed while polling, the
    callback never called): the session expires between two polls of a
    90-second batch; the next poll logs in again and the wait completes."""
    org = FakeOrg(clock=ManualClock(), queue_time=30, processing_time=60)
    recorder = Recorder(org)
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        org.advance(seconds)
        if len(sleeps) == 3:
            org.expire_sessions()

    with Bulk(auth=soap_auth(), transport=recorder, **FakeTime(on_sleep=sleep).sync()) as bulk:
        job = bulk.create_job("insert", "Contact")
        assert job.id is not None
        batch = bulk.add_batch(job.id, "LastName\nA\n")
        bulk.close_job(job.id)
        if waiter == "wait_for_batch":
            states = [bulk.wait_for_batch(job.id, batch.id).state]
        else:
            states = [b.state for b in bulk.wait_for_job(job.id)]
    assert states == [BatchState.COMPLETED]
    assert len(sleeps) > 3
    assert org.login_count == 2
    assert len(recorder.rejected) == 1


@pytest.mark.peer("jsforce#141", complaint=5)
@pytest.mark.anyio
async def test_c5_an_async_wait_survives_the_session_dying_while_polling() -> None:
    """Complaint 5 (jsforce #141), on ``AsyncBulk.wait_for_job``."""
    org = FakeOrg(clock=ManualClock(), queue_time=30, processing_time=60)
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        org.advance(seconds)
        if len(sleeps) == 3:
            org.expire_sessions()

    waits = FakeTime(on_sleep=sleep)
    async with AsyncBulk(
        auth=soap_auth(), transport=FakeOrgTransport(org), **waits.async_()
    ) as bulk:
        job = await bulk.create_job("insert", "Contact")
        assert job.id is not None
        await bulk.add_batch(job.id, "LastName\nA\n")
        await bulk.close_job(job.id)
        batches = await bulk.wait_for_job(job.id)
    assert [b.state for b in batches] == [BatchState.COMPLETED]
    assert len(sleeps) > 3
    assert org.login_count == 2


@pytest.mark.peer("jsforce#141", complaint=5)
def test_c5_when_logging_in_again_fails_the_call_raises_instead_of_hanging() -> None:
    """Complaint 5 (jsforce #141: the error was swallowed and nothing returned).

    A session rejected after re-login, or a re-login refused, surfaces as a typed
    error after one refresh: no loop, no silence."""
    org = FakeOrg()
    with org_bulk(org) as bulk:
        job = bulk.create_job("insert", "Contact")
        assert job.id is not None
        # Salesforce rejects the session twice: one refresh, then the error
        org.inject_fault(
            r"/job/", count=2, status=400, exception_code="InvalidSessionId", message="Invalid"
        )
        with pytest.raises(InvalidSessionError) as rejected:
            bulk.get_job(job.id)
        assert rejected.value.status_code == 400
        assert org.login_count == 2
        assert org.faults.fired == 2
        # the password was changed meanwhile: the re-login fails, and says so
        org.expire_sessions()
        org.inject_fault(
            r"/services/Soap/u/",
            exception_code="INVALID_LOGIN",
            message="Invalid username, password, security token; or user locked out.",
        )
        with pytest.raises(LoginError) as refused:
            bulk.get_job(job.id)
        assert refused.value.code.endswith("INVALID_LOGIN")
    assert org.login_count == 2


def test_static_session_rejection_surfaces_without_looping() -> None:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><error xmlns="{NS}">'
        "<exceptionCode>InvalidSessionId</exceptionCode>"
        "<exceptionMessage>Invalid session id</exceptionMessage></error>"
    ).encode()
    count = {"n": 0}

    def handler(_request: httpx.Request) -> httpx.Response:
        count["n"] += 1
        return httpx.Response(400, headers={"content-type": "application/xml"}, content=body)

    bulk = Bulk("https://na1.example.test/", SECRET, transport=httpx.MockTransport(handler))
    with pytest.raises(errors.InvalidSessionError) as info:
        bulk.get_job(JOB)
    assert count["n"] == 1
    assert info.value.status_code == 400
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)


@pytest.mark.peer("singer-io/tap-salesforce#222", complaint=6)
def test_c6_a_slow_download_outliving_the_session_resolves_it_per_result_file() -> None:
    """Complaint 6 (singer-io/tap-salesforce PR #222: result files fetched after the
    token rotated failed with 400 InvalidSessionId, because the header was built
    once per batch).

    A PK-chunked query (2 chunk batches x 2 result files) is read by a consumer
    so slow that the org's 15-minute session timeout passes after each file.
    Each next file is requested with the session of that moment: the dead one
    is refused once and replaced, and the download goes on to the last record."""
    org = FakeOrg(clock=ManualClock(), session_timeout=900, query_result_file_rows=500)
    org.insert("Account", [{"Name": f"A{i:04d}"} for i in range(2_000)])
    recorder = Recorder(org)
    with org_bulk(org, recorder) as bulk:
        job = bulk.create_job("query", "Account", pk_chunking=PkChunking(chunk_size=1_000))
        assert job.id is not None
        original = bulk.add_batch(job.id, "SELECT Id, Name FROM Account")
        bulk.close_job(job.id)
        chunks = [b.id for b in bulk.wait_for_job(job.id) if b.id != original.id]
        assert len(chunks) == 2
        names: list[str] = []
        for batch_id in chunks:
            for record in bulk.iter_query_results(job.id, batch_id):
                names.append(record["Name"])
                if len(names) % 500 == 0:
                    org.advance(901)  # the consumer works through the file for 15 minutes
    assert names == [f"A{i:04d}" for i in range(2_000)]
    downloads = [s for p, s, status in recorder.sessions if "/result/752" in p and status == 200]
    assert len(downloads) == len(set(downloads)) == 4  # each file under the session of its time
    # refused once each, then fetched: file 2, chunk 2's result list, file 4
    refused = [p.rsplit("/", 1)[-1] for p, _status in recorder.rejected]
    assert [("file" if last.startswith("752") else last) for last in refused] == [
        "file",
        "result",
        "file",
    ]
    assert org.login_count == 4


@pytest.mark.peer("heroku#44", "salesforce_bulk_api#33", complaint="also")
def test_also_a_session_id_obtained_elsewhere_works_on_bulk_1_0() -> None:
    """ "Also telling" (heroku #44, ruby salesforce_bulk_api #33: "Invalid session id"
    with a token that worked on REST). A session id issued outside the SDK (as
    an OAuth flow would) plus the instance URL drives Bulk 1.0, sent as
    ``X-SFDC-Session``; a full Bulk URL is accepted as the server too."""
    org = FakeOrg()
    session_id = org.issue_session()
    for server in (org.instance_url, f"{org.instance_url}/services/async/64.0/"):
        recorder = Recorder(org)
        with Bulk(server, session_id, transport=recorder, **FakeTime().sync()) as bulk:
            job = bulk.create_job("insert", "Contact")
            assert job.id is not None
            batch = bulk.add_batch(job.id, "LastName\nTokenUser\n")
            bulk.wait_for_batch(job.id, batch.id)
            (result,) = bulk.get_batch_results(job.id, batch.id)
        assert result.success
        assert {s for _path, s, _status in recorder.sessions} == {session_id}
        assert recorder.rejected == []
    assert org.login_count == 0
