"""Waiting for batches and jobs: backoff, deadlines, PK chunking's original batch, failures.

Peer complaints 8 (PK chunking's ``NotProcessed`` original) and 9 (polling
timeouts and polling cost) of spec/peers.md §3, and the poll deadline defects
a review of the client found. Time only moves through the clients' sleep seam.
"""

from __future__ import annotations

import httpx
import pytest

from sfbulk_sdk import (
    AsyncBulk,
    BatchFailedError,
    Bulk,
    PkChunking,
    PollPolicy,
    PollTimeoutError,
    errors,
)
from sfbulk_sdk.models import BatchState
from sfbulk_sdk.models.xml import NS
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport, ManualClock
from tests.org_clients import org_bulk, soap_auth
from tests.timing import FakeTime


def _slow_org() -> FakeOrg:
    return FakeOrg(clock=ManualClock(), queue_time=30, processing_time=60)


@pytest.mark.peer(complaint=9)
def test_polling_backs_off_and_sleeping_drives_the_fake_clock() -> None:
    """Complaint 9 (spec/peers.md §3: polling without backoff or deadline): the
    waits back off up to their cap, and each wait moves the fake org's clock."""
    org = _slow_org()
    time = FakeTime(on_sleep=org.advance)
    waits = time.slept
    with Bulk(auth=soap_auth(), transport=FakeOrgTransport(org), **time.sync()) as bulk:
        job = bulk.create_job("insert", "Contact")
        assert job.id is not None
        batch = bulk.add_batch(job.id, "LastName\nA\nB\n")
        assert batch.state is BatchState.QUEUED
        done = bulk.wait_for_batch(
            job.id, batch.id, poll=PollPolicy(initial=1, factor=2, max_interval=16)
        )
    assert done.state is BatchState.COMPLETED
    assert sum(waits) >= 90
    assert waits[:5] == [1, 2, 4, 8, 16]
    assert set(waits[4:]) == {16}


@pytest.mark.peer(complaint=9)
def test_polling_deadline_raises_with_the_job_id() -> None:
    """Complaint 9: a wait past its deadline raises ``PollTimeoutError`` naming the
    job and the batch; the work goes on, and waiting longer finds it done."""
    org = _slow_org()
    time = FakeTime(on_sleep=org.advance)
    with Bulk(auth=soap_auth(), transport=FakeOrgTransport(org), **time.sync()) as bulk:
        job = bulk.create_job("insert", "Contact")
        assert job.id is not None
        batch = bulk.add_batch(job.id, "LastName\nA\n")
        with pytest.raises(PollTimeoutError) as info:
            bulk.wait_for_batch(job.id, batch.id, poll=PollPolicy(initial=5, factor=1, timeout=20))
        assert info.value.job_id == job.id and info.value.batch_id == batch.id
        # the work goes on: waiting longer finds it done
        assert bulk.wait_for_batch(job.id, batch.id).state is BatchState.COMPLETED


@pytest.mark.peer(complaint=9)
@pytest.mark.anyio
async def test_async_polling_deadline() -> None:
    """Complaint 9, on ``AsyncBulk.wait_for_job``."""
    org = _slow_org()
    time = FakeTime(on_sleep=org.advance)
    async with AsyncBulk(
        auth=soap_auth(), transport=FakeOrgTransport(org), **time.async_()
    ) as bulk:
        job = await bulk.create_job("insert", "Contact")
        assert job.id is not None
        await bulk.add_batch(job.id, "LastName\nA\n")
        await bulk.close_job(job.id)
        with pytest.raises(PollTimeoutError):
            await bulk.wait_for_job(job.id, poll=PollPolicy(initial=5, factor=1, timeout=20))
        batches = await bulk.wait_for_job(job.id)
        assert [b.state for b in batches] == [BatchState.COMPLETED]


def _polls(org: FakeOrg) -> int:
    return org.requests["batch_get"] + org.requests["batch_list"] + org.requests["job_get"]


@pytest.mark.peer(
    "jsforce#237", "jsforce#298", "jsforce#901", "sfdx-hardis#1175", "jsforce#765", complaint=9
)
def test_c9_a_twenty_minute_batch_finishes_under_the_default_policy_with_few_polls() -> None:
    """Complaint 9 (jsforce #237, #298, #901, sfdx-hardis #1175: PollingTimeout after
    the 30 s default while Salesforce finished the job; jsforce #765: 1 s polling).

    With no arguments, waiting for a batch Salesforce needs 20 minutes for
    succeeds; the waits back off to a 30-second cap, so it costs a few dozen
    status requests rather than 1,200."""
    org = FakeOrg(clock=ManualClock(), queue_time=60, processing_time=20 * 60)
    time = FakeTime(on_sleep=org.advance)
    waits = time.slept
    with Bulk(auth=soap_auth(), transport=FakeOrgTransport(org), **time.sync()) as bulk:
        job = bulk.create_job("insert", "Contact")
        assert job.id is not None
        batch = bulk.add_batch(job.id, "LastName\nSlow\n")
        before = _polls(org)
        done = bulk.wait_for_batch(job.id, batch.id)
        polls = _polls(org) - before
    assert done.state is BatchState.COMPLETED
    assert sum(waits) >= 21 * 60
    assert waits == sorted(waits) and max(waits) == PollPolicy().max_interval == 30
    assert polls == len(waits) + 1
    assert polls <= 21 * 60 / 30 + 10


@pytest.mark.peer("jsforce#765", complaint=9)
def test_c9_a_four_and_a_half_hour_job_hits_a_typed_deadline_and_costs_hundreds_of_polls() -> None:
    """Complaint 9 (heroku: ``wait_for_batch`` returned silently on timeout; jsforce
    #765: 100k API calls in 4-5 hours).

    The default one-hour deadline raises ``PollTimeoutError`` carrying the job
    id; waiting again with a longer deadline picks the job up and sees it
    finish. Four and a half hours of waiting cost fewer than 600 polls."""
    org = FakeOrg(clock=ManualClock(), processing_time=4.5 * 3600)
    with org_bulk(org) as bulk:
        job = bulk.create_job("insert", "Contact")
        assert job.id is not None
        bulk.add_batch(job.id, "LastName\nSlow\n")
        bulk.close_job(job.id)
        with pytest.raises(PollTimeoutError) as timeout:
            bulk.wait_for_job(job.id)
        assert (timeout.value.job_id, timeout.value.batch_id) == (job.id, None)
        assert str(job.id) in str(timeout.value)
        batches = bulk.wait_for_job(job.id, poll=PollPolicy(timeout=6 * 3600))
    assert [b.state for b in batches] == [BatchState.COMPLETED]
    assert _polls(org) < 4.5 * 3600 / 30 + 60


# --------------------------------------------------------------------------- the deadline


def _done_at_21s() -> FakeOrg:
    # a batch added at t=0 starts at t=10 and is done at t=21
    return FakeOrg(clock=ManualClock(), queue_time=10, processing_time=11)


@pytest.mark.review("client")
def test_wait_for_batch_polls_once_more_at_its_deadline() -> None:
    org = _done_at_21s()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        org.advance(seconds)

    with Bulk(
        auth=soap_auth(), transport=FakeOrgTransport(org), **FakeTime(on_sleep=sleep).sync()
    ) as bulk:
        job = bulk.create_job("insert", "Contact")
        assert job.id is not None
        batch = bulk.add_batch(job.id, "LastName\nA\n")
        done = bulk.wait_for_batch(
            job.id, batch.id, poll=PollPolicy(initial=5, factor=1, timeout=22)
        )
    assert done.state is BatchState.COMPLETED
    assert waits == [5, 5, 5, 5, 2]


@pytest.mark.review("client")
@pytest.mark.anyio
async def test_async_wait_for_job_polls_once_more_at_its_deadline() -> None:
    org = _done_at_21s()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        org.advance(seconds)

    waiting = FakeTime(on_sleep=sleep).async_()
    async with AsyncBulk(auth=soap_auth(), transport=FakeOrgTransport(org), **waiting) as bulk:
        job = await bulk.create_job("insert", "Contact")
        assert job.id is not None
        await bulk.add_batch(job.id, "LastName\nA\n")
        batches = await bulk.wait_for_job(job.id, poll=PollPolicy(initial=5, factor=1, timeout=22))
    assert [b.state for b in batches] == [BatchState.COMPLETED]
    assert waits == [5, 5, 5, 5, 2]


@pytest.mark.review("client")
def test_wait_for_batch_still_times_out_when_the_deadline_is_used_up() -> None:
    """Guard: the shortened last wait still ends in ``PollTimeoutError`` at the deadline."""
    org = _done_at_21s()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        org.advance(seconds)

    with Bulk(
        auth=soap_auth(), transport=FakeOrgTransport(org), **FakeTime(on_sleep=sleep).sync()
    ) as bulk:
        job = bulk.create_job("insert", "Contact")
        assert job.id is not None
        batch = bulk.add_batch(job.id, "LastName\nA\n")
        with pytest.raises(errors.PollTimeoutError):
            bulk.wait_for_batch(job.id, batch.id, poll=PollPolicy(initial=5, factor=1, timeout=18))
    assert waits == [5, 5, 5, 3]


# --------------------------------------------------------------------------- terminal states


@pytest.mark.peer(complaint=8)
def test_pk_chunking_original_not_processed_counts_as_done_and_results_hold_every_row() -> None:
    """Complaint 8 (spec/peers.md §3: PK chunking's ``NotProcessed`` original
    batch): the original counts as done, not failed, and the chunk batches hold
    every row once."""
    org = FakeOrg()
    org.insert("Account", [{"Name": f"A{i:04d}"} for i in range(2_500)])
    with Bulk(auth=soap_auth(), transport=FakeOrgTransport(org), **FakeTime().sync()) as bulk:
        chunked = bulk.create_job("query", "Account", pk_chunking=PkChunking(chunk_size=1_000))
        assert chunked.id is not None
        original = bulk.add_batch(chunked.id, "SELECT Id, Name FROM Account")
        batches = bulk.wait_for_job(chunked.id)
        states = {b.id: b.state for b in batches}
        assert states[original.id] is BatchState.NOT_PROCESSED
        chunks = [b for b in batches if b.id != original.id]
        assert len(chunks) == 3
        assert all(b.state is BatchState.COMPLETED for b in chunks)
        ids = [r["Id"] for b in chunks for r in bulk.iter_query_results(chunked.id, b.id)]
    assert len(ids) == len(set(ids)) == 2_500
    assert set(ids) == {row["Id"] for row in org.records("Account")}


@pytest.mark.peer("simple-salesforce#517", complaint=8)
@pytest.mark.parametrize("spelling", ["NotProcessed", "Not Processed", "NOT_PROCESSED"])
def test_c8_not_processed_in_any_spelling_ends_polling_at_once(spelling: str) -> None:
    """Complaint 8 (simple-salesforce #517: a ``'Not Processed'`` typo meant polling
    slept forever; the Singer tap still has it). Every spelling the docs print
    is terminal: the wait returns on the first poll, without sleeping."""
    job_id, batch_id = "750x0000000001AAAA", "751x0000000001AAAA"
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><batchInfo xmlns="{NS}"><id>{batch_id}</id>'
        f"<jobId>{job_id}</jobId><state>{spelling}</state>"
        "<createdDate>2024-01-02T03:04:05.000Z</createdDate>"
        "<systemModstamp>2024-01-02T03:04:05.000Z</systemModstamp>"
        "<numberRecordsProcessed>0</numberRecordsProcessed></batchInfo>"
    ).encode()

    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/xml"}, content=body)

    waits = FakeTime()
    sleeps = waits.slept
    with Bulk(
        "https://na1.example.test/",
        "00Dx!fake",
        transport=httpx.MockTransport(handler),
        **waits.sync(),
    ) as b:
        info = b.wait_for_batch(job_id, batch_id)
    assert info.state is BatchState.NOT_PROCESSED
    assert sleeps == []


def test_failed_batch_raises_with_state_message() -> None:
    org = FakeOrg()
    with Bulk(auth=soap_auth(), transport=FakeOrgTransport(org), **FakeTime().sync()) as bulk:
        job = bulk.create_job("query", "Account")
        assert job.id is not None
        batch = bulk.add_batch(job.id, "SELECT Id, NoSuchField__c FROM Account")
        with pytest.raises(BatchFailedError) as info:
            bulk.wait_for_batch(job.id, batch.id)
        assert info.value.batch_id == batch.id
        assert info.value.state_message is not None
        assert "InvalidBatch" in info.value.state_message
        info_only = bulk.wait_for_batch(job.id, batch.id, raise_on_failure=False)
        assert info_only.state is BatchState.FAILED
