"""Peer complaints as test cases: polling, PK chunking, timeouts, failures, order.

(spec/peers.md §3: #8 PK chunking's NotProcessed original, #9 polling without
backoff or deadline, #10 no HTTP timeouts, #11 results not tied to input rows.)
"""

from __future__ import annotations

import pytest

from sfbulk_sdk import (
    AsyncBulk,
    BatchFailedError,
    Bulk,
    PkChunking,
    PollPolicy,
    PollTimeoutError,
)
from sfbulk_sdk.auth import SoapLogin
from sfbulk_sdk.models import BatchState
from sfbulk_sdk.testing import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    FakeOrg,
    FakeOrgTransport,
    ManualClock,
)
from tests.timing import FakeTime


def _auth() -> SoapLogin:
    return SoapLogin(
        DEFAULT_USERNAME,
        DEFAULT_PASSWORD,
        DEFAULT_SECURITY_TOKEN,
        login_url="https://login.salesforce.com",
    )


def _slow_org() -> FakeOrg:
    return FakeOrg(clock=ManualClock(), queue_time=30, processing_time=60)


def test_polling_backs_off_and_sleeping_drives_the_fake_clock() -> None:
    org = _slow_org()
    time = FakeTime(on_sleep=org.advance)
    waits = time.slept
    with Bulk(auth=_auth(), transport=FakeOrgTransport(org), **time.sync()) as bulk:
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


def test_polling_deadline_raises_with_the_job_id() -> None:
    org = _slow_org()
    time = FakeTime(on_sleep=org.advance)
    with Bulk(auth=_auth(), transport=FakeOrgTransport(org), **time.sync()) as bulk:
        job = bulk.create_job("insert", "Contact")
        assert job.id is not None
        batch = bulk.add_batch(job.id, "LastName\nA\n")
        with pytest.raises(PollTimeoutError) as info:
            bulk.wait_for_batch(job.id, batch.id, poll=PollPolicy(initial=5, factor=1, timeout=20))
        assert info.value.job_id == job.id and info.value.batch_id == batch.id
        # the work goes on: waiting longer finds it done
        assert bulk.wait_for_batch(job.id, batch.id).state is BatchState.COMPLETED


@pytest.mark.anyio
async def test_async_polling_deadline() -> None:
    org = _slow_org()
    time = FakeTime(on_sleep=org.advance)
    async with AsyncBulk(auth=_auth(), transport=FakeOrgTransport(org), **time.async_()) as bulk:
        job = await bulk.create_job("insert", "Contact")
        assert job.id is not None
        await bulk.add_batch(job.id, "LastName\nA\n")
        await bulk.close_job(job.id)
        with pytest.raises(PollTimeoutError):
            await bulk.wait_for_job(job.id, poll=PollPolicy(initial=5, factor=1, timeout=20))
        batches = await bulk.wait_for_job(job.id)
        assert [b.state for b in batches] == [BatchState.COMPLETED]


def test_pk_chunking_original_not_processed_counts_as_done_and_results_hold_every_row() -> None:
    org = FakeOrg()
    org.insert("Account", [{"Name": f"A{i:04d}"} for i in range(2_500)])
    with Bulk(auth=_auth(), transport=FakeOrgTransport(org), **FakeTime().sync()) as bulk:
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


def test_failed_batch_raises_with_state_message() -> None:
    org = FakeOrg()
    with Bulk(auth=_auth(), transport=FakeOrgTransport(org), **FakeTime().sync()) as bulk:
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


def test_results_come_in_upload_order_with_errors_on_their_rows() -> None:
    org = FakeOrg()
    rows = ["Ok0", "", "Ok2", "", "Ok4"]
    data = "FirstName,LastName\n" + "".join(f"F{i},{last}\n" for i, last in enumerate(rows))
    with Bulk(auth=_auth(), transport=FakeOrgTransport(org), **FakeTime().sync()) as bulk:
        job = bulk.create_job("insert", "Contact")
        assert job.id is not None
        batch = bulk.add_batch(job.id, data)
        bulk.wait_for_batch(job.id, batch.id)
        results = list(bulk.get_batch_results(job.id, batch.id))
    assert [r.success for r in results] == [True, False, True, False, True]
    assert [r.errors[0].status_code for r in results if not r.success] == [
        "REQUIRED_FIELD_MISSING"
    ] * 2
    by_id = {row["Id"]: row["LastName"] for row in org.records("Contact")}
    assert [by_id[r.id] for r in results if r.success and r.id] == ["Ok0", "Ok2", "Ok4"]


def test_default_http_timeouts_are_finite() -> None:
    bulk = Bulk()
    timeout = bulk._driver.http.timeout
    assert None not in (timeout.connect, timeout.read, timeout.write, timeout.pool)
    bulk.close()


def test_a_login_lost_on_the_network_is_retried() -> None:
    org = FakeOrg()
    org.inject_fault(r"/services/Soap/u/", count=1, drop_connection=True)
    time = FakeTime()
    slept = time.slept
    with Bulk(auth=_auth(), transport=FakeOrgTransport(org), **time.sync()) as bulk:
        job = bulk.create_job("query", "Account")
    assert job.id is not None
    assert org.login_count == 1
    assert len(slept) == 1


def test_a_store_failing_to_record_use_does_not_lose_a_created_job(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from sfbulk_sdk.errors import SessionStoreError
    from sfbulk_sdk.models import Session
    from sfbulk_sdk.sessions import SessionPolicy
    from sfbulk_sdk.stores import MemoryStore

    class UnreachableOnRenew(MemoryStore):
        def renew(self, key: str, session: Session, ttl: float) -> bool:
            raise SessionStoreError("store unreachable")

    org = FakeOrg()
    touch_always = {"policy": SessionPolicy(touch_seconds=0)}
    with Bulk(
        auth=_auth(),
        transport=FakeOrgTransport(org),
        store=UnreachableOnRenew(),
        session_options=touch_always,
    ) as bulk:
        job = bulk.create_job("insert", "Contact")
    assert job.id is not None and org.job(job.id).id == job.id
    assert any("could not record" in r.getMessage() for r in caplog.records)
