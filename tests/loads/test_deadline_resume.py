"""A deadline that expires raises with the job id; a fresh client re-attaches to the job.

The fake org's clock is manual: its jobs take ten minutes to process, the
load's deadline is one minute (the client's waits move the org's clock). The
error names the job, which keeps running on the org; a fresh client (its own
session and connection) then re-attaches with ``bulk.job(job_id)`` and gets
every row's outcome.
"""

from __future__ import annotations

import pytest

from sfbulk_sdk import PollPolicy, PollTimeoutError, errors
from sfbulk_sdk.models.enums import JobState
from sfbulk_sdk.testing import FakeOrg, ManualClock
from tests.loads.loadkit import async_bulk, contacts, org_with_external_id, sync_bulk

ROWS = 3_000
DEADLINE = PollPolicy(initial=5, factor=1, timeout=60)


def _slow_org(clock: ManualClock) -> FakeOrg:
    return org_with_external_id(clock=clock, queue_time=30, processing_time=600)


def _updates(org: FakeOrg) -> tuple[list[str], list[dict[str, object]]]:
    """Contacts in the org, and updates of them of which rows 999, 1999, 2999 clear the
    required LastName (and fail)."""
    ids = org.insert("Contact", contacts(ROWS))
    rows: list[dict[str, object]] = [
        {"Id": record_id, "LastName": None if i % 1_000 == 999 else f"New{i}"}
        for i, record_id in enumerate(ids)
    ]
    return ids, rows


@pytest.mark.parametrize("api", ["bulk1", "bulk2"])
def test_a_fresh_client_gets_the_full_outcome_of_a_timed_out_load(api: str) -> None:
    clock = ManualClock()
    org = _slow_org(clock)
    ids, rows = _updates(org)
    with sync_bulk(org) as bulk, pytest.raises(PollTimeoutError) as caught:
        bulk.update("Contact", rows, api=api, poll=DEADLINE, progress=None)
    job_id = caught.value.job_id
    assert job_id in str(caught.value)
    with sync_bulk(org) as fresh:
        if api == "bulk2":
            state = fresh.get_ingest_job(job_id).state.value
        else:
            state = fresh.get_job(job_id).state.value
        assert state in ("Open", "UploadComplete", "InProgress", "Closed")  # still running
        clock.advance(3_600)  # the job finishes on the org meanwhile
        again = fresh.job(job_id)
    assert again.jobs == [job_id] and again.api == api and len(again) == ROWS
    assert again.failed_count == 3 and again.succeeded == ROWS - 3
    stored = {r["Id"]: r["LastName"] for r in org.query("SELECT Id, LastName FROM Contact")}
    for outcome in again:
        assert outcome.id is not None
        if outcome.success:
            assert str(stored[outcome.id]).startswith("New")
        else:
            assert outcome.errors[0].status_code == "REQUIRED_FIELD_MISSING"
            assert stored[outcome.id] == f"L{ids.index(outcome.id)}"  # left as it was
    if api == "bulk1":  # Bulk 1.0 results come in upload order: rows are input rows
        assert again.failed_rows() == [999, 1_999, 2_999]


@pytest.mark.anyio
async def test_the_async_client_times_out_and_reattaches_the_same() -> None:
    clock = ManualClock()
    org = _slow_org(clock)
    rows = contacts(ROWS, missing_every=1_000)
    async with async_bulk(org) as bulk:
        with pytest.raises(PollTimeoutError) as caught:
            await bulk.insert("Contact", rows, poll=DEADLINE, progress=None)
    job_id = caught.value.job_id
    assert org.job(job_id).state is not JobState.ABORTED  # left running, not cancelled
    clock.advance(3_600)
    async with async_bulk(org) as fresh:
        again = await fresh.job(job_id)
    assert again.failed_rows() == [0, 1_000, 2_000] and len(again) == ROWS
    names = {r["Id"]: r["FirstName"] for r in org.query("SELECT Id, FirstName FROM Contact")}
    assert all(names[o.id] == f"F{o.row}" for o in again if o.success)


def test_a_bulk2_load_of_several_jobs_names_them_all_and_resumes_them_all() -> None:
    clock = ManualClock()
    org = _slow_org(clock)
    ids, rows = _updates(org)
    with sync_bulk(org) as bulk, pytest.raises(PollTimeoutError) as caught:
        bulk.update("Contact", rows, api="bulk2", job_size=20_000, poll=DEADLINE, progress=None)
    job_ids = caught.value.job_ids
    assert len(job_ids) > 1 and caught.value.job_id in job_ids
    assert all(job_id in str(caught.value) for job_id in job_ids)
    clock.advance(3_600)
    with sync_bulk(org) as fresh:
        again = fresh.job(job_ids)
    assert again.jobs == list(job_ids) and len(again) == ROWS
    assert sorted(o.id for o in again if o.id) == sorted(ids)  # every row once
    assert again.failed_count == 3


def test_reattaching_counts_a_failed_batchs_rows_from_what_it_carried() -> None:
    org = FakeOrg()
    with sync_bulk(org) as bulk:
        job = bulk.create_job("insert", "Account")
        assert job.id is not None
        bulk.add_batch(job.id, "Name,NoSuchField__c\r\na,1\r\nb,2\r\nc,3\r\n")  # fails whole
        bulk.add_batch(job.id, "Name\r\nd\r\ne\r\n")
        bulk.close_job(job.id)
        result = bulk.job(job.id, api="bulk1")
    assert [b.state.value for b in org.batches(job.id)] == ["Failed", "Completed"]
    assert len(result) == 5 and result.succeeded == 2
    assert result.failed_rows() == [0, 1, 2]
    assert all(o.errors[0].status_code == "BATCH_FAILED" for o in result.failed())


@pytest.mark.parametrize("api", ["auto", "bulk2"])
def test_reattaching_to_a_query_job_says_it_is_one(api: str) -> None:
    org = FakeOrg()
    org.insert("Contact", [{"LastName": "A"}])
    with sync_bulk(org) as bulk:
        job = bulk.create_query_job("SELECT Id FROM Contact")
        assert job.id is not None
        with pytest.raises(errors.InvalidInputError, match=r"is a Bulk 2\.0 query job, not a load"):
            bulk.job(job.id, api=api)  # type: ignore[arg-type]
        with pytest.raises(errors.SfBulkError, match="Invalid job id"):
            bulk.job("7505j0000000009AAA")  # no job at all: still the org's own answer


@pytest.mark.parametrize(
    ("job_id", "options", "message"),
    [
        (None, {}, "takes a job id or a sequence of them, not NoneType"),
        (5, {}, "not int"),
        (b"7505j0000000001AAA", {}, "not bytes"),
        ([], {}, "needs a job id"),
        (["7505j0000000001AAA", " "], {}, "needs a job id"),
        ("7505j0000000001AAA", {"poll": 5}, "poll must be a PollPolicy"),
        ("7505j0000000001AAA", {"api": "nonsense"}, "api must be"),
    ],
)
def test_job_refuses_bad_arguments_before_asking_the_org(
    job_id: object, options: dict[str, object], message: str
) -> None:
    org = FakeOrg()
    with sync_bulk(org) as bulk, pytest.raises(errors.InvalidInputError, match=message):
        bulk.job(job_id, **options)  # type: ignore[arg-type]
    assert org.stats()["requests"]["total"] == 0
