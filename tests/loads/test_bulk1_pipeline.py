"""A Bulk 1.0 load's batches run as a pipeline: its time is the round trips its batches need.

Driven on a virtual clock (:mod:`tests.loads.virtual_driver`): every request
takes one second, CPU takes none, so the time a load takes is its critical
path. A batch needs two round trips (upload, results): 200 batches at
concurrency 10 cannot take less than 200 / 10 x 2 = 40 s, plus the job's
creation. The pipeline takes that plus a poll's initial wait; the uploads
and result reads in flight never exceed the concurrency, the job's batches
are polled with a handful of job-level lists (not one request per batch), and
the outcomes land on their input rows whatever order the uploads finish in.
"""

from __future__ import annotations

import random

import pytest

from sfbulk_sdk import PollPolicy, PollTimeoutError, inputs
from sfbulk_sdk.core import bulk1, loads
from sfbulk_sdk.core import flow as f
from sfbulk_sdk.core.outcomes import LoadResult
from sfbulk_sdk.core.policy import RetryPolicy
from sfbulk_sdk.models.enums import JobState, Operation
from sfbulk_sdk.testing import ManualClock
from tests.loads.loadkit import contacts, org_with_external_id
from tests.loads.virtual_driver import VirtualDriver

#: Poll right after the uploads (a hundredth of a round trip), backing off to two.
POLL = PollPolicy(initial=0.01, factor=1.5, max_interval=2.0, timeout=600)


def _load(
    driver: VirtualDriver,
    rows: list[dict[str, object]],
    *,
    batch_size: int,
    concurrency: int,
    poll: PollPolicy = POLL,
) -> LoadResult:
    options = loads.LoadOptions(
        Operation.INSERT, "Contact", concurrency=concurrency, poll=poll, lock_retries=0
    )
    limits = inputs.Limits(batch_size, bulk1.BATCH_MAX_BYTES, bulk1.BATCH_MAX_CHARS)
    prepared = inputs.prepare(rows, limits=limits, fields=None, ids_field=None)
    ctx = f.FlowContext("62.0", RetryPolicy(max_attempts=1, jitter=0), can_refresh=False)
    result = driver.run(loads.bulk1_load(options, prepared.bodies, prepared.fields, ctx=ctx))
    assert isinstance(result, LoadResult)
    return result


def test_200_batches_at_concurrency_10_take_the_ideal_40_round_trips_plus_the_job() -> None:
    clock = ManualClock()
    org = org_with_external_id(clock=clock)
    driver = VirtualDriver(org, clock)
    rows = contacts(10_000, missing_every=333)
    result = _load(driver, rows, batch_size=50, concurrency=10)

    ideal = 200 / 10 * 2  # round trips of one second
    print(f"virtual wall {driver.now:.2f} s for an ideal of {ideal:.0f} s; {dict(driver.kinds)}")
    assert ideal + 1 <= driver.now <= ideal + 1 + 0.05  # + creating the job, + a poll's wait
    assert driver.kinds == {"create": 1, "upload": 200, "result": 200, "list": 2, "close": 1}
    assert driver.max_data_in_flight == 10
    assert len(result) == 10_000 and result.failed_rows() == list(range(0, 10_000, 333))
    assert org.job(result.jobs[0]).state is JobState.CLOSED
    # the close goes out once the last upload has landed, beside the result reads
    close = next(t for t, kind in driver.ended if kind == "close")
    last_upload = max(t for t, kind in driver.ended if kind == "upload")
    last_result = max(t for t, kind in driver.ended if kind == "result")
    assert last_upload < close < last_result


@pytest.mark.parametrize("seed", range(3))
def test_uploads_finishing_in_any_order_keep_every_outcome_on_its_input_row(seed: int) -> None:
    clock = ManualClock()
    org = org_with_external_id(clock=clock)
    pick = random.Random(seed)
    driver = VirtualDriver(org, clock, latency=lambda: pick.uniform(0.2, 1.8))
    rows = contacts(3_000, missing_every=97)
    result = _load(driver, rows, batch_size=40, concurrency=7)

    assert driver.max_data_in_flight == 7
    assert driver.kinds["upload"] == driver.kinds["result"] == 75
    assert driver.kinds["list"] <= 10  # job-level polls, never one per batch
    assert result.failed_rows() == list(range(0, 3_000, 97))
    names = {r["Id"]: r["FirstName"] for r in org.query("SELECT Id, FirstName FROM Contact")}
    assert len(names) == result.succeeded == 3_000 - len(result.failed_rows())
    assert all(names[o.id] == f"F{o.row}" for o in result if o.success)
    queued = [e for e in driver.reports if getattr(e, "kind", "") == "batch_queued"]
    completed = [e for e in driver.reports if getattr(e, "kind", "") == "batch_completed"]
    assert sum(e.records for e in queued) == sum(e.records for e in completed) == 3_000


def test_the_deadline_counts_from_the_last_upload_and_leaves_the_job_closed() -> None:
    clock = ManualClock()
    org = org_with_external_id(clock=clock, queue_time=5, processing_time=10_000)
    driver = VirtualDriver(org, clock)
    deadline = PollPolicy(initial=1, factor=2, max_interval=8, timeout=30)
    with pytest.raises(PollTimeoutError) as caught:
        _load(driver, contacts(1_000), batch_size=100, concurrency=3, poll=deadline)

    job_id = caught.value.job_id
    assert job_id is not None and job_id in str(caught.value)
    last_upload = max(t for t, kind in driver.ended if kind == "upload")
    assert last_upload + 30 <= driver.now <= last_upload + 30 + 1  # the last poll at the deadline
    assert org.job(job_id).state is JobState.CLOSED  # closed, left running on the org
    assert driver.kinds["upload"] == 10 and driver.kinds["result"] == 0
    assert driver.kinds["list"] <= 12
