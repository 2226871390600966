"""Job and batch state machines on the injectable clock, and sliding session expiry."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fakeorg_support import BulkCaller

from sfbulk_sdk.models import BulkErrorInfo
from sfbulk_sdk.models.enums import BatchState, JobState
from sfbulk_sdk.testing import FakeOrg, ManualClock

ROWS = "Name\nOne\nTwo\nThree\n"


def slow_org(clock: ManualClock, **kw: float) -> FakeOrg:
    return FakeOrg(clock=clock, queue_time=kw.get("queue", 10), processing_time=kw.get("work", 20))


def test_batch_moves_with_the_clock(clock: ManualClock) -> None:
    org = slow_org(clock)
    bulk = BulkCaller(org)
    job = bulk.create_job("insert", "Account")
    assert job.id is not None
    added = bulk.add_batch(job.id, ROWS)
    assert added.state is BatchState.QUEUED and added.created_date == clock.now()

    clock.advance(9.999)
    assert bulk.batch(job.id, added.id).state is BatchState.QUEUED
    early = bulk.call("GET", f"/job/{job.id}/batch/{added.id}/result")
    assert early.status == 400
    assert BulkErrorInfo.from_xml(early.raw).exception_code == "InvalidBatch"
    assert BulkErrorInfo.from_xml(early.raw).exception_message == "Records not processed"

    clock.advance(0.001)
    running = bulk.batch(job.id, added.id)
    assert running.state is BatchState.IN_PROGRESS
    assert running.system_modstamp == running.created_date + timedelta(seconds=10)
    assert running.number_records_processed == 0 and org.count("Account") == 0
    info = bulk.job(job.id)
    assert (info.number_batches_queued, info.number_batches_in_progress) == (0, 1)

    clock.advance(19.999)
    assert bulk.batch(job.id, added.id).state is BatchState.IN_PROGRESS
    clock.advance(0.001)
    done = bulk.batch(job.id, added.id)
    assert done.state is BatchState.COMPLETED
    assert done.number_records_processed == 3 and done.number_records_failed == 0
    assert done.total_processing_time == 20_000
    assert done.system_modstamp == done.created_date + timedelta(seconds=30)
    assert org.count("Account") == 3
    # Records carry the simulated completion time.
    assert {r["CreatedDate"] for r in org.records("Account")} == {done.system_modstamp}
    info = bulk.job(job.id)
    assert (info.number_batches_completed, info.number_batches_total) == (1, 1)
    assert info.number_records_processed == 3 and info.total_processing_time == 20_000


def test_default_org_finishes_on_the_next_request(org: FakeOrg) -> None:
    bulk = BulkCaller(org)
    job = bulk.create_job("insert", "Account")
    assert job.id is not None
    batch = bulk.add_batch(job.id, ROWS)
    assert batch.state is BatchState.QUEUED  # the reply that creates it
    assert bulk.batch(job.id, batch.id).state is BatchState.COMPLETED


def test_advance_moves_batches_without_requests(clock: ManualClock) -> None:
    org = slow_org(clock, queue=0, work=5)
    bulk = BulkCaller(org)
    job = bulk.create_job("insert", "Account")
    assert job.id is not None
    bulk.add_batch(job.id, ROWS)
    assert org.count("Account") == 0
    org.advance(5)
    assert org.count("Account") == 3
    with pytest.raises(TypeError):
        FakeOrg().advance(1)


def test_parallel_batches_overlap_serial_ones_queue(clock: ManualClock) -> None:
    for mode, second_at_10 in (
        ("Parallel", BatchState.COMPLETED),
        ("Serial", BatchState.IN_PROGRESS),
    ):
        org = slow_org(clock, queue=0, work=10)
        bulk = BulkCaller(org)
        job = bulk.create_job("insert", "Account", concurrency=mode)
        assert job.id is not None and job.concurrency_mode is not None
        assert job.concurrency_mode.value == mode
        first = bulk.add_batch(job.id, ROWS)
        second = bulk.add_batch(job.id, ROWS)
        states = [b.state for b in bulk.batches(job.id)]
        expected_now = BatchState.IN_PROGRESS if mode == "Parallel" else BatchState.QUEUED
        assert states == [BatchState.IN_PROGRESS, expected_now]
        clock.advance(10)
        assert bulk.batch(job.id, first.id).state is BatchState.COMPLETED
        assert bulk.batch(job.id, second.id).state is second_at_10
        clock.advance(10)
        assert bulk.batch(job.id, second.id).state is BatchState.COMPLETED


def test_abort_marks_queued_batches_not_processed(clock: ManualClock) -> None:
    org = slow_org(clock, queue=0, work=10)
    bulk = BulkCaller(org)
    job = bulk.create_job("insert", "Account", concurrency="Serial")
    assert job.id is not None
    running = bulk.add_batch(job.id, ROWS)
    waiting = bulk.add_batch(job.id, ROWS)
    assert bulk.batch(job.id, running.id).state is BatchState.IN_PROGRESS
    reply = bulk.set_state(job.id, "Aborted")
    assert reply.status == 200 and "<state>Aborted</state>" in reply.text
    assert bulk.batch(job.id, waiting.id).state is BatchState.NOT_PROCESSED
    assert bulk.batch(job.id, running.id).state is BatchState.IN_PROGRESS
    clock.advance(10)
    assert bulk.batch(job.id, running.id).state is BatchState.COMPLETED  # it still finishes
    assert bulk.batch(job.id, waiting.id).state is BatchState.NOT_PROCESSED
    assert org.count("Account") == 3
    info = bulk.job(job.id)
    assert info.state is JobState.ABORTED
    assert (info.number_batches_completed, info.number_batches_total) == (1, 2)
    not_processed = bulk.call("GET", f"/job/{job.id}/batch/{waiting.id}/result")
    assert not_processed.status == 400 and "Records not processed" in not_processed.text


def error_of(reply: object) -> tuple[int, str, str]:
    status = reply.status  # type: ignore[attr-defined]
    info = BulkErrorInfo.from_xml(reply.raw)  # type: ignore[attr-defined]
    return status, info.exception_code, info.exception_message


def test_job_state_rules(org: FakeOrg, clock: ManualClock) -> None:
    bulk = BulkCaller(org)
    job = bulk.create_job("insert", "Account")
    assert job.id is not None
    assert bulk.set_state(job.id, "Closed").status == 200
    assert bulk.set_state(job.id, "Closed").status == 200  # closing twice is harmless
    status, code, _ = error_of(
        bulk.call("POST", f"/job/{job.id}/batch", ROWS, content_type="text/csv")
    )
    assert (status, code) == (400, "InvalidJobState")
    assert bulk.set_state(job.id, "Aborted").status == 200  # a closed job can still be aborted
    assert error_of(bulk.set_state(job.id, "Closed"))[:2] == (400, "InvalidJobState")
    assert error_of(bulk.set_state(job.id, "Open"))[:2] == (400, "InvalidJobState")

    # Only the creator may close; anyone may abort.
    other = org.add_user("other@example.com", "pw")
    stranger = BulkCaller(org, session_id=org.issue_session(other.username))
    second = bulk.create_job("insert", "Account")
    assert second.id is not None
    assert error_of(stranger.set_state(second.id, "Closed"))[:2] == (400, "InvalidUser")
    assert stranger.set_state(second.id, "Aborted").status == 200

    # A close body may hold nothing but the state.
    third = bulk.create_job("insert", "Account")
    assert third.id is not None
    full = (
        '<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload">'
        f"<createdById>{org.state.accounts.default.user_id}</createdById><state>Closed</state></jobInfo>"
    )
    assert error_of(bulk.call("POST", f"/job/{third.id}", full)) == (
        400,
        "InvalidJob",
        "CreatedById cannot be specified",
    )

    # No batch can be added to a job more than 24 hours old.
    clock.advance(24 * 3600 + 1)
    bulk.session_id = org.issue_session()  # the old session timed out meanwhile
    status, code, message = error_of(
        bulk.call("POST", f"/job/{third.id}/batch", ROWS, content_type="text/csv")
    )
    assert (status, code) == (400, "InvalidJobState") and "24 hours" in message


def test_sessions_slide_and_expire(clock: ManualClock) -> None:
    org = FakeOrg(clock=clock, session_timeout=100)
    bulk = BulkCaller(org)
    job = bulk.create_job("insert", "Account")
    assert job.id is not None
    for _ in range(3):  # every use renews the session
        clock.advance(90)
        assert bulk.call("GET", f"/job/{job.id}").status == 200
    clock.advance(100.001)
    assert error_of(bulk.call("GET", f"/job/{job.id}")) == (
        400,
        "InvalidSessionId",
        "Invalid session id",
    )
    assert org.state.accounts.active_sessions == 0


def test_expire_sessions(org: FakeOrg) -> None:
    bulk = BulkCaller(org)
    job = bulk.create_job("insert", "Account")
    assert job.id is not None
    assert org.expire_sessions() == 1
    assert error_of(bulk.call("GET", f"/job/{job.id}"))[:2] == (400, "InvalidSessionId")


def test_missing_or_foreign_session_header(org: FakeOrg) -> None:
    bulk = BulkCaller(org)
    reply = bulk.client.get("/job/7505j0000000001AAA")  # no X-SFDC-Session at all
    assert reply.status_code == 400 and "InvalidSessionId" in reply.text
    lower = bulk.client.get(
        "/job/7505j0000000001AAA", headers={"x-sfdc-session": bulk.session_id}
    )  # header names are case-insensitive: this one fails on the job id, not the session
    assert lower.status_code == 400 and "InvalidJob" in lower.text
    assert "Authorization" not in lower.request.headers


def test_state_updates_hold_nothing_but_the_state(org: FakeOrg) -> None:
    bulk = BulkCaller(org)
    job = bulk.create_job("insert", "Account")
    assert job.id is not None
    ns = "http://www.force.com/2009/06/asyncapi/dataload"
    for extra in ("<object>Account</object>", "<contentType>CSV</contentType>"):
        abort = f'<jobInfo xmlns="{ns}"><state>Aborted</state>{extra}</jobInfo>'
        assert error_of(bulk.call("POST", f"/job/{job.id}", abort))[:2] == (400, "InvalidJob")
    json_close = json.dumps({"state": "Closed", "id": job.id})
    reply = bulk.call("POST", f"/job/{job.id}", json_close, content_type="application/json")
    assert (
        reply.status == 400
        and "InvalidJob" in reply.text
        and "Id cannot be specified" in reply.text
    )
    assert bulk.job(job.id).state is JobState.OPEN  # none of them changed anything
    # An aborted job takes no more batches either.
    assert bulk.set_state(job.id, "Aborted").status == 200
    status, code, _ = error_of(
        bulk.call("POST", f"/job/{job.id}/batch", ROWS, content_type="text/csv")
    )
    assert (status, code) == (400, "InvalidJobState")
    assert org.count("Account") == 0


def test_daily_batch_allocation(clock: ManualClock) -> None:
    org = FakeOrg(clock=clock, max_batches_per_day=4)
    org.insert("Account", [{"Name": f"A{n}"} for n in range(4)])
    bulk = BulkCaller(org)
    job = bulk.create_job("insert", "Account")
    query = bulk.create_job("query", "Account", headers={"Sforce-Enable-PKChunking": "chunkSize=4"})
    assert job.id is not None and query.id is not None
    bulk.add_batch(job.id, ROWS)
    clock.advance(3600)
    bulk.add_batch(query.id, "SELECT Id FROM Account")  # the original and its two chunks count
    assert [b.state for b in bulk.batches(query.id)] == [
        BatchState.NOT_PROCESSED,
        BatchState.COMPLETED,
        BatchState.COMPLETED,
    ]
    assert org.state.bulk1.batch_allowance_left() == 0
    status, code, message = error_of(
        bulk.call("POST", f"/job/{job.id}/batch", ROWS, content_type="text/csv")
    )
    assert (status, code) == (400, "ExceededQuota")
    assert message == "The org exceeded its allocation of 4 batches in a rolling 24-hour period"
    clock.advance(23 * 3600)  # the first batch leaves the rolling window
    assert org.state.bulk1.batch_allowance_left() == 1
    bulk.session_id = org.issue_session()  # the old one idled out meanwhile
    assert bulk.add_batch(job.id, ROWS).state is BatchState.QUEUED
    assert org.count("Account") == 4 + 3 + 3


def test_a_batch_sent_to_a_closed_job_is_refused_but_counts_against_the_allocation(
    clock: ManualClock,
) -> None:
    org = FakeOrg(clock=clock, max_batches_per_day=3)
    bulk = BulkCaller(org)
    job = bulk.create_job("insert", "Account")
    assert job.id is not None
    bulk.add_batch(job.id, ROWS)
    bulk.set_state(job.id, "Closed")
    status, code, _message = error_of(
        bulk.call("POST", f"/job/{job.id}/batch", ROWS, content_type="text/csv")
    )
    assert (status, code) == (400, "InvalidJobState")
    assert len(bulk.batches(job.id)) == 1  # not created
    assert org.state.bulk1.batch_allowance_left() == 1  # but counted
